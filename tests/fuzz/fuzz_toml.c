/* fuzz_toml.c: libFuzzer target over the TOML reader (src/config/cfg_toml*.c): cfg_toml_parse on
 * arbitrary bytes. A document that parses is walked completely (every key, string, date and
 * lookup), so a tree with a dangling or half-built node shows up under ASan; a refusal must carry
 * a message and a position inside the document. */
#include "config/cfg_toml.h"
#include "fuzz_util.h"

static size_t walk(const cfg_toml_value *v, int depth)
{
    size_t n = 1;
    CHECK(v != NULL);
    CHECK(cfg_toml_type_name(v->type) != NULL);
    char tmp[128];
    switch (v->type) {
    case CFG_TOML_TABLE:
        for (size_t i = 0; i < v->u.table.count; i++) {
            const cfg_toml_pair *p = &v->u.table.items[i];
            CHECK(p->key != NULL && p->key[p->key_len] == '\0');
            /* a key without NUL inside is found again by name */
            if (strlen(p->key) == p->key_len)
                CHECK(cfg_toml_get(v, p->key) == p->value);
            n += walk(p->value, depth + 1);
        }
        break;
    case CFG_TOML_ARRAY:
        for (size_t i = 0; i < v->u.array.count; i++)
            n += walk(v->u.array.items[i], depth + 1);
        break;
    case CFG_TOML_STRING:
        CHECK(v->u.s.ptr != NULL && v->u.s.ptr[v->u.s.len] == '\0');
        break;
    case CFG_TOML_DATETIME:
    case CFG_TOML_DATETIME_LOCAL:
    case CFG_TOML_DATE_LOCAL:
    case CFG_TOML_TIME_LOCAL: {
        int w = cfg_toml_datetime_format(v, tmp, sizeof tmp);
        CHECK(w > 0 && (size_t)w < sizeof tmp);
        break;
    }
    default:
        break;
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1); /* exact size: reads past the end are caught */
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    cfg_toml_error err;
    memset(&err, 0, sizeof err);
    cfg_toml_value *root = cfg_toml_parse(buf, size, &err);
    if (root) {
        CHECK(root->type == CFG_TOML_TABLE);
        walk(root, 0);
        cfg_toml_free(root);
    } else {
        CHECK(err.msg[0] != '\0');
        CHECK(memchr(err.msg, '\n', strnlen(err.msg, sizeof err.msg)) == NULL); /* one line */
        if (err.line > 0) {                                                     /* inside */
            size_t lines = 1;
            for (size_t i = 0; i < size; i++)
                lines += data[i] == '\n';
            CHECK(err.line <= lines);
        }
    }
    free(buf);
    return 0;
}
