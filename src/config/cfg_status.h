/* cfg_status.h: the error values of the configuration layer (flags and the JSON files they name).
 * Detail text (one line naming the problem) always goes into a caller-owned buffer; callers print
 * that text, so the values carry no names of their own. */
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

#endif
