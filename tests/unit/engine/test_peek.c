/* test_peek.c: fwe_module_imports_prefix (src/engine/peek.c) on hand-made modules: found or not
 * among function, table, memory and global imports, custom sections before the imports, modules
 * without imports, and malformed headers, section sizes and import entries; the same answer as a
 * full fwe_module_load on every well-formed one. */
#include "fwe.h"
#include "harness.h"

#include <string.h>

typedef struct mod {
    uint8_t b[512];
    size_t n;
} mod;

static void put(mod *m, const void *p, size_t n)
{
    memcpy(m->b + m->n, p, n);
    m->n += n;
}

static void byte(mod *m, uint8_t v)
{
    m->b[m->n++] = v;
}

static void name(mod *m, const char *s)
{
    byte(m, (uint8_t)strlen(s));
    put(m, s, strlen(s));
}

/* header, a type section with one `[] -> []` type, then an import section holding `imports`
 * (already encoded, `count` entries) unless count < 0; a custom section first when `custom` */
static mod module(const mod *imports, int count, bool custom)
{
    mod m = {.n = 0};
    put(&m, "\0asm\1\0\0\0", 8);
    if (custom) {
        byte(&m, 0);
        byte(&m, 5);
        name(&m, "note");
    }
    static const uint8_t types[] = {1, 4, 1, 0x60, 0, 0};
    put(&m, types, sizeof types);
    if (count >= 0) {
        byte(&m, 2);
        byte(&m, (uint8_t)(imports->n + 1));
        byte(&m, (uint8_t)count);
        put(&m, imports->b, imports->n);
    }
    return m;
}

static void func_import(mod *m, const char *module_name, const char *field)
{
    name(m, module_name);
    name(m, field);
    byte(m, 0);
    byte(m, 0);
}

static int full_loads; /* how many modules the cross-check loaded */

/* The answer, checked against a full load of the same bytes when they load. */
static fwe_status peek(const mod *m, bool *found)
{
    fwe_status st = fwe_module_imports_prefix(m->b, m->n, "fastly_", found);
    fwe_engine *e = fwe_engine_new();
    fwe_module *loaded = NULL;
    char err[256];
    if (e && fwe_module_load(e, m->b, m->n, &loaded, err, sizeof err) == FWE_OK) {
        bool full = false;
        for (uint32_t i = 0; i < fwe_module_import_count(loaded); i++) {
            fwe_import_info imp;
            fwe_module_import(loaded, i, &imp);
            full = full || (imp.module_len >= 7 && memcmp(imp.module, "fastly_", 7) == 0);
        }
        CHECK_EQ_INT(st, FWE_OK);
        CHECK(full == *found);
        full_loads++;
    }
    fwe_module_free(loaded);
    fwe_engine_free(e);
    return st;
}

TEST(found_among_imports)
{
    mod im = {.n = 0};
    func_import(&im, "wasi_snapshot_preview1", "fd_write");
    /* a memory with a maximum, a table, a global: all skipped correctly */
    name(&im, "env");
    name(&im, "memory");
    static const uint8_t mem[] = {2, 1, 1, 0x80, 0x02};
    put(&im, mem, sizeof mem);
    name(&im, "env");
    name(&im, "table");
    static const uint8_t tab[] = {1, 0x70, 0, 3};
    put(&im, tab, sizeof tab);
    name(&im, "env");
    name(&im, "g");
    static const uint8_t glob[] = {3, 0x7f, 0};
    put(&im, glob, sizeof glob);
    func_import(&im, "fastly_http_req", "body_downstream_get");
    bool found = false;
    mod m = module(&im, 5, false);
    CHECK_EQ_INT(peek(&m, &found), FWE_OK);
    CHECK(found);
    m = module(&im, 5, true);
    CHECK_EQ_INT(peek(&m, &found), FWE_OK);
    CHECK(found);
}

TEST(not_found)
{
    mod im = {.n = 0};
    func_import(&im, "wasi_snapshot_preview1", "fd_write");
    func_import(&im, "fastly", "x"); /* no underscore: not the ABI's prefix */
    bool found = true;
    mod m = module(&im, 2, false);
    CHECK_EQ_INT(peek(&m, &found), FWE_OK);
    CHECK(!found);
    /* no import section at all, and nothing after the header */
    m = module(NULL, -1, true);
    found = true;
    CHECK_EQ_INT(peek(&m, &found), FWE_OK);
    CHECK(!found);
    m = module(NULL, -1, false);
    m.n = 8;
    CHECK_EQ_INT(peek(&m, &found), FWE_OK);
    CHECK(!found);
    /* a function section after the types ends the search */
    m = module(NULL, -1, false);
    static const uint8_t funcs[] = {3, 2, 1, 0, 10, 4, 1, 2, 0, 0x0b}; /* and its code */
    put(&m, funcs, sizeof funcs);
    CHECK_EQ_INT(peek(&m, &found), FWE_OK);
    CHECK(!found);
}

TEST(malformed)
{
    bool found = true;
    mod m = {.n = 0};
    put(&m, "\0asn\1\0\0\0", 8);
    CHECK_EQ_INT(fwe_module_imports_prefix(m.b, m.n, "fastly_", &found), FWE_ERR_MALFORMED);
    CHECK(!found);
    CHECK_EQ_INT(fwe_module_imports_prefix(m.b, 4, "fastly_", &found), FWE_ERR_MALFORMED);
    /* a section longer than the file */
    m = module(NULL, -1, false);
    m.b[9] = 40;
    CHECK_EQ_INT(fwe_module_imports_prefix(m.b, m.n, "fastly_", &found), FWE_ERR_MALFORMED);
    /* an import name running past its section, a bad import kind, a missing entry */
    mod im = {.n = 0};
    func_import(&im, "wasi_snapshot_preview1", "fd_write");
    m = module(&im, 1, false);
    m.b[m.n - (1 + 22 + 1 + 8 + 2)] = 100; /* the module name's length byte */
    CHECK_EQ_INT(fwe_module_imports_prefix(m.b, m.n, "fastly_", &found), FWE_ERR_MALFORMED);
    m = module(&im, 1, false);
    m.b[m.n - 2] = 9;
    CHECK_EQ_INT(fwe_module_imports_prefix(m.b, m.n, "fastly_", &found), FWE_ERR_MALFORMED);
    m = module(&im, 2, false);
    CHECK_EQ_INT(fwe_module_imports_prefix(m.b, m.n, "fastly_", &found), FWE_ERR_MALFORMED);
    /* the same entry, well formed, as a check that the edits above were the faults */
    m = module(&im, 1, false);
    CHECK_EQ_INT(peek(&m, &found), FWE_OK);
    CHECK(!found);
}

/* every well-formed module above went through the full load as well */
TEST(cross_checked)
{
    CHECK(full_loads >= 7);
}

int main(int argc, char **argv)
{
    (void)argc;
    RUN(found_among_imports);
    RUN(not_found);
    RUN(malformed);
    RUN(cross_checked);
    return harness_finish(argv[0]);
}
