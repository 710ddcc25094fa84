/* cfg_toml_scalar.c: TOML's bare values: integers (decimal with the leading-zero and underscore
 * rules, 0x/0o/0b, 64-bit range), floats (with exponent, inf, nan) and the four date-time forms
 * (checked calendar dates, times with seconds, offsets), and writing a date-time back as text. */
#include "config/cfg_toml_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- numbers and date-times ---- */

/* Reads digits (of the base) with single underscores between them from s[*i..n); copies the
 * digits to out (when not NULL). Returns the number of digits, or -1 for a misplaced '_'. */
static int digits(const char *s, size_t n, size_t *i, int base, char *out, size_t *outlen)
{
    int count = 0;
    bool prev_digit = false;
    while (*i < n) {
        int c = (unsigned char)s[*i];
        int v = hexval(c);
        if (c == '_') {
            if (!prev_digit || *i + 1 >= n || hexval((unsigned char)s[*i + 1]) < 0 ||
                hexval((unsigned char)s[*i + 1]) >= base)
                return -1;
            prev_digit = false;
            (*i)++;
            continue;
        }
        if (v < 0 || v >= base)
            break;
        if (out)
            out[(*outlen)++] = (char)c;
        count++;
        prev_digit = true;
        (*i)++;
    }
    return count;
}

bool cfg_toml_parse_number(cfg_toml_parser *p, size_t start, size_t end, cfg_toml_value **out)
{
    const char *s = p->buf + start;
    size_t n = end - start;
    size_t i = 0;
    bool neg = false, sign = false;
    if (s[0] == '+' || s[0] == '-') {
        sign = true;
        neg = s[0] == '-';
        i = 1;
    }
    if (n - i == 3 && (memcmp(s + i, "inf", 3) == 0 || memcmp(s + i, "nan", 3) == 0)) {
        cfg_toml_value *v = cfg_toml_new_value(p, CFG_TOML_FLOAT, start);
        if (!v)
            return false;
        if (s[i] == 'i')
            v->u.f = neg ? -__builtin_inf() : __builtin_inf();
        else
            v->u.f = neg ? -__builtin_nan("") : __builtin_nan("");
        *out = v;
        return true;
    }
    if (n - i > 2 && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'o' || s[i + 1] == 'b')) {
        int base = s[i + 1] == 'x' ? 16 : s[i + 1] == 'o' ? 8 : 2;
        if (sign)
            return cfg_toml_fail(p, start,
                                 "a hexadecimal, octal or binary integer cannot have a sign");
        size_t j = i + 2;
        size_t dstart = j;
        int nd = digits(s, n, &j, base, NULL, NULL);
        if (nd <= 0 || j != n || s[dstart] == '_')
            return cfg_toml_fail(p, start, "invalid %s integer '%.*s'",
                                 base == 16  ? "hexadecimal"
                                 : base == 8 ? "octal"
                                             : "binary",
                                 (int)n, s);
        uint64_t acc = 0;
        for (size_t k = dstart; k < n; k++) {
            if (s[k] == '_')
                continue;
            uint64_t d = (uint64_t)hexval((unsigned char)s[k]);
            if (acc > (UINT64_C(0x7FFFFFFFFFFFFFFF) - d) / (uint64_t)base)
                return cfg_toml_fail(p, start, "integer '%.*s' does not fit in 64 bits (signed)",
                                     (int)n, s);
            acc = acc * (uint64_t)base + d;
        }
        cfg_toml_value *v = cfg_toml_new_value(p, CFG_TOML_INTEGER, start);
        if (!v)
            return false;
        v->u.i = (int64_t)acc;
        *out = v;
        return true;
    }
    char *clean = malloc(n + 2);
    if (!clean)
        return cfg_toml_nomem(p);
    size_t cl = 0;
    if (neg)
        clean[cl++] = '-';
    bool is_float = false, ok = true;
    size_t int_start = i;
    int nd = digits(s, n, &i, 10, clean, &cl);
    if (nd <= 0)
        ok = false;
    else if (s[int_start] == '0' && nd > 1)
        ok = false; /* leading zero */
    if (ok && i < n && s[i] == '.') {
        is_float = true;
        clean[cl++] = '.';
        i++;
        if (i >= n || !is_digit((unsigned char)s[i]) || digits(s, n, &i, 10, clean, &cl) <= 0)
            ok = false;
    }
    if (ok && i < n && (s[i] == 'e' || s[i] == 'E')) {
        is_float = true;
        clean[cl++] = 'e';
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            clean[cl++] = s[i++];
        if (i >= n || !is_digit((unsigned char)s[i]) || digits(s, n, &i, 10, clean, &cl) <= 0)
            ok = false;
    }
    if (!ok || i != n) {
        free(clean);
        if (nd > 1 && s[int_start] == '0')
            return cfg_toml_fail(p, start, "leading zeros are not allowed in '%.*s'", (int)n, s);
        return cfg_toml_fail(p, start,
                             "invalid value '%.*s': expected a number, date-time, boolean, "
                             "string, array or inline table",
                             (int)n, s);
    }
    clean[cl] = '\0';
    cfg_toml_value *v = cfg_toml_new_value(p, is_float ? CFG_TOML_FLOAT : CFG_TOML_INTEGER, start);
    if (!v) {
        free(clean);
        return false;
    }
    errno = 0;
    if (is_float) {
        v->u.f = strtod(clean, NULL);
    } else {
        long long x = strtoll(clean, NULL, 10);
        if (errno == ERANGE) {
            free(clean);
            cfg_toml_free(v);
            return cfg_toml_fail(p, start, "integer '%.*s' does not fit in 64 bits (signed)",
                                 (int)n, s);
        }
        v->u.i = (int64_t)x;
    }
    free(clean);
    *out = v;
    return true;
}

static int num2(const char *s)
{
    return (s[0] - '0') * 10 + (s[1] - '0');
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* Parses "HH:MM:SS[.frac]" then, when allow_offset, an optional offset; must use all of s[0..n).
 * Returns 1 with an offset, 0 without, -1 when invalid. */
static int parse_time(const char *s, size_t n, bool allow_offset, cfg_toml_datetime *dt)
{
    if (n < 8 || !all_digits(s, 2) || s[2] != ':' || !all_digits(s + 3, 2) || s[5] != ':' ||
        !all_digits(s + 6, 2))
        return -1;
    dt->hour = num2(s);
    dt->minute = num2(s + 3);
    dt->second = num2(s + 6);
    if (dt->hour > 23 || dt->minute > 59 || dt->second > 59)
        return -1;
    size_t i = 8;
    if (i < n && s[i] == '.') {
        i++;
        size_t fs = i;
        uint32_t ns = 0;
        int nd = 0;
        while (i < n && is_digit((unsigned char)s[i])) {
            if (nd < 9) {
                ns = ns * 10 + (uint32_t)(s[i] - '0');
                nd++;
            }
            i++;
        }
        if (i == fs)
            return -1;
        dt->frac_digits = nd;
        for (int k = nd; k < 9; k++)
            ns *= 10;
        dt->nanosecond = ns;
    }
    if (i == n)
        return 0;
    if (!allow_offset)
        return -1;
    if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == n) {
        dt->offset_minutes = 0;
        return 1;
    }
    if ((s[i] == '+' || s[i] == '-') && n - i == 6 && all_digits(s + i + 1, 2) && s[i + 3] == ':' &&
        all_digits(s + i + 4, 2)) {
        int oh = num2(s + i + 1), om = num2(s + i + 4);
        if (oh > 23 || om > 59)
            return -1;
        dt->offset_minutes = (s[i] == '-' ? -1 : 1) * (oh * 60 + om);
        return 1;
    }
    return -1;
}

/* A bare token that starts like a date (YYYY-MM-DD) or a time (HH:MM). */
bool cfg_toml_parse_datetime(cfg_toml_parser *p, size_t start, size_t end, cfg_toml_value **out)
{
    const char *s = p->buf + start;
    size_t n = end - start;
    cfg_toml_datetime dt;
    memset(&dt, 0, sizeof dt);
    cfg_toml_type type;
    if (n >= 3 && s[2] == ':') {
        if (parse_time(s, n, false, &dt) != 0)
            return cfg_toml_fail(
                p, start, "invalid local time '%.*s': expected HH:MM:SS[.fraction]", (int)n, s);
        type = CFG_TOML_TIME_LOCAL;
    } else {
        if (n < 10 || !all_digits(s, 4) || s[4] != '-' || !all_digits(s + 5, 2) || s[7] != '-' ||
            !all_digits(s + 8, 2))
            return cfg_toml_fail(p, start, "invalid date '%.*s': expected YYYY-MM-DD", (int)n, s);
        dt.year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + num2(s + 2);
        dt.month = num2(s + 5);
        dt.day = num2(s + 8);
        if (dt.month < 1 || dt.month > 12 || dt.day < 1 ||
            dt.day > days_in_month(dt.year, dt.month))
            return cfg_toml_fail(p, start, "invalid date '%.*s': no such day", 10, s);
        const char *t = NULL;
        size_t tn = 0;
        size_t tstart = start;
        if (n == 10) {
            /* "1979-05-27 07:32:00": a space may separate the date and the time */
            size_t q = end;
            if (peek_at(p, q) == ' ' && is_digit(peek_at(p, q + 1)) &&
                is_digit(peek_at(p, q + 2)) && peek_at(p, q + 3) == ':') {
                size_t e = q + 1;
                while (is_token(peek_at(p, e)))
                    e++;
                t = p->buf + q + 1;
                tn = e - (q + 1);
                tstart = q + 1;
                p->pos = e;
            }
        } else if (s[10] == 'T' || s[10] == 't') {
            t = s + 11;
            tn = n - 11;
            tstart = start + 11;
        } else {
            return cfg_toml_fail(p, start, "invalid date-time '%.*s'", (int)n, s);
        }
        if (!t) {
            type = CFG_TOML_DATE_LOCAL;
        } else {
            int r = parse_time(t, tn, true, &dt);
            if (r < 0)
                return cfg_toml_fail(
                    p, tstart, "invalid time '%.*s': expected HH:MM:SS[.fraction][Z|+HH:MM|-HH:MM]",
                    (int)tn, t);
            type = r ? CFG_TOML_DATETIME : CFG_TOML_DATETIME_LOCAL;
        }
    }
    cfg_toml_value *v = cfg_toml_new_value(p, type, start);
    if (!v)
        return false;
    v->u.dt = dt;
    *out = v;
    return true;
}

int cfg_toml_datetime_format(const cfg_toml_value *v, char *buf, size_t n)
{
    const cfg_toml_datetime *d = &v->u.dt;
    char date[32] = "", time[48] = "", off[16] = "";
    bool has_date = v->type != CFG_TOML_TIME_LOCAL;
    bool has_time = v->type != CFG_TOML_DATE_LOCAL;
    if (v->type < CFG_TOML_DATETIME)
        return 0;
    if (has_date)
        snprintf(date, sizeof date, "%04d-%02d-%02d", d->year, d->month, d->day);
    if (has_time) {
        int k = snprintf(time, sizeof time, "%s%02d:%02d:%02d", has_date ? "T" : "", d->hour,
                         d->minute, d->second);
        if (d->frac_digits > 0) {
            char frac[16];
            snprintf(frac, sizeof frac, "%09u", (unsigned)d->nanosecond);
            frac[d->frac_digits] = '\0';
            snprintf(time + k, sizeof time - (size_t)k, ".%s", frac);
        }
    }
    if (v->type == CFG_TOML_DATETIME) {
        int m = d->offset_minutes;
        if (m == 0)
            snprintf(off, sizeof off, "Z");
        else
            snprintf(off, sizeof off, "%c%02d:%02d", m < 0 ? '-' : '+', abs(m) / 60, abs(m) % 60);
    }
    return snprintf(buf, n, "%s%s%s", date, time, off);
}
