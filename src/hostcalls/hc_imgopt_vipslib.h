/* hc_imgopt_vipslib.h: libvips (with the glib and gobject it brings) loaded at run time. The image
 * optimizer's first transform dlopens it and resolves every function hc_imgopt_vips.c calls into
 * one table, so a process that never transforms an image never maps libvips's ~100 libraries
 * (which cost ~35 ms at every start when linked). Only files built with libvips's headers
 * include this one. */
#ifndef HC_IMGOPT_VIPSLIB_H
#define HC_IMGOPT_VIPSLIB_H

#include <vips/vips.h>

/* The library given to dlopen unless FASTLIKE_LIBVIPS names another (the Makefile passes the
 * soname of the libvips it compiled against). */
#ifndef HC_VIPSLIB_SONAME
#define HC_VIPSLIB_SONAME "libvips.so.42"
#endif

/* Every libvips, gobject and glib function the image optimizer calls. Each table entry has the
 * type of the header's own declaration (__typeof__), so a prototype cannot drift from the headers
 * the code is compiled against. */
#define HC_VIPSLIB_FUNCS(X)                                                                        \
    X(vips_version)                                                                                \
    X(vips_init)                                                                                   \
    X(vips_block_untrusted_set)                                                                    \
    X(vips_cache_set_max)                                                                          \
    X(vips_error_buffer_copy)                                                                      \
    X(vips_error_clear)                                                                            \
    X(vips_area_unref)                                                                             \
    X(vips_array_double_new)                                                                       \
    X(vips_image_new_from_buffer)                                                                  \
    X(vips_image_get_width)                                                                        \
    X(vips_image_get_height)                                                                       \
    X(vips_image_get_bands)                                                                        \
    X(vips_image_get_format)                                                                       \
    X(vips_image_get_interpretation)                                                               \
    X(vips_image_hasalpha)                                                                         \
    X(vips_black)                                                                                  \
    X(vips_autorot)                                                                                \
    X(vips_bandjoin2)                                                                              \
    X(vips_cast_uchar)                                                                             \
    X(vips_colourspace)                                                                            \
    X(vips_copy)                                                                                   \
    X(vips_embed)                                                                                  \
    X(vips_extract_area)                                                                           \
    X(vips_extract_band)                                                                           \
    X(vips_find_trim)                                                                              \
    X(vips_flatten)                                                                                \
    X(vips_flip)                                                                                   \
    X(vips_gaussblur)                                                                              \
    X(vips_linear)                                                                                 \
    X(vips_moreeq_const1)                                                                          \
    X(vips_resize)                                                                                 \
    X(vips_rot)                                                                                    \
    X(vips_sharpen)                                                                                \
    X(vips_smartcrop)                                                                              \
    X(vips_gifsave_buffer)                                                                         \
    X(vips_heifsave_buffer)                                                                        \
    X(vips_jpegsave_buffer)                                                                        \
    X(vips_pngsave_buffer)                                                                         \
    X(vips_webpsave_buffer)                                                                        \
    X(g_object_unref)                                                                              \
    X(g_free)                                                                                      \
    X(g_log_set_handler)

typedef struct hc_vipslib {
#define HC_VIPSLIB_FIELD(f) __typeof__(f) *f;
    HC_VIPSLIB_FUNCS(HC_VIPSLIB_FIELD)
#undef HC_VIPSLIB_FIELD
} hc_vipslib;

/* The table, the library loaded on the first call (once per process, thread-safe; it stays
 * loaded). NULL when the library cannot be opened or lacks one of the functions: then *why is a
 * one-line reason (static storage), and that reason went to stderr once, naming the library and
 * dlerror()'s text. */
const hc_vipslib *hc_vipslib_get(const char **why);

/* The name dlopen is given: $FASTLIKE_LIBVIPS when set and not empty, else HC_VIPSLIB_SONAME. */
const char *hc_vipslib_name(void);

#endif
