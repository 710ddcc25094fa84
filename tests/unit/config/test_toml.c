/* test_toml.c: the TOML 1.0 reader (src/config/cfg_toml.c): every value type decoded, tables,
 * dotted keys, arrays of tables and inline tables in the tree, positions kept on values, and
 * errors with their exact line:column and message; cfg_toml_load's file errors. (The full
 * conformance suite is test_toml_suite.c.) */
#include "harness.h"
#include "tmp_files.h"

#include "config/cfg_toml.h"

#include <math.h>

static cfg_toml_value *parse(const char *text, cfg_toml_error *e)
{
    return cfg_toml_parse(text, strlen(text), e);
}

/* Parses text, which must fail, and checks "LINE:COLUMN: message". */
#define EXPECT_ERR(text, line_, col_, msg_)                                                        \
    do {                                                                                           \
        cfg_toml_error e_;                                                                         \
        cfg_toml_value *v_ = parse(text, &e_);                                                     \
        CHECK(v_ == NULL);                                                                         \
        cfg_toml_free(v_);                                                                         \
        CHECK_EQ_INT(e_.line, line_);                                                              \
        CHECK_EQ_INT(e_.column, col_);                                                             \
        CHECK_STR_EQ(e_.msg, msg_);                                                                \
    } while (0)

TEST(scalars)
{
    cfg_toml_error e;
    cfg_toml_value *r = parse("s = \"a\\tb\\u00e9\"\n"
                              "l = 'C:\\path'\n"
                              "i = -1_000\n"
                              "h = 0xff\n"
                              "o = 0o17\n"
                              "b = 0b101\n"
                              "f = 6.25e-1\n"
                              "inf = -inf\n"
                              "nan = nan\n"
                              "t = true\n"
                              "max = 9223372036854775807\n"
                              "ml = \"\"\"\nx\\\n   y\"\"\"\n",
                              &e);
    CHECK(r != NULL);
    if (!r)
        return;
    const cfg_toml_value *v = cfg_toml_get(r, "s");
    CHECK(v && v->type == CFG_TOML_STRING && strcmp(v->u.s.ptr, "a\tb\xc3\xa9") == 0);
    v = cfg_toml_get(r, "l");
    CHECK(v && strcmp(v->u.s.ptr, "C:\\path") == 0);
    v = cfg_toml_get(r, "i");
    CHECK(v && v->type == CFG_TOML_INTEGER && v->u.i == -1000);
    CHECK_EQ_INT(cfg_toml_get(r, "h")->u.i, 255);
    CHECK_EQ_INT(cfg_toml_get(r, "o")->u.i, 15);
    CHECK_EQ_INT(cfg_toml_get(r, "b")->u.i, 5);
    v = cfg_toml_get(r, "f");
    CHECK(v && v->type == CFG_TOML_FLOAT && v->u.f == 0.625);
    v = cfg_toml_get(r, "inf");
    CHECK(v && isinf(v->u.f) && v->u.f < 0);
    CHECK(isnan(cfg_toml_get(r, "nan")->u.f));
    v = cfg_toml_get(r, "t");
    CHECK(v && v->type == CFG_TOML_BOOL && v->u.b);
    CHECK(cfg_toml_get(r, "max")->u.i == INT64_MAX);
    CHECK_STR_EQ(cfg_toml_get(r, "ml")->u.s.ptr, "xy");
    CHECK(cfg_toml_get(r, "missing") == NULL);
    CHECK(cfg_toml_get(v, "x") == NULL); /* not a table */
    cfg_toml_free(r);
}

TEST(datetimes)
{
    cfg_toml_error e;
    cfg_toml_value *r = parse("a = 1979-05-27T07:32:00.50-07:00\n"
                              "b = 1979-05-27 07:32:00Z\n"
                              "c = 1979-05-27t07:32:00\n"
                              "d = 2000-02-29\n"
                              "t = 23:59:59.123456789123\n",
                              &e);
    CHECK(r != NULL);
    if (!r)
        return;
    char buf[64];
    static const struct {
        const char *key;
        cfg_toml_type type;
        const char *text;
    } want[] = {
        {"a", CFG_TOML_DATETIME, "1979-05-27T07:32:00.50-07:00"},
        {"b", CFG_TOML_DATETIME, "1979-05-27T07:32:00Z"},
        {"c", CFG_TOML_DATETIME_LOCAL, "1979-05-27T07:32:00"},
        {"d", CFG_TOML_DATE_LOCAL, "2000-02-29"},
        {"t", CFG_TOML_TIME_LOCAL, "23:59:59.123456789"},
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        const cfg_toml_value *v = cfg_toml_get(r, want[i].key);
        CHECK(v && v->type == want[i].type);
        if (v) {
            cfg_toml_datetime_format(v, buf, sizeof buf);
            CHECK_STR_EQ(buf, want[i].text);
        }
    }
    CHECK_EQ_INT(cfg_toml_get(r, "a")->u.dt.offset_minutes, -420);
    CHECK_EQ_INT(cfg_toml_get(r, "a")->u.dt.nanosecond, 500000000);
    cfg_toml_free(r);
}

TEST(tables_and_positions)
{
    cfg_toml_error e;
    cfg_toml_value *r = parse("# fastly.toml-like\n"
                              "[a.b]\n"
                              "x = 1\n"
                              "y.z = \"deep\"\n"
                              "[[arr]]\n"
                              "n = 1\n"
                              "[[arr]]\n"
                              "n = 2\n"
                              "[a]\n"
                              "inline = { k = [1, 2, [3]], 'q k' = {} }\n",
                              &e);
    CHECK(r != NULL);
    if (!r)
        return;
    const cfg_toml_value *a = cfg_toml_get(r, "a");
    const cfg_toml_value *b = cfg_toml_get(a, "b");
    CHECK(b && b->type == CFG_TOML_TABLE && b->line == 2 && b->column == 1);
    const cfg_toml_value *x = cfg_toml_get(b, "x");
    CHECK(x && x->line == 3 && x->column == 5);
    CHECK_STR_EQ(cfg_toml_get(cfg_toml_get(b, "y"), "z")->u.s.ptr, "deep");
    const cfg_toml_value *arr = cfg_toml_get(r, "arr");
    CHECK(arr && arr->type == CFG_TOML_ARRAY && arr->u.array.count == 2);
    if (arr && arr->u.array.count == 2)
        CHECK_EQ_INT(cfg_toml_get(arr->u.array.items[1], "n")->u.i, 2);
    const cfg_toml_value *in = cfg_toml_get(a, "inline");
    CHECK(in && in->type == CFG_TOML_TABLE && in->line == 10 && in->column == 10);
    const cfg_toml_value *k = cfg_toml_get(in, "k");
    CHECK(k && k->u.array.count == 3 && k->u.array.items[2]->type == CFG_TOML_ARRAY);
    CHECK(cfg_toml_get(in, "q k") != NULL);
    /* keys keep document order */
    CHECK_STR_EQ(a->u.table.items[0].key, "b");
    CHECK_STR_EQ(a->u.table.items[1].key, "inline");
    cfg_toml_free(r);
}

TEST(syntax_errors)
{
    EXPECT_ERR("a = \n", 1, 5,
               "expected a value (string, number, boolean, date-time, array or inline table), "
               "found end of line");
    EXPECT_ERR("a = 1\nb = 2 c\n", 2, 7, "expected the end of the line after the value, found 'c'");
    EXPECT_ERR("key\n", 1, 4, "expected '=' after the key, found end of line");
    EXPECT_ERR("= 1\n", 1, 1, "expected a key, found '='");
    EXPECT_ERR("s = \"abc\n", 1, 9, "unterminated string: expected \" before the end of the line");
    EXPECT_ERR("s = \"a\\qb\"\n", 1, 7, "invalid escape sequence: '\\' followed by 'q'");
    EXPECT_ERR("s = \"\\uD800\"\n", 1, 6, "\\uD800 is not a Unicode scalar value");
    EXPECT_ERR("x = 1 # \x01\n", 1, 9, "control character U+0001 is not allowed in a comment");
    EXPECT_ERR("[t\n", 1, 3, "expected ']' to close the [table] header, found end of line");
    EXPECT_ERR("a = [1 2]\n", 1, 8, "expected ',' or ']' in an array, found '2'");
    EXPECT_ERR("a = {b = 1,}\n", 1, 12,
               "expected a key after ',', found '}' (no trailing comma in an inline table)");
    EXPECT_ERR("a = {b = 1\n}\n", 1, 11,
               "expected ',' or '}' in an inline table, found end of line");
    EXPECT_ERR("\n\n  \xc3\x28 = 1\n", 3, 3, "invalid UTF-8 (byte 0xC3)");
}

TEST(value_errors)
{
    EXPECT_ERR("n = 0123\n", 1, 5, "leading zeros are not allowed in '0123'");
    EXPECT_ERR("n = 9223372036854775808\n", 1, 5,
               "integer '9223372036854775808' does not fit in 64 bits (signed)");
    EXPECT_ERR("n = 1__0\n", 1, 5,
               "invalid value '1__0': expected a number, date-time, boolean, string, array or "
               "inline table");
    EXPECT_ERR("n = +0x10\n", 1, 5, "a hexadecimal, octal or binary integer cannot have a sign");
    EXPECT_ERR("d = 2001-02-29\n", 1, 5, "invalid date '2001-02-29': no such day");
    EXPECT_ERR("d = 1979-05-27T07:32\n", 1, 16,
               "invalid time '07:32': expected HH:MM:SS[.fraction][Z|+HH:MM|-HH:MM]");
    EXPECT_ERR("b = True\n", 1, 5,
               "invalid value 'True': expected a number, date-time, boolean, string, array or "
               "inline table");
}

TEST(definition_errors)
{
    EXPECT_ERR("a = 1\na = 2\n", 2, 1, "duplicate key 'a' (first defined at line 1, column 5)");
    EXPECT_ERR("[t]\nx = 1\n[t]\n", 3, 1, "table 't' is defined twice (first at line 1)");
    EXPECT_ERR("[t]\nx.y = 1\n[t.x]\n", 3, 1, "table 'x' is defined twice (first at line 2)");
    EXPECT_ERR("t = {a = 1}\n[t.b]\n", 2, 2,
               "'t' is an inline table (line 1), which cannot be extended");
    EXPECT_ERR("a = [1]\n[[a]]\n", 2, 3,
               "'a' is already defined as a static array (line 1), not an array of tables");
    EXPECT_ERR("[a.b]\nz = 1\n[a]\nb.y = 2\n", 4, 1,
               "table 'b' was defined by a [header] (line 1) and cannot be extended with dotted "
               "keys");
    EXPECT_ERR("a = 1\na.b = 2\n", 2, 1, "key 'a' is already defined as an integer (line 1)");
    /* [a.b.c] makes a and b implicitly; defining [a] later is fine, but only once */
    cfg_toml_error e;
    cfg_toml_value *r = parse("[a.b.c]\n[a]\nx = 1\n", &e);
    CHECK(r != NULL);
    cfg_toml_free(r);
    char deep[600];
    size_t n = 0;
    n += (size_t)snprintf(deep, sizeof deep, "a = ");
    for (int i = 0; i < 200; i++)
        deep[n++] = '[';
    deep[n++] = '\n';
    deep[n] = '\0';
    EXPECT_ERR(deep, 1, 133, "arrays and inline tables nested deeper than 128");
}

/* Big tables are looked up through a hash index: every key found, a repeat still caught. */
TEST(big_table)
{
    static char text[40000];
    size_t n = 0;
    for (int i = 0; i < 1000; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "key%d = %d\n", i, i);
    cfg_toml_error e;
    cfg_toml_value *r = cfg_toml_parse(text, n, &e);
    CHECK(r && r->u.table.count == 1000);
    for (int i = 0; r && i < 1000; i += 37) {
        char k[16];
        snprintf(k, sizeof k, "key%d", i);
        const cfg_toml_value *v = cfg_toml_get(r, k);
        CHECK(v && v->u.i == i);
    }
    CHECK(cfg_toml_get(r, "key1000") == NULL);
    cfg_toml_free(r);
    snprintf(text + n, sizeof text - n, "key517 = 0\n");
    EXPECT_ERR(text, 1001, 1, "duplicate key 'key517' (first defined at line 518, column 10)");
}

TEST(load_file)
{
    char err[1024];
    cfg_toml_value *r = NULL;
    CHECK_EQ_INT(cfg_toml_load(tmp_path("none.toml"), &r, err, sizeof err), CFG_ERR_FILE);
    CHECK(r == NULL);
    CHECK_STR_CONTAINS(err, "none.toml: cannot read: No such file or directory");
    CHECK_EQ_INT(cfg_toml_load(tmpdir, &r, err, sizeof err), CFG_ERR_FILE);
    CHECK_STR_CONTAINS(err, ": cannot read: is a directory");
    const char *bad = write_file("bad.toml", "[ok]\nx = 'unterminated\n");
    CHECK_EQ_INT(cfg_toml_load(bad, &r, err, sizeof err), CFG_ERR_TOML);
    char want[900];
    snprintf(want, sizeof want,
             "%s:2:18: unterminated string: expected ' before the end of the line", bad);
    CHECK_STR_EQ(err, want);
    const char *good = write_file("good.toml", "\xEF\xBB\xBFname = \"x\"\r\n");
    CHECK_EQ_INT(cfg_toml_load(good, &r, err, sizeof err), CFG_OK);
    CHECK(r && strcmp(cfg_toml_get(r, "name")->u.s.ptr, "x") == 0);
    cfg_toml_free(r);
}

int main(int argc, char **argv)
{
    (void)argc;
    if (!tmp_dir_create("fastlike-toml"))
        return 1;
    RUN(scalars);
    RUN(datetimes);
    RUN(tables_and_positions);
    RUN(syntax_errors);
    RUN(value_errors);
    RUN(definition_errors);
    RUN(big_table);
    RUN(load_file);
    tmp_dir_remove();
    return harness_finish(argv[0]);
}
