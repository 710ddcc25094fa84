/* srv_run.c: one run of a Compute program's `_start` outside the HTTP server (`viceroy run`,
 * `fastlike run` for a module that imports the Fastly ABI). A linker of its own binds WASI to the
 * real stdio; the downstream request is Viceroy's placeholder and the response is discarded. */
#include "server/srv_run.h"

#include "util/util_id.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int discard_head(void *sink, uint16_t status, const hc_header_view *h, size_t n,
                        int64_t content_length)
{
    return 0;
}

static int discard_write(void *sink, const uint8_t *data, size_t len)
{
    return 0;
}

static int discard_finish(void *sink)
{
    return 0;
}

static void set_loopback(struct sockaddr_storage *ss, uint16_t port)
{
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    memset(ss, 0, sizeof *ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

static bool is_start_type(fwe_func *f)
{
    fwe_functype_info ti;
    fwe_func_type(f, &ti);
    return ti.nparams == 0 && ti.nresults == 0;
}

srv_run_status srv_run_main(srv_guest *g, const srv_run_config *cfg, int *exit_code, char *message,
                            size_t msglen)
{
    srv_run_status result = SRV_RUN_ERROR;
    *exit_code = 0;
    if (msglen)
        message[0] = '\0';
    char trace[33];
    util_random_hex_id(trace);
    char trace_env[64];
    snprintf(trace_env, sizeof trace_env, "FASTLY_TRACE_ID=%s", trace);
    size_t nenv = g->nenv + 1 + cfg->nenv;
    const char **env = calloc(nenv, sizeof *env);
    fwe_trap *trap = calloc(1, sizeof *trap);
    wasi_ctx *wasi = NULL;
    fwe_linker *linker = NULL;
    hc_ctx *hc = NULL;
    fwe_instance *inst = NULL;
    if (!env || !trap) {
        snprintf(message, msglen, "out of memory");
        goto done;
    }
    /* the caller's first: getenv takes the first match, so they override FASTLY_* */
    for (size_t i = 0; i < cfg->nenv; i++)
        env[i] = cfg->env[i];
    for (size_t i = 0; i < g->nenv; i++)
        env[cfg->nenv + i] = g->env[i];
    env[cfg->nenv + g->nenv] = trace_env;
    wasi = wasi_ctx_new(cfg->argc, cfg->argv, nenv, env, cfg->stdin_fd, cfg->stdout_fd,
                        cfg->stderr_fd);
    linker = fwe_linker_new(g->engine);
    if (!wasi || !linker || wasi_define(linker, wasi) != FWE_OK ||
        hc_define_all(linker) != FWE_OK) {
        snprintf(message, msglen, "cannot set up the linker (out of memory)");
        goto done;
    }
    /* srv_guest_new refused unknown imports already when they are an error */
    fwe_linker_allow_missing_imports(linker, true);

    hc_downstream_request req = {.method = "GET",
                                 .url = "http://example.com/",
                                 .http_version = 2, /* HTTP/1.1 */
                                 .body_length = -1};
    set_loopback(&req.client_addr, 0);
    set_loopback(&req.server_addr, 80);
    hc_downstream_sink sink = {discard_head, discard_write, discard_finish, NULL, NULL, NULL};
    hc = hc_ctx_new(&g->hc, &req, &sink, trace);
    if (!hc) {
        snprintf(message, msglen, "out of memory");
        goto done;
    }
    fwe_instance_config ic = {
        .host_data = hc, .max_memory_pages = g->max_memory_pages, .defer_start = true};
    ic.max_table_elements = SRV_TABLE_ELEMENTS_MAX;
    fwe_status st = fwe_instantiate(linker, g->module, &ic, &inst, trap);
    if (st == FWE_OK)
        st = fwe_instance_run_start(inst, trap);
    if (st == FWE_OK) {
        fwe_extern start;
        if (!fwe_instance_export(inst, "_start", 6, &start) || start.kind != FWE_EXTERN_FUNC ||
            !is_start_type(start.of.func)) {
            snprintf(message, msglen, "the module has no `_start` function of type [] -> []");
            goto done;
        }
        st = fwe_call(start.of.func, NULL, 0, NULL, 0, trap);
    }
    if (st == FWE_OK) {
        result = SRV_RUN_EXITED;
    } else if (st == FWE_ERR_TRAP && trap->kind == FWE_TRAP_EXIT) {
        result = SRV_RUN_EXITED;
        *exit_code = trap->exit_code;
    } else if (st == FWE_ERR_TRAP) {
        result = SRV_RUN_TRAPPED;
        fwe_trap_format(trap, message, msglen);
    } else {
        snprintf(message, msglen, "cannot run the guest: %s",
                 trap->message[0] ? trap->message : fwe_strerror(st));
    }
done:
    fwe_tier_settle(g->module); /* what the C compiler is finishing is cached for the next run */
    if (hc)
        hc_ctx_finish(hc);
    hc_ctx_free(hc);
    fwe_instance_free(inst);
    fwe_linker_free(linker);
    wasi_ctx_free(wasi);
    free(trap);
    free(env);
    return result;
}
