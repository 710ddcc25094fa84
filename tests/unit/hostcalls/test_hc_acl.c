/* test_hc_acl.c: fastly_acl: the guest in tests/guests/c/hc_acl.c against ACLs loaded from JSON
 * (as -acl gives them), a server without ACLs, and the JSON a match produces (Viceroy's
 * serde_json pretty form, Rust's IPv6 notation). */
#include "config/cfg_edge.h"
#include "config/tmp_files.h"
#include "harness.h"
#include "hc_guest_run.h"
#include "hostcalls/hc_acl.h"

static guest_result res;

static void run(const cfg_edge *edge, const char *arg, int min_checks)
{
    run_guest_checked("hc_acl", arg, edge, min_checks, &res);
}

TEST(guest)
{
    cfg_edge edge;
    cfg_edge_init(&edge);
    char err[512] = "";
    const char *list =
        "{\"entries\": ["
        "{\"op\": \"create\", \"prefix\": \"192.168.0.0/16\", \"action\": \"BLOCK\"},"
        "{\"prefix\": \"192.168.1.0/24\", \"action\": \"allow\"},"
        "{\"prefix\": \"10.0.0.0/8\", \"action\": \"ALLOW\"},"
        "{\"prefix\": \"10.9.9.9/8\", \"action\": \"BLOCK\"},"
        "{\"prefix\": \"2001:db8::/32\", \"action\": \"BLOCK\"},"
        "{\"prefix\": \"2001:DB8:0:1::99/64\", \"action\": \"ALLOW\"},"
        "{\"prefix\": \"::ffff:0:0/96\", \"action\": \"BLOCK\"}]}";
    CHECK_EQ_INT(cfg_edge_add_acl(&edge, "list", write_file("list.json", list), err, sizeof err),
                 CFG_OK);
    CHECK_EQ_INT(cfg_edge_add_acl(&edge, "empty", write_file("empty.json", "{\"entries\": []}"),
                                  err, sizeof err),
                 CFG_OK);
    run(&edge, "", 40);
    cfg_edge_deinit(&edge);
}

TEST(unconfigured)
{
    run(NULL, "unconfigured", 1);
}

static void expect_json(const char *prefix, const char *want_prefix)
{
    cfg_acl_entry e = {.action = CFG_ACL_ALLOW};
    CHECK(cfg_ip_prefix_parse(prefix, false, &e.prefix));
    char out[160], want[160];
    size_t n = hc_acl_entry_json(&e, out, sizeof out);
    snprintf(want, sizeof want, "{\n  \"prefix\": \"%s\",\n  \"action\": \"ALLOW\"\n}",
             want_prefix);
    CHECK_STR_EQ(out, want);
    CHECK_EQ_U64(n, strlen(want));
}

/* Viceroy's own round-trip cases (src/acl.rs) and Rust's Ipv6Addr notation. */
TEST(entry_json)
{
    expect_json("255.255.255.255/32", "255.255.255.255/32");
    expect_json("255.255.255.255/8", "255.0.0.0/8");
    expect_json("2002::1234:abcd:ffff:c0a8:101/64", "2002:0:0:1234::/64");
    expect_json("2000::AB/32", "2000::/32");
    expect_json("::1/128", "::1/128");
    expect_json("::/1", "::/1");
    expect_json("1:0:0:2:0:0:0:3/128", "1:0:0:2::3/128");      /* the longer zero run */
    expect_json("1:0:0:2:0:0:3:4/128", "1::2:0:0:3:4/128");    /* the first of equal runs */
    expect_json("1:0:2:3:4:5:6:7/128", "1:0:2:3:4:5:6:7/128"); /* one zero group stays */
    expect_json("::ffff:10.1.2.3/128", "::ffff:10.1.2.3/128");
    expect_json("::10.1.2.3/128", "::a01:203/128"); /* not v4-mapped */
    expect_json("fe80::1:0:0:0/64", "fe80::/64");
    cfg_acl_entry b = {.action = CFG_ACL_BLOCK};
    CHECK(cfg_ip_prefix_parse("1.2.3.0/24", false, &b.prefix));
    char out[160];
    hc_acl_entry_json(&b, out, sizeof out);
    CHECK_STR_EQ(out, "{\n  \"prefix\": \"1.2.3.0/24\",\n  \"action\": \"BLOCK\"\n}");
}

int main(int argc, char **argv)
{
    (void)argc;
    if (!tmp_dir_create("fastlike-hc-acl"))
        return 1;
    RUN(guest);
    RUN(unconfigured);
    RUN(entry_json);
    tmp_dir_remove();
    return harness_finish(argv[0]);
}
