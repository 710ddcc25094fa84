/* fuzz_hostcalls.c: libFuzzer target over the hostcall layer as a hostile guest drives it. The
 * input is decoded as a program of up to 64 steps against a fresh request (fuzz_hc.h): a step
 * either writes input bytes into guest memory, or calls one of the ABI table's rows (every
 * hostcall and legacy name) with arguments chosen per parameter: small integers, pointers to
 * useful strings and their lengths, out-pointers, handles earlier calls wrote there, pointers at
 * or past the end of memory, and raw 32- or 64-bit values. Every call must return a
 * fastly_status, never trap or crash, and the request must end cleanly. FUZZ_HC_TRACE=1 prints
 * each call with its status (to read what a reproducer does). */
#include "fuzz_hc.h"
#include "hostcalls/hc_status.h"

/* Strings a guest would pass (names of the configured stores, headers, URLs, ...), placed at
 * STR_BASE + 32 * i. */
static const char *const strings[] = {
    "dict",
    "cfg",
    "kv",
    "acl",
    "secret",
    "log",
    "k",
    "k2",
    "a",
    "b",
    "s",
    "content-type",
    "text/plain",
    "x-multi",
    "host",
    "http://example.com/",
    "https://h/p?q=1",
    "GET",
    "POST",
    "backend",
    "192.0.2.1",
    "::1",
    "Mozilla/5.0 (iPhone)",
    "fake-key",
    "key/with/slash",
    "",
    "\xff\xfe bad utf-8",
    "a\nb",
    "cache-key",
    "surrogate-key",
    "rate",
    "pb",
};
#define NSTRINGS (sizeof strings / sizeof strings[0])
#define STR_BASE 0x100u
#define OUT_BASE 0x8000u /* 64 aligned 8-byte out slots */
#define NOUT 64

typedef struct reader {
    const uint8_t *p, *end;
} reader;

static uint8_t rd8(reader *r)
{
    return r->p < r->end ? *r->p++ : 0;
}
static uint32_t rd32(reader *r)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)rd8(r) << (8 * i);
    return v;
}

static void init_memory(uint8_t *mem)
{
    memset(mem, 0, FHC_PAGE);
    for (size_t i = 0; i < NSTRINGS; i++)
        memcpy(mem + STR_BASE + 32 * i, strings[i], strlen(strings[i]));
    /* a header-values list ("a\0b\0") and a select list of small handles */
    memcpy(mem + 0x1000, "a\0b\0", 4);
    for (uint32_t i = 0; i < 8; i++)
        memcpy(mem + 0x1100 + 4 * i, &i, 4);
}

static uint64_t arg(reader *r, const uint8_t *mem, uint32_t *last_len)
{
    uint8_t k = rd8(r);
    switch (k % 10) {
    case 0:
        return rd8(r) % 8;
    case 1: { /* a string and, for the next length argument, its length */
        uint32_t i = rd8(r) % NSTRINGS;
        *last_len = (uint32_t)strlen(strings[i]);
        return STR_BASE + 32 * i;
    }
    case 2:
        return *last_len ? *last_len : rd8(r) % 64;
    case 3:
        return rd8(r) % 200; /* a buffer length */
    case 4:
        return OUT_BASE + 8 * (rd8(r) % NOUT);
    case 5: { /* a handle an earlier call wrote to an out slot */
        uint32_t v;
        memcpy(&v, mem + OUT_BASE + 8 * (rd8(r) % NOUT), 4);
        return v;
    }
    case 6:
        return FHC_PAGE - rd8(r) % 16; /* at or just before the end of memory */
    case 7:
        return 0xffffffffu - rd8(r) % 4;
    case 8:
        return 0x2000u + rd8(r) * 64u; /* scratch buffers */
    default:
        return rd32(r) | ((uint64_t)(k & 0x80 ? rd32(r) : 0) << 32);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const hc_abi_fn **rows;
    if (!rows) {
        rows = calloc(hc_abi_count, sizeof *rows);
        CHECK(rows != NULL);
        for (size_t i = 0; i < hc_abi_count; i++)
            rows[i] = &hc_abi_table[i];
    }
    static int trace = -1; /* FUZZ_HC_TRACE=1: print each call and its status */
    if (trace < 0)
        trace = getenv("FUZZ_HC_TRACE") != NULL;
    fhc_world *w = fhc_world_get(rows, (uint32_t)hc_abi_count);
    fhc_req req;
    if (!fhc_req_begin(&req, w)) {
        fhc_req_end(&req);
        return 0;
    }
    init_memory(req.mem);
    reader r = {data, data + size};
    for (int step = 0; step < 64 && r.p < r.end; step++) {
        uint8_t op = rd8(&r);
        if (op < 16) { /* write input bytes into memory */
            uint32_t off = (rd8(&r) | (uint32_t)rd8(&r) << 8) % FHC_PAGE;
            size_t n = rd8(&r) % 64;
            if (n > (size_t)(r.end - r.p))
                n = (size_t)(r.end - r.p);
            if (n > FHC_PAGE - off)
                n = FHC_PAGE - off;
            memcpy(req.mem + off, r.p, n);
            r.p += n;
            continue;
        }
        uint32_t i = (rd8(&r) | (uint32_t)rd8(&r) << 8) % w->nrows;
        const hc_abi_fn *row = w->rows[i];
        uint32_t np = fhc_nparams(row->signature), last_len = 0;
        uint64_t args[16] = {0};
        for (uint32_t k = 0; k < np && k < 16; k++)
            args[k] = arg(&r, req.mem, &last_len);
        /* A guest may legitimately wait for a long time; keep the waits of one input short. */
        if (strcmp(row->module, "fastly_async_io") == 0 && strcmp(row->name, "select") == 0)
            args[2] = 1 + args[2] % 3;
        if (trace)
            fprintf(stderr, "%s.%s ...\n", row->module, row->name);
        uint32_t st = fhc_call(&req, i, args);
        if (trace)
            fprintf(stderr, "%s.%s(%llx, %llx, %llx, ...) = %u\n", row->module, row->name,
                    (unsigned long long)args[0], (unsigned long long)args[1],
                    (unsigned long long)args[2], st);
    }
    fhc_req_end(&req);
    return 0;
}
