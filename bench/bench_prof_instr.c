/* bench_prof_instr.c: a driver for counting the instructions the profiler adds to a request,
 * independent of machine load: it serves N in-process requests (fastlike_handle) to one URL, with
 * or without the profiler recording. Run it under callgrind twice per setting with two values of
 * N; the difference divided by the difference in N is the cost of one request:
 *   valgrind --tool=callgrind bench-prof-instr GUEST.wasm 0|1 N URL
 * (see docs/performance.md; `make bench-prof-instr` does the whole comparison). */
#include "fastlike.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void quiet(void *user, const char *line)
{
    (void)user;
    (void)line;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s GUEST.wasm 0|1 N URL\n", argv[0]);
        return 2;
    }
    bool profile = strcmp(argv[2], "1") == 0;
    long n = strtol(argv[3], NULL, 10);
    char err[512] = "";
    fastlike_config *c = fastlike_config_new();
    fastlike *f = NULL;
    int rc = 1;
    if (!c || fastlike_config_set_wasm_file(c, argv[1]) != FASTLIKE_OK)
        goto out;
    fastlike_config_set_log(c, quiet, NULL);
    if (profile && fastlike_config_set_profile_ui(c, "127.0.0.1:0", err, sizeof err) != FASTLIKE_OK)
        goto out;
    if (fastlike_new(c, &f, err, sizeof err) != FASTLIKE_OK)
        goto out;
    fastlike_request req = {.method = "GET", .url = argv[4]};
    for (long i = 0; i < n; i++) {
        fastlike_response r;
        if (fastlike_handle(f, &req, &r, err, sizeof err) != FASTLIKE_OK || r.status != 200) {
            fastlike_response_free(&r);
            goto out;
        }
        fastlike_response_free(&r);
    }
    rc = 0;
out:
    if (rc)
        fprintf(stderr, "bench-prof-instr: %s\n", err[0] ? err : "a request failed");
    fastlike_free(f);
    fastlike_config_free(c);
    return rc;
}
