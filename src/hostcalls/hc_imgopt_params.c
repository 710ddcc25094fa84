/* hc_imgopt_params.c: the parser of the Image Optimizer query parameters (`sdk_claims_opts`):
 * splits "name=value&...", percent-decodes each value and checks it against the ranges of the
 * Fastly IO reference (and the SDKs' own checks). */
#include "hc_imgopt_params.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VALUE_MAX 256

static bool fail(char *err, size_t errlen, const char *name, const char *value)
{
    snprintf(err, errlen, "%s: bad value '%s'", name, value);
    return false;
}

static void note_ignored(hc_io_params *p, const char *name, size_t len)
{
    size_t used = strlen(p->ignored);
    if (used + len + 2 >= sizeof p->ignored)
        return;
    if (used > 0)
        p->ignored[used++] = ',';
    memcpy(p->ignored + used, name, len);
    p->ignored[used + len] = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decodes (and '+' as space) into out (NUL-terminated); false when too long or broken. */
static bool decode(const char *s, size_t len, char out[VALUE_MAX])
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= len)
                return false;
            int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0)
                return false;
            c = (char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (c == '\0' || o + 1 >= VALUE_MAX)
            return false;
        out[o++] = c;
    }
    out[o] = '\0';
    return true;
}

/* A whole-string number (strtod), finite. */
static bool number(const char *s, double *v)
{
    if (!*s || isspace((unsigned char)*s))
        return false;
    char *end;
    *v = strtod(s, &end);
    return *end == '\0' && isfinite(*v);
}

static bool int_in(const char *s, long lo, long hi, int *out)
{
    if (!*s)
        return false;
    for (const char *c = s; *c; c++)
        if (!isdigit((unsigned char)*c) && !(c == s && *c == '-'))
            return false;
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || v < lo || v > hi)
        return false;
    *out = (int)v;
    return true;
}

/* "120" pixels (a positive whole number; "120.000000" as the JS SDK writes it is fine) or
 * "50p" / "50.000000p" percent (0 < p <= 100 for sizes; `allow_zero` for sides). */
static bool length(const char *s, bool allow_zero, hc_io_len *out)
{
    char buf[VALUE_MAX];
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, s, n + 1);
    bool pct = buf[n - 1] == 'p';
    if (pct)
        buf[n - 1] = '\0';
    double v;
    if (!number(buf, &v) || v < 0 || (!allow_zero && v == 0))
        return false;
    if (pct ? v > 100 : (v != floor(v) || v > 1e6))
        return false;
    out->v = v;
    out->pct = pct;
    return true;
}

/* Splits value at commas into at most `max` fields (in place); returns the count, 0 on overflow. */
static size_t split(char *value, char **fields, size_t max)
{
    size_t n = 0;
    char *p = value;
    for (;;) {
        if (n == max)
            return 0;
        fields[n++] = p;
        char *comma = strchr(p, ',');
        if (!comma)
            return n;
        *comma = '\0';
        p = comma + 1;
    }
}

/* CSS-style sides: 1 to 4 lengths (top, right, bottom, left). */
static bool sides(char *value, hc_io_len out[4])
{
    char *f[4];
    size_t n = split(value, f, 4);
    if (n == 0)
        return false;
    hc_io_len l[4];
    for (size_t i = 0; i < n; i++)
        if (!length(f[i], true, &l[i]))
            return false;
    out[0] = l[0];
    out[1] = n > 1 ? l[1] : l[0];
    out[2] = n > 2 ? l[2] : l[0];
    out[3] = n > 3 ? l[3] : out[1];
    return true;
}

static bool color(char *value, uint8_t out[4])
{
    size_t n = strlen(value);
    if (n == 3 || n == 6) {
        bool hex = true;
        for (size_t i = 0; i < n; i++)
            hex = hex && hexval(value[i]) >= 0;
        if (hex) {
            for (int i = 0; i < 3; i++)
                out[i] = (uint8_t)(n == 3 ? hexval(value[i]) * 17
                                          : hexval(value[2 * i]) * 16 + hexval(value[2 * i + 1]));
            out[3] = 255;
            return true;
        }
    }
    char *f[4];
    size_t k = split(value, f, 4);
    if (k != 3 && k != 4)
        return false;
    for (size_t i = 0; i < 3; i++) {
        int c;
        if (!int_in(f[i], 0, 255, &c))
            return false;
        out[i] = (uint8_t)c;
    }
    out[3] = 255;
    if (k == 4) {
        double a;
        if (!number(f[3], &a) || a < 0 || a > 1)
            return false;
        out[3] = (uint8_t)lround(a * 255);
    }
    return true;
}

/* "x10", "x50p", "offset-x25" style position component. */
static bool position(const char *f, char axis, bool *offset, hc_io_len *out)
{
    char key[16];
    snprintf(key, sizeof key, "offset-%c", axis);
    size_t klen = strlen(key);
    if (strncmp(f, key, klen) == 0) {
        double v;
        if (!number(f + klen, &v) || v < 0 || v > 100)
            return false;
        *offset = true;
        out->v = v;
        out->pct = true;
        return true;
    }
    if (f[0] != axis)
        return false;
    *offset = false;
    return length(f + 1, true, out);
}

/* crop / precrop: "W,H" or "W:H", then optionally ",x..,y.." and ",safe" / ",smart". */
static bool crop(char *value, hc_io_crop *c)
{
    char *f[6];
    size_t n = split(value, f, 6);
    if (n == 0)
        return false;
    memset(c, 0, sizeof *c);
    size_t i = 0;
    char *colon = strchr(f[0], ':');
    if (colon) {
        *colon = '\0';
        if (!number(f[0], &c->rw) || !number(colon + 1, &c->rh) || c->rw <= 0 || c->rh <= 0 ||
            c->rw > 1e6 || c->rh > 1e6)
            return false;
        c->ratio = true;
        i = 1;
    } else {
        if (n < 2 || !length(f[0], false, &c->w) || !length(f[1], false, &c->h))
            return false;
        i = 2;
    }
    if (i < n && (f[i][0] == 'x' || f[i][0] == 'o')) {
        if (i + 1 >= n || !position(f[i], 'x', &c->x_offset, &c->x) ||
            !position(f[i + 1], 'y', &c->y_offset, &c->y))
            return false;
        c->has_pos = true;
        i += 2;
    }
    if (i < n) {
        if (strcmp(f[i], "smart") == 0)
            c->smart = true;
        else if (strcmp(f[i], "safe") != 0)
            return false;
        i++;
    }
    c->set = i == n;
    return c->set;
}

static bool format(const char *v, hc_io_params *p, bool *unsupported)
{
    static const struct {
        const char *name;
        hc_io_format f;
    } names[] = {
        {"auto", HC_IO_FMT_AUTO}, {"jpg", HC_IO_FMT_JPEG},      {"jpeg", HC_IO_FMT_JPEG},
        {"bjpg", HC_IO_FMT_JPEG}, {"pjpg", HC_IO_FMT_PJPEG},    {"png", HC_IO_FMT_PNG},
        {"png8", HC_IO_FMT_PNG8}, {"webp", HC_IO_FMT_WEBP},     {"webpll", HC_IO_FMT_WEBPLL},
        {"gif", HC_IO_FMT_GIF},   {"webply", HC_IO_FMT_WEBPLY}, {"avif", HC_IO_FMT_AVIF},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(v, names[i].name) == 0) {
            p->format = names[i].f;
            return true;
        }
    /* production formats with no local encoder: the input format is kept */
    static const char *const others[] = {"jxl", "pjxl", "mp4", "svg"};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        if (strcmp(v, others[i]) == 0) {
            *unsupported = true;
            return true;
        }
    return false;
}

static bool orient(const char *v, int *out)
{
    static const struct {
        const char *name;
        int o;
    } names[] = {{"r", 6}, {"l", 8}, {"h", 2}, {"v", 4}, {"hv", 3}, {"vh", 3}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(v, names[i].name) == 0) {
            *out = names[i].o;
            return true;
        }
    return int_in(v, 1, 8, out);
}

static bool filter(const char *v, hc_io_filter *out)
{
    static const struct {
        const char *name;
        hc_io_filter f;
    } names[] = {
        {"nearest", HC_IO_FILTER_NEAREST},   {"bilinear", HC_IO_FILTER_LINEAR},
        {"linear", HC_IO_FILTER_LINEAR},     {"bicubic", HC_IO_FILTER_CUBIC},
        {"cubic", HC_IO_FILTER_CUBIC},       {"lanczos2", HC_IO_FILTER_LANCZOS2},
        {"lanczos3", HC_IO_FILTER_LANCZOS3}, {"lanczos", HC_IO_FILTER_LANCZOS3},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(v, names[i].name) == 0) {
            *out = names[i].f;
            return true;
        }
    return false;
}

/* "a5,r2,t1": amount 0..10, radius 0.5..1000, threshold 0..255, in any order. */
static bool sharpen(char *value, hc_io_params *p)
{
    char *f[3];
    size_t n = split(value, f, 3);
    bool a = false, r = false, t = false;
    for (size_t i = 0; i < n; i++) {
        double v;
        if (!number(f[i] + 1, &v))
            return false;
        if (f[i][0] == 'a' && v >= 0 && v <= 10) {
            p->sharpen_amount = v;
            a = true;
        } else if (f[i][0] == 'r' && v >= 0.5 && v <= 1000) {
            p->sharpen_radius = v;
            r = true;
        } else if (f[i][0] == 't' && v >= 0 && v <= 255 && v == floor(v)) {
            p->sharpen_threshold = (int)v;
            t = true;
        } else {
            return false;
        }
    }
    if (n == 0 || !a)
        return false;
    if (!r)
        p->sharpen_radius = 1;
    if (!t)
        p->sharpen_threshold = 0;
    return true;
}

static bool signed_pct(const char *v, double *out)
{
    return number(v, out) && *out >= -100 && *out <= 100;
}

/* One name=value pair. */
static bool param(hc_io_params *p, const char *name, size_t nlen, char *v, char *err, size_t errlen)
{
    char key[32];
    if (nlen >= sizeof key) {
        note_ignored(p, name, nlen);
        return true;
    }
    memcpy(key, name, nlen);
    key[nlen] = '\0';
    char orig[VALUE_MAX];
    snprintf(orig, sizeof orig, "%s", v);
    bool ok = true, unsupported = false;
    if (strcmp(key, "region") == 0) {
        /* where production would run it; meaningless locally */
    } else if (strcmp(key, "width") == 0) {
        ok = p->width_set = length(v, false, &p->width);
    } else if (strcmp(key, "height") == 0) {
        ok = p->height_set = length(v, false, &p->height);
    } else if (strcmp(key, "fit") == 0) {
        if (strcmp(v, "bounds") == 0)
            p->fit = HC_IO_FIT_BOUNDS;
        else if (strcmp(v, "cover") == 0)
            p->fit = HC_IO_FIT_COVER;
        else if (strcmp(v, "crop") == 0)
            p->fit = HC_IO_FIT_CROP;
        else
            ok = false;
    } else if (strcmp(key, "dpr") == 0) {
        ok = number(v, &p->dpr) && p->dpr >= 1 && p->dpr <= 10;
    } else if (strcmp(key, "crop") == 0) {
        ok = crop(v, &p->crop);
    } else if (strcmp(key, "canvas") == 0) {
        ok = crop(v, &p->canvas) && !p->canvas.smart;
    } else if (strcmp(key, "bw") == 0) {
        if (strcmp(v, "threshold") == 0)
            p->bw = true;
        else if (strcmp(v, "atkinson") == 0)
            unsupported = true; /* no dithering locally */
        else
            ok = false;
    } else if (strcmp(key, "trim-color") == 0) {
        /* COLOR or COLOR,tT (threshold 0..1) */
        char *last = strrchr(v, ',');
        p->trim_threshold = -1;
        if (last && last[1] == 't') {
            ok = number(last + 2, &p->trim_threshold) && p->trim_threshold >= 0 &&
                 p->trim_threshold <= 1;
            *last = '\0';
        }
        ok = ok && (p->trim_color_set = color(v, p->trim_color));
    } else if (strcmp(key, "frame") == 0) {
        /* the first frame is what is always decoded */
        ok = strcmp(v, "1") == 0;
    } else if (strcmp(key, "precrop") == 0) {
        ok = crop(v, &p->precrop);
    } else if (strcmp(key, "format") == 0) {
        ok = format(v, p, &unsupported);
    } else if (strcmp(key, "auto") == 0) {
        char *f[2];
        size_t n = split(v, f, 2);
        ok = n > 0;
        for (size_t i = 0; i < n && ok; i++) {
            if (strcmp(f[i], "webp") == 0)
                p->auto_fmt |= HC_IO_AUTO_WEBP;
            else if (strcmp(f[i], "avif") == 0)
                p->auto_fmt |= HC_IO_AUTO_AVIF;
            else
                ok = false;
        }
    } else if (strcmp(key, "quality") == 0) {
        /* "85" or "85,70" (the second is production's fallback for lossless outputs) */
        char *f[2];
        size_t n = split(v, f, 2);
        int ignored;
        ok =
            n > 0 && int_in(f[0], 0, 100, &p->quality) && (n < 2 || int_in(f[1], 0, 100, &ignored));
    } else if (strcmp(key, "orient") == 0) {
        ok = orient(v, &p->orient);
    } else if (strcmp(key, "blur") == 0) {
        size_t n = strlen(v);
        if (n > 0 && v[n - 1] == 'p') {
            ok = p->blur_set = length(v, false, &p->blur);
        } else {
            ok = p->blur_set = number(v, &p->blur.v) && p->blur.v >= 0.5 && p->blur.v <= 1000;
            p->blur.pct = false;
        }
    } else if (strcmp(key, "sharpen") == 0) {
        ok = p->sharpen_set = sharpen(v, p);
    } else if (strcmp(key, "bg-color") == 0) {
        ok = p->bg_set = color(v, p->bg);
    } else if (strcmp(key, "trim") == 0) {
        ok = p->trim_set = sides(v, p->trim);
    } else if (strcmp(key, "pad") == 0) {
        ok = p->pad_set = sides(v, p->pad);
    } else if (strcmp(key, "resize-filter") == 0) {
        ok = filter(v, &p->filter);
    } else if (strcmp(key, "enable") == 0 || strcmp(key, "disable") == 0) {
        if (strcmp(v, "upscale") == 0)
            p->upscale = key[0] == 'e' ? 1 : -1;
        else
            ok = false;
    } else if (strcmp(key, "brightness") == 0) {
        ok = p->brightness_set = signed_pct(v, &p->brightness);
    } else if (strcmp(key, "contrast") == 0) {
        ok = p->contrast_set = signed_pct(v, &p->contrast);
    } else if (strcmp(key, "saturation") == 0) {
        ok = p->saturation_set = signed_pct(v, &p->saturation);
    } else {
        /* level, metadata, optimize, profile, viewbox, and anything unknown: production ignores
         * unknown parameters; these are not done locally */
        unsupported = true;
    }
    if (!ok)
        return fail(err, errlen, key, orig);
    if (unsupported) {
        if (strcmp(key, "format") == 0 || strcmp(key, "bw") == 0) {
            char both[VALUE_MAX + 40];
            int w = snprintf(both, sizeof both, "%s=%s", key, orig);
            note_ignored(p, both, w > 0 ? (size_t)w : 0);
        } else {
            note_ignored(p, key, nlen);
        }
    }
    return true;
}

bool hc_io_params_parse(const char *s, size_t len, hc_io_params *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->quality = -1;
    out->dpr = 1;
    if (errlen > 0)
        err[0] = '\0';
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && s[end] != '&')
            end++;
        const char *pair = s + i;
        size_t plen = end - i;
        i = end + 1;
        if (plen == 0)
            continue;
        const char *eq = memchr(pair, '=', plen);
        size_t nlen = eq ? (size_t)(eq - pair) : plen;
        char value[VALUE_MAX];
        if (!eq) {
            note_ignored(out, pair, nlen);
            continue;
        }
        if (!decode(eq + 1, plen - nlen - 1, value)) {
            char name[32];
            snprintf(name, sizeof name, "%.*s", (int)(nlen < 31 ? nlen : 31), pair);
            snprintf(err, errlen, "%s: bad value (not percent-encoded text, or too long)", name);
            return false;
        }
        if (!param(out, pair, nlen, value, err, errlen))
            return false;
    }
    return true;
}
