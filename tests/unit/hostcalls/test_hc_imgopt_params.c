/* test_hc_imgopt_params.c: the Image Optimizer parameter parser (hc_imgopt_params.c) on the
 * strings the JS SDK builds (percent-encoded, doubles as "%f"), production's short forms, bad
 * values (one message naming the parameter) and ignored parameters. */
#include "harness.h"
#include "hostcalls/hc_imgopt_params.h"

#include <math.h>

static bool parse(const char *s, hc_io_params *p, char *err)
{
    return hc_io_params_parse(s, strlen(s), p, err, 128);
}

TEST(sizes)
{
    hc_io_params p;
    char err[128];
    CHECK(parse("region=us_east&width=200&height=50.000000p", &p, err));
    CHECK(p.width_set && !p.width.pct && p.width.v == 200);
    CHECK(p.height_set && p.height.pct && p.height.v == 50);
    CHECK_EQ_INT(p.quality, -1);
    CHECK(p.dpr == 1);
    CHECK_EQ_INT(p.fit, HC_IO_FIT_BOUNDS);
    CHECK(parse("width=120&fit=crop&dpr=2.000000&enable=upscale", &p, err));
    CHECK_EQ_INT(p.fit, HC_IO_FIT_CROP);
    CHECK(p.dpr == 2);
    CHECK_EQ_INT(p.upscale, 1);
    CHECK(!p.height_set);
    CHECK(parse("fit=cover&disable=upscale", &p, err));
    CHECK_EQ_INT(p.fit, HC_IO_FIT_COVER);
    CHECK_EQ_INT(p.upscale, -1);
    CHECK(parse("", &p, err));
    CHECK(!p.width_set && p.ignored[0] == '\0');
}

TEST(bad_values)
{
    hc_io_params p;
    char err[128];
    CHECK(!parse("width=abc", &p, err));
    CHECK(strcmp(err, "width: bad value 'abc'") == 0);
    CHECK(!parse("width=0", &p, err));
    CHECK(!parse("width=-5", &p, err));
    CHECK(!parse("width=10.5", &p, err));
    CHECK(!parse("height=150p", &p, err));
    CHECK(strstr(err, "height") != NULL);
    CHECK(!parse("quality=101", &p, err));
    CHECK(strcmp(err, "quality: bad value '101'") == 0);
    CHECK(!parse("fit=stretch", &p, err));
    CHECK(!parse("dpr=11", &p, err));
    CHECK(!parse("dpr=0.5", &p, err));
    CHECK(!parse("format=bmp", &p, err));
    CHECK(!parse("orient=9", &p, err));
    CHECK(!parse("blur=0.1", &p, err));
    CHECK(!parse("bg-color=ggg", &p, err));
    CHECK(!parse("bg-color=1,2,300", &p, err));
    CHECK(!parse("sharpen=a11", &p, err));
    CHECK(!parse("crop=10", &p, err));
    CHECK(!parse("crop=10,10,x5", &p, err));
    CHECK(!parse("crop=10,10,sideways", &p, err));
    CHECK(!parse("crop=1e300:1", &p, err));
    CHECK(!parse("crop=0:1", &p, err));
    CHECK(!parse("resize-filter=gauss", &p, err));
    CHECK(!parse("enable=everything", &p, err));
    CHECK(!parse("brightness=101", &p, err));
    CHECK(!parse("auto=jpeg", &p, err));
    CHECK(!parse("width=%zz", &p, err));
    CHECK(strstr(err, "width: bad value") == err);
    CHECK(!parse("width=%4", &p, err));
    /* a NUL smuggled in through percent-encoding is refused */
    CHECK(!parse("format=png%00", &p, err));
}

TEST(formats)
{
    hc_io_params p;
    char err[128];
    static const struct {
        const char *s;
        hc_io_format f;
    } cases[] = {
        {"format=jpg", HC_IO_FMT_JPEG},      {"format=bjpg", HC_IO_FMT_JPEG},
        {"format=pjpg", HC_IO_FMT_PJPEG},    {"format=png", HC_IO_FMT_PNG},
        {"format=png8", HC_IO_FMT_PNG8},     {"format=webp", HC_IO_FMT_WEBP},
        {"format=webpll", HC_IO_FMT_WEBPLL}, {"format=webply", HC_IO_FMT_WEBPLY},
        {"format=gif", HC_IO_FMT_GIF},       {"format=avif", HC_IO_FMT_AVIF},
        {"format=auto", HC_IO_FMT_AUTO},     {"width=5", HC_IO_FMT_KEEP},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK(parse(cases[i].s, &p, err));
        CHECK_EQ_INT(p.format, cases[i].f);
    }
    /* production formats with no local encoder keep the input's format, noted */
    CHECK(parse("format=jxl", &p, err));
    CHECK_EQ_INT(p.format, HC_IO_FMT_KEEP);
    CHECK(strcmp(p.ignored, "format=jxl") == 0);
    CHECK(parse("auto=webp", &p, err));
    CHECK_EQ_INT(p.auto_fmt, HC_IO_AUTO_WEBP);
    CHECK(parse("auto=avif%2Cwebp", &p, err));
    CHECK_EQ_INT(p.auto_fmt, HC_IO_AUTO_WEBP | HC_IO_AUTO_AVIF);
    CHECK(parse("quality=85%2C70", &p, err));
    CHECK_EQ_INT(p.quality, 85);
    CHECK(parse("quality=0", &p, err));
    CHECK_EQ_INT(p.quality, 0);
}

TEST(crop)
{
    hc_io_params p;
    char err[128];
    /* the JS SDK's form: "W,H[,xX,yY][,mode]" percent-encoded */
    CHECK(parse("crop=100%2C50%2Cx10%2Cy20p%2Csafe", &p, err));
    CHECK(p.crop.set && !p.crop.ratio && p.crop.w.v == 100 && p.crop.h.v == 50);
    CHECK(p.crop.has_pos && !p.crop.x_offset && p.crop.x.v == 10 && !p.crop.x.pct);
    CHECK(p.crop.y.pct && p.crop.y.v == 20);
    CHECK(!p.crop.smart);
    CHECK(parse("crop=4.000000%3A3.000000%2Coffset-x25.000000%2Coffset-y50.000000", &p, err));
    CHECK(p.crop.ratio && p.crop.rw == 4 && p.crop.rh == 3);
    CHECK(p.crop.x_offset && p.crop.y_offset && p.crop.x.v == 25 && p.crop.y.v == 50);
    CHECK(parse("precrop=50p,50p,smart", &p, err));
    CHECK(p.precrop.set && p.precrop.smart && p.precrop.w.pct);
    CHECK(!p.crop.set);
}

TEST(sides_colors_misc)
{
    hc_io_params p;
    char err[128];
    CHECK(parse("pad=10%2C20%2C30%2C40", &p, err));
    CHECK(p.pad_set && p.pad[0].v == 10 && p.pad[1].v == 20 && p.pad[2].v == 30 &&
          p.pad[3].v == 40);
    /* CSS shorthand: one value for every side, two for vertical/horizontal */
    CHECK(parse("trim=5&pad=1,2", &p, err));
    CHECK(p.trim_set && p.trim[0].v == 5 && p.trim[3].v == 5);
    CHECK(p.pad[0].v == 1 && p.pad[1].v == 2 && p.pad[2].v == 1 && p.pad[3].v == 2);
    CHECK(parse("trim=25.000000p%2C0%2C0%2C0", &p, err));
    CHECK(p.trim[0].pct && p.trim[0].v == 25 && p.trim[1].v == 0);
    CHECK(parse("bg-color=f00", &p, err));
    CHECK(p.bg_set && p.bg[0] == 255 && p.bg[1] == 0 && p.bg[2] == 0 && p.bg[3] == 255);
    CHECK(parse("bg-color=00FF80", &p, err));
    CHECK(p.bg[1] == 255 && p.bg[2] == 128);
    CHECK(parse("bg-color=100%2C255%2C9%2C0.5", &p, err));
    CHECK(p.bg[0] == 100 && p.bg[1] == 255 && p.bg[2] == 9 && p.bg[3] == 128);
    CHECK(parse("sharpen=a5.000000%2Cr2.000000%2Ct1", &p, err));
    CHECK(p.sharpen_set && p.sharpen_amount == 5 && p.sharpen_radius == 2 &&
          p.sharpen_threshold == 1);
    CHECK(parse("blur=2.5&orient=r&resize-filter=nearest", &p, err));
    CHECK(p.blur_set && !p.blur.pct && p.blur.v == 2.5);
    CHECK_EQ_INT(p.orient, 6);
    CHECK_EQ_INT(p.filter, HC_IO_FILTER_NEAREST);
    CHECK(parse("blur=1.000000p&orient=3&resize-filter=bicubic", &p, err));
    CHECK(p.blur.pct && p.blur.v == 1);
    CHECK_EQ_INT(p.orient, 3);
    CHECK_EQ_INT(p.filter, HC_IO_FILTER_CUBIC);
    CHECK(parse("canvas=200%2C150%2Cx10%2Cy20", &p, err));
    CHECK(p.canvas.set && p.canvas.w.v == 200 && p.canvas.h.v == 150 && p.canvas.x.v == 10);
    CHECK(!parse("canvas=200,150,smart", &p, err));
    CHECK(parse("bw=threshold&frame=1", &p, err));
    CHECK(p.bw && p.ignored[0] == '\0');
    CHECK(parse("bw=atkinson", &p, err));
    CHECK(!p.bw && strcmp(p.ignored, "bw=atkinson") == 0);
    CHECK(!parse("bw=dither", &p, err));
    CHECK(!parse("frame=2", &p, err));
    CHECK(parse("trim-color=fff", &p, err));
    CHECK(p.trim_color_set && p.trim_color[0] == 255 && p.trim_threshold < 0);
    CHECK(parse("trim-color=10%2C20%2C30%2Ct0.500000", &p, err));
    CHECK(p.trim_color[0] == 10 && p.trim_color[2] == 30 && p.trim_threshold == 0.5);
    CHECK(!parse("trim-color=fff,t2", &p, err));
    CHECK(parse("brightness=-20.000000&contrast=10&saturation=-100", &p, err));
    CHECK(p.brightness_set && p.brightness == -20 && p.contrast == 10 && p.saturation == -100);
}

TEST(ignored)
{
    hc_io_params p;
    char err[128];
    CHECK(parse("region=eu_west&optimize=high&frame=1&metadata=copyright%2Cc2pa&mystery=7&flag&"
                "width=10",
                &p, err));
    CHECK(strcmp(p.ignored, "optimize,metadata,mystery,flag") == 0);
    CHECK(p.width_set && p.width.v == 10);
    /* a very long list is cut short, never overflows */
    char big[4096];
    size_t n = 0;
    for (int i = 0; i < 200; i++, n += 15)
        memcpy(big + n, "unknownparam=1&", 15);
    big[n] = '\0';
    CHECK(parse(big, &p, err));
    CHECK(strlen(p.ignored) < sizeof p.ignored);
}

HARNESS_MAIN(RUN(sizes); RUN(bad_values); RUN(formats); RUN(crop); RUN(sides_colors_misc);
             RUN(ignored);)
