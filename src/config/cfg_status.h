/* cfg_status.h: the error values of the configuration layer (flags and the JSON files they name).
 * Detail text always goes into a caller-owned buffer; cfg_strerror names the class. */
#ifndef CFG_STATUS_H
#define CFG_STATUS_H

typedef enum cfg_status {
    CFG_OK = 0,
    CFG_ERR_USAGE, /* unknown flag, missing value, misplaced argument */
    CFG_ERR_VALUE, /* a flag value that does not parse or is out of range */
    CFG_ERR_FILE,  /* a named file cannot be read (or created, for -logger) */
    CFG_ERR_JSON,  /* a JSON file that does not parse or has the wrong shape */
    CFG_ERR_TOML,  /* a TOML file (fastly.toml) that does not parse or has the wrong shape */
    CFG_ERR_NOMEM,
} cfg_status;

const char *cfg_strerror(cfg_status status);

#endif
