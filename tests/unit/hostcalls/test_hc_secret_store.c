/* test_hc_secret_store.c: fastly_secret_store: the guest in tests/guests/c/hc_secret_store.c
 * against a store loaded from JSON (as -secret-store gives it) with the request log at -v 2, which
 * must never show a secret value; a server without secret stores; and a broken secrets file,
 * whose error names the place but not the text there. */
#include "config/cfg_edge.h"
#include "config/tmp_files.h"
#include "harness.h"
#include "hc_guest_run.h"

#define SECRET "s3cr3t-Value-42"

static guest_result res;

TEST(guest_verbose_log_has_no_secrets)
{
    cfg_edge edge;
    cfg_edge_init(&edge);
    char err[512] = "";
    CHECK_EQ_INT(cfg_edge_add_secret_store(
                     &edge, "secrets",
                     write_file("secrets.json", "{\"api_key\": \"" SECRET "\", \"empty\": \"\"}"),
                     err, sizeof err),
                 CFG_OK);
    hc_env *e = hc_env_new();
    if (!e)
        return;
    e->settings.edge = &edge;
    e->settings.verbosity = 2;
    if (hc_env_ctx(e)) {
        CHECK(run_guest("hc_secret_store", "", e->ctx, &res));
        if (res.fails != 0)
            fprintf(stderr, "%s", res.out);
        CHECK(guest_exited(&res, 0));
        CHECK(res.checks >= 40);
        CHECK_EQ_INT(res.fails, 0);
        /* the verbose log did record the failed lookups, by name only */
        CHECK_STR_CONTAINS(e->log.text, "no secret store named 'nope'");
        CHECK_STR_CONTAINS(e->log.text, "no secret named 'nope' in 'secrets'");
        CHECK(strstr(e->log.text, SECRET) == NULL);
        CHECK(strstr(e->log.text, "s3cr3t") == NULL);
        CHECK(strstr(e->log.text, "made") == NULL); /* the from_bytes secret */
    }
    hc_env_free(e);
    cfg_edge_deinit(&edge);
}

TEST(unconfigured)
{
    hc_env *e = hc_env_new();
    if (!e || !hc_env_ctx(e)) {
        hc_env_free(e);
        return;
    }
    CHECK(run_guest("hc_secret_store", "unconfigured", e->ctx, &res));
    CHECK(guest_exited(&res, 0));
    CHECK(res.checks >= 4);
    CHECK_EQ_INT(res.fails, 0);
    hc_env_free(e);
}

/* jansson quotes the token near a syntax error; for a secrets file that may be a secret */
TEST(bad_file_error_hides_the_text)
{
    cfg_edge edge;
    cfg_edge_init(&edge);
    char err[512] = "";
    const char *path = write_file("broken.json", "{\"api_key\": " SECRET "}");
    CHECK_EQ_INT(cfg_edge_add_secret_store(&edge, "s", path, err, sizeof err), CFG_ERR_JSON);
    CHECK_STR_CONTAINS(err, "broken.json:1:");
    CHECK_STR_CONTAINS(err, "invalid JSON");
    CHECK(strstr(err, "s3cr3t") == NULL);
    /* a dictionary keeps jansson's full message */
    CHECK_EQ_INT(cfg_edge_add_dictionary(&edge, "d", path, err, sizeof err), CFG_ERR_JSON);
    CHECK_STR_CONTAINS(err, "near");
    cfg_edge_deinit(&edge);
}

int main(int argc, char **argv)
{
    (void)argc;
    if (!tmp_dir_create("fastlike-hc-secret"))
        return 1;
    RUN(guest_verbose_log_has_no_secrets);
    RUN(unconfigured);
    RUN(bad_file_error_hides_the_text);
    tmp_dir_remove();
    return harness_finish(argv[0]);
}
