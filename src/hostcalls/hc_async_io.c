/* hc_async_io.c: the fastly_async_io module: select blocks until one of the given async items
 * (pending requests, bodies, streaming request bodies, next_request promises; KV lookups when they
 * arrive) is ready or
 * the timeout passes (then the index is u32::MAX), sleeping on the request's wake-up signal that
 * the event loop bumps; is_ready asks one item. */
#include "hc_async_io.h"

#include "hc_hostcall.h"
#include "hc_http_downstream.h"
#include "hc_pending.h"

#include <stdlib.h>
#include <string.h>

#define MAX_ITEMS 4096

/* hc_item_ready, with next_request promises answered here. */
static hc_status item_ready(hc_ctx *ctx, uint32_t h, bool *ready)
{
    if (hc_table_kind(&ctx->items, h) == HC_ITEM_REQUEST_PROMISE) {
        *ready = hc_promise_ready(ctx, hc_table_get(&ctx->items, h, HC_ITEM_REQUEST_PROMISE));
        return HC_OK;
    }
    return hc_item_ready(ctx, h, ready);
}

/* The earliest promise deadline among the handles, when it comes before `deadline`. */
static uint64_t promise_wakeup(hc_ctx *ctx, const uint32_t *handles, uint32_t n, uint64_t deadline)
{
    for (uint32_t i = 0; i < n; i++) {
        if (hc_table_kind(&ctx->items, handles[i]) != HC_ITEM_REQUEST_PROMISE)
            continue;
        uint64_t d =
            hc_promise_deadline(hc_table_get(&ctx->items, handles[i], HC_ITEM_REQUEST_PROMISE));
        if (d && (!deadline || d < deadline))
            deadline = d;
    }
    return deadline;
}

static fwe_trap_kind select_items(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    uint32_t n = HC_ARG(1), timeout_ms = HC_ARG(2);
    if (n > MAX_ITEMS || (n == 0 && timeout_ms == 0))
        HC_RETURN(HC_INVAL); /* as Viceroy: nothing to wait for and no timeout */
    if (HC_ARG(0) & 3u)
        HC_RETURN(HC_BADALIGN);
    const uint8_t *hs = hc_mem_slice(caller, HC_ARG(0), n * 4);
    if ((!hs && n) || !hc_mem_slice(caller, HC_ARG(3), 4))
        HC_RETURN(HC_INVAL);
    uint32_t *handles = malloc((n ? n : 1) * sizeof *handles);
    if (!handles)
        HC_RETURN(HC_ERROR);
    if (n)
        memcpy(handles, hs, n * 4u);
    be_signal *sig = hc_backend_signal(ctx);
    uint64_t deadline = timeout_ms ? be_now_ns() + (uint64_t)timeout_ms * 1000000u : 0;
    uint32_t ready_idx = UINT32_MAX;
    hc_status st = HC_OK;
    for (;;) {
        uint64_t gen = sig ? be_signal_generation(sig) : 0;
        for (uint32_t i = 0; i < n && ready_idx == UINT32_MAX; i++) {
            bool ready;
            st = item_ready(ctx, handles[i], &ready);
            if (st != HC_OK)
                goto out;
            if (ready)
                ready_idx = i;
        }
        if (ready_idx != UINT32_MAX || !sig)
            break;
        if (deadline && be_now_ns() >= deadline)
            break;
        be_signal_wait(sig, gen, promise_wakeup(ctx, handles, n, deadline));
    }
    st = hc_mem_write_u32(caller, HC_ARG(3), ready_idx);
out:
    free(handles);
    HC_RETURN(st);
}

static fwe_trap_kind is_ready(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    bool ready;
    hc_status st = item_ready(ctx, HC_ARG(0), &ready);
    if (st != HC_OK)
        HC_RETURN(st);
    HC_RETURN(hc_mem_write_u32(caller, HC_ARG(1), ready ? 1 : 0));
}

#define M "fastly_async_io"
const hc_impl hc_async_io_impls[] = {
    {M, "select", select_items},
    {M, "is_ready", is_ready},
    {NULL, NULL, NULL},
};
#undef M
