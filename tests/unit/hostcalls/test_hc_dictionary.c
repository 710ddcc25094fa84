/* test_hc_dictionary.c: fastly_dictionary and fastly_config_store: the guest in
 * tests/guests/c/hc_dictionary.c against dictionaries and config stores loaded from JSON files
 * (as -dictionary / -config-store give them), a server without edge data, and the item limits
 * checked when a file is loaded. */
#include "config/cfg_edge.h"
#include "config/tmp_files.h"
#include "harness.h"
#include "hc_guest_run.h"

static guest_result res;

static void run(const cfg_edge *edge, const char *arg)
{
    run_guest_checked("hc_dictionary", arg, edge, arg[0] ? 3 : 50, &res);
}

/* {"long": 8000 x, "kkk...k" (256): "maxkey", ...} */
static char *dict_json(void)
{
    size_t cap = 9000 + 600;
    char *j = malloc(cap);
    if (!j)
        return NULL;
    char longv[8001], key[257];
    memset(longv, 'x', 8000);
    longv[8000] = '\0';
    memset(key, 'k', 256);
    key[256] = '\0';
    snprintf(j, cap,
             "{\"greeting\": \"hello\", \"empty\": \"\", \"utf\": \"gr\\u00fc\\u00dfe\", "
             "\"long\": \"%s\", \"%s\": \"maxkey\"}",
             longv, key);
    return j;
}

TEST(guest)
{
    cfg_edge edge;
    cfg_edge_init(&edge);
    char err[512] = "";
    char *j = dict_json();
    CHECK(j != NULL);
    if (!j)
        return;
    CHECK_EQ_INT(
        cfg_edge_add_dictionary(&edge, "dict", write_file("dict.json", j), err, sizeof err),
        CFG_OK);
    free(j);
    CHECK_EQ_INT(cfg_edge_add_config_store(&edge, "settings",
                                           write_file("settings.json", "{\"mode\": \"fast\"}"), err,
                                           sizeof err),
                 CFG_OK);
    CHECK_EQ_INT(cfg_edge_add_dictionary(&edge, "shared",
                                         write_file("sd.json", "{\"who\": \"from-dict\"}"), err,
                                         sizeof err),
                 CFG_OK);
    CHECK_EQ_INT(cfg_edge_add_config_store(&edge, "shared",
                                           write_file("sc.json", "{\"who\": \"from-store\"}"), err,
                                           sizeof err),
                 CFG_OK);
    run(&edge, "");
    cfg_edge_deinit(&edge);
}

TEST(unconfigured)
{
    cfg_edge empty;
    cfg_edge_init(&empty);
    run(NULL, "unconfigured");   /* no edge data at all */
    run(&empty, "unconfigured"); /* edge data without dictionaries */
}

/* Fastly's limits (Viceroy counts characters): a key of 257 characters, a value of 8001. */
TEST(limits)
{
    cfg_edge edge;
    cfg_edge_init(&edge);
    char err[512] = "";
    char text[9000 * 2 + 64];
    char big[8002];
    memset(big, 'v', 8001);
    big[8001] = '\0';
    snprintf(text, sizeof text, "{\"k\": \"%s\"}", big);
    const char *path = write_file("bigvalue.json", text);
    CHECK_EQ_INT(cfg_edge_add_dictionary(&edge, "d", path, err, sizeof err), CFG_ERR_VALUE);
    CHECK_STR_CONTAINS(err, "bigvalue.json");
    CHECK_STR_CONTAINS(err, "key \"k\": value is longer than 8000 characters");
    CHECK_EQ_INT(cfg_edge_add_config_store(&edge, "c", path, err, sizeof err), CFG_ERR_VALUE);
    big[257] = '\0';
    snprintf(text, sizeof text, "{\"%s\": \"v\"}", big);
    path = write_file("bigkey.json", text);
    CHECK_EQ_INT(cfg_edge_add_dictionary(&edge, "d", path, err, sizeof err), CFG_ERR_VALUE);
    CHECK_STR_CONTAINS(err, "is longer than 256 characters");
    CHECK_EQ_U64(edge.ndictionaries + edge.nconfig_stores, 0);
    /* 8000 two-byte characters are 16000 bytes, and allowed */
    size_t o = (size_t)snprintf(text, sizeof text, "{\"k\": \"");
    for (int i = 0; i < 8000; i++) {
        text[o++] = (char)0xc3;
        text[o++] = (char)0xbc;
    }
    snprintf(text + o, sizeof text - o, "\"}");
    CHECK_EQ_INT(
        cfg_edge_add_dictionary(&edge, "wide", write_file("wide.json", text), err, sizeof err),
        CFG_OK);
    const cfg_dictionary *d = cfg_edge_dictionary(&edge, "wide", 4);
    CHECK(d && cfg_string_map_get(&d->items, "k", 1)->value_len == 16000);
    /* secret stores have no such limit */
    CHECK_EQ_INT(cfg_edge_add_secret_store(&edge, "s", path, err, sizeof err), CFG_OK);
    cfg_edge_deinit(&edge);
}

int main(int argc, char **argv)
{
    (void)argc;
    if (!tmp_dir_create("fastlike-hc-dict"))
        return 1;
    RUN(guest);
    RUN(unconfigured);
    RUN(limits);
    tmp_dir_remove();
    return harness_finish(argv[0]);
}
