/* test_table_cap.c: tables are bounded like memory (issue 15). Tables live outside linear memory,
 * so the memory cap does not cover them; the server caps each table at SRV_TABLE_ELEMENTS_MAX
 * elements (Viceroy's wasmtime limit): table.grow past it returns -1, as the wasm semantics say
 * for a failed grow, and the server keeps serving; a module whose table starts larger is refused
 * when it is loaded. Guests: tests/unit/engine/wat/srv_table_{grow,big}.wat. */
#include "fastlike.h"
#include "harness.h"
#include "http_client.h"
#include "server/srv_guest.h"
#include "test_server.h"

static int get(server *s, const char *path, hc_resp *r)
{
    char req[512];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
    return simple_on(s->port, req, r, false);
}

TEST(table_grow_stops_at_the_cap)
{
    server *s = server_start_guest("build/wat/srv_table_grow.wasm", 30000);
    CHECK(s != NULL);
    if (!s)
        return;
    char want[64];
    snprintf(want, sizeof want, "size=%u big=-1", (unsigned)SRV_TABLE_ELEMENTS_MAX);
    /* every request gets a fresh instance with a fresh table: the same answer each time */
    for (int i = 0; i < 3; i++) {
        hc_resp r = {0};
        CHECK_EQ_INT(get(s, "/", &r), 200);
        CHECK_STR_EQ(r.body ? (const char *)r.body : "", want);
        hc_resp_free(&r);
    }
    server_stop(s);
}

TEST(initial_table_over_the_cap_is_a_startup_error)
{
    fastlike_config *c = fastlike_config_new();
    CHECK_EQ_INT(fastlike_config_set_wasm_file(c, "build/wat/srv_table_big.wasm"), FASTLIKE_OK);
    fastlike *f = NULL;
    char err[512] = "";
    CHECK_EQ_INT(fastlike_new(c, &f, err, sizeof err), FASTLIKE_ERR_WASM);
    CHECK(f == NULL);
    CHECK_STR_CONTAINS(err, "initial table of 100000 elements exceeds the table limit of 98765");
    fastlike_free(f);
    fastlike_config_free(c);
}

HARNESS_MAIN(RUN(table_grow_stops_at_the_cap); RUN(initial_table_over_the_cap_is_a_startup_error);)
