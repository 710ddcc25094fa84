/* test_hc_geo.c: fastly_geo.lookup: the guest tests/guests/c/hc_geo.c over a JSON table, without
 * data and with use_default_loopback off (the records themselves: tests/unit/config/test_geo.c). */
#include "config/cfg_edge.h"
#include "harness.h"
#include "hc_guest_run.h"

#include "../config/tmp_files.h"

static guest_result res;

static const char table_json[] =
    "{\"10.0.0.0/8\": {\"city\": \"Ten\", \"country_code\": \"XX\", \"latitude\": 1.5,\n"
    "  \"longitude\": -0.25, \"as_number\": 64500, \"as_name\": \"Example AS\"},\n"
    " \"10.1.2.0/24\": {\"city\": \"Narrow\", \"latitude\": 51.0, \"utc_offset\": 100,\n"
    "  \"gmt_offset\": \"+0100\"},\n"
    " \"2001:db8::/32\": {\"city\": \"Six\", \"continent\": \"EU\"}}\n";

/* Runs the hc_geo guest in `mode` against `edge` (NULL: no edge data). */
static void run_mode(const char *mode, const cfg_edge *edge)
{
    run_guest_checked("hc_geo", mode, edge, 16, &res);
}

TEST(guest_table)
{
    cfg_edge edge;
    cfg_edge_init(&edge);
    char err[512] = "";
    CHECK_EQ_INT(cfg_edge_set_geo(&edge, write_file("geo.json", table_json), err, sizeof err),
                 CFG_OK);
    CHECK(edge.geo && edge.geo->use_default_loopback);
    run_mode("table", &edge);
    cfg_edge_deinit(&edge);
}

TEST(guest_without_data)
{
    run_mode("none", NULL);
    cfg_edge edge; /* edge data without a geo table: the same */
    cfg_edge_init(&edge);
    run_mode("none", &edge);
    cfg_edge_deinit(&edge);
}

TEST(guest_without_default)
{
    cfg_edge edge;
    cfg_edge_init(&edge);
    char err[512] = "";
    CHECK_EQ_INT(cfg_edge_set_geo(&edge, write_file("geo.json", table_json), err, sizeof err),
                 CFG_OK);
    if (edge.geo)
        edge.geo->use_default_loopback = false; /* as fastly.toml's use_default_loopback = false */
    run_mode("noloop", &edge);
    cfg_edge_deinit(&edge);
}

int main(int argc, char **argv)
{
    (void)argc;
    if (!tmp_dir_create("fastlike-geo"))
        return 1;
    RUN(guest_table);
    RUN(guest_without_data);
    RUN(guest_without_default);
    tmp_dir_remove();
    return harness_finish(argv[0]);
}
