/* fuzz_fastly_toml.c: libFuzzer target over fastly.toml interpretation
 * (src/config/cfg_fastly_toml*.c): the input is written as a project's fastly.toml next to a few
 * well-formed data files it may name (dict.json, kv.json, acl.json, geo.json, device.json,
 * secrets.json) and loaded with cfg_fastly_toml_load, then merged into a second cfg_options as the
 * command line does. Every refusal is one line; an accepted file leaves a consistent cfg_options.
 */
#include "config/cfg_fastly_toml.h"
#include "config/cfg_flags.h"
#include "fuzz_util.h"

#include <stdint.h>

static const struct {
    const char *name, *text;
} side_files[] = {
    {"dict.json", "{\"k\": \"v\", \"k2\": \"v2\"}"},
    {"kv.json", "{\"a\": \"1\", \"b\": {\"body\": \"2\", \"metadata\": \"m\"}}"},
    {"kv_array.json", "[{\"key\": \"a\", \"data\": \"1\"}]"},
    {"acl.json", "{\"entries\": [{\"prefix\": \"10.0.0.0/8\", \"action\": \"BLOCK\"}]}"},
    {"geo.json", "{\"127.0.0.1\": {\"city\": \"Here\", \"as_number\": 1}}"},
    {"device.json", "{\"ua\": {\"device\": {\"name\": \"x\"}}}"},
    {"secrets.json", "{\"s\": \"secret\"}"},
    {"body.txt", "body"},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        for (size_t i = 0; i < sizeof side_files / sizeof side_files[0]; i++)
            if (!fuzz_write(side_files[i].name, side_files[i].text, strlen(side_files[i].text)))
                return 0;
        ready = true;
    }
    const char *path = fuzz_write("fastly.toml", data, size);
    if (!path)
        return 0;
    cfg_options toml, o;
    cfg_options_init(&toml);
    cfg_options_init(&o);
    char err[512] = "";
    cfg_status st = cfg_fastly_toml_load(path, &toml, err, sizeof err);
    if (st != CFG_OK) {
        CHECK(err[0] != '\0');
        CHECK(strchr(err, '\n') == NULL);
    } else {
        for (size_t i = 0; i < toml.nbackends; i++) {
            CHECK(toml.backends[i].url != NULL && toml.backends[i].host != NULL);
            CHECK(toml.backends[i].name != NULL); /* fastly.toml backends are always named */
        }
        st = cfg_fastly_toml_merge(&o, &toml, err, sizeof err);
        CHECK(st == CFG_OK);
        CHECK(toml.nbackends == 0);
    }
    cfg_options_deinit(&toml);
    cfg_options_deinit(&o);
    return 0;
}
