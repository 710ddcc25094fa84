/* hc_imgopt_vips.c: the Image Optimizer transform on libvips: input sniffing and limits, the
 * order of operations (EXIF rotation, orient, precrop, trim, resize with fit/dpr/upscale, crop,
 * pad, blur, sharpen, brightness/contrast/saturation, flatten on bg-color), the output format
 * choice (format=, auto=, Accept) and the encoders. libvips is loaded (hc_imgopt_vipslib.h) and
 * started once per process, at the first transform. */
#include "hc_imgopt_vips.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *hc_io_strerror(hc_io_error e)
{
    switch (e) {
    case HC_IO_OK:
        return "ok";
    case HC_IO_NOT_IMAGE:
        return "Not a supported image format";
    case HC_IO_BAD_IMAGE:
        return "Image could not be parsed";
    case HC_IO_TOO_LARGE:
        return "Image exceeds maximum dimensions";
    case HC_IO_FAILED:
        return "Image could not be transformed";
    case HC_IO_UNAVAILABLE:
        return "Image Optimizer unavailable (Fastlike built without libvips)";
    }
    return "unknown error";
}

#ifdef FASTLIKE_NO_VIPS

hc_io_error hc_io_transform(const uint8_t *in, size_t len, const hc_io_params *p,
                            const char *accept, hc_io_result *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    snprintf(err, errlen, "%s", hc_io_strerror(HC_IO_UNAVAILABLE));
    return HC_IO_UNAVAILABLE;
}

void hc_io_result_free(hc_io_result *r)
{
    if (r)
        memset(r, 0, sizeof *r);
}

bool hc_io_avif_available(void)
{
    return false;
}

#else

#include "hc_imgopt_vipslib.h"

static pthread_once_t vips_once = PTHREAD_ONCE_INIT;
static const hc_vipslib *lib; /* set once by io_start, read-only afterwards */
static bool vips_ok, avif_ok;
static char start_error[600]; /* why the optimizer is unavailable, when it is */

/* libvips's warnings (e.g. about colour profiles in an origin image) are not Fastlike's to print */
static void quiet(const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer user)
{
}

static void io_start(void)
{
    const char *why = NULL;
    lib = hc_vipslib_get(&why);
    if (!lib) {
        snprintf(start_error, sizeof start_error, "Image Optimizer unavailable (%s)", why);
        return;
    }
    /* VIPS_INIT's ABI check, through the table */
    int abi = lib->vips_version(3) - lib->vips_version(5);
    if (abi != VIPS_LIBRARY_CURRENT - VIPS_LIBRARY_AGE) {
        snprintf(start_error, sizeof start_error,
                 "Image Optimizer unavailable (%s has ABI version %d, Fastlike was built for %d)",
                 hc_vipslib_name(), abi, VIPS_LIBRARY_CURRENT - VIPS_LIBRARY_AGE);
        fprintf(stderr, "fastlike: image optimizer: %s\n", start_error);
        return;
    }
    if (lib->vips_init("fastlike") != 0) {
        char *e = lib->vips_error_buffer_copy();
        size_t n = e ? strcspn(e, "\n") : 0;
        snprintf(start_error, sizeof start_error,
                 "Image Optimizer unavailable (libvips failed to start%s%.*s)", n ? ": " : "",
                 (int)n, e ? e : "");
        lib->g_free(e);
        fprintf(stderr, "fastlike: image optimizer: %s\n", start_error);
        return;
    }
    /* origin images are untrusted input: only the maintained loaders */
    lib->vips_block_untrusted_set(TRUE);
    lib->g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO,
                           quiet, NULL);
    /* every request has its own image; an operation cache only holds memory */
    lib->vips_cache_set_max(0);
    vips_ok = true;
    VipsImage *probe = NULL;
    void *buf = NULL;
    size_t len = 0;
    if (lib->vips_black(&probe, 16, 16, "bands", 3, NULL) == 0 &&
        lib->vips_heifsave_buffer(probe, &buf, &len, "compression",
                                  VIPS_FOREIGN_HEIF_COMPRESSION_AV1, NULL) == 0 &&
        len > 0)
        avif_ok = true;
    lib->vips_error_clear();
    lib->g_free(buf);
    if (probe)
        lib->g_object_unref(probe);
}

bool hc_io_avif_available(void)
{
    pthread_once(&vips_once, io_start);
    return avif_ok;
}

void hc_io_result_free(hc_io_result *r)
{
    if (!r)
        return;
    if (r->data) /* only a transform's result holds data, so libvips is loaded */
        lib->g_free(r->data);
    memset(r, 0, sizeof *r);
}

/* The input format by its magic bytes, or NULL: only production's input formats are decoded. */
static const char *sniff(const uint8_t *b, size_t n)
{
    if (n >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF)
        return "jpeg";
    if (n >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0)
        return "png";
    if (n >= 6 && (memcmp(b, "GIF87a", 6) == 0 || memcmp(b, "GIF89a", 6) == 0))
        return "gif";
    if (n >= 12 && memcmp(b, "RIFF", 4) == 0 && memcmp(b + 8, "WEBP", 4) == 0)
        return "webp";
    if (n >= 12 && memcmp(b + 4, "ftyp", 4) == 0) {
        if (memcmp(b + 8, "avif", 4) == 0 || memcmp(b + 8, "avis", 4) == 0)
            return "avif";
        if (memcmp(b + 8, "heic", 4) == 0 || memcmp(b + 8, "heix", 4) == 0 ||
            memcmp(b + 8, "mif1", 4) == 0 || memcmp(b + 8, "msf1", 4) == 0)
            return "heic";
    }
    return NULL;
}

/* libvips's error text (first line), then cleared. */
static void io_message(char *err, size_t errlen, const char *what)
{
    char *e = lib->vips_error_buffer_copy();
    size_t n = e ? strcspn(e, "\n") : 0;
    snprintf(err, errlen, "%s%s%.*s", what, n ? ": " : "", (int)n, e ? e : "");
    lib->g_free(e);
}

static bool accepts(const char *accept, const char *type)
{
    if (!accept)
        return false;
    size_t tl = strlen(type);
    for (const char *p = accept; *p; p++) {
        if (strncasecmp(p, type, tl) != 0)
            continue;
        /* "image/webp;q=0" refuses it */
        const char *q = p + tl;
        q += strspn(q, " ");
        if (strncmp(q, ";q=", 3) == 0 || strncmp(q, "; q=", 4) == 0) {
            q = strchr(q, '=') + 1;
            char *end;
            double v = strtod(q, &end);
            if (end != q && v <= 0)
                return false;
        }
        return true;
    }
    return false;
}

static hc_io_format choose_format(const hc_io_params *p, const char *in_fmt, bool alpha,
                                  const char *accept, hc_io_result *r)
{
    bool avif = accepts(accept, "image/avif") && avif_ok;
    bool webp = accepts(accept, "image/webp");
    if (p->auto_fmt) {
        r->used_accept = true;
        if ((p->auto_fmt & HC_IO_AUTO_AVIF) && avif)
            return HC_IO_FMT_AVIF;
        if ((p->auto_fmt & HC_IO_AUTO_WEBP) && webp)
            return HC_IO_FMT_WEBP;
    }
    hc_io_format f = p->format;
    if (f == HC_IO_FMT_AUTO) {
        r->used_accept = true;
        if (avif)
            return HC_IO_FMT_AVIF;
        if (webp)
            return HC_IO_FMT_WEBP;
        f = HC_IO_FMT_KEEP;
        /* a WebP/AVIF original for a client that takes neither */
        if (strcmp(in_fmt, "webp") == 0 || strcmp(in_fmt, "avif") == 0 ||
            strcmp(in_fmt, "heic") == 0)
            return alpha ? HC_IO_FMT_PNG : HC_IO_FMT_JPEG;
    }
    if (f == HC_IO_FMT_KEEP) {
        if (strcmp(in_fmt, "jpeg") == 0)
            return HC_IO_FMT_JPEG;
        if (strcmp(in_fmt, "png") == 0)
            return HC_IO_FMT_PNG;
        if (strcmp(in_fmt, "gif") == 0)
            return HC_IO_FMT_GIF;
        if (strcmp(in_fmt, "webp") == 0)
            return HC_IO_FMT_WEBP;
        if (strcmp(in_fmt, "avif") == 0 && avif_ok)
            return HC_IO_FMT_AVIF;
        return alpha ? HC_IO_FMT_PNG : HC_IO_FMT_JPEG;
    }
    if (f == HC_IO_FMT_AVIF && !avif_ok) {
        snprintf(r->warning, sizeof r->warning,
                 "format=avif: this libvips has no AV1 encoder; WebP delivered instead");
        return HC_IO_FMT_WEBP;
    }
    return f;
}

/* Rounds a computed size or position, clamped to 0..1e9 (ratios of extreme values stay finite
 * but can be huge; the output limit refuses them later). */
static int round_px(double v)
{
    return !(v > 0) ? 0 : v > 1e9 ? 1000000000 : (int)lround(v);
}

static int px(hc_io_len l, int dim)
{
    return round_px(l.pct ? dim * l.v / 100.0 : l.v);
}

/* Runs one libvips operation on *img (replaced on success). */
#define STEP(call)                                                                                 \
    do {                                                                                           \
        VipsImage *o_ = NULL;                                                                      \
        if ((call) != 0)                                                                           \
            goto vips_fail;                                                                        \
        lib->g_object_unref(img);                                                                  \
        img = o_;                                                                                  \
    } while (0)

static VipsArrayDouble *bg_array(const hc_io_params *p, bool alpha)
{
    double v[4] = {255, 255, 255, alpha ? 0 : 255};
    if (p->bg_set)
        for (int i = 0; i < 4; i++)
            v[i] = p->bg[i];
    return lib->vips_array_double_new(v, alpha ? 4 : 3);
}

/* The region of crop/precrop `c` in a w x h image. */
static void crop_rect(const hc_io_crop *c, int w, int h, int r[4])
{
    int cw, ch;
    if (c->ratio) {
        if ((double)w / h > c->rw / c->rh) {
            ch = h;
            cw = round_px(h * c->rw / c->rh);
        } else {
            cw = w;
            ch = round_px(w * c->rh / c->rw);
        }
    } else {
        cw = px(c->w, w);
        ch = px(c->h, h);
    }
    cw = cw < 1 ? 1 : cw > w ? w : cw;
    ch = ch < 1 ? 1 : ch > h ? h : ch;
    int x = (w - cw) / 2, y = (h - ch) / 2;
    if (c->has_pos) {
        x = c->x_offset ? (int)lround((w - cw) * c->x.v / 100.0) : px(c->x, w);
        y = c->y_offset ? (int)lround((h - ch) * c->y.v / 100.0) : px(c->y, h);
    }
    /* out-of-bounds positions are pulled back inside ("safe" behaviour) */
    x = x < 0 ? 0 : x > w - cw ? w - cw : x;
    y = y < 0 ? 0 : y > h - ch ? h - ch : y;
    r[0] = x;
    r[1] = y;
    r[2] = cw;
    r[3] = ch;
}

static VipsKernel kernel(hc_io_filter f)
{
    switch (f) {
    case HC_IO_FILTER_NEAREST:
        return VIPS_KERNEL_NEAREST;
    case HC_IO_FILTER_LINEAR:
        return VIPS_KERNEL_LINEAR;
    case HC_IO_FILTER_CUBIC:
        return VIPS_KERNEL_CUBIC;
    case HC_IO_FILTER_LANCZOS2:
        return VIPS_KERNEL_LANCZOS2;
    case HC_IO_FILTER_LANCZOS3:
        break;
    }
    return VIPS_KERNEL_LANCZOS3;
}

static const struct {
    const char *mime, *name;
} out_names[] = {
    [HC_IO_FMT_JPEG] = {"image/jpeg", "jpeg"},   [HC_IO_FMT_PJPEG] = {"image/jpeg", "jpeg"},
    [HC_IO_FMT_PNG] = {"image/png", "png"},      [HC_IO_FMT_PNG8] = {"image/png", "png"},
    [HC_IO_FMT_WEBP] = {"image/webp", "webp"},   [HC_IO_FMT_WEBPLL] = {"image/webp", "webp"},
    [HC_IO_FMT_WEBPLY] = {"image/webp", "webp"}, [HC_IO_FMT_GIF] = {"image/gif", "gif"},
    [HC_IO_FMT_AVIF] = {"image/avif", "avif"},
};

/* Production's default quality for lossy outputs. */
#define DEFAULT_QUALITY 85

static int encode(VipsImage *img, hc_io_format f, int quality, void **buf, size_t *len)
{
    int q = quality >= 0 ? quality : DEFAULT_QUALITY;
    if (q < 1)
        q = 1;
    switch (f) {
    case HC_IO_FMT_JPEG:
    case HC_IO_FMT_PJPEG:
        return lib->vips_jpegsave_buffer(img, buf, len, "Q", q, "interlace", f == HC_IO_FMT_PJPEG,
                                         "strip", TRUE, NULL);
    case HC_IO_FMT_PNG:
        return lib->vips_pngsave_buffer(img, buf, len, "strip", TRUE, NULL);
    case HC_IO_FMT_PNG8:
        return lib->vips_pngsave_buffer(img, buf, len, "strip", TRUE, "palette", TRUE, "Q", q,
                                        NULL);
    case HC_IO_FMT_WEBP:
    case HC_IO_FMT_WEBPLY:
        return lib->vips_webpsave_buffer(img, buf, len, "Q", q, "strip", TRUE, NULL);
    case HC_IO_FMT_WEBPLL:
        return lib->vips_webpsave_buffer(img, buf, len, "lossless", TRUE, "strip", TRUE, NULL);
    case HC_IO_FMT_GIF:
        return lib->vips_gifsave_buffer(img, buf, len, NULL);
    case HC_IO_FMT_AVIF:
        return lib->vips_heifsave_buffer(img, buf, len, "Q", q, "compression",
                                         VIPS_FOREIGN_HEIF_COMPRESSION_AV1, "strip", TRUE, NULL);
    case HC_IO_FMT_KEEP:
    case HC_IO_FMT_AUTO:
        break;
    }
    return -1;
}

static bool too_large(int w, int h, char *err, size_t errlen)
{
    if (w <= HC_IO_MAX_OUTPUT_SIDE && h <= HC_IO_MAX_OUTPUT_SIDE)
        return false;
    snprintf(err, errlen, "%s: output %dx%d is larger than %dx%d", hc_io_strerror(HC_IO_TOO_LARGE),
             w, h, HC_IO_MAX_OUTPUT_SIDE, HC_IO_MAX_OUTPUT_SIDE);
    return true;
}

static hc_io_error resize(VipsImage **pimg, const hc_io_params *p, char *err, size_t errlen)
{
    VipsImage *img = *pimg;
    int w = lib->vips_image_get_width(img), h = lib->vips_image_get_height(img);
    double tw = 0, th = 0;
    if (p->width_set)
        tw = (p->width.pct ? w * p->width.v / 100.0 : p->width.v) * p->dpr;
    if (p->height_set)
        th = (p->height.pct ? h * p->height.v / 100.0 : p->height.v) * p->dpr;
    double s;
    if (tw > 0 && th > 0)
        s = p->fit == HC_IO_FIT_BOUNDS ? fmin(tw / w, th / h) : fmax(tw / w, th / h);
    else
        s = tw > 0 ? tw / w : th / h;
    if (s > 1 && p->upscale <= 0)
        s = 1; /* production does not enlarge unless enable=upscale */
    double ow = w * s, oh = h * s;
    if (too_large(ow > 1e9 ? 1000000000 : (int)lround(ow), oh > 1e9 ? 1000000000 : (int)lround(oh),
                  err, errlen))
        return HC_IO_TOO_LARGE;
    int nw = (int)lround(ow), nh = (int)lround(oh);
    nw = nw < 1 ? 1 : nw;
    nh = nh < 1 ? 1 : nh;
    if (nw != w || nh != h) {
        STEP(lib->vips_resize(img, &o_, (double)nw / w, "vscale", (double)nh / h, "kernel",
                              kernel(p->filter), NULL));
        /* libvips may round a side up by one */
        int rw = lib->vips_image_get_width(img), rh = lib->vips_image_get_height(img);
        if (rw > nw || rh > nh)
            STEP(
                lib->vips_extract_area(img, &o_, 0, 0, rw > nw ? nw : rw, rh > nh ? nh : rh, NULL));
    }
    if (p->fit == HC_IO_FIT_CROP && tw > 0 && th > 0) {
        int cw = (int)lround(tw), ch = (int)lround(th);
        int rw = lib->vips_image_get_width(img), rh = lib->vips_image_get_height(img);
        cw = cw > rw ? rw : cw < 1 ? 1 : cw;
        ch = ch > rh ? rh : ch < 1 ? 1 : ch;
        if (cw != rw || ch != rh)
            STEP(lib->vips_extract_area(img, &o_, (rw - cw) / 2, (rh - ch) / 2, cw, ch, NULL));
    }
    *pimg = img;
    return HC_IO_OK;
vips_fail:
    *pimg = img;
    io_message(err, errlen, "resize");
    return HC_IO_FAILED;
}

static hc_io_error do_crop(VipsImage **pimg, const hc_io_crop *c, char *err, size_t errlen)
{
    VipsImage *img = *pimg;
    int r[4];
    crop_rect(c, lib->vips_image_get_width(img), lib->vips_image_get_height(img), r);
    if (c->smart && !c->has_pos)
        STEP(lib->vips_smartcrop(img, &o_, r[2], r[3], "interesting", VIPS_INTERESTING_ATTENTION,
                                 NULL));
    else if (r[2] != lib->vips_image_get_width(img) || r[3] != lib->vips_image_get_height(img))
        STEP(lib->vips_extract_area(img, &o_, r[0], r[1], r[2], r[3], NULL));
    *pimg = img;
    return HC_IO_OK;
vips_fail:
    *pimg = img;
    io_message(err, errlen, "crop");
    return HC_IO_FAILED;
}

/* EXIF orientation values as the transform to apply. */
static hc_io_error do_orient(VipsImage **pimg, int o, char *err, size_t errlen)
{
    VipsImage *img = *pimg;
    if (o == 3)
        STEP(lib->vips_rot(img, &o_, VIPS_ANGLE_D180, NULL));
    if (o == 5 || o == 6)
        STEP(lib->vips_rot(img, &o_, VIPS_ANGLE_D90, NULL));
    if (o == 7 || o == 8)
        STEP(lib->vips_rot(img, &o_, VIPS_ANGLE_D270, NULL));
    if (o == 2 || o == 5 || o == 7)
        STEP(lib->vips_flip(img, &o_, VIPS_DIRECTION_HORIZONTAL, NULL));
    if (o == 4)
        STEP(lib->vips_flip(img, &o_, VIPS_DIRECTION_VERTICAL, NULL));
    *pimg = img;
    return HC_IO_OK;
vips_fail:
    *pimg = img;
    io_message(err, errlen, "orient");
    return HC_IO_FAILED;
}

/* trim-color: cuts the borders of (about) that colour; an image that is all border stays. */
static hc_io_error trim_color(VipsImage **pimg, const hc_io_params *p, char *err, size_t errlen)
{
    VipsImage *img = *pimg, *probe = NULL;
    double c[3] = {p->trim_color[0], p->trim_color[1], p->trim_color[2]};
    VipsArrayDouble *bg = lib->vips_array_double_new(c, 3);
    int l = 0, t = 0, w = 0, h = 0, rc = 0;
    /* transparent pixels count as the colour */
    if (lib->vips_image_hasalpha(img))
        rc = lib->vips_flatten(img, &probe, "background", bg, NULL);
    if (rc == 0)
        rc = lib->vips_find_trim(probe ? probe : img, &l, &t, &w, &h, "background", bg, "threshold",
                                 p->trim_threshold >= 0 ? p->trim_threshold * 255 : 10.0, NULL);
    lib->vips_area_unref(VIPS_AREA(bg));
    if (probe)
        lib->g_object_unref(probe);
    if (rc != 0)
        goto vips_fail;
    if (w > 0 && h > 0 &&
        (w != lib->vips_image_get_width(img) || h != lib->vips_image_get_height(img)))
        STEP(lib->vips_extract_area(img, &o_, l, t, w, h, NULL));
    *pimg = img;
    return HC_IO_OK;
vips_fail:
    *pimg = img;
    io_message(err, errlen, "trim-color");
    return HC_IO_FAILED;
}

/* canvas: a larger (or smaller: cut) canvas in bg-color, the image centred or placed. */
static hc_io_error canvas(VipsImage **pimg, const hc_io_params *p, char *err, size_t errlen)
{
    VipsImage *img = *pimg;
    const hc_io_crop *c = &p->canvas;
    int w = lib->vips_image_get_width(img), h = lib->vips_image_get_height(img);
    long cw, ch;
    if (c->ratio) {
        /* the smallest canvas of that ratio around the image */
        if ((double)w / h > c->rw / c->rh) {
            cw = w;
            ch = round_px(w * c->rh / c->rw);
        } else {
            ch = h;
            cw = round_px(h * c->rw / c->rh);
        }
    } else {
        cw = px(c->w, w);
        ch = px(c->h, h);
    }
    cw = cw < 1 ? 1 : cw;
    ch = ch < 1 ? 1 : ch;
    if (too_large(cw > 1000000000 ? 1000000000 : (int)cw, ch > 1000000000 ? 1000000000 : (int)ch,
                  err, errlen))
        return HC_IO_TOO_LARGE;
    long x = (cw - w) / 2, y = (ch - h) / 2;
    if (c->has_pos) {
        x = c->x_offset ? lround((cw - w) * c->x.v / 100.0) : px(c->x, (int)cw);
        y = c->y_offset ? lround((ch - h) * c->y.v / 100.0) : px(c->y, (int)ch);
    }
    VipsArrayDouble *bg = bg_array(p, lib->vips_image_hasalpha(img));
    VipsImage *o = NULL;
    int rc = lib->vips_embed(img, &o, (int)x, (int)y, (int)cw, (int)ch, "extend",
                             VIPS_EXTEND_BACKGROUND, "background", bg, NULL);
    lib->vips_area_unref(VIPS_AREA(bg));
    if (rc != 0) {
        io_message(err, errlen, "canvas");
        return HC_IO_FAILED;
    }
    lib->g_object_unref(img);
    *pimg = o;
    return HC_IO_OK;
}

/* bw=threshold: black where the luminance is below the middle, else white (alpha kept). */
static hc_io_error threshold(VipsImage **pimg, char *err, size_t errlen)
{
    VipsImage *img = *pimg, *alpha = NULL, *bw = NULL;
    bool has_alpha = lib->vips_image_hasalpha(img);
    if (has_alpha && lib->vips_extract_band(img, &alpha, 3, NULL) != 0)
        goto vips_fail;
    STEP(lib->vips_colourspace(img, &o_, VIPS_INTERPRETATION_B_W, NULL));
    STEP(lib->vips_extract_band(img, &o_, 0, NULL));
    STEP(lib->vips_moreeq_const1(img, &o_, 128, NULL));
    if (alpha) {
        if (lib->vips_bandjoin2(img, alpha, &bw, NULL) != 0)
            goto vips_fail;
        lib->g_object_unref(img);
        img = bw;
    }
    STEP(lib->vips_copy(img, &o_, "interpretation", VIPS_INTERPRETATION_B_W, NULL));
    STEP(lib->vips_colourspace(img, &o_, VIPS_INTERPRETATION_sRGB, NULL));
    if (alpha)
        lib->g_object_unref(alpha);
    *pimg = img;
    return HC_IO_OK;
vips_fail:
    if (alpha)
        lib->g_object_unref(alpha);
    *pimg = img;
    io_message(err, errlen, "bw");
    return HC_IO_FAILED;
}

/* Everything after decoding, up to the image to encode. */
static hc_io_error pipeline(VipsImage **pimg, const hc_io_params *p, char *err, size_t errlen)
{
    VipsImage *img = *pimg;
    hc_io_error e = HC_IO_OK;
    VipsArrayDouble *bg = NULL;
    STEP(lib->vips_autorot(img, &o_, NULL));
    /* 8-bit sRGB (plus alpha) from here on: grey, CMYK and 16-bit inputs included */
    if (lib->vips_image_get_interpretation(img) != VIPS_INTERPRETATION_sRGB)
        STEP(lib->vips_colourspace(img, &o_, VIPS_INTERPRETATION_sRGB, NULL));
    if (lib->vips_image_get_format(img) != VIPS_FORMAT_UCHAR)
        STEP(lib->vips_cast_uchar(img, &o_, NULL));
    if (p->orient > 1 && (e = do_orient(&img, p->orient, err, errlen)) != HC_IO_OK)
        goto out;
    if (p->precrop.set && (e = do_crop(&img, &p->precrop, err, errlen)) != HC_IO_OK)
        goto out;
    if (p->trim_color_set && (e = trim_color(&img, p, err, errlen)) != HC_IO_OK)
        goto out;
    if (p->trim_set) {
        int w = lib->vips_image_get_width(img), h = lib->vips_image_get_height(img);
        int t = px(p->trim[0], h), r = px(p->trim[1], w), b = px(p->trim[2], h),
            l = px(p->trim[3], w);
        if ((long)l + r >= w || (long)t + b >= h) {
            snprintf(err, errlen, "trim: removes the whole %dx%d image", w, h);
            e = HC_IO_FAILED;
            goto out;
        }
        STEP(lib->vips_extract_area(img, &o_, l, t, w - l - r, h - t - b, NULL));
    }
    if ((p->width_set || p->height_set) && (e = resize(&img, p, err, errlen)) != HC_IO_OK)
        goto out;
    if (p->crop.set && (e = do_crop(&img, &p->crop, err, errlen)) != HC_IO_OK)
        goto out;
    if (p->canvas.set && (e = canvas(&img, p, err, errlen)) != HC_IO_OK)
        goto out;
    if (p->pad_set) {
        int w = lib->vips_image_get_width(img), h = lib->vips_image_get_height(img);
        int t = px(p->pad[0], h), r = px(p->pad[1], w), b = px(p->pad[2], h), l = px(p->pad[3], w);
        long nw = (long)w + l + r, nh = (long)h + t + b;
        if (too_large(nw > 1000000000 ? 1000000000 : (int)nw,
                      nh > 1000000000 ? 1000000000 : (int)nh, err, errlen)) {
            e = HC_IO_TOO_LARGE;
            goto out;
        }
        bg = bg_array(p, lib->vips_image_hasalpha(img));
        STEP(lib->vips_embed(img, &o_, l, t, (int)nw, (int)nh, "extend", VIPS_EXTEND_BACKGROUND,
                             "background", bg, NULL));
        lib->vips_area_unref(VIPS_AREA(bg));
        bg = NULL;
    }
    if (p->blur_set) {
        int w = lib->vips_image_get_width(img), h = lib->vips_image_get_height(img);
        double sigma = p->blur.pct ? (w > h ? w : h) * p->blur.v / 100.0 : p->blur.v;
        if (sigma > 1000)
            sigma = 1000; /* production's largest blur; a bigger mask only costs time */
        if (sigma > 0.3)
            STEP(lib->vips_gaussblur(img, &o_, sigma, NULL));
    }
    if (p->sharpen_set) {
        STEP(lib->vips_sharpen(img, &o_, "sigma", p->sharpen_radius, "m2", p->sharpen_amount, "x1",
                               p->sharpen_threshold * 100.0 / 255.0, NULL));
        if (lib->vips_image_get_interpretation(img) != VIPS_INTERPRETATION_sRGB)
            STEP(lib->vips_colourspace(img, &o_, VIPS_INTERPRETATION_sRGB, NULL));
    }
    if (p->bw && (e = threshold(&img, err, errlen)) != HC_IO_OK)
        goto out;
    if (p->saturation_set && p->saturation != 0) {
        double a[4] = {1, 1 + p->saturation / 100.0, 1, 1}, b[4] = {0, 0, 0, 0};
        STEP(lib->vips_colourspace(img, &o_, VIPS_INTERPRETATION_LCH, NULL));
        STEP(lib->vips_linear(
            img, &o_, a, b, lib->vips_image_get_bands(img) > 4 ? 4 : lib->vips_image_get_bands(img),
            NULL));
        STEP(lib->vips_colourspace(img, &o_, VIPS_INTERPRETATION_sRGB, NULL));
    }
    if (p->brightness_set || p->contrast_set) {
        double f = p->contrast_set ? (100 + p->contrast) / 100.0 : 1;
        double add = 128 * (1 - f) + (p->brightness_set ? p->brightness * 2.55 : 0);
        double a[4] = {f, f, f, 1}, b[4] = {add, add, add, 0};
        int bands = lib->vips_image_get_bands(img);
        STEP(lib->vips_linear(img, &o_, a, b, bands > 4 ? 4 : bands, NULL));
    }
    if (lib->vips_image_get_format(img) != VIPS_FORMAT_UCHAR)
        STEP(lib->vips_cast_uchar(img, &o_, NULL));
out:
    if (bg)
        lib->vips_area_unref(VIPS_AREA(bg));
    *pimg = img;
    return e;
vips_fail:
    if (bg)
        lib->vips_area_unref(VIPS_AREA(bg));
    *pimg = img;
    io_message(err, errlen, "transform");
    return HC_IO_FAILED;
}

hc_io_error hc_io_transform(const uint8_t *in, size_t len, const hc_io_params *p,
                            const char *accept, hc_io_result *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    pthread_once(&vips_once, io_start);
    if (!vips_ok) {
        snprintf(err, errlen, "%s", start_error);
        return HC_IO_UNAVAILABLE;
    }
    const char *in_fmt = sniff(in, len);
    if (!in_fmt) {
        snprintf(err, errlen, "%s", hc_io_strerror(HC_IO_NOT_IMAGE));
        return HC_IO_NOT_IMAGE;
    }
    out->in_fmt = in_fmt;
    /* decoding is lazy: the header alone tells the size before any pixel is decoded */
    VipsImage *img = lib->vips_image_new_from_buffer(in, len, "", NULL);
    if (!img) {
        io_message(err, errlen, hc_io_strerror(HC_IO_BAD_IMAGE));
        return HC_IO_BAD_IMAGE;
    }
    hc_io_error e = HC_IO_OK;
    void *buf = NULL;
    size_t blen = 0;
    out->in_w = lib->vips_image_get_width(img);
    out->in_h = lib->vips_image_get_height(img);
    if (out->in_w > HC_IO_MAX_INPUT_SIDE || out->in_h > HC_IO_MAX_INPUT_SIDE) {
        snprintf(err, errlen, "%s: input %dx%d is larger than %dx%d",
                 hc_io_strerror(HC_IO_TOO_LARGE), out->in_w, out->in_h, HC_IO_MAX_INPUT_SIDE,
                 HC_IO_MAX_INPUT_SIDE);
        e = HC_IO_TOO_LARGE;
        goto done;
    }
    if ((e = pipeline(&img, p, err, errlen)) != HC_IO_OK)
        goto done;
    out->out_w = lib->vips_image_get_width(img);
    out->out_h = lib->vips_image_get_height(img);
    if (too_large(out->out_w, out->out_h, err, errlen)) {
        e = HC_IO_TOO_LARGE;
        goto done;
    }
    bool alpha = lib->vips_image_hasalpha(img);
    hc_io_format f = choose_format(p, in_fmt, alpha, accept, out);
    /* formats without transparency, or an explicit background: composite on bg-color */
    if (alpha && (p->bg_set || f == HC_IO_FMT_JPEG || f == HC_IO_FMT_PJPEG)) {
        VipsArrayDouble *bg = bg_array(p, false);
        VipsImage *flat = NULL;
        int rc = lib->vips_flatten(img, &flat, "background", bg, NULL);
        lib->vips_area_unref(VIPS_AREA(bg));
        if (rc != 0) {
            io_message(err, errlen, "flatten");
            e = HC_IO_FAILED;
            goto done;
        }
        lib->g_object_unref(img);
        img = flat;
        if (lib->vips_image_get_format(img) != VIPS_FORMAT_UCHAR) {
            VipsImage *c = NULL;
            if (lib->vips_cast_uchar(img, &c, NULL) != 0) {
                io_message(err, errlen, "flatten");
                e = HC_IO_FAILED;
                goto done;
            }
            lib->g_object_unref(img);
            img = c;
        }
    }
    if (encode(img, f, p->quality, &buf, &blen) != 0 || blen == 0) {
        io_message(err, errlen, "encode");
        lib->g_free(buf);
        e = HC_IO_FAILED;
        goto done;
    }
    out->data = buf;
    out->len = blen;
    out->mime = out_names[f].mime;
    out->out_fmt = out_names[f].name;
done:
    lib->g_object_unref(img);
    if (e != HC_IO_OK) {
        lib->vips_error_clear();
        const char *keep_in = out->in_fmt;
        int iw = out->in_w, ih = out->in_h;
        memset(out, 0, sizeof *out);
        out->in_fmt = keep_in;
        out->in_w = iw;
        out->in_h = ih;
    }
    return e;
}

#endif
