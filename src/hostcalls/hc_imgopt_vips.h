/* hc_imgopt_vips.h: the image transform behind fastly_image_optimizer, on libvips: decodes an
 * origin image (JPEG, PNG, GIF, WebP, AVIF/HEIF), applies the parsed Image Optimizer parameters
 * (hc_imgopt_params.h) and encodes the result. libvips is loaded (dlopen, hc_imgopt_vipslib.h)
 * and initialised once per process on first use; the transform is thread-safe. Built without
 * libvips (FASTLIKE_NO_VIPS), or when it cannot be loaded or started, every call fails with
 * HC_IO_UNAVAILABLE and the reason. */
#ifndef HC_IMGOPT_VIPS_H
#define HC_IMGOPT_VIPS_H

#include "hc_imgopt_params.h"

#include <stddef.h>
#include <stdint.h>

/* Production's limits: input up to 12,000 x 12,000 pixels, output up to 8,192 x 8,192. */
#define HC_IO_MAX_INPUT_SIDE 12000
#define HC_IO_MAX_OUTPUT_SIDE 8192

typedef enum hc_io_error {
    HC_IO_OK = 0,
    HC_IO_NOT_IMAGE,   /* not one of the supported input formats */
    HC_IO_BAD_IMAGE,   /* looked like one, but could not be decoded */
    HC_IO_TOO_LARGE,   /* input or requested output beyond the limits */
    HC_IO_FAILED,      /* the transform or the encoder failed */
    HC_IO_UNAVAILABLE, /* no libvips in this build, or it failed to start */
} hc_io_error;

/* Production's Fastly-IO-Error wording for each error. */
const char *hc_io_strerror(hc_io_error e);

typedef struct hc_io_result {
    uint8_t *data; /* the encoded image (owned: hc_io_result_free) */
    size_t len;
    const char *mime;    /* "image/webp" */
    const char *in_fmt;  /* "png", for Fastly-IO-Info */
    const char *out_fmt; /* "webp" */
    int in_w, in_h, out_w, out_h;
    bool used_accept;  /* the format was chosen by the Accept header (Vary: Accept) */
    char warning[160]; /* a non-fatal note (e.g. no AVIF encoder), "" when none */
} hc_io_result;

/* Transforms in[0..len) by `p`; `accept` is the request's Accept header (NULL when absent) for
 * format=auto and auto=. On errors a one-line message is in err and out holds nothing. */
hc_io_error hc_io_transform(const uint8_t *in, size_t len, const hc_io_params *p,
                            const char *accept, hc_io_result *out, char *err, size_t errlen);
void hc_io_result_free(hc_io_result *r); /* accepts a zeroed result */

/* True when this build can encode AVIF (libvips with a libheif AV1 encoder). */
bool hc_io_avif_available(void);

#endif
