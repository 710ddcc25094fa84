/* test_hc_image_optimizer.c: fastly_image_optimizer.transform_image_optimizer_request end to end.
 * Test images (PNG, JPEG, a transparent PNG, noise for quality, one too large) are made with
 * libvips at start and served by a small origin of its own (libmicrohttpd); the C guest
 * (tests/guests/c/hc_image_optimizer.c) runs in-process with backends "origin" and "down", and
 * the JS SDK guest (tests/guests/js/imgopt_sdk.js, imageOptimizerOptions) through the server.
 * Outputs are decoded again with libvips to check dimensions and pixels; formats by magic bytes.
 * covers: fastly_image_optimizer.transform_image_optimizer_request */
#include "harness.h"

#ifdef FASTLIKE_NO_VIPS
/* a build without libvips (no vips.pc): nothing to test here */
int main(void)
{
    printf("test_hc_image_optimizer: 0 passed, 0 failed (built without libvips)\n");
    return 0;
}
#else

#include "backend/be_backend.h"
#include "hc_guest_run.h"
#include "mhd_loopback.h"
#include "hostcalls/hc_imgopt_vips.h"
#include "test_server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <math.h>
#include <strings.h>
#include <vips/vips.h>

#define GUEST "hc_image_optimizer"
#define JS_GUEST "build/guests/js/imgopt_sdk.wasm"

/* ---- test images ---- */

typedef struct blob {
    void *data;
    size_t len;
} blob;

static blob img_png, img_jpg, img_alpha, img_noise, img_huge, img_framed;

/* A w x h image of one colour (3 bands, or 4 with alpha a). */
static VipsImage *solid(int w, int h, double r, double g, double b, double a)
{
    VipsImage *black = NULL, *out = NULL, *cast = NULL;
    int bands = a >= 0 ? 4 : 3;
    double mul[4] = {1, 1, 1, 1}, add[4] = {r, g, b, a};
    if (vips_black(&black, w, h, "bands", bands, NULL) == 0 &&
        vips_linear(black, &out, mul, add, bands, NULL) == 0)
        vips_cast_uchar(out, &cast, NULL);
    if (black)
        g_object_unref(black);
    if (out)
        g_object_unref(out);
    if (cast)
        vips_image_set_int(cast, "interpretation", VIPS_INTERPRETATION_sRGB);
    return cast;
}

static bool make_images(void)
{
    VipsImage *red = solid(80, 60, 255, 0, 0, -1), *blue = solid(80, 60, 0, 0, 255, -1);
    VipsImage *clear = solid(40, 40, 0, 0, 0, 0), *huge = solid(13000, 4, 9, 9, 9, -1);
    VipsImage *noise1 = NULL, *noise3 = NULL, *noise = NULL, *framed = NULL;
    VipsImage *small = solid(40, 20, 255, 0, 0, -1);
    double white[3] = {255, 255, 255};
    VipsArrayDouble *wbg = vips_array_double_new(white, 3);
    if (small)
        vips_embed(small, &framed, 20, 20, 80, 60, "extend", VIPS_EXTEND_BACKGROUND, "background",
                   wbg, NULL);
    vips_area_unref(VIPS_AREA(wbg));
    bool ok = red && blue && clear && huge &&
              vips_gaussnoise(&noise1, 160, 120, "mean", 128.0, "sigma", 50.0, NULL) == 0 &&
              vips_bandjoin_const1(noise1, &noise3, 128, NULL) == 0 &&
              vips_bandjoin_const1(noise3, &noise, 128, NULL) == 0;
    VipsImage *noise_u = NULL;
    ok = ok && vips_cast_uchar(noise, &noise_u, NULL) == 0;
    if (ok)
        vips_image_set_int(noise_u, "interpretation", VIPS_INTERPRETATION_sRGB);
    ok = ok && vips_pngsave_buffer(red, &img_png.data, &img_png.len, NULL) == 0 &&
         vips_jpegsave_buffer(blue, &img_jpg.data, &img_jpg.len, "Q", 95, NULL) == 0 &&
         vips_pngsave_buffer(clear, &img_alpha.data, &img_alpha.len, NULL) == 0 &&
         vips_jpegsave_buffer(noise_u, &img_noise.data, &img_noise.len, "Q", 95, NULL) == 0 &&
         vips_pngsave_buffer(huge, &img_huge.data, &img_huge.len, NULL) == 0 && framed &&
         vips_pngsave_buffer(framed, &img_framed.data, &img_framed.len, NULL) == 0;
    VipsImage *all[] = {red, blue, clear, huge, noise1, noise3, noise, noise_u, small, framed};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (all[i])
            g_object_unref(all[i]);
    if (!ok)
        fprintf(stderr, "make_images: %s\n", vips_error_buffer());
    return ok;
}

/* Decodes an output and reads its size and one pixel. */
typedef struct decoded {
    int w, h, bands;
    double px[4];
} decoded;

static bool decode(const void *data, size_t len, int x, int y, decoded *d)
{
    memset(d, 0, sizeof *d);
    VipsImage *im = vips_image_new_from_buffer(data, len, "", NULL);
    if (!im)
        return false;
    d->w = vips_image_get_width(im);
    d->h = vips_image_get_height(im);
    d->bands = vips_image_get_bands(im);
    double *v = NULL;
    int n = 0;
    bool ok = vips_getpoint(im, &v, &n, x, y, NULL) == 0;
    for (int i = 0; ok && i < n && i < 4; i++)
        d->px[i] = v[i];
    g_free(v);
    g_object_unref(im);
    return ok;
}

/* ---- the origin ---- */

static struct MHD_Daemon *origin;
static uint16_t origin_port_n, down_port;

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_len, void **state)
{
    (void)cls, (void)method, (void)version, (void)upload, (void)upload_len, (void)state;
    static const struct {
        const char *path;
        blob *b;
        const char *type;
    } files[] = {
        {"/img.png", &img_png, "image/png"},     {"/img.jpg", &img_jpg, "image/jpeg"},
        {"/alpha.png", &img_alpha, "image/png"}, {"/noise.jpg", &img_noise, "image/jpeg"},
        {"/huge.png", &img_huge, "image/png"},   {"/framed.png", &img_framed, "image/png"},
    };
    const char *body = "just some text", *type = "text/plain";
    size_t len = strlen(body);
    unsigned status = MHD_HTTP_OK;
    if (strcmp(url, "/missing") == 0) {
        body = "gone";
        len = 4;
        status = MHD_HTTP_NOT_FOUND;
    }
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (strcmp(url, files[i].path) == 0) {
            body = files[i].b->data;
            len = files[i].b->len;
            type = files[i].type;
        }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "ETag", "\"origin-etag\"");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static bool origin_up(void)
{
    origin = mhd_loopback_start(on_request, &origin_port_n);
    if (!origin)
        return false;
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    /* a port nobody listens on: bound, then closed */
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    socklen_t alen = sizeof a;
    a.sin_port = 0;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &alen) == 0)
        down_port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return origin_port_n != 0 && down_port != 0;
}

/* ---- the C guest in-process ---- */

static be_backends *backends;

static bool backends_up(void)
{
    be_backend b[2];
    for (int i = 0; i < 2; i++) {
        be_backend_init(&b[i]);
        be_set_str(&b[i].name, i == 0 ? "origin" : "down");
        be_set_str(&b[i].host, "127.0.0.1");
        be_set_str(&b[i].path_prefix, "");
        b[i].port = i == 0 ? origin_port_n : down_port;
    }
    be_backends_config cfg = {.backends = b, .nbackends = 2, .seed = 1};
    char err[256] = "";
    backends = be_backends_new(&cfg, err, sizeof err);
    for (int i = 0; i < 2; i++)
        be_backend_deinit(&b[i]);
    if (!backends)
        fprintf(stderr, "be_backends_new: %s\n", err);
    return backends != NULL;
}

/* One guest run; e is kept for the caller to inspect (hc_env_free). */
static hc_env *run(const char *spec, guest_result *r)
{
    hc_env *e = hc_env_new();
    e->settings.backends = backends;
    if (!run_guest(GUEST, spec, hc_env_ctx(e), r))
        CHECK(!"guest did not run");
    return e;
}

/* The value of header `name` in the captured response ("" when absent). */
static const char *resp_header(hc_env *e, const char *name, char *out, size_t len)
{
    out[0] = '\0';
    size_t nl = strlen(name);
    for (const char *p = e->cap.headers; p && *p;) {
        const char *eol = strchr(p, '\n');
        if (!eol)
            break;
        if ((size_t)(eol - p) > nl + 2 && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            snprintf(out, len, "%.*s", (int)(eol - p - nl - 2), p + nl + 2);
            return out;
        }
        p = eol + 1;
    }
    return out;
}

TEST(guest_checks)
{
    guest_result r;
    hc_env *e = run("checks", &r);
    if (r.fails != 0)
        fprintf(stderr, "%s", r.out);
    CHECK(guest_exited(&r, 0));
    CHECK(r.checks > 30);
    CHECK_EQ_INT(r.fails, 0);
    CHECK(strstr(e->log.text, "backend 'nope' does not exist") != NULL);
    CHECK(strstr(e->log.text, "width: bad value 'abc'") != NULL);
    hc_env_free(e);
}

/* Runs "PATH|QUERY|ACCEPT"; checks status 200 with tag ok and the output's type, magic and size.
 */
static void expect_image(const char *spec, const char *mime, const char *magic, size_t mlen, int w,
                         int h, decoded *d, int x, int y)
{
    guest_result r;
    hc_env *e = run(spec, &r);
    char v[512];
    CHECK_EQ_INT(e->cap.status, 200);
    if (strcmp(resp_header(e, "x-io-tag", v, sizeof v), "1") != 0)
        fprintf(stderr, "%s: tag %s, log:\n%s", spec, v, e->log.text);
    CHECK(strcmp(v, "1") == 0);
    CHECK(strcmp(resp_header(e, "content-type", v, sizeof v), mime) == 0);
    CHECK(e->cap.body_len > mlen && memcmp(e->cap.body, magic, mlen) == 0);
    CHECK_EQ_INT(e->cap.content_length,
                 e->cap.body_len); /* the front end sends it as Content-Length */
    CHECK(strcmp(resp_header(e, "fastly-stats", v, sizeof v), "io=1") == 0);
    CHECK(resp_header(e, "etag", v, sizeof v)[0] ==
          '\0'); /* the origin's ETag is not the image's */
    decoded dd;
    CHECK(decode(e->cap.body, e->cap.body_len, x, y, d ? d : &dd));
    CHECK_EQ_INT((d ? d : &dd)->w, w);
    CHECK_EQ_INT((d ? d : &dd)->h, h);
    if ((d ? d : &dd)->w != w || (d ? d : &dd)->h != h)
        fprintf(stderr, "  for %s\n", spec);
    hc_env_free(e);
}

#define PNG_MAGIC "\x89PNG", 4
#define JPG_MAGIC "\xFF\xD8\xFF", 3
#define WEBP_MAGIC "RIFF", 4
#define GIF_MAGIC "GIF8", 4

TEST(resize)
{
    decoded d;
    expect_image("/img.png|region=us_east&width=40|", "image/png", PNG_MAGIC, 40, 30, &d, 5, 5);
    CHECK(d.px[0] > 250 && d.px[1] < 5 && d.px[2] < 5); /* still red */
    expect_image("/img.jpg|height=50p|", "image/jpeg", JPG_MAGIC, 40, 30, &d, 5, 5);
    CHECK(d.px[2] > 240 && d.px[0] < 15); /* still blue */
    expect_image("/img.png|width=40&height=40&fit=bounds|", "image/png", PNG_MAGIC, 40, 30, NULL, 0,
                 0);
    expect_image("/img.png|width=20&height=30&fit=cover|", "image/png", PNG_MAGIC, 40, 30, NULL, 0,
                 0);
    expect_image("/img.png|width=30&height=30&fit=crop|", "image/png", PNG_MAGIC, 30, 30, NULL, 0,
                 0);
    /* no enlarging unless asked */
    expect_image("/img.png|width=160|", "image/png", PNG_MAGIC, 80, 60, NULL, 0, 0);
    expect_image("/img.png|width=160&enable=upscale|", "image/png", PNG_MAGIC, 160, 120, NULL, 0,
                 0);
    expect_image("/img.png|width=20&dpr=2|", "image/png", PNG_MAGIC, 40, 30, NULL, 0, 0);
    expect_image("/img.png|width=40&resize-filter=nearest|", "image/png", PNG_MAGIC, 40, 30, NULL,
                 0, 0);
}

TEST(geometry)
{
    decoded d;
    expect_image("/img.png|orient=r|", "image/png", PNG_MAGIC, 60, 80, NULL, 0, 0);
    expect_image("/img.png|orient=8|", "image/png", PNG_MAGIC, 60, 80, NULL, 0, 0);
    expect_image("/img.png|crop=50p,50p|", "image/png", PNG_MAGIC, 40, 30, NULL, 0, 0);
    expect_image("/img.png|crop=20,10,x70,y55|", "image/png", PNG_MAGIC, 20, 10, NULL, 0, 0);
    expect_image("/img.png|crop=1:1|", "image/png", PNG_MAGIC, 60, 60, NULL, 0, 0);
    expect_image("/img.png|precrop=40,40&width=20|", "image/png", PNG_MAGIC, 20, 20, NULL, 0, 0);
    expect_image("/img.png|trim=10|", "image/png", PNG_MAGIC, 60, 40, NULL, 0, 0);
    expect_image("/img.png|trim=25p,0,0,0|", "image/png", PNG_MAGIC, 80, 45, NULL, 0, 0);
    /* pad fills with bg-color */
    expect_image("/img.png|pad=10&bg-color=00ff00|", "image/png", PNG_MAGIC, 100, 80, &d, 1, 1);
    CHECK(d.px[0] < 5 && d.px[1] > 250 && d.px[2] < 5);
    expect_image("/img.png|pad=10&bg-color=00ff00|", "image/png", PNG_MAGIC, 100, 80, &d, 50, 40);
    CHECK(d.px[0] > 250 && d.px[1] < 5);
    /* canvas: the image centred (or placed) on a bigger one in bg-color */
    expect_image("/img.png|canvas=100,100&bg-color=0000ff|", "image/png", PNG_MAGIC, 100, 100, &d,
                 50, 5);
    CHECK(d.px[2] > 250 && d.px[0] < 5);
    expect_image("/img.png|canvas=100,100,x0,y0&bg-color=0000ff|", "image/png", PNG_MAGIC, 100, 100,
                 &d, 5, 5);
    CHECK(d.px[0] > 250 && d.px[2] < 5);
    expect_image("/img.png|canvas=1:1|", "image/png", PNG_MAGIC, 80, 80, NULL, 0, 0);
    /* trim-color cuts the white frame around the red 40x20 */
    expect_image("/framed.png|trim-color=fff|", "image/png", PNG_MAGIC, 40, 20, &d, 1, 1);
    CHECK(d.px[0] > 250 && d.px[1] < 5);
    /* bw=threshold: red is dark, so black */
    expect_image("/img.png|bw=threshold|", "image/png", PNG_MAGIC, 80, 60, &d, 3, 3);
    CHECK(d.px[0] < 5 && d.px[1] < 5 && d.px[2] < 5);
    expect_image("/framed.png|bw=threshold|", "image/png", PNG_MAGIC, 80, 60, &d, 1, 1);
    CHECK(d.px[0] > 250 && d.px[1] > 250 && d.px[2] > 250);
}

TEST(formats)
{
    decoded d;
    expect_image("/img.png|format=jpg|", "image/jpeg", JPG_MAGIC, 80, 60, NULL, 0, 0);
    expect_image("/img.jpg|format=webp|", "image/webp", WEBP_MAGIC, 80, 60, NULL, 0, 0);
    expect_image("/img.png|format=gif|", "image/gif", GIF_MAGIC, 80, 60, NULL, 0, 0);
    expect_image("/img.png|format=png8|", "image/png", PNG_MAGIC, 80, 60, NULL, 0, 0);
    expect_image("/img.png|format=webpll|", "image/webp", WEBP_MAGIC, 80, 60, NULL, 0, 0);
    expect_image("/img.png|format=pjpg|", "image/jpeg", JPG_MAGIC, 80, 60, NULL, 0, 0);
    /* transparency on a JPEG: composited on bg-color */
    expect_image("/alpha.png|format=jpg&bg-color=ff0000|", "image/jpeg", JPG_MAGIC, 40, 40, &d, 20,
                 20);
    CHECK(d.px[0] > 240 && d.px[1] < 15 && d.px[2] < 15);
    /* format=auto and auto=webp follow the Accept header */
    expect_image("/img.png|format=auto|image/webp,*/*", "image/webp", WEBP_MAGIC, 80, 60, NULL, 0,
                 0);
    expect_image("/img.png|format=auto|text/html", "image/png", PNG_MAGIC, 80, 60, NULL, 0, 0);
    expect_image("/img.png|format=jpg&auto=webp|image/webp", "image/webp", WEBP_MAGIC, 80, 60, NULL,
                 0, 0);
    expect_image("/img.png|format=jpg&auto=webp|image/webp;q=0", "image/jpeg", JPG_MAGIC, 80, 60,
                 NULL, 0, 0);
    if (hc_io_avif_available()) {
        expect_image("/img.png|format=avif|", "image/avif", "\0\0\0", 3, 80, 60, NULL, 0, 0);
        expect_image("/img.png|format=auto|image/avif,image/webp", "image/avif", "\0\0\0", 3, 80,
                     60, NULL, 0, 0);
    }
}

/* The magic bytes above and the subformats' own markers. */
TEST(format_details)
{
    guest_result r;
    hc_env *e = run("/img.png|format=png8|", &r);
    /* IHDR colour type 3: palette */
    CHECK(e->cap.body_len > 26 && e->cap.body[25] == 3);
    hc_env_free(e);
    e = run("/img.png|format=webpll|", &r);
    CHECK(memmem(e->cap.body, e->cap.body_len, "VP8L", 4) != NULL);
    hc_env_free(e);
    e = run("/img.png|format=webp|", &r);
    CHECK(memmem(e->cap.body, e->cap.body_len, "VP8 ", 4) != NULL);
    CHECK(memmem(e->cap.body, e->cap.body_len, "VP8L", 4) == NULL);
    hc_env_free(e);
    e = run("/img.png|format=pjpg|", &r);
    bool sof2 = false;
    for (size_t i = 0; i + 1 < e->cap.body_len; i++)
        sof2 = sof2 || ((uint8_t)e->cap.body[i] == 0xFF && (uint8_t)e->cap.body[i + 1] == 0xC2);
    CHECK(sof2);
    hc_env_free(e);
    char v[512];
    e = run("/img.png|width=40&format=auto|image/webp", &r);
    CHECK(strcmp(resp_header(e, "vary", v, sizeof v), "Accept") == 0);
    CHECK(strstr(resp_header(e, "fastly-io-info", v, sizeof v), "ifmt=png") != NULL);
    CHECK(strstr(v, "idim=80x60") != NULL);
    CHECK(strstr(v, "odim=40x30 ofmt=webp") != NULL);
    hc_env_free(e);
}

static long out_size(const char *spec)
{
    guest_result r;
    hc_env *e = run(spec, &r);
    long n = (long)e->cap.content_length;
    CHECK_EQ_INT(e->cap.status, 200);
    hc_env_free(e);
    return n;
}

TEST(quality_and_filters)
{
    long q20 = out_size("/noise.jpg|quality=20|"), q90 = out_size("/noise.jpg|quality=90|");
    CHECK(q20 > 0 && q90 > 0);
    CHECK(q20 * 2 < q90);
    long w20 = out_size("/noise.jpg|format=webp&quality=20|");
    long w90 = out_size("/noise.jpg|format=webp&quality=90|");
    CHECK(w20 < w90);
    /* blur removes the noise's detail: a much smaller file at the same quality */
    long blurred = out_size("/noise.jpg|quality=90&blur=3|");
    CHECK(blurred * 2 < q90);
    decoded d;
    expect_image("/noise.jpg|sharpen=a5,r1,t0|", "image/jpeg", JPG_MAGIC, 160, 120, NULL, 0, 0);
    expect_image("/img.png|brightness=-100|", "image/png", PNG_MAGIC, 80, 60, &d, 3, 3);
    CHECK(d.px[0] < 5);
    expect_image("/img.png|saturation=-100|", "image/png", PNG_MAGIC, 80, 60, &d, 3, 3);
    CHECK(fabs(d.px[0] - d.px[1]) < 8 && fabs(d.px[1] - d.px[2]) < 8); /* grey */
}

/* Fatal Image Optimizer errors: the origin response as it came, Fastly-IO-Error, tag error. */
static void expect_passthrough(const char *spec, int status, const char *why, const blob *body)
{
    guest_result r;
    hc_env *e = run(spec, &r);
    char v[512];
    CHECK_EQ_INT(e->cap.status, status);
    CHECK(strcmp(resp_header(e, "x-io-status", v, sizeof v), "0") == 0);
    CHECK(strcmp(resp_header(e, "x-io-tag", v, sizeof v), "2") == 0);
    if (strncmp(resp_header(e, "fastly-io-error", v, sizeof v), why, strlen(why)) != 0)
        fprintf(stderr, "%s: Fastly-IO-Error '%s', want '%s'\n", spec, v, why);
    CHECK(strncmp(v, why, strlen(why)) == 0);
    if (body)
        CHECK(e->cap.body_len == body->len && memcmp(e->cap.body, body->data, body->len) == 0);
    CHECK(strstr(e->log.text, "passed through") != NULL);
    hc_env_free(e);
}

TEST(errors)
{
    expect_passthrough("/text|width=10|", 200, "Not a supported image format", NULL);
    expect_passthrough("/missing|width=10|", 404, "Invalid status", NULL);
    expect_passthrough("/huge.png|width=10|", 200, "Image exceeds maximum dimensions", &img_huge);
    expect_passthrough("/img.png|width=9000&enable=upscale|", 200,
                       "Image exceeds maximum dimensions", &img_png);
    expect_passthrough("/img.png|trim=50p|", 200, "trim: removes the whole", &img_png);
    /* an extreme ratio: refused by the output limit, not computed into nonsense */
    expect_passthrough("/img.png|canvas=1:1000000|", 200, "Image exceeds maximum dimensions",
                       &img_png);
    /* a bad value: the hostcall fails with inval, nothing reaches the origin */
    guest_result r;
    hc_env *e = run("/img.png|quality=500|", &r);
    char v[64];
    CHECK_EQ_INT(e->cap.status, 599);
    CHECK(strcmp(resp_header(e, "x-io-status", v, sizeof v), "2") == 0);
    CHECK(strcmp(resp_header(e, "x-io-tag", v, sizeof v), "2") == 0);
    CHECK(strstr(e->log.text, "quality: bad value '500'") != NULL);
    hc_env_free(e);
}

TEST(ignored_params_noted)
{
    guest_result r;
    hc_env *e = run("/img.png|region=asia&width=40&frame=1&mystery=2&format=jxl&bw=atkinson|", &r);
    char v[64];
    CHECK_EQ_INT(e->cap.status, 200);
    CHECK(strcmp(resp_header(e, "x-io-tag", v, sizeof v), "1") == 0);
    CHECK(strstr(e->log.text,
                 "ignoring parameters not done locally: mystery,format=jxl,bw=atkinson") != NULL);
    /* jxl has no local encoder: the input's format is kept */
    CHECK(strcmp(resp_header(e, "content-type", v, sizeof v), "image/png") == 0);
    hc_env_free(e);
}

/* ---- the JS SDK guest through the server ---- */

static server *srv;

static fastlike_status js_backends(fastlike_config *c, void *user, char *err, size_t errlen)
{
    (void)user;
    char spec[64];
    snprintf(spec, sizeof spec, "origin=127.0.0.1:%u", origin_port_n);
    return fastlike_config_add_backend(c, spec, err, errlen);
}

/* GET path?o=<options JSON, percent-encoded> with an optional Accept header. */
static int js_get(const char *path, const char *json, const char *accept, hc_resp *r)
{
    char target[2048], *o = target;
    o += snprintf(target, sizeof target, "%s?o=", path);
    for (const char *p = json; *p && o < target + sizeof target - 4; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'))
            *o++ = *p;
        else
            o += snprintf(o, 4, "%%%02X", (unsigned char)*p);
    }
    *o = '\0';
    char request[4096];
    snprintf(request, sizeof request,
             "GET %s HTTP/1.1\r\nHost: io.test\r\n%s%s%sConnection: close\r\n\r\n", target,
             accept ? "Accept: " : "", accept ? accept : "", accept ? "\r\n" : "");
    memset(r, 0, sizeof *r);
    return simple_on(srv->port, request, r, false);
}

static void js_expect(const char *path, const char *json, const char *accept, const char *mime,
                      int w, int h)
{
    hc_resp r;
    CHECK_EQ_INT(js_get(path, json, accept, &r), 200);
    const char *ct = hc_header(&r, "content-type");
    if (!ct || strcmp(ct, mime) != 0)
        fprintf(stderr, "%s %s: content-type %s body %.*s\n", path, json, ct ? ct : "(none)",
                (int)(r.body_len > 300 ? 300 : r.body_len), r.body ? (const char *)r.body : "");
    CHECK(ct && strcmp(ct, mime) == 0);
    CHECK(hc_header(&r, "fastly-io-info") != NULL);
    decoded d;
    CHECK(r.body && decode(r.body, r.body_len, 0, 0, &d));
    CHECK_EQ_INT(d.w, w);
    CHECK_EQ_INT(d.h, h);
    hc_resp_free(&r);
}

TEST(js_sdk)
{
    srv = server_start_with(JS_GUEST, js_backends, NULL);
    CHECK(srv != NULL);
    if (!srv)
        return;
    js_expect("/img.png", "{\"region\":\"us_east\",\"width\":40,\"format\":\"webp\"}", NULL,
              "image/webp", 40, 30);
    js_expect("/img.jpg",
              "{\"region\":\"eu_west\",\"crop\":{\"size\":{\"ratio\":{\"width\":1,\"height\":1}}},"
              "\"format\":\"png\"}",
              NULL, "image/png", 60, 60);
    js_expect("/img.png",
              "{\"region\":\"asia\",\"pad\":{\"top\":5,\"bottom\":5,\"left\":5,\"right\":5},"
              "\"bgColor\":\"00ff00\",\"height\":\"50%\"}",
              NULL, "image/png", 50, 40);
    js_expect("/img.png", "{\"region\":\"us_west\",\"auto\":\"webp\"}", "image/webp,*/*",
              "image/webp", 80, 60);
    js_expect("/img.png",
              "{\"region\":\"us_west\",\"orient\":\"6\",\"quality\":50,\"format\":\"jpg\","
              "\"sharpen\":{\"amount\":1,\"radius\":1,\"threshold\":0},\"blur\":1,"
              "\"resizeFilter\":\"lanczos2\",\"dpr\":2,\"width\":15}",
              NULL, "image/jpeg", 30, 40);
    /* not an image: the origin's response, marked */
    hc_resp r;
    CHECK_EQ_INT(js_get("/text", "{\"region\":\"us_east\",\"width\":10}", NULL, &r), 200);
    CHECK(r.body_len == 14 && memcmp(r.body, "just some text", 14) == 0);
    const char *io_err = hc_header(&r, "fastly-io-error");
    CHECK(io_err && strcmp(io_err, "Not a supported image format") == 0);
    hc_resp_free(&r);
    /* the SDK's own query string, as the hostcall receives it */
    CHECK_EQ_INT(js_get("/query", "{\"region\":\"us_east\",\"width\":\"50%\",\"bgColor\":\"fff\"}",
                        NULL, &r),
                 200);
    CHECK(r.body && strstr((const char *)r.body, "region=us_east") == (const char *)r.body);
    hc_resp_free(&r);
    server_stop(srv);
    srv = NULL;
}

int main(int argc, char **argv)
{
    (void)argc;
    if (VIPS_INIT("test_hc_image_optimizer") != 0 || !make_images() || !origin_up() ||
        !backends_up()) {
        fprintf(stderr, "test_hc_image_optimizer: setup failed\n");
        return 1;
    }
    RUN(guest_checks);
    RUN(resize);
    RUN(geometry);
    RUN(formats);
    RUN(format_details);
    RUN(quality_and_filters);
    RUN(errors);
    RUN(ignored_params_noted);
    RUN(js_sdk);
    be_backends_free(backends);
    MHD_stop_daemon(origin);
    blob *all[] = {&img_png, &img_jpg, &img_alpha, &img_noise, &img_huge, &img_framed};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        g_free(all[i]->data);
    return harness_finish(argv[0]);
}

#endif
