/* hc_impls.c: the list of every hostcall module's implementation table, which the registry links
 * (hc_define_all). A module that implements functions adds its table here. */
#include "hostcalls/hc_registry.h"

#include "hc_abi_init.h"
#include "hc_async_io.h"
#include "hc_backend.h"
#include "hc_cache.h"
#include "hc_http_cache.h"
#include "hc_purge.h"
#include "hc_compute_runtime.h"
#include "hc_device_detection.h"
#include "hc_erl.h"
#include "hc_geo.h"
#include "hc_http_body.h"
#include "hc_http_downstream.h"
#include "hc_http_req.h"
#include "hc_http_req_send.h"
#include "hc_http_resp.h"
#include "hc_kv_store.h"
#include "hc_object_store.h"
#include "hc_uap.h"
#include "hc_dictionary.h"
#include "hc_config_store.h"
#include "hc_secret_store.h"
#include "hc_log.h"
#include "hc_acl.h"
#include "hc_on_behalf_of.h"
#include "hc_shielding.h"
#include "hc_image_optimizer.h"
#include "hc_fanout.h"

const hc_impl *const hc_all_impls[] = {
    hc_abi_init_impls,
    hc_http_req_impls,
    hc_http_resp_impls,
    hc_http_body_impls,
    hc_http_downstream_impls,
    hc_compute_runtime_impls,
    hc_uap_impls,
    hc_http_req_send_impls,
    hc_backend_impls,
    hc_async_io_impls,
    hc_kv_store_impls,
    hc_object_store_impls,
    hc_dictionary_impls,
    hc_config_store_impls,
    hc_secret_store_impls,
    hc_log_impls,
    hc_acl_impls,
    hc_geo_impls,
    hc_device_detection_impls,
    hc_erl_impls,
    hc_cache_impls,
    hc_http_cache_impls,
    hc_purge_impls,
    hc_on_behalf_of_impls,
    hc_shielding_impls,
    hc_image_optimizer_impls,
    hc_fanout_impls,
    NULL,
};
