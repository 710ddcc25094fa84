/* test_hc_imgopt_vipslib.c: libvips is loaded at the image optimizer's first use
 * (hc_imgopt_vipslib.c), not at start: this binary does not link libvips. In-process: nothing of
 * libvips, gobject or glib is mapped until the first transform, and all of it is after; a library
 * that cannot be loaded ($FASTLIKE_LIBVIPS at a missing file, or at a library without libvips's
 * functions) makes every transform answer HC_IO_UNAVAILABLE with the reason, told once on stderr
 * (each in a forked child, whose process has not loaded libvips yet). End to end: the fastlike
 * binary serving the JS SDK guest (tests/guests/js/imgopt_sdk.js) maps libvips only after its
 * first image request, and with a missing library keeps answering, the origin's image passed
 * through with Fastly-IO-Error. */
#include "harness.h"

#ifdef FASTLIKE_NO_VIPS
int main(void)
{
    printf("test_hc_imgopt_vipslib: 0 passed, 0 failed (built without libvips)\n");
    return 0;
}
#else

#include "../config/tmp_files.h"
#include "fastlike_proc.h"
#include "mhd_loopback.h"
#include "hostcalls/hc_imgopt_vips.h"
#include "test_server.h"

#include <arpa/inet.h>
#include <link.h>
#include <microhttpd.h>

#define JS_GUEST "build/guests/js/imgopt_sdk.wasm"
#define MISSING "/nonexistent/libvips-missing.so.42"

/* A 4 x 2 red RGB PNG. */
static const uint8_t red_png[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44,
    0x52, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02, 0x08, 0x02, 0x00, 0x00, 0x00, 0xf0,
    0xca, 0xea, 0x34, 0x00, 0x00, 0x00, 0x10, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0xf8,
    0xcf, 0xc0, 0x00, 0x47, 0x0c, 0xc8, 0x1c, 0x00, 0x6f, 0xaa, 0x07, 0xf9, 0x68, 0xdd, 0xaf,
    0xa7, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
};

/* ---- what this process has loaded ---- */

static int find_object(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    const char *needle = data;
    return info->dlpi_name && strstr(info->dlpi_name, needle) ? 1 : 0;
}

/* True when a loaded object's path contains `name` (dl_iterate_phdr: what the dynamic linker has
 * mapped, dlopen'ed libraries included). */
static bool loaded(const char *name)
{
    return dl_iterate_phdr(find_object, (void *)name) != 0;
}

/* True when process pid's /proc/PID/maps mentions `name`. */
static bool pid_maps(pid_t pid, const char *name)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    char *maps = fl_slurp(path);
    bool has = maps && strstr(maps, name);
    free(maps);
    return has;
}

static size_t count(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = text ? strstr(text, needle) : NULL; p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static hc_io_params width_params(void)
{
    hc_io_params p;
    char err[128];
    const char *q = "width=2";
    if (!hc_io_params_parse(q, strlen(q), &p, err, sizeof err))
        fprintf(stderr, "width_params: %s\n", err);
    return p;
}

TEST(nothing_loaded_at_start)
{
    CHECK(!loaded("libvips"));
    CHECK(!loaded("libgobject-2.0"));
    CHECK(!loaded("libglib-2.0"));
}

/* In a forked child with FASTLIKE_LIBVIPS=lib and stderr into err_path: two transforms, both
 * HC_IO_UNAVAILABLE with `want` in the message, then AVIF reported unavailable. The child's exit
 * status is its number of failed expectations (each printed on stdout). */
static int failing_child(const char *lib, const char *want, const char *err_path)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0)
            _exit(100);
        dup2(fd, STDERR_FILENO);
        setenv("FASTLIKE_LIBVIPS", lib, 1);
        int failed = 0;
        hc_io_params p = width_params();
        for (int i = 0; i < 2; i++) {
            hc_io_result r;
            char err[512];
            hc_io_error e = hc_io_transform(red_png, sizeof red_png, &p, NULL, &r, err, sizeof err);
            if (e != HC_IO_UNAVAILABLE || !strstr(err, want) || r.data || r.len) {
                printf("  child, transform %d: status %d, message '%s'\n", i + 1, (int)e, err);
                failed++;
            }
            hc_io_result_free(&r);
        }
        if (hc_io_avif_available()) {
            printf("  child: AVIF available without libvips\n");
            failed++;
        }
        fflush(NULL);
        _exit(failed);
    }
    int st = 0;
    if (waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TEST(missing_library)
{
    const char *errf = tmp_path("missing.err");
    CHECK_EQ_INT(
        failing_child(MISSING, "Image Optimizer unavailable (cannot load " MISSING ": ", errf), 0);
    char *e = fl_slurp(errf);
    /* one line, once, naming the library and dlerror()'s reason */
    CHECK_EQ_INT((int)count(e, "fastlike: image optimizer: cannot load " MISSING ": "), 1);
    CHECK(e && strstr(e, "No such file or directory"));
    CHECK_EQ_INT((int)count(e, "\n"), 1);
    free(e);
    CHECK(!loaded("libvips")); /* the parent never tried */
}

TEST(library_without_the_functions)
{
    const char *errf = tmp_path("nosym.err");
    CHECK_EQ_INT(
        failing_child("libz.so.1", "cannot load libz.so.1: function vips_version missing", errf),
        0);
    char *e = fl_slurp(errf);
    CHECK_EQ_INT((int)count(e, "fastlike: image optimizer: cannot load libz.so.1: function "
                               "vips_version missing"),
                 1);
    free(e);
}

TEST(loaded_at_first_transform)
{
    CHECK(!loaded("libvips"));
    hc_io_params p = width_params();
    hc_io_result r;
    char err[512] = "";
    hc_io_error e = hc_io_transform(red_png, sizeof red_png, &p, NULL, &r, err, sizeof err);
    CHECK_EQ_INT(e, HC_IO_OK);
    if (e != HC_IO_OK)
        fprintf(stderr, "  transform: %s\n", err);
    CHECK(r.mime && strcmp(r.mime, "image/png") == 0);
    CHECK_EQ_INT(r.in_w, 4);
    CHECK_EQ_INT(r.out_w, 2);
    CHECK_EQ_INT(r.out_h, 1);
    CHECK(r.len > 8 && memcmp(r.data, red_png, 8) == 0);
    hc_io_result_free(&r);
    CHECK(loaded("libvips"));
    CHECK(loaded("libgobject-2.0"));
    CHECK(loaded("libglib-2.0"));
    /* the next transform reuses it; a non-image is still told apart */
    CHECK_EQ_INT(hc_io_transform(red_png, sizeof red_png, &p, NULL, &r, err, sizeof err), HC_IO_OK);
    hc_io_result_free(&r);
    CHECK_EQ_INT(hc_io_transform((const uint8_t *)"text", 4, &p, NULL, &r, err, sizeof err),
                 HC_IO_NOT_IMAGE);
}

/* ---- end to end: the binary ---- */

static struct MHD_Daemon *origin;
static uint16_t origin_port;
static char fastlike_bin[1024] = "build/rel/fastlike";

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_len, void **state)
{
    (void)cls, (void)method, (void)version, (void)upload, (void)upload_len, (void)state;
    bool png = strcmp(url, "/img.png") == 0;
    struct MHD_Response *r = MHD_create_response_from_buffer(
        png ? sizeof red_png : 4, png ? (void *)red_png : (void *)"text", MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Content-Type", png ? "image/png" : "text/plain");
    enum MHD_Result rc = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return rc;
}

static bool origin_up(void)
{
    origin = mhd_loopback_start(on_request, &origin_port);
    return origin != NULL;
}

/* The binary serving the JS guest with backend "origin"; FASTLIKE_LIBVIPS=lib when lib. False
 * (a failed check, and the process stopped) when it did not start serving. */
static bool server_up(fl_proc *s, const char *tag, const char *lib)
{
    char backend[64], out[700], err[700];
    snprintf(backend, sizeof backend, "origin=127.0.0.1:%u", origin_port);
    snprintf(out, sizeof out, "%s.out", tmp_path(tag));
    snprintf(err, sizeof err, "%s.err", tmp_path(tag));
    const char *args[] = {fastlike_bin, "-wasm", JS_GUEST,      "-backend",
                          backend,      "-bind", "127.0.0.1:0", NULL};
    if (lib)
        setenv("FASTLIKE_LIBVIPS", lib, 1);
    bool ok = fl_proc_start(s, args, out, err);
    unsetenv("FASTLIKE_LIBVIPS");
    CHECK(ok);
    if (!ok)
        fl_proc_stop(s);
    return ok;
}

/* GET path with the image options {"region":"us_east","width":2} (percent-encoded). */
static int get_width2(uint16_t port, const char *path, hc_resp *r)
{
    char request[512];
    snprintf(request, sizeof request,
             "GET %s?o=%%7B%%22region%%22%%3A%%22us_east%%22%%2C%%22width%%22%%3A2%%7D "
             "HTTP/1.1\r\nHost: io.test\r\nConnection: close\r\n\r\n",
             path);
    memset(r, 0, sizeof *r);
    return simple_on(port, request, r, false);
}

TEST(server_loads_libvips_at_first_image)
{
    fl_proc s;
    if (!server_up(&s, "lazy", NULL))
        return;
    CHECK(pid_maps(s.pid, "libc.so")); /* the check can see libraries at all */
    CHECK(!pid_maps(s.pid, "libvips"));
    CHECK(!pid_maps(s.pid, "libglib-2.0"));
    hc_resp r;
    CHECK_EQ_INT(get_width2(s.port, "/img.png", &r), 200);
    const char *info = hc_header(&r, "fastly-io-info");
    CHECK(info && strstr(info, "idim=4x2") && strstr(info, "odim=2x1"));
    CHECK(!hc_header(&r, "fastly-io-error"));
    hc_resp_free(&r);
    CHECK(pid_maps(s.pid, "libvips"));
    CHECK(pid_maps(s.pid, "libglib-2.0"));
    CHECK(!fl_proc_err_has(&s, "image optimizer"));
    CHECK_EQ_INT(fl_proc_stop(&s), 0);
}

TEST(server_without_libvips_keeps_serving)
{
    fl_proc s;
    if (!server_up(&s, "missing", MISSING))
        return;
    for (int i = 0; i < 2; i++) {
        hc_resp r;
        CHECK_EQ_INT(get_width2(s.port, "/img.png", &r), 200);
        /* the origin's image as it came, with the reason */
        CHECK(r.body_len == sizeof red_png && memcmp(r.body, red_png, sizeof red_png) == 0);
        const char *why = hc_header(&r, "fastly-io-error");
        CHECK(why && strstr(why, "Image Optimizer unavailable (cannot load " MISSING ": "));
        hc_resp_free(&r);
    }
    CHECK(fl_proc_wait_err(&s, "fastlike: image optimizer: cannot load " MISSING));
    char *e = fl_slurp(s.err);
    CHECK_EQ_INT((int)count(e, "fastlike: image optimizer: cannot load"), 1);
    free(e);
    CHECK(!pid_maps(s.pid, "libvips"));
    CHECK_EQ_INT(fl_proc_stop(&s), 0);
}

int main(int argc, char **argv)
{
    (void)argc;
    /* build/VARIANT/tests/hostcalls/test_x -> build/VARIANT/fastlike */
    const char *t = strstr(argv[0], "/tests/");
    if (t)
        snprintf(fastlike_bin, sizeof fastlike_bin, "%.*s/fastlike", (int)(t - argv[0]), argv[0]);
    if (!tmp_dir_create("fastlike-vipslib"))
        return 1;
    RUN(nothing_loaded_at_start);
    RUN(missing_library);
    RUN(library_without_the_functions);
    if (!origin_up()) {
        fprintf(stderr, "test_hc_imgopt_vipslib: origin failed to start\n");
        return 1;
    }
    RUN(server_loads_libvips_at_first_image);
    RUN(server_without_libvips_keeps_serving);
    RUN(loaded_at_first_transform); /* last: it loads libvips into this process */
    MHD_stop_daemon(origin);
    tmp_dir_remove();
    return harness_finish(argv[0]);
}

#endif
