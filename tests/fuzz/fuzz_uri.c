/* fuzz_uri.c: libFuzzer target over URI parsing in the hostcall layer
 * (fastly_http_req.uri_set, src/hostcalls/hc_http_req.c): the input is a guest's URI, set on a
 * new request through the real hostcall and read back with uri_get. An accepted URI prints as
 * visible ASCII only (it goes into a backend's request line: no space, control byte or byte
 * above 0x7e may get through), setting the printed form again gives the same text, and a
 * too-small buffer is `buflen` with the size needed. */
#include "fuzz_hc.h"
#include "hostcalls/hc_status.h"

#define IN_AT 0x100u
#define IN_MAX 0x7e00u
#define OUT_AT 0x8000u
#define OUT_MAX 0x7f00u
#define SLOT 0x10u /* handle out-pointer */
#define NW 0x18u   /* nwritten out-pointer */

static const hc_abi_fn *rows[3];
enum { R_NEW, R_URI_GET, R_URI_SET };

static uint32_t get_u32(const uint8_t *mem, uint32_t at)
{
    uint32_t v;
    memcpy(&v, mem + at, 4);
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!rows[0]) {
        rows[R_NEW] = hc_abi_find("fastly_http_req", 15, "new", 3);
        rows[R_URI_GET] = hc_abi_find("fastly_http_req", 15, "uri_get", 7);
        rows[R_URI_SET] = hc_abi_find("fastly_http_req", 15, "uri_set", 7);
        CHECK(rows[0] && rows[1] && rows[2]);
    }
    if (size > IN_MAX)
        return 0;
    fhc_world *w = fhc_world_get(rows, 3);
    fhc_req req;
    if (!fhc_req_begin(&req, w)) {
        fhc_req_end(&req);
        return 0;
    }
    uint8_t *mem = req.mem;
    uint64_t a[4] = {SLOT};
    CHECK(fhc_call(&req, R_NEW, a) == HC_OK);
    uint32_t h = get_u32(mem, SLOT);

    memcpy(mem + IN_AT, data, size);
    uint64_t set[3] = {h, IN_AT, size};
    uint32_t st = fhc_call(&req, R_URI_SET, set);
    CHECK(st == HC_OK || st == HC_ERROR);
    if (st == HC_OK) {
        uint64_t get[4] = {h, OUT_AT, OUT_MAX, NW};
        CHECK(fhc_call(&req, R_URI_GET, get) == HC_OK);
        uint32_t n = get_u32(mem, NW);
        CHECK(n > 0 && n <= OUT_MAX);
        for (uint32_t i = 0; i < n; i++) {
            uint8_t c = mem[OUT_AT + i];
            if (c <= 0x20 || c >= 0x7f) {
                fprintf(stderr, "fuzz_uri: byte 0x%02x at %u of the printed URI \"%.*s\"\n", c, i,
                        (int)n, (const char *)mem + OUT_AT);
                abort();
            }
        }
        /* too small a buffer: buflen, and the size needed */
        uint64_t small[4] = {h, OUT_AT, n - 1, NW};
        CHECK(fhc_call(&req, R_URI_GET, small) == HC_BUFLEN);
        CHECK(get_u32(mem, NW) == n);
        /* the printed form is a fixed point */
        memmove(mem + IN_AT, mem + OUT_AT, n);
        uint64_t set2[3] = {h, IN_AT, n};
        if (fhc_call(&req, R_URI_SET, set2) != HC_OK) {
            fprintf(stderr, "fuzz_uri: printed form \"%.*s\" is refused\n", (int)n,
                    (const char *)mem + IN_AT);
            abort();
        }
        uint64_t get2[4] = {h, OUT_AT, OUT_MAX, NW};
        CHECK(fhc_call(&req, R_URI_GET, get2) == HC_OK);
        CHECK(get_u32(mem, NW) == n && memcmp(mem + OUT_AT, mem + IN_AT, n) == 0);
    }
    fhc_req_end(&req);
    return 0;
}
