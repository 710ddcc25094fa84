/* wasi_run.c: runs a WASI command module (read file, load, link preview1, instantiate, call
 * `_start`) and turns the outcome into a wasi_run_result. proc_exit arrives as an FWE_TRAP_EXIT
 * trap and is reported as a normal end with its exit code. */
#include "wasi/wasi_run.h"
#include "util/util_grow.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *wasi_run_strerror(wasi_run_status status)
{
    switch (status) {
    case WASI_RUN_OK:
        return "ok";
    case WASI_RUN_ERR_IO:
        return "cannot read file";
    case WASI_RUN_ERR_LOAD:
        return "invalid module";
    case WASI_RUN_ERR_LINK:
        return "cannot link module";
    case WASI_RUN_ERR_NO_START:
        return "no _start function";
    case WASI_RUN_ERR_NOMEM:
        return "out of memory";
    case WASI_RUN_TRAP:
        return "guest trapped";
    }
    return "unknown status";
}

wasi_run_status wasi_read_file(const char *path, uint8_t **bytes, size_t *len, char *err,
                               size_t errlen)
{
    *bytes = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return WASI_RUN_ERR_IO;
    }
    wasi_run_status st = WASI_RUN_OK;
    size_t cap = 0, used = 0;
    uint8_t *buf = NULL;
    /* Read until EOF rather than trusting st_size, so pipes and /dev/stdin work too: 64 KiB
     * first, then twice the room whenever it is full. */
    for (;;) {
        if (!util_grow((void **)&buf, &cap, used + 1, 64 * 1024, 1)) {
            st = WASI_RUN_ERR_NOMEM;
            snprintf(err, errlen, "%s: out of memory", path);
            goto out;
        }
        ssize_t n = read(fd, buf + used, cap - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            st = WASI_RUN_ERR_IO;
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        used += (size_t)n;
    }
out:
    close(fd);
    if (st != WASI_RUN_OK) {
        free(buf);
        return st;
    }
    *bytes = buf;
    *len = used;
    return WASI_RUN_OK;
}

/* Records how a guest call ended: an exit request is a normal end, anything else a trap. */
static void finish_trap(wasi_run_result *r, const fwe_trap *trap)
{
    if (trap->kind == FWE_TRAP_EXIT) {
        r->status = WASI_RUN_OK;
        r->exit_code = trap->exit_code;
        return;
    }
    r->status = WASI_RUN_TRAP;
    r->trap = *trap;
    snprintf(r->message, sizeof r->message, "wasm trap: %s",
             trap->message[0] ? trap->message : fwe_trap_kind_message(trap->kind));
}

static bool is_start_type(fwe_func *func)
{
    fwe_functype_info ti;
    fwe_func_type(func, &ti);
    return ti.nparams == 0 && ti.nresults == 0;
}

wasi_run_status wasi_run_bytes(fwe_engine *engine, const uint8_t *bytes, size_t len,
                               const wasi_run_config *config, wasi_run_result *r)
{
    memset(r, 0, sizeof *r);
    fwe_module *module = NULL;
    fwe_linker *linker = NULL;
    fwe_instance *instance = NULL;
    fwe_trap *trap = calloc(1, sizeof *trap);
    wasi_ctx *ctx = wasi_ctx_new(config->argc, config->argv, config->envc, config->env,
                                 config->stdin_fd, config->stdout_fd, config->stderr_fd);
    if (!trap || !ctx) {
        r->status = WASI_RUN_ERR_NOMEM;
        snprintf(r->message, sizeof r->message, "out of memory");
        goto done;
    }
    if (config->out_fn)
        wasi_ctx_set_output(ctx, config->out_fn, config->out_user);

    char err[WASI_RUN_MESSAGE_MAX];
    err[0] = '\0';
    fwe_status st = fwe_module_load(engine, bytes, len, &module, err, sizeof err);
    if (st != FWE_OK) {
        r->status = st == FWE_ERR_NOMEM ? WASI_RUN_ERR_NOMEM : WASI_RUN_ERR_LOAD;
        snprintf(r->message, sizeof r->message, "%s", err[0] ? err : fwe_strerror(st));
        goto done;
    }
    linker = fwe_linker_new(engine);
    if (!linker || wasi_define(linker, ctx) != FWE_OK) {
        r->status = WASI_RUN_ERR_NOMEM;
        snprintf(r->message, sizeof r->message, "cannot set up the linker");
        goto done;
    }
    st = fwe_instantiate(linker, module, &config->instance, &instance, trap);
    if (st == FWE_ERR_TRAP) {
        finish_trap(r, trap);
        goto done;
    }
    if (st != FWE_OK) {
        r->status = st == FWE_ERR_UNLINKABLE ? WASI_RUN_ERR_LINK
                    : st == FWE_ERR_NOMEM    ? WASI_RUN_ERR_NOMEM
                                             : WASI_RUN_ERR_LOAD;
        snprintf(r->message, sizeof r->message, "%s",
                 trap->message[0] ? trap->message : fwe_strerror(st));
        goto done;
    }
    fwe_extern start;
    if (!fwe_instance_export(instance, "_start", 6, &start) || start.kind != FWE_EXTERN_FUNC ||
        !is_start_type(start.of.func)) {
        r->status = WASI_RUN_ERR_NO_START;
        snprintf(r->message, sizeof r->message,
                 "module exports no `_start` function of type [] -> []");
        goto done;
    }
    st = fwe_call(start.of.func, NULL, 0, NULL, 0, trap);
    if (st == FWE_ERR_TRAP) {
        finish_trap(r, trap);
    } else if (st != FWE_OK) {
        r->status = st == FWE_ERR_NOMEM ? WASI_RUN_ERR_NOMEM : WASI_RUN_TRAP;
        r->trap.kind = FWE_TRAP_HOST;
        snprintf(r->message, sizeof r->message, "calling _start failed: %s", fwe_strerror(st));
        snprintf(r->trap.message, sizeof r->trap.message, "calling _start failed: %s",
                 fwe_strerror(st));
    } else {
        r->status = WASI_RUN_OK;
        r->exit_code = 0;
    }
done:
    fwe_tier_settle(module); /* what the C compiler is finishing is cached for the next run */
    fwe_instance_free(instance);
    fwe_linker_free(linker);
    fwe_module_free(module);
    wasi_ctx_free(ctx);
    free(trap);
    return r->status;
}

wasi_run_status wasi_run_file(const char *path, const wasi_run_config *config, wasi_run_result *r)
{
    memset(r, 0, sizeof *r);
    uint8_t *bytes;
    size_t len;
    r->status = wasi_read_file(path, &bytes, &len, r->message, sizeof r->message);
    if (r->status != WASI_RUN_OK)
        return r->status;
    fwe_engine *engine = fwe_engine_new();
    if (!engine) {
        free(bytes);
        r->status = WASI_RUN_ERR_NOMEM;
        snprintf(r->message, sizeof r->message, "out of memory");
        return r->status;
    }
    wasi_run_bytes(engine, bytes, len, config, r);
    free(bytes);
    fwe_engine_free(engine);
    return r->status;
}
