/* fuzz_json_edge.c: libFuzzer target over the JSON edge-data readers of src/config: the first
 * byte picks the kind (dictionary, config store, secret store, KV store, ACL, geolocation table,
 * device-detection data), the rest is the file, loaded through cfg_edge's adders as the flags and
 * fastly.toml load them. Accepted data is looked up entry by entry, cloned and freed; a refusal
 * is one line. */
#include "config/cfg_edge.h"
#include "fuzz_util.h"

#include <stdint.h>

enum { DICT, CONFIG, SECRET, KV, ACL, GEO, DEVICE, NKINDS };

static const uint8_t addrs[][16] = {
    {127, 0, 0, 1},
    {10, 1, 2, 3},
    {192, 0, 2, 1},
    {255, 255, 255, 255},
    {0, 0, 0, 0},
    {[15] = 1},
    {0x20, 0x01, 0x0d, 0xb8, [15] = 1},
};

static void check_map(const cfg_string_map *m)
{
    for (size_t i = 0; i < m->count; i++) {
        const cfg_string_entry *e = &m->entries[i];
        CHECK(e->key[e->key_len] == '\0' && e->value[e->value_len] == '\0');
        CHECK(cfg_string_map_get(m, e->key, e->key_len) == e); /* sorted, unique */
    }
}

static void lookups(const cfg_edge *e)
{
    for (size_t i = 0; i < e->ndictionaries; i++)
        check_map(&e->dictionaries[i].items);
    for (size_t i = 0; i < e->nconfig_stores; i++)
        check_map(&e->config_stores[i].items);
    for (size_t i = 0; i < e->nsecret_stores; i++)
        check_map(&e->secret_stores[i].items);
    for (size_t i = 0; i < e->nkv_stores; i++) {
        const cfg_kv_store *kv = &e->kv_stores[i];
        for (size_t k = 0; k < kv->count; k++)
            CHECK(cfg_kv_store_get(kv, kv->entries[k].key, kv->entries[k].key_len) ==
                  &kv->entries[k]);
    }
    for (size_t a = 0; a < sizeof addrs / sizeof addrs[0]; a++) {
        uint8_t family = a < 5 ? 4 : 6;
        for (size_t i = 0; i < e->nacls; i++)
            (void)cfg_acl_lookup(&e->acls[i], family, addrs[a]);
        char *rec = NULL;
        if (cfg_geo_record(e->geo, family, addrs[a], &rec) == CFG_OK && rec)
            CHECK(rec[0] == '{');
        free(rec);
    }
    if (e->device)
        for (size_t i = 0; i < e->device->count; i++) {
            const char *ua = e->device->entries[i].user_agent;
            CHECK(cfg_device_lookup(e->device, ua, strlen(ua)) != NULL);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int kind = data[0] % NKINDS;
    const char *path = fuzz_write("data.json", data + 1, size - 1);
    if (!path)
        return 0;
    cfg_edge e, copy;
    cfg_edge_init(&e);
    cfg_edge_init(&copy);
    char err[512] = "";
    cfg_status st = CFG_OK;
    switch (kind) {
    case DICT:
        st = cfg_edge_add_dictionary(&e, "d", path, err, sizeof err);
        break;
    case CONFIG:
        st = cfg_edge_add_config_store(&e, "c", path, err, sizeof err);
        break;
    case SECRET:
        st = cfg_edge_add_secret_store(&e, "s", path, err, sizeof err);
        break;
    case KV:
        st = cfg_edge_add_kv_store(&e, "k", path, err, sizeof err);
        break;
    case ACL:
        st = cfg_edge_add_acl(&e, "a", path, err, sizeof err);
        break;
    case GEO:
        st = cfg_edge_set_geo(&e, path, err, sizeof err);
        break;
    default:
        st = cfg_edge_set_device(&e, path, err, sizeof err);
        break;
    }
    if (st != CFG_OK) {
        CHECK(err[0] != '\0' && strchr(err, '\n') == NULL);
    } else {
        lookups(&e);
        if (cfg_edge_clone(&copy, &e, err, sizeof err) == CFG_OK)
            lookups(&copy);
    }
    cfg_edge_deinit(&copy);
    cfg_edge_deinit(&e);
    return 0;
}
