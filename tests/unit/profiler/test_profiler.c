/* test_profiler.c: the profiler end to end: a server with -profile-ui on an ephemeral loopback
 * port runs tests/guests/c/prof_app.c against a test origin; the tests read the viewer's JSON API
 * (jansson) and check the recorded spans, the backend waterfall, native samples naming the
 * guest's functions, exports, redaction, the ring bound, the loopback and token gates, and the
 * Viceroy-style guest profile files. Times are checked as orderings and lower bounds only. */
#include "backend/be_server.h"
#include "harness.h"
#include "origin.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define GUEST "build/guests/prof_app.wasm"
#define SECRET "s3cr3t-Value-4242"

/* ---- setup ---- */

typedef struct prof_opts {
    const char *ui;   /* -profile-ui (default 127.0.0.1:0) */
    const char *mode; /* -profile-mode (default trace) */
    bool native, remote;
    const char *token;
    size_t max_requests;
    const char *guest_dir;
    const char *secret_file; /* -secret-store creds=FILE */
    const char *dict_file;   /* -dictionary dict=FILE and -config-store conf=FILE */
    uint16_t origin_port;    /* backend "origin", when not 0 */
} prof_opts;

static fastlike_status configure(fastlike_config *c, void *user, char *err, size_t errlen)
{
    const prof_opts *o = user;
    fastlike_status st =
        fastlike_config_set_profile_ui(c, o->ui ? o->ui : "127.0.0.1:0", err, errlen);
    if (st == FASTLIKE_OK && o->mode)
        st = fastlike_config_set_profile_mode(c, o->mode, err, errlen);
    fastlike_config_set_profile_native(c, o->native);
    fastlike_config_set_profile_allow_remote(c, o->remote);
    fastlike_config_set_profile_max_requests(c, o->max_requests);
    if (st == FASTLIKE_OK && o->token)
        st = fastlike_config_set_profile_token(c, o->token, err, errlen);
    if (st == FASTLIKE_OK && o->guest_dir)
        st = fastlike_config_set_profile_guest_dir(c, o->guest_dir, err, errlen);
    if (st == FASTLIKE_OK && o->secret_file)
        st = fastlike_config_add_secret_store(c, "creds", o->secret_file, err, errlen);
    if (st == FASTLIKE_OK && o->dict_file)
        st = fastlike_config_add_dictionary(c, "dict", o->dict_file, err, errlen);
    if (st == FASTLIKE_OK && o->dict_file)
        st = fastlike_config_add_config_store(c, "conf", o->dict_file, err, errlen);
    if (st == FASTLIKE_OK && o->origin_port) {
        char spec[64];
        snprintf(spec, sizeof spec, "origin=127.0.0.1:%u", o->origin_port);
        st = fastlike_config_add_backend(c, spec, err, errlen);
    }
    return st;
}

static server *start(prof_opts *o)
{
    return server_start_with(GUEST, configure, o);
}

static uint16_t ui_port(server *s)
{
    return fastlike_profile_ui_port(s->f);
}

/* GET target on the viewer with extra header lines; returns the status, the body in *body
 * (malloc'd, NUL-terminated) when body != NULL. */
static int ui_get(uint16_t port, const char *target, const char *headers, char **body)
{
    hc_conn c;
    hc_resp r;
    memset(&r, 0, sizeof r);
    if (body)
        *body = NULL;
    if (hc_connect(&c, port) != 0)
        return -1;
    char head[4096];
    snprintf(head, sizeof head, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n%s\r\n", target, port,
             headers ? headers : "");
    int rc = -1;
    if (hc_sends(&c, head) == 0 && hc_read(&c, &r, false, true, false) == 0)
        rc = r.status;
    hc_close(&c);
    if (body && r.body)
        *body = (char *)r.body;
    else
        free(r.body);
    return rc;
}

static json_t *ui_json(uint16_t port, const char *target)
{
    char *text = NULL;
    int st = ui_get(port, target, NULL, &text);
    json_error_t e;
    json_t *j = st == 200 && text ? json_loads(text, 0, &e) : NULL;
    if (!j)
        fprintf(stderr, "GET %s: status %d, not JSON: %.200s\n", target, st, text ? text : "");
    free(text);
    return j;
}

/* Waits (up to 20 s) until the viewer lists at least n requests; returns the list document. */
static json_t *wait_requests(uint16_t port, size_t n, const char *query)
{
    char target[256];
    snprintf(target, sizeof target, "/api/requests%s", query ? query : "");
    for (int i = 0; i < 2000; i++) {
        json_t *j = ui_json(port, target);
        if (j && json_array_size(json_object_get(j, "requests")) >= n)
            return j;
        json_decref(j);
        usleep(10000);
    }
    return NULL;
}

static int guest_get(server *s, const char *target, const char *headers)
{
    hc_resp r;
    memset(&r, 0, sizeof r);
    int st = be_request(s->port, "GET", target, headers, NULL, 0, &r, false);
    free(r.body);
    return st;
}

/* The id of the first listed request whose path starts with `path`, or 0. */
static json_int_t find_id(json_t *list, const char *path)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(list, "requests"), i, r)
    {
        const char *p = json_string_value(json_object_get(r, "path"));
        if (p && strncmp(p, path, strlen(path)) == 0)
            return json_integer_value(json_object_get(r, "id"));
    }
    return 0;
}

static json_t *request_doc(uint16_t port, json_int_t id)
{
    char target[64];
    snprintf(target, sizeof target, "/api/requests/%lld", (long long)id);
    return ui_json(port, target);
}

static double num(json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

static char *write_tmp(const char *name, const char *text)
{
    static char dir[256];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "%s/fastlike-prof-XXXXXX",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (!mkdtemp(dir))
            return NULL;
    }
    size_t n = strlen(dir) + strlen(name) + 2;
    char *path = malloc(n);
    snprintf(path, n, "%s/%s", dir, name);
    if (text) {
        FILE *f = fopen(path, "w");
        if (!f) {
            free(path);
            return NULL;
        }
        fputs(text, f);
        fclose(f);
    }
    return path;
}

/* ---- tests ---- */

/* covers the recording of hostcall spans: names in call order, statuses, non-overlapping
 * starts, and the guest/hostcall time split adding up */
TEST(hostcall_spans)
{
    prof_opts o = {0};
    server *s = start(&o);
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK(ui_port(s) != 0);
    CHECK(fastlike_profile_ui_token(s->f) == NULL);
    CHECK_EQ_INT(guest_get(s, "/calls", NULL), 200);
    json_t *list = wait_requests(ui_port(s), 1, NULL);
    CHECK(list != NULL);
    json_int_t id = find_id(list, "/calls");
    CHECK(id > 0);
    json_t *d = request_doc(ui_port(s), id);
    CHECK(d != NULL);
    if (d) {
        json_t *req = json_object_get(d, "request");
        CHECK_EQ_INT((int)json_integer_value(json_object_get(req, "status")), 200);
        CHECK_STR_EQ(json_string_value(json_object_get(req, "method")), "GET");
        double total = num(req, "total_us"), hc = num(req, "hostcall_us"), g = num(req, "guest_us");
        CHECK(total > 0);
        CHECK(hc > 0 && hc <= total);
        CHECK(g >= 0 && g + hc <= total + 0.01 && g + hc >= total - 0.01);
        json_t *spans = json_object_get(d, "spans");
        const char *want[] = {"fastly_http_req.body_downstream_get",
                              "fastly_http_req.uri_get",
                              "fastly_http_resp.new",
                              "fastly_http_resp.header_insert",
                              "fastly_http_resp.header_insert",
                              "fastly_http_resp.header_insert",
                              "fastly_http_resp.status_set",
                              "fastly_http_body.new",
                              "fastly_http_body.write",
                              "fastly_http_resp.send_downstream"};
        size_t nwant = sizeof want / sizeof *want;
        CHECK_EQ_INT((int)json_array_size(spans), (int)nwant);
        double last_end = 0;
        for (size_t i = 0; i < nwant && i < json_array_size(spans); i++) {
            json_t *sp = json_array_get(spans, i);
            CHECK_STR_EQ(json_string_value(json_object_get(sp, "name")), want[i]);
            CHECK_EQ_INT((int)json_integer_value(json_object_get(sp, "status")), 0);
            double st = num(sp, "start_us"), du = num(sp, "dur_us");
            CHECK(st >= last_end - 0.002); /* one thread: spans follow each other */
            CHECK(du >= 0);
            last_end = st + du;
        }
        CHECK(last_end <= total + 0.01);
        /* header_insert's arguments: handle, name ptr, name len 3, value ptr, value len 1 */
        json_t *ins = json_array_get(spans, 3);
        json_t *args = json_object_get(ins, "args");
        CHECK_EQ_INT((int)json_array_size(args), 5);
        CHECK_EQ_INT((int)json_integer_value(json_array_get(args, 2)), 3);
        CHECK_EQ_INT((int)json_integer_value(json_array_get(args, 4)), 1);
    }
    json_decref(d);
    json_decref(list);
    server_stop(s);
}

/* covers the backend waterfall: a backend answering after a known delay */
TEST(backend_waterfall)
{
    origin *org = origin_start(NULL, NULL);
    CHECK(org != NULL);
    if (!org)
        return;
    prof_opts o = {.origin_port = origin_port(org)};
    server *s = start(&o);
    CHECK(s != NULL);
    if (!s) {
        origin_stop(org);
        return;
    }
    CHECK_EQ_INT(guest_get(s, "/backend?ms=150", NULL), 200);
    CHECK_EQ_INT(guest_get(s, "/calls", NULL), 200);
    json_t *list = wait_requests(ui_port(s), 2, NULL);
    CHECK(list != NULL);
    json_int_t id = find_id(list, "/backend");
    CHECK(id > 0);
    /* the transfer's entry is added when it ends on the event-loop thread, which may be after
     * the client has its response: wait for it */
    json_t *d = NULL;
    for (int i = 0; i < 2000; i++) {
        json_decref(d);
        d = request_doc(ui_port(s), id);
        if (d && json_array_size(json_object_get(d, "backends")) >= 1)
            break;
        usleep(10000);
    }
    CHECK(d != NULL);
    if (d) {
        json_t *req = json_object_get(d, "request");
        CHECK(num(req, "total_us") >= 150000);
        CHECK(num(req, "hostcall_us") >= 150000); /* the guest waited inside send */
        json_t *bes = json_object_get(d, "backends");
        CHECK_EQ_INT((int)json_array_size(bes), 1);
        json_t *b = json_array_get(bes, 0);
        CHECK_STR_EQ(json_string_value(json_object_get(b, "backend")), "origin");
        CHECK_STR_EQ(json_string_value(json_object_get(b, "method")), "GET");
        CHECK_STR_CONTAINS(json_string_value(json_object_get(b, "url")), "/slow?first=150");
        CHECK_EQ_INT((int)json_integer_value(json_object_get(b, "status")), 200);
        CHECK(json_is_true(json_object_get(b, "ok")));
        CHECK_EQ_INT((int)json_integer_value(json_object_get(b, "bytes_in")), 10);
        CHECK(json_integer_value(json_object_get(b, "bytes_out")) >= 0);
        double dns = num(b, "dns_us"), conn = num(b, "connect_us"), fb = num(b, "first_byte_us"),
               tot = num(b, "total_us");
        CHECK(json_is_null(json_object_get(b, "tls_us"))); /* plain HTTP: no handshake */
        CHECK(dns >= 0 && conn >= dns && fb >= conn && tot >= fb);
        CHECK(fb >= 150000);
        /* the send span covers the transfer */
        json_t *spans = json_object_get(d, "spans");
        bool found = false;
        size_t i;
        json_t *sp;
        json_array_foreach(spans, i, sp)
        {
            if (strcmp(json_string_value(json_object_get(sp, "name")), "fastly_http_req.send") ==
                0) {
                found = true;
                CHECK(num(sp, "dur_us") >= 150000);
                CHECK(num(sp, "start_us") <= num(b, "start_us") + 0.01);
                CHECK_EQ_INT((int)json_integer_value(json_object_get(sp, "status")), 0);
            }
        }
        CHECK(found);
    }
    json_decref(d);
    /* filters: path, status class, slowest first */
    json_t *only = ui_json(ui_port(s), "/api/requests?path=/calls");
    CHECK(only && json_array_size(json_object_get(only, "requests")) == 1);
    json_decref(only);
    json_t *none = ui_json(ui_port(s), "/api/requests?status=5xx");
    CHECK(none && json_array_size(json_object_get(none, "requests")) == 0);
    json_decref(none);
    json_t *ok = ui_json(ui_port(s), "/api/requests?status=2xx");
    CHECK(ok && json_array_size(json_object_get(ok, "requests")) == 2);
    json_decref(ok);
    json_t *slow = ui_json(ui_port(s), "/api/requests?sort=slowest&limit=1");
    CHECK(slow && json_array_size(json_object_get(slow, "requests")) == 1);
    if (slow)
        CHECK_STR_CONTAINS(json_string_value(json_object_get(
                               json_array_get(json_object_get(slow, "requests"), 0), "path")),
                           "/backend");
    json_decref(slow);
    /* aggregate: send is the slowest hostcall */
    json_t *agg = ui_json(ui_port(s), "/api/aggregate");
    CHECK(agg != NULL);
    if (agg) {
        json_t *first = json_array_get(json_object_get(agg, "hostcalls"), 0);
        CHECK_STR_EQ(json_string_value(json_object_get(first, "name")), "fastly_http_req.send");
        CHECK(num(first, "max_us") >= 150000);
    }
    json_decref(agg);
    /* exports: Chrome trace events and speedscope, valid JSON naming the spans */
    char target[64];
    snprintf(target, sizeof target, "/api/export/chrome?id=%lld", (long long)id);
    json_t *ch = ui_json(ui_port(s), target);
    CHECK(ch != NULL);
    if (ch) {
        json_t *ev = json_object_get(ch, "traceEvents");
        bool send = false, phase = false;
        size_t i;
        json_t *e;
        json_array_foreach(ev, i, e)
        {
            const char *name = json_string_value(json_object_get(e, "name"));
            send |= name && strcmp(name, "fastly_http_req.send") == 0;
            phase |= name && strcmp(name, "wait") == 0;
        }
        CHECK(send);
        CHECK(phase);
    }
    json_decref(ch);
    json_t *ss = ui_json(ui_port(s), "/api/export/speedscope");
    CHECK(ss != NULL);
    if (ss) {
        CHECK_EQ_INT((int)json_array_size(json_object_get(ss, "profiles")), 2);
        json_t *frames = json_object_get(json_object_get(ss, "shared"), "frames");
        bool send = false;
        size_t i;
        json_t *f;
        json_array_foreach(frames, i, f) send |=
            strcmp(json_string_value(json_object_get(f, "name")), "fastly_http_req.send") == 0;
        CHECK(send);
    }
    json_decref(ss);
    CHECK_EQ_INT(ui_get(ui_port(s), "/api/requests/999999", NULL, NULL), 404);
    CHECK_EQ_INT(ui_get(ui_port(s), "/api/requests/x", NULL, NULL), 400);
    json_decref(list);
    server_stop(s);
    origin_stop(org);
}

/* True when some stack of d names `outer` before `inner`. */
static bool has_nested(json_t *d, const char *outer, const char *inner)
{
    size_t i;
    json_t *st;
    json_array_foreach(json_object_get(d, "stacks"), i, st)
    {
        json_t *frames = json_object_get(st, "frames");
        int seen_outer = -1;
        for (size_t k = 0; k < json_array_size(frames); k++) {
            const char *n = json_string_value(json_array_get(frames, k));
            if (n && strcmp(n, outer) == 0)
                seen_outer = (int)k;
            if (n && strcmp(n, inner) == 0 && seen_outer >= 0)
                return true;
        }
    }
    return false;
}

/* covers native sampling: the guest's wasm stacks name its functions; run once with the timer
 * Fastlike picks (perf_event_open where permitted) and once with the SIGPROF timer forced */
static void native_flame_graph(bool force_sigprof)
{
    char *dir = write_tmp(force_sigprof ? "guest-profiles-sigprof" : "guest-profiles", NULL);
    prof_opts o = {.native = true, .guest_dir = dir};
    if (force_sigprof)
        setenv("FASTLIKE_PROFILE_TIMER", "sigprof", 1);
    server *s = start(&o);
    unsetenv("FASTLIKE_PROFILE_TIMER");
    CHECK(s != NULL);
    if (!s) {
        free(dir);
        return;
    }
    CHECK(log_has(&s->log, "native sampling: "));
    if (force_sigprof)
        CHECK(log_has(&s->log, "native sampling: SIGPROF per-thread CPU-time timer"));
    bool named = false;
    json_int_t named_id = 0;
    /* CPU time is what is sampled: on a loaded machine a busy request may get little of it, so
     * try longer runs before giving up */
    for (int attempt = 0; attempt < 3 && !named; attempt++) {
        char target[64];
        snprintf(target, sizeof target, "/busy?ms=%d", 300 << attempt);
        CHECK_EQ_INT(guest_get(s, target, NULL), 200);
        json_t *list = wait_requests(ui_port(s), (size_t)attempt + 1, NULL);
        json_int_t id = list ? find_id(list, "/busy") : 0;
        json_t *d = id ? request_doc(ui_port(s), id) : NULL;
        named = d && has_nested(d, "prof_busy_outer", "prof_busy_inner");
        if (named)
            named_id = id;
        if (d && !named)
            fprintf(stderr, "native_flame_graph: attempt %d: %lld samples, no nested stack\n",
                    attempt,
                    (long long)json_integer_value(
                        json_object_get(json_object_get(d, "request"), "samples")));
        json_decref(d);
        json_decref(list);
    }
    CHECK(named);
    json_t *agg = ui_json(ui_port(s), "/api/aggregate");
    bool hot = false;
    size_t i;
    json_t *f;
    if (agg)
        json_array_foreach(json_object_get(agg, "functions"), i, f) hot |=
            strcmp(json_string_value(json_object_get(f, "name")), "prof_busy_inner") == 0 &&
            json_integer_value(json_object_get(f, "self")) > 0;
    CHECK(hot);
    json_decref(agg);
    /* the same samples as a Firefox Profiler download */
    char fftarget[64];
    snprintf(fftarget, sizeof fftarget, "/api/export/firefox?id=%lld", (long long)named_id);
    json_t *ff = ui_json(ui_port(s), fftarget);
    CHECK(ff != NULL);
    if (ff) {
        json_t *strings =
            json_object_get(json_array_get(json_object_get(ff, "threads"), 0), "stringTable");
        bool named_ff = false;
        json_t *str;
        json_array_foreach(strings, i, str) named_ff |=
            strcmp(json_string_value(str), "prof_busy_outer") == 0;
        CHECK(named_ff);
    }
    json_decref(ff);
    CHECK_EQ_INT(ui_get(ui_port(s), "/api/export/firefox", NULL, NULL), 400);
    server_stop(s);
    /* Viceroy's --profile=guest,DIR: a Firefox Profiler file per request naming the functions */
    DIR *dh = opendir(dir);
    CHECK(dh != NULL);
    size_t files = 0;
    bool ff_named = false;
    struct dirent *de;
    while (dh && (de = readdir(dh))) {
        if (!strstr(de->d_name, ".json"))
            continue;
        files++;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        json_error_t e;
        json_t *p = json_load_file(path, 0, &e);
        CHECK(p != NULL);
        json_t *th = json_array_get(json_object_get(p, "threads"), 0);
        json_t *strings = json_object_get(th, "stringTable");
        json_t *str;
        json_array_foreach(strings, i, str) ff_named |=
            strcmp(json_string_value(str), "prof_busy_inner") == 0;
        CHECK(json_is_object(json_object_get(p, "meta")));
        json_decref(p);
        unlink(path);
    }
    if (dh)
        closedir(dh);
    rmdir(dir);
    CHECK(files >= 1);
    CHECK(ff_named);
    free(dir);
}

TEST(native_flame_graph)
{
    native_flame_graph(false);
}

TEST(native_flame_graph_sigprof)
{
    native_flame_graph(true);
}

/* covers redaction: credential header values and secret-store values never reach the API */
TEST(redaction)
{
    char *secrets = write_tmp("secrets.json", "{\"api\": \"" SECRET "\"}");
    char *dict_path = write_tmp("dict.json", "{\"k\": \"v\"}");
    prof_opts o = {.mode = "deep", .secret_file = secrets, .dict_file = dict_path};
    server *s = start(&o);
    CHECK(s != NULL);
    if (!s) {
        free(secrets);
        free(dict_path);
        return;
    }
    CHECK_EQ_INT(guest_get(s, "/print?s=" SECRET,
                           "Authorization: Bearer authval-777\r\nCookie: session=cookieval-777\r\n"
                           "Fastly-Key: fkeyval-777\r\nX-Plain: plainval-777\r\n"),
                 200);
    json_t *list = wait_requests(ui_port(s), 1, NULL);
    CHECK(list != NULL);
    json_int_t id = list ? json_integer_value(json_object_get(
                               json_array_get(json_object_get(list, "requests"), 0), "id"))
                         : 0;
    char target[64];
    snprintf(target, sizeof target, "/api/requests/%lld", (long long)id);
    const char *docs[] = {target, "/api/requests", "/api/export/chrome", "/api/export/speedscope",
                          "/api/aggregate"};
    for (size_t i = 0; i < sizeof docs / sizeof *docs; i++) {
        char *text = NULL;
        CHECK_EQ_INT(ui_get(ui_port(s), docs[i], NULL, &text), 200);
        CHECK(text != NULL);
        if (!text)
            continue;
        CHECK(!strstr(text, SECRET));
        CHECK(!strstr(text, "authval-777"));
        CHECK(!strstr(text, "cookieval-777"));
        CHECK(!strstr(text, "fkeyval-777"));
        free(text);
    }
    json_t *d = request_doc(ui_port(s), id);
    CHECK(d != NULL);
    if (d) {
        /* the URL and the guest's output carry the secret: both scrubbed */
        CHECK_STR_CONTAINS(json_string_value(json_object_get(json_object_get(d, "request"), "url")),
                           "s=[redacted]");
        json_t *line = json_array_get(json_object_get(d, "logs"), 0);
        CHECK_STR_CONTAINS(json_string_value(json_object_get(line, "text")),
                           "the secret is [redacted], do not show it");
        /* deep mode: header summaries (values redacted for credentials), body bytes, memory */
        json_t *deep = json_object_get(d, "deep");
        CHECK(deep != NULL);
        size_t i;
        json_t *h;
        int redacted = 0;
        bool plain = false;
        json_array_foreach(json_object_get(deep, "req_headers"), i, h)
        {
            const char *n = json_string_value(json_object_get(h, "name"));
            const char *v = json_string_value(json_object_get(h, "value"));
            if (strcasecmp(n, "authorization") == 0 || strcasecmp(n, "cookie") == 0 ||
                strcasecmp(n, "fastly-key") == 0) {
                CHECK_STR_EQ(v, "[redacted]");
                CHECK(json_integer_value(json_object_get(h, "size")) > 0);
                redacted++;
            }
            plain |= strcasecmp(n, "x-plain") == 0 && strcmp(v, "plainval-777") == 0;
        }
        CHECK_EQ_INT(redacted, 3);
        CHECK(plain);
        CHECK_EQ_INT((int)json_integer_value(json_object_get(deep, "resp_body_bytes")), 8);
        CHECK_STR_EQ(json_string_value(json_object_get(deep, "resp_body")), "printed\n");
        CHECK_EQ_INT((int)json_array_size(json_object_get(deep, "store_ops")), 0);
        json_t *mem = json_object_get(deep, "memory");
        CHECK(json_array_size(mem) >= 1);
        CHECK(json_integer_value(json_object_get(json_array_get(mem, 0), "bytes")) >= 65536);
    }
    json_decref(d);
    /* deep mode's memory curve sees each memory.grow, also between two hostcalls */
    CHECK_EQ_INT(guest_get(s, "/grow", NULL), 200);
    json_t *lg = wait_requests(ui_port(s), 2, NULL);
    json_int_t gid = lg ? find_id(lg, "/grow") : 0;
    json_t *gd = gid ? request_doc(ui_port(s), gid) : NULL;
    json_t *gm = gd ? json_object_get(json_object_get(gd, "deep"), "memory") : NULL;
    size_t npts = json_array_size(gm);
    CHECK(npts >= 3);
    if (npts >= 3) {
        json_int_t first = json_integer_value(json_object_get(json_array_get(gm, 0), "bytes"));
        json_int_t last =
            json_integer_value(json_object_get(json_array_get(gm, npts - 1), "bytes"));
        CHECK(last >= first + (3 << 20));
        bool between = false; /* the size after the first grow only */
        for (size_t k = 1; k + 1 < npts; k++) {
            json_int_t v = json_integer_value(json_object_get(json_array_get(gm, k), "bytes"));
            between |= v > first && v < last;
        }
        CHECK(between);
    }
    json_decref(gd);
    json_decref(lg);
    /* deep mode counts store operations by hostcall */
    CHECK_EQ_INT(guest_get(s, "/stores", NULL), 200);
    json_t *l2 = wait_requests(ui_port(s), 3, NULL);
    json_int_t sid = l2 ? find_id(l2, "/stores") : 0;
    json_t *sd = sid ? request_doc(ui_port(s), sid) : NULL;
    json_t *ops = sd ? json_object_get(json_object_get(sd, "deep"), "store_ops") : NULL;
    CHECK_EQ_INT((int)json_array_size(ops), 2);
    size_t k;
    json_t *op;
    int dict = 0, conf = 0;
    json_array_foreach(ops, k, op)
    {
        const char *name = json_string_value(json_object_get(op, "op"));
        if (name && strcmp(name, "fastly_dictionary.open") == 0)
            dict = (int)json_integer_value(json_object_get(op, "count"));
        if (name && strcmp(name, "fastly_config_store.open") == 0)
            conf = (int)json_integer_value(json_object_get(op, "count"));
    }
    CHECK_EQ_INT(dict, 2);
    CHECK_EQ_INT(conf, 1);
    /* ... and by store: the accesses name the configured store each went to */
    json_t *acc = sd ? json_object_get(json_object_get(sd, "deep"), "store_access") : NULL;
    int by_dict = 0, by_conf = 0;
    json_array_foreach(acc, k, op)
    {
        const char *store = json_string_value(json_object_get(op, "store"));
        const char *name = json_string_value(json_object_get(op, "op"));
        int n = (int)json_integer_value(json_object_get(op, "count"));
        if (store && name && strcmp(store, "dict") == 0 &&
            strcmp(name, "fastly_dictionary.open") == 0)
            by_dict += n;
        if (store && name && strcmp(store, "conf") == 0 &&
            strcmp(name, "fastly_config_store.open") == 0)
            by_conf += n;
    }
    CHECK_EQ_INT(by_dict, 2);
    CHECK_EQ_INT(by_conf, 1);
    json_decref(sd);
    json_decref(l2);
    json_decref(list);
    server_stop(s);
    unlink(secrets);
    free(secrets);
    unlink(dict_path);
    free(dict_path);
}

/* covers the ring: only the last N requests stay */
TEST(ring_bound)
{
    prof_opts o = {.max_requests = 3};
    server *s = start(&o);
    CHECK(s != NULL);
    if (!s)
        return;
    for (int i = 0; i < 5; i++)
        CHECK_EQ_INT(guest_get(s, "/calls", NULL), 200);
    json_t *list = NULL;
    for (int i = 0; i < 2000; i++) { /* the fifth request is recorded after its response */
        json_decref(list);
        list = ui_json(ui_port(s), "/api/requests");
        if (list && json_integer_value(json_object_get(list, "evicted")) >= 2)
            break;
        usleep(10000);
    }
    CHECK(list != NULL);
    if (list) {
        json_t *reqs = json_object_get(list, "requests");
        CHECK_EQ_INT((int)json_array_size(reqs), 3);
        CHECK_EQ_INT((int)json_integer_value(json_object_get(list, "evicted")), 2);
        /* newest first; which three stay depends on the order the records completed (a
         * record ends after its response went out, so a later request may finish first) */
        json_int_t a = json_integer_value(json_object_get(json_array_get(reqs, 0), "id"));
        json_int_t c = json_integer_value(json_object_get(json_array_get(reqs, 2), "id"));
        CHECK(a >= 1 && a <= 5 && c >= 1 && c <= 5 && a != c);
    }
    json_decref(list);
    int kept = 0, gone = 0;
    for (int id = 1; id <= 5; id++) {
        char t[64];
        snprintf(t, sizeof t, "/api/requests/%d", id);
        int st = ui_get(ui_port(s), t, NULL, NULL);
        kept += st == 200;
        gone += st == 404;
    }
    CHECK_EQ_INT(kept, 3);
    CHECK_EQ_INT(gone, 2);
    server_stop(s);
}

/* covers the gates: loopback only by default, a token once remote access is allowed */
TEST(remote_gate)
{
    /* a non-loopback address needs -profile-ui-allow-remote */
    fastlike_config *c = fastlike_config_new();
    char err[512] = "";
    fastlike *f = NULL;
    fastlike_config_set_wasm_file(c, GUEST);
    fastlike_config_set_bind(c, "127.0.0.1:0", err, sizeof err);
    CHECK_EQ_INT(fastlike_config_set_profile_ui(c, "0.0.0.0:0", err, sizeof err), FASTLIKE_OK);
    CHECK(fastlike_new(c, &f, err, sizeof err) != FASTLIKE_OK);
    CHECK_STR_CONTAINS(err, "not a loopback address");
    CHECK_STR_CONTAINS(err, "-profile-ui-allow-remote");
    fastlike_free(f);
    CHECK(fastlike_config_set_profile_token(c, "short", err, sizeof err) == FASTLIKE_ERR_ARGS);
    fastlike_config_free(c);

    /* loopback without remote access: no token, but a foreign Host is refused (DNS rebinding) */
    prof_opts lo = {0};
    server *s = start(&lo);
    CHECK(s != NULL);
    if (s) {
        CHECK_EQ_INT(ui_get(ui_port(s), "/api/requests", NULL, NULL), 200);
        hc_conn conn;
        hc_resp r;
        memset(&r, 0, sizeof r);
        CHECK(hc_connect(&conn, ui_port(s)) == 0);
        hc_sends(&conn, "GET /api/requests HTTP/1.1\r\nHost: evil.example:80\r\n\r\n");
        CHECK(hc_read(&conn, &r, false, false, false) == 0);
        CHECK_EQ_INT(r.status, 403);
        hc_close(&conn);
        free(r.body);
        CHECK_EQ_INT(ui_get(ui_port(s), "/", "X: y\r\n", NULL), 200);
        server_stop(s);
    }

    /* remote access with a given token */
    prof_opts ro = {.remote = true, .token = "tok-12345678"};
    s = start(&ro);
    CHECK(s != NULL);
    if (s) {
        uint16_t p = ui_port(s);
        CHECK_STR_EQ(fastlike_profile_ui_token(s->f), "tok-12345678");
        CHECK_EQ_INT(ui_get(p, "/api/requests", NULL, NULL), 401);
        CHECK_EQ_INT(ui_get(p, "/", NULL, NULL), 401);
        CHECK_EQ_INT(ui_get(p, "/api/export/chrome", NULL, NULL), 401);
        CHECK_EQ_INT(ui_get(p, "/api/requests?token=tok-1234567", NULL, NULL), 401);
        CHECK_EQ_INT(ui_get(p, "/api/requests?token=tok-123456789", NULL, NULL), 401);
        CHECK_EQ_INT(ui_get(p, "/api/requests", "Authorization: Bearer wrong-token\r\n", NULL),
                     401);
        CHECK_EQ_INT(ui_get(p, "/api/requests?token=tok-12345678", NULL, NULL), 200);
        CHECK_EQ_INT(ui_get(p, "/api/requests", "Authorization: Bearer tok-12345678\r\n", NULL),
                     200);
        CHECK_EQ_INT(ui_get(p, "/?token=tok-12345678", NULL, NULL), 200);
        server_stop(s);
    }

    /* with remote access allowed, a wildcard address is accepted (and still needs the token) */
    prof_opts wo = {.ui = "0.0.0.0:0", .remote = true, .token = "tok-87654321"};
    s = start(&wo);
    CHECK(s != NULL);
    if (s) {
        CHECK(ui_port(s) != 0);
        CHECK_EQ_INT(ui_get(ui_port(s), "/api/requests", NULL, NULL), 401);
        CHECK_EQ_INT(ui_get(ui_port(s), "/api/requests?token=tok-87654321", NULL, NULL), 200);
        server_stop(s);
    }

    /* remote access without a token: one is generated and logged */
    prof_opts go = {.remote = true};
    s = start(&go);
    CHECK(s != NULL);
    if (s) {
        const char *tok = fastlike_profile_ui_token(s->f);
        CHECK(tok != NULL && strlen(tok) == 32);
        if (tok) {
            char line[128];
            snprintf(line, sizeof line, "?token=%s", tok);
            CHECK(log_has(&s->log, line));
            char target[128];
            snprintf(target, sizeof target, "/api/requests?token=%s", tok);
            CHECK_EQ_INT(ui_get(ui_port(s), target, NULL, NULL), 200);
        }
        CHECK_EQ_INT(ui_get(ui_port(s), "/api/requests", NULL, NULL), 401);
        server_stop(s);
    }
}

/* The viewer is read-only. */
TEST(read_only)
{
    prof_opts o = {0};
    server *s = start(&o);
    CHECK(s != NULL);
    if (!s)
        return;
    hc_conn conn;
    hc_resp r;
    memset(&r, 0, sizeof r);
    CHECK(hc_connect(&conn, ui_port(s)) == 0);
    hc_sends(&conn, "DELETE /api/requests HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    CHECK(hc_read(&conn, &r, false, false, false) == 0);
    CHECK_EQ_INT(r.status, 405);
    hc_close(&conn);
    free(r.body);
    char *page = NULL;
    CHECK_EQ_INT(ui_get(ui_port(s), "/", NULL, &page), 200);
    CHECK(page && strstr(page, "Fastlike profiler"));
    /* nothing fetched from elsewhere */
    CHECK(page && !strstr(page, "src=\"http") && !strstr(page, "href=\"http") &&
          !strstr(page, "rel=\"stylesheet\""));
    free(page);
    server_stop(s);
}

typedef struct hammer_arg {
    server *s;
    int n, ok;
} hammer_arg;

static void *hammer(void *p)
{
    hammer_arg *a = p;
    for (int i = 0; i < a->n; i++)
        a->ok += guest_get(a->s, "/calls", NULL) == 200;
    return NULL;
}

/* Requests on several workers at once, with the viewer read at the same time: every record
 * complete, the ring bound kept. */
TEST(concurrent_requests)
{
    prof_opts o = {.max_requests = 50};
    server *s = start(&o);
    CHECK(s != NULL);
    if (!s)
        return;
    pthread_t th[4];
    hammer_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (hammer_arg){s, 25, 0};
        pthread_create(&th[i], NULL, hammer, &args[i]);
    }
    for (int i = 0; i < 20; i++) { /* readers alongside the writers */
        json_t *j = ui_json(ui_port(s), "/api/requests?sort=slowest");
        CHECK(j != NULL);
        json_decref(j);
        json_t *a = ui_json(ui_port(s), "/api/aggregate");
        CHECK(a != NULL);
        json_decref(a);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ_INT(args[i].ok, 25);
    }
    json_t *list = NULL;
    for (int i = 0; i < 2000; i++) {
        json_decref(list);
        list = ui_json(ui_port(s), "/api/requests");
        if (list && json_integer_value(json_object_get(list, "evicted")) >= 50)
            break;
        usleep(10000);
    }
    CHECK(list != NULL);
    if (list) {
        json_t *reqs = json_object_get(list, "requests");
        CHECK_EQ_INT((int)json_array_size(reqs), 50);
        CHECK_EQ_INT((int)json_integer_value(json_object_get(list, "evicted")), 50);
        size_t i;
        json_t *r;
        json_array_foreach(reqs, i, r)
            CHECK_EQ_INT((int)json_integer_value(json_object_get(r, "hostcalls")), 10);
    }
    json_decref(list);
    server_stop(s);
}

static fastlike_status deep_reuse(fastlike_config *c, void *user, char *err, size_t errlen)
{
    (void)user;
    fastlike_status st = fastlike_config_set_profile_ui(c, "127.0.0.1:0", err, errlen);
    if (st == FASTLIKE_OK)
        st = fastlike_config_set_profile_mode(c, "deep", err, errlen);
    return st;
}

/* A reusable instance (next_request) gives each request it takes a record of its own. */
TEST(reused_instance_records_each_request)
{
    server *s = server_start_with("build/guests/srv_reuse.wasm", deep_reuse, NULL);
    CHECK(s != NULL);
    if (!s)
        return;
    for (int i = 0; i < 3; i++) {
        char req[256];
        snprintf(req, sizeof req,
                 "POST /reuse?timeout=3000&n=%d HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
                 "Connection: close\r\n\r\n%d",
                 i, i);
        hc_resp r;
        memset(&r, 0, sizeof r);
        CHECK_EQ_INT(simple_on(s->port, req, &r, false), 200);
        free(r.body);
    }
    CHECK(log_wait(&s->log, ", reused instance)"));
    json_t *list = wait_requests(ui_port(s), 3, NULL);
    CHECK(list != NULL);
    if (list) {
        json_t *reqs = json_object_get(list, "requests");
        CHECK_EQ_INT((int)json_array_size(reqs), 3);
        for (size_t i = 0; i < json_array_size(reqs) && i < 3; i++) {
            json_t *r = json_array_get(reqs, i);
            char want[64];
            snprintf(want, sizeof want, "/reuse?timeout=3000&n=%zu", 2 - i); /* newest first */
            CHECK_STR_EQ(json_string_value(json_object_get(r, "path")), want);
            CHECK_EQ_INT((int)json_integer_value(json_object_get(r, "status")), 200);
            CHECK(json_integer_value(json_object_get(r, "hostcalls")) >= 3);
            json_t *d = request_doc(ui_port(s), json_integer_value(json_object_get(r, "id")));
            json_t *deep = d ? json_object_get(d, "deep") : NULL;
            CHECK(deep != NULL);
            CHECK(json_integer_value(json_object_get(deep, "resp_body_bytes")) > 0);
            json_decref(d);
        }
    }
    json_decref(list);
    server_stop(s);
}

TEST(cache_lookups_are_recorded)
{
    /* the readthrough cache's outcome is part of each request's record: a miss, then a hit */
    origin *org = origin_start(NULL, NULL);
    CHECK(org != NULL);
    if (!org)
        return;
    prof_opts o = {.origin_port = origin_port(org)};
    server *s = start(&o);
    CHECK(s != NULL);
    if (!s) {
        origin_stop(org);
        return;
    }
    CHECK_EQ_INT(guest_get(s, "/backend?ms=0&cache=1", NULL), 200);
    CHECK_EQ_INT(guest_get(s, "/backend?ms=0&cache=1", NULL), 200);
    CHECK_EQ_U64(origin_requests(org), 1); /* the second came from the cache */
    json_t *list = wait_requests(ui_port(s), 2, NULL);
    CHECK(list != NULL);
    int hits = 0, misses = 0, hit_events = 0, miss_events = 0;
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(list, "requests"), i, r)
    {
        hits += (int)json_integer_value(json_object_get(r, "cache_hits"));
        misses += (int)json_integer_value(json_object_get(r, "cache_misses"));
        json_t *d = request_doc(ui_port(s), json_integer_value(json_object_get(r, "id")));
        CHECK(d != NULL);
        size_t k;
        json_t *ev;
        json_array_foreach(json_object_get(d, "cache"), k, ev)
        {
            const char *res = json_string_value(json_object_get(ev, "result"));
            CHECK_STR_CONTAINS(json_string_value(json_object_get(ev, "url")), "/slow?first=0");
            hit_events += res && strcmp(res, "HIT") == 0;
            miss_events += res && strcmp(res, "MISS") == 0;
        }
        json_decref(d);
    }
    json_decref(list);
    CHECK_EQ_INT(hits, 1);
    CHECK_EQ_INT(misses, 1);
    CHECK_EQ_INT(hit_events, 1);
    CHECK_EQ_INT(miss_events, 1);
    server_stop(s);
    origin_stop(org);
}

HARNESS_MAIN(RUN(hostcall_spans); RUN(backend_waterfall); RUN(cache_lookups_are_recorded);
             RUN(native_flame_graph); RUN(native_flame_graph_sigprof); RUN(redaction);
             RUN(ring_bound); RUN(remote_gate); RUN(read_only);
             RUN(reused_instance_records_each_request); RUN(concurrent_requests);)
