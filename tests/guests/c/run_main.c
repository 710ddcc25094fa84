/* run_main.c: test guest for `viceroy run` / `fastlike run` of a Compute program
 * (tests/unit/server/test_run.c): prints the downstream request it was given and its arguments,
 * then does what argv[1] asks: "exit N" calls exit(N), "return N" returns N, "trap" traps in a
 * named function, "env NAME" prints NAME's value, "respond" sends a response first. */
#include "fastly_hostcalls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) static void run_main_trap_here(int x)
{
    if (x)
        __builtin_trap();
}

int main(int argc, char **argv)
{
    fastly_request_handle req;
    fastly_body_handle body;
    char method[32] = "", uri[256] = "";
    size_t n = 0;
    if (fastly_http_req_body_downstream_get(&req, &body) != 0) {
        printf("no downstream request\n");
        return 9;
    }
    if (fastly_http_req_method_get(req, method, sizeof method - 1, &n) == 0)
        method[n] = '\0';
    if (fastly_http_req_uri_get(req, uri, sizeof uri - 1, &n) == 0)
        uri[n] = '\0';
    printf("request %s %s\n", method, uri);
    for (int i = 0; i < argc; i++)
        printf("argv[%d]=%s\n", i, argv[i]);
    fflush(stdout);
    const char *what = argc > 1 ? argv[1] : "";
    int code = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 0;
    if (strcmp(what, "exit") == 0)
        exit(code);
    if (strcmp(what, "return") == 0)
        return code;
    if (strcmp(what, "trap") == 0)
        run_main_trap_here(1);
    if (strcmp(what, "env") == 0 && argc > 2) {
        const char *v = getenv(argv[2]);
        printf("%s=%s\n", argv[2], v ? v : "(unset)");
    }
    if (strcmp(what, "respond") == 0) {
        fastly_response_handle resp;
        fastly_body_handle rb;
        fastly_http_resp_new(&resp);
        fastly_http_body_new(&rb);
        fastly_http_resp_status_set(resp, 201);
        int rc = fastly_http_resp_send_downstream(resp, rb, 0);
        printf("send_downstream=%d\n", rc);
    }
    fprintf(stderr, "done\n");
    return 0;
}
