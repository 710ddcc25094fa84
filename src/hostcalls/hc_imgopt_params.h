/* hc_imgopt_params.h: the Fastly Image Optimizer query parameters an SDK passes as
 * `sdk_claims_opts` ("region=us_east&width=200&format=webp", values percent-encoded), parsed into
 * one plain struct for the transform (hc_imgopt_vips.h). Pure C, no libvips: a bad value is an
 * error naming the parameter; unknown or unsupported parameters are listed, not errors. */
#ifndef HC_IMGOPT_PARAMS_H
#define HC_IMGOPT_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Output formats (`format=`); HC_IO_FMT_KEEP: the input's own format. */
typedef enum hc_io_format {
    HC_IO_FMT_KEEP = 0,
    HC_IO_FMT_AUTO,  /* by the request's Accept header */
    HC_IO_FMT_JPEG,  /* jpg, bjpg (baseline) */
    HC_IO_FMT_PJPEG, /* progressive JPEG */
    HC_IO_FMT_PNG,
    HC_IO_FMT_PNG8, /* palette PNG */
    HC_IO_FMT_WEBP,
    HC_IO_FMT_WEBPLL, /* lossless WebP */
    HC_IO_FMT_WEBPLY, /* lossy WebP */
    HC_IO_FMT_GIF,
    HC_IO_FMT_AVIF,
} hc_io_format;

typedef enum hc_io_fit { HC_IO_FIT_BOUNDS = 0, HC_IO_FIT_COVER, HC_IO_FIT_CROP } hc_io_fit;

typedef enum hc_io_filter {
    HC_IO_FILTER_LANCZOS3 = 0, /* the default (lanczos3, lanczos) */
    HC_IO_FILTER_NEAREST,
    HC_IO_FILTER_LINEAR, /* bilinear, linear */
    HC_IO_FILTER_CUBIC,  /* bicubic, cubic */
    HC_IO_FILTER_LANCZOS2,
} hc_io_filter;

/* `auto=` bits */
enum { HC_IO_AUTO_WEBP = 1, HC_IO_AUTO_AVIF = 2 };

/* A length in pixels, or a percentage of the dimension it applies to. */
typedef struct hc_io_len {
    double v;
    bool pct;
} hc_io_len;

/* crop / precrop: a size (absolute, or the largest region of a ratio), an optional position
 * (top-left in pixels/percent, or offset-x/offset-y percentages), and a mode. */
typedef struct hc_io_crop {
    bool set;
    bool ratio;     /* size is rw:rh */
    hc_io_len w, h; /* absolute size */
    double rw, rh;
    bool has_pos;
    bool x_offset, y_offset; /* offset-x / offset-y (percent) rather than x / y */
    hc_io_len x, y;          /* x/y, or offsets in .v */
    bool smart;              /* mode smart: content-aware position */
} hc_io_crop;

typedef struct hc_io_params {
    bool width_set, height_set;
    hc_io_len width, height;
    hc_io_fit fit;
    double dpr;  /* 1 when not given */
    int upscale; /* 0 default (off, as production), 1 enable=upscale, -1 disable=upscale */
    hc_io_crop crop, precrop;
    hc_io_crop canvas; /* canvas=: size and position as crop's (no mode) */
    hc_io_format format;
    unsigned auto_fmt; /* HC_IO_AUTO_* */
    int quality;       /* 0..100, -1 when not given */
    int orient;        /* 0 none, else EXIF orientation 1..8 */
    bool blur_set;
    hc_io_len blur;
    bool sharpen_set;
    double sharpen_amount, sharpen_radius;
    int sharpen_threshold;
    bool bg_set;
    uint8_t bg[4];       /* r, g, b, alpha (255 = opaque) */
    bool bw;             /* bw=threshold */
    bool trim_color_set; /* trim-color=COLOR[,tT] */
    uint8_t trim_color[4];
    double trim_threshold; /* 0..1, -1 when not given */
    bool trim_set, pad_set;
    hc_io_len trim[4], pad[4]; /* top, right, bottom, left */
    hc_io_filter filter;
    bool brightness_set, contrast_set, saturation_set;
    double brightness, contrast, saturation; /* -100..100 */
    /* Names of the parameters ignored (unknown, or known but not implemented locally, e.g.
     * format=jxl), comma-separated, for one note in the log. Truncated when long. */
    char ignored[256];
} hc_io_params;

/* Parses `len` bytes of query parameters into `out` (reset first). Returns false on a bad value,
 * with a one-line message naming the parameter in err ("width: bad value 'abc'"). */
bool hc_io_params_parse(const char *s, size_t len, hc_io_params *out, char *err, size_t errlen);

#endif
