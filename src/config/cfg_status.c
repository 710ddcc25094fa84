/* cfg_status.c: names of the configuration layer's error values (cfg_status.h). */
#include "config/cfg_status.h"

const char *cfg_strerror(cfg_status status)
{
    switch (status) {
    case CFG_OK:
        return "ok";
    case CFG_ERR_USAGE:
        return "usage error";
    case CFG_ERR_VALUE:
        return "bad value";
    case CFG_ERR_FILE:
        return "cannot read file";
    case CFG_ERR_JSON:
        return "invalid JSON file";
    case CFG_ERR_TOML:
        return "invalid TOML file";
    case CFG_ERR_NOMEM:
        return "out of memory";
    }
    return "unknown error";
}
