/* test_prof_units.c: the profiler's pieces on their own: JSON string escaping (prof_json),
 * credential-header and secret-value redaction (prof_redact), the recorder's ring and its memory
 * cap (prof_recorder), spans and output lines in a record (prof_record), the exports' shape
 * (prof_export), and the profiler's command-line flags (cfg_flags). */
#include "config/cfg_flags.h"
#include "harness.h"
#include "profiler/prof_api.h"
#include "profiler/prof_export.h"
#include "profiler/prof_json.h"
#include "profiler/prof_recorder.h"
#include "profiler/prof_redact.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static char *json_of(void (*fill)(prof_buf *, const void *), const void *arg)
{
    prof_buf b;
    prof_buf_init(&b);
    fill(&b, arg);
    return prof_buf_take(&b, NULL);
}

static void put_str(prof_buf *b, const void *arg)
{
    const char *s = arg;
    prof_json_str(b, s, strlen(s));
}

TEST(json_escaping)
{
    char *t = json_of(put_str, "a\"b\\c\nd\te\x01<f\xc3\xa9g\xffh");
    CHECK_STR_EQ(t, "\"a\\\"b\\\\c\\nd\\te\\u0001\\u003cf\xc3\xa9g\\ufffdh\"");
    json_error_t e;
    json_t *j = json_loads(t, JSON_DECODE_ANY, &e);
    CHECK(j != NULL);
    CHECK_STR_EQ(json_string_value(j), "a\"b\\c\nd\te\x01<f\xc3\xa9g\xef\xbf\xbdh");
    json_decref(j);
    free(t);
    /* a truncated multi-byte sequence at the end is replaced, not copied */
    t = json_of(put_str, "x\xe2\x82");
    CHECK_STR_EQ(t, "\"x\\ufffd\\ufffd\"");
    free(t);
    prof_buf b;
    prof_buf_init(&b);
    prof_json_us(&b, 1234567);
    prof_buf_puts(&b, " ");
    prof_json_us(&b, 5);
    char *us = prof_buf_take(&b, NULL);
    CHECK_STR_EQ(us, "1234.567 0.005");
    free(us);
}

TEST(redaction)
{
    CHECK(prof_redact_header("Authorization", 13));
    CHECK(prof_redact_header("COOKIE", 6));
    CHECK(prof_redact_header("fastly-key", 10));
    CHECK(prof_redact_header("Set-Cookie", 10));
    CHECK(!prof_redact_header("cookies", 7));
    CHECK(!prof_redact_header("x-fastly-key", 12));
    prof_secrets *s = prof_secrets_new();
    CHECK(s != NULL);
    CHECK(prof_secrets_add(s, "abc", 3)); /* too short: kept as is */
    CHECK(prof_secrets_add(s, "hunter22", 8));
    CHECK(prof_secrets_add(s, "hunter2222", 10));
    CHECK_EQ_INT((int)prof_secrets_count(s), 2);
    size_t n = 0;
    char *out = prof_secrets_scrub(s, "abc hunter2222 hunter22x hunter2", 32, &n);
    CHECK_STR_EQ(out, "abc [redacted] [redacted]x hunter2");
    CHECK_EQ_INT((int)n, (int)strlen(out));
    free(out);
    out = prof_secrets_scrub(NULL, "plain", 5, &n);
    CHECK_STR_EQ(out, "plain");
    free(out);
    prof_secrets_free(s);
}

/* Records `n` requests on this thread, each with `spans` hostcall spans. */
static void record(prof_recorder *rec, int n, int spans)
{
    for (int i = 0; i < n; i++) {
        prof_req *r = prof_recorder_begin(rec, "GET", "http://h/p", "0123456789abcdef");
        CHECK(r != NULL);
        CHECK(prof_current() == r);
        for (int k = 0; k < spans; k++) {
            prof_span sp = {.module = "m",
                            .name = "f",
                            .start_ns = r->start_mono_ns + 10,
                            .dur_ns = 5,
                            .status = 0};
            prof_req_hostcall(r, &sp);
        }
        prof_recorder_end(rec, r, 200);
        CHECK(prof_current() == NULL);
    }
}

TEST(ring_and_cap)
{
    char err[256];
    prof_config cfg = {.mode = PROF_MODE_TRACE, .max_requests = 4};
    prof_recorder *rec = prof_recorder_new(&cfg, err, sizeof err);
    CHECK(rec != NULL);
    if (!rec)
        return;
    record(rec, 6, 2);
    size_t count = 0, bytes = 0;
    uint64_t evicted = 0;
    prof_recorder_stats(rec, &count, &bytes, &evicted);
    CHECK_EQ_INT((int)count, 4);
    CHECK_EQ_U64(evicted, 2);
    CHECK(bytes > 0);
    prof_req **list = NULL;
    size_t n = prof_recorder_list(rec, &list);
    CHECK_EQ_INT((int)n, 4);
    CHECK_EQ_U64(list[0]->id, 6);
    CHECK_EQ_U64(list[3]->id, 3);
    CHECK_EQ_INT((int)list[0]->nspans, 2);
    CHECK_EQ_U64(list[0]->spans[0].start_ns, 10); /* relative to the request's start */
    CHECK_EQ_U64(list[0]->hostcall_ns, 10);
    for (size_t i = 0; i < n; i++)
        prof_req_release(list[i]);
    free(list);
    CHECK(prof_recorder_find(rec, 2) == NULL);
    prof_req *r = prof_recorder_find(rec, 5);
    CHECK(r != NULL && r->done && r->status == 200);
    prof_req_release(r);
    prof_recorder_free(rec);

    /* the memory cap: big records push out older ones, the newest always stays */
    prof_config capped = {.mode = PROF_MODE_TRACE, .max_requests = 100, .max_bytes = 64 * 1024};
    rec = prof_recorder_new(&capped, err, sizeof err);
    CHECK(rec != NULL);
    if (!rec)
        return;
    record(rec, 5, 400); /* ~400 spans of ~100 bytes: each record is near 40 KiB */
    prof_recorder_stats(rec, &count, &bytes, &evicted);
    CHECK(count >= 1 && count <= 2);
    CHECK(bytes <= 64 * 1024 || count == 1);
    CHECK_EQ_U64(evicted, 5 - count);
    prof_recorder_free(rec);
}

TEST(output_lines)
{
    char err[256];
    prof_config cfg = {.mode = PROF_MODE_TRACE};
    prof_recorder *rec = prof_recorder_new(&cfg, err, sizeof err);
    CHECK(rec != NULL);
    if (!rec)
        return;
    CHECK(prof_secrets_add(prof_recorder_secrets(rec), "topsecret", 9));
    prof_req *r = prof_recorder_begin(rec, "GET", "http://h/?k=topsecret", "t");
    /* a secret split across two writes is still scrubbed: lines are gathered first */
    prof_recorder_output(rec, 1, (const uint8_t *)"key top", 7);
    prof_recorder_output(rec, 1, (const uint8_t *)"secret ok\nsecond", 16);
    prof_recorder_output(rec, 2, (const uint8_t *)"err\n", 4);
    prof_recorder_end(rec, r, 200); /* keeps "second", which has no newline */
    CHECK_EQ_INT((int)r->nlogs, 3);
    if (r->nlogs == 3) {
        CHECK_STR_EQ(r->logs[0].text, "key [redacted] ok");
        CHECK_STR_EQ(r->logs[1].text, "err");
        CHECK_EQ_INT(r->logs[1].stream, 2);
        CHECK_STR_EQ(r->logs[2].text, "second");
    }
    CHECK_STR_EQ(r->url, "http://h/?k=[redacted]");
    /* the exports are JSON with the expected top-level shape */
    prof_buf b;
    prof_buf_init(&b);
    prof_req *one[1] = {r};
    prof_export_chrome(&b, prof_recorder_secrets(rec), one, 1);
    char *text = prof_buf_take(&b, NULL);
    json_error_t e;
    json_t *j = text ? json_loads(text, 0, &e) : NULL;
    CHECK(j && json_is_array(json_object_get(j, "traceEvents")));
    json_decref(j);
    free(text);
    prof_buf_init(&b);
    prof_export_speedscope(&b, prof_recorder_secrets(rec), one, 1);
    text = prof_buf_take(&b, NULL);
    j = text ? json_loads(text, 0, &e) : NULL;
    CHECK(j && json_array_size(json_object_get(j, "profiles")) == 1);
    CHECK(text && !strstr(text, "topsecret"));
    json_decref(j);
    free(text);
    prof_recorder_free(rec);
}

static cfg_status parse(cfg_options *o, const char *a, const char *b, char *err, size_t n)
{
    char *argv[] = {(char *)"-wasm", (char *)"build/guests/prof_app.wasm", (char *)a, (char *)b};
    cfg_options_init(o);
    return cfg_parse_flags(o, b ? 4 : 3, argv, err, n);
}

TEST(flags)
{
    cfg_options o;
    char err[512] = "";
    CHECK_EQ_INT(parse(&o, "-profile-max-requests", "25", err, sizeof err), CFG_OK);
    CHECK_EQ_INT((int)o.profile_max_requests, 25);
    cfg_options_deinit(&o);
    CHECK(parse(&o, "-profile-max-requests", "0", err, sizeof err) != CFG_OK);
    CHECK_STR_CONTAINS(err, "-profile-max-requests");
    cfg_options_deinit(&o);
    CHECK(parse(&o, "-profile-max-requests", "ten", err, sizeof err) != CFG_OK);
    cfg_options_deinit(&o);
    CHECK_EQ_INT(parse(&o, "-profile-ui-allow-remote", NULL, err, sizeof err), CFG_OK);
    CHECK(o.profile_ui_allow_remote);
    cfg_options_deinit(&o);
    CHECK_EQ_INT(parse(&o, "-profile-ui-token", "abcdefgh12", err, sizeof err), CFG_OK);
    CHECK_STR_EQ(o.profile_ui_token, "abcdefgh12");
    cfg_options_deinit(&o);
    CHECK(parse(&o, "-profile-ui-token", "short", err, sizeof err) != CFG_OK);
    CHECK_STR_CONTAINS(err, "-profile-ui-token");
    cfg_options_deinit(&o);
    CHECK(parse(&o, "-profile-ui-token", "has space 123", err, sizeof err) != CFG_OK);
    cfg_options_deinit(&o);
}

HARNESS_MAIN(RUN(json_escaping); RUN(redaction); RUN(ring_and_cap); RUN(output_lines); RUN(flags);)
