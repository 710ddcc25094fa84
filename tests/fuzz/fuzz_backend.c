/* fuzz_backend.c: libFuzzer target over the `-backend [name=]addr[@N]` parser
 * (src/config/cfg_backend.c) and the listening-address check (cfg_host_port_check). A spec that
 * parses gives a complete cfg_backend whose normalised URL parses again to the same backend (the
 * normalisation is a fixed point); a refusal is one line. */
#include "config/cfg_backend.h"
#include "fuzz_util.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *spec = malloc(size + 1); /* exact size + NUL: reads past the end are caught */
    if (!spec)
        return 0;
    memcpy(spec, data, size);
    spec[size] = '\0';
    char err[512] = "";
    cfg_backend b, again;
    memset(&b, 0, sizeof b);
    memset(&again, 0, sizeof again);
    if (cfg_backend_parse(spec, &b, err, sizeof err) == CFG_OK) {
        CHECK(b.url != NULL && b.host != NULL && b.path != NULL);
        CHECK(b.host[0] != '\0');
        CHECK(b.port != 0);
        CHECK(b.uptime == CFG_UPTIME_NONE || (b.uptime >= 0 && b.uptime <= 100));
        CHECK(b.name == NULL || b.name[0] != '\0');
        CHECK(strncmp(b.url, b.tls ? "https://" : "http://", b.tls ? 8 : 7) == 0);
        /* The normalised URL is a fixed point of the parser (given with an explicit share, as
         * a URL that itself ends in "@digits" would otherwise lose that part). */
        size_t ulen = strlen(b.url);
        char *url = malloc(ulen + 3);
        CHECK(url != NULL);
        memcpy(url, b.url, ulen);
        memcpy(url + ulen, "@0", 3);
        if (cfg_backend_parse(url, &again, err, sizeof err) != CFG_OK) {
            fprintf(stderr, "spec \"%s\" gave url \"%s\", which fails: %s\n", spec, b.url, err);
            abort();
        }
        free(url);
        CHECK(strcmp(again.url, b.url) == 0);
        CHECK(strcmp(again.host, b.host) == 0 && again.port == b.port && again.tls == b.tls);
        CHECK(strcmp(again.path, b.path) == 0);
        cfg_backend_deinit(&again);
        cfg_backend_deinit(&b);
    } else {
        CHECK(err[0] != '\0' && strchr(err, '\n') == NULL);
        CHECK(b.url == NULL && b.name == NULL); /* left empty */
    }
    err[0] = '\0';
    if (cfg_host_port_check(spec, err, sizeof err) != CFG_OK)
        CHECK(err[0] != '\0' && strchr(err, '\n') == NULL);
    free(spec);
    return 0;
}
