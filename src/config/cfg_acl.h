/* cfg_acl.h: ACL files for `-acl name=file.json`, in Fastlike's (and Fastly's API) format:
 * {"entries": [{"prefix": "192.168.0.0/16", "action": "ALLOW"|"BLOCK", "op": ignored}, ...]}. */
#ifndef CFG_ACL_H
#define CFG_ACL_H

#include "config/cfg_ip_prefix.h"
#include "config/cfg_status.h"

#include <stddef.h>

typedef enum cfg_acl_action { CFG_ACL_ALLOW, CFG_ACL_BLOCK } cfg_acl_action;

typedef struct cfg_acl_entry {
    cfg_ip_prefix prefix;
    cfg_acl_action action;
} cfg_acl_entry;

typedef struct cfg_acl {
    char *name;
    char *path;
    cfg_acl_entry *entries; /* in file order */
    size_t count;
} cfg_acl;

/* Loads out->entries/count from the file (name and path are left to the caller). Errors name the
 * file and the entry index: CFG_ERR_FILE, CFG_ERR_JSON, CFG_ERR_NOMEM. */
cfg_status cfg_acl_load(const char *path, cfg_acl *out, char *err, size_t errlen);
void cfg_acl_deinit(cfg_acl *acl);

/* The longest-prefix entry matching the address (4 or 16 bytes per family; the last of equally
 * long ones, as Viceroy), or NULL. */
const cfg_acl_entry *cfg_acl_lookup(const cfg_acl *acl, uint8_t family, const uint8_t *addr);

#endif
