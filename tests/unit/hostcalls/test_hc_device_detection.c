/* test_hc_device_detection.c: fastly_device_detection.lookup with the guest
 * tests/guests/c/hc_device_detection.c, over a -device-detection JSON file and without data, and
 * the flag's file errors. */
#include "config/cfg_edge.h"
#include "harness.h"
#include "hc_guest_run.h"

#include "../config/tmp_files.h"

static guest_result res;

static void run_mode(const char *mode, const cfg_edge *edge)
{
    run_guest_checked("hc_device_detection", mode, edge, 8, &res);
}

TEST(guest_with_data)
{
    cfg_edge edge;
    cfg_edge_init(&edge);
    char err[512] = "";
    const char *p = write_file(
        "devices.json", "{\"Mozilla/5.0 (Linux; Android 14; Pixel 8) Mobile\": {\"device\": "
                        "{\"name\": \"Pixel 8\",\n"
                        "   \"brand\": \"Google\", \"is_mobile\": true, \"is_tablet\": false,\n"
                        "   \"hwtype\": \"Mobile Phone\"}},\n"
                        " \"caf\xc3\xa9/1.0\": {\"device\": {\"name\": \"Caf\xc3\xa9\"}}}\n");
    CHECK_EQ_INT(cfg_edge_set_device(&edge, p, err, sizeof err), CFG_OK);
    run_mode("data", &edge);
    /* the server's copy of the configuration carries it */
    cfg_edge copy;
    CHECK_EQ_INT(cfg_edge_clone(&copy, &edge, err, sizeof err), CFG_OK);
    cfg_edge_deinit(&edge);
    run_mode("data", &copy);
    /* NULL removes the data */
    CHECK_EQ_INT(cfg_edge_set_device(&copy, NULL, err, sizeof err), CFG_OK);
    run_mode("none", &copy);
    cfg_edge_deinit(&copy);
}

TEST(guest_without_data)
{
    run_mode("none", NULL);
    cfg_edge edge;
    cfg_edge_init(&edge);
    run_mode("none", &edge);
    cfg_edge_deinit(&edge);
}

/* Bad files: one line naming the file and what is wrong; the earlier data stays. */
TEST(bad_files)
{
    cfg_edge edge;
    cfg_edge_init(&edge);
    char err[512] = "";
    CHECK_EQ_INT(cfg_edge_set_device(&edge, write_file("d1.json", "{\"ua\": {\"device\": {}}}"),
                                     err, sizeof err),
                 CFG_OK);
    const char *p = write_file("d2.json", "[1, 2]");
    CHECK_EQ_INT(cfg_edge_set_device(&edge, p, err, sizeof err), CFG_ERR_JSON);
    CHECK_STR_CONTAINS(err, "d2.json: expected a JSON object mapping user agents to objects");
    p = write_file("d3.json", "{\"ua\": \"not an object\"}");
    CHECK_EQ_INT(cfg_edge_set_device(&edge, p, err, sizeof err), CFG_ERR_JSON);
    CHECK_STR_CONTAINS(err, "d3.json: user agent 'ua': expected an object");
    p = write_file("d4.json", "{\"ua\": {\n  \"device\": }}");
    CHECK_EQ_INT(cfg_edge_set_device(&edge, p, err, sizeof err), CFG_ERR_JSON);
    CHECK_STR_CONTAINS(err, "d4.json:2:"); /* FILE:LINE:COLUMN, as every JSON file */
    CHECK_EQ_INT(cfg_edge_set_device(&edge, tmp_path("missing.json"), err, sizeof err),
                 CFG_ERR_FILE);
    CHECK_STR_CONTAINS(err, "missing.json");
    CHECK(edge.device && edge.device->count == 1 && cfg_device_lookup(edge.device, "ua", 2));
    cfg_edge_deinit(&edge);
}

int main(int argc, char **argv)
{
    (void)argc;
    if (!tmp_dir_create("fastlike-device"))
        return 1;
    RUN(guest_with_data);
    RUN(guest_without_data);
    RUN(bad_files);
    tmp_dir_remove();
    return harness_finish(argv[0]);
}
