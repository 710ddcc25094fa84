/* test_hc_uap.c: fastly_uap.parse: the guest in tests/guests/c/hc_uap.c, and hc_uap_parse against
 * uap-core's own user-agent test cases (tests/test_ua.yaml of the Debian package). */
#include "harness.h"
#include "hc_guest_run.h"
#include "hostcalls/hc_uap.h"

static guest_result res;

TEST(guest)
{
    hc_env *e = hc_env_new();
    if (!e || !hc_env_ctx(e))
        return;
    CHECK(run_guest("hc_uap", "", e->ctx, &res));
    if (res.fails != 0)
        fprintf(stderr, "%s", res.out);
    CHECK(guest_exited(&res, 0));
    CHECK(res.checks > 10);
    CHECK_EQ_INT(res.fails, 0);
    hc_env_free(e);
}

/* 'value' or empty (a bare key) from "    key: 'value'". */
static void yaml_value(const char *line, char *out, size_t cap)
{
    const char *c = strchr(line, ':');
    out[0] = '\0';
    if (!c)
        return;
    c++;
    while (*c == ' ')
        c++;
    size_t o = 0;
    char q = (*c == '\'' || *c == '"') ? *c++ : 0;
    for (; *c && *c != '\n' && o + 1 < cap; c++) {
        if (q && *c == q) {
            if (q == '\'' && c[1] == '\'') {
                out[o++] = *c++;
                continue;
            }
            break;
        }
        out[o++] = *c;
    }
    out[o] = '\0';
}

static bool field_is(const char *f, size_t len, const char *want)
{
    return strlen(want) == len && memcmp(f, want, len) == 0;
}

/* The database's own cases: nearly all must agree (PCRE2 vs. the Python regex flavour). */
TEST(uap_core_test_cases)
{
    FILE *f = fopen("/usr/share/uap-core/tests/test_ua.yaml", "r");
    if (!f) {
        printf("uap_core_test_cases: skipped (uap-core not installed)\n");
        return;
    }
    char line[8192], ua[4096] = "", want[4][256];
    int total = 0, agree = 0, fields = 0;
    while (fgets(line, sizeof line, f)) {
        const char *s = line + strspn(line, " ");
        if (strncmp(s, "- user_agent_string:", 20) == 0) {
            yaml_value(s, ua, sizeof ua);
            fields = 0;
        } else if (fields < 4 && (strncmp(s, "family:", 7) == 0 || strncmp(s, "major:", 6) == 0 ||
                                  strncmp(s, "minor:", 6) == 0 || strncmp(s, "patch:", 6) == 0)) {
            yaml_value(s, want[fields], sizeof want[fields]);
            if (++fields == 4) {
                char out[4][257];
                size_t lens[4];
                total++;
                if (hc_uap_parse(ua, strlen(ua), out, lens) && field_is(out[0], lens[0], want[0]) &&
                    field_is(out[1], lens[1], want[1]) && field_is(out[2], lens[2], want[2]) &&
                    field_is(out[3], lens[3], want[3]))
                    agree++;
            }
        }
    }
    fclose(f);
    printf("uap_core_test_cases: %d of %d agree\n", agree, total);
    CHECK(total > 1000);
    CHECK(agree * 100 >= total * 97);
}

HARNESS_MAIN(RUN(guest); RUN(uap_core_test_cases);)
