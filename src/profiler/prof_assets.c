/* prof_assets.c: the table of the viewer's built-in files (see prof_assets.h); the arrays come
 * from the generated build/<variant>/gen/prof_web.c. */
#include "profiler/prof_assets.h"

#include <string.h>

extern unsigned char prof_web_index_html[];
extern unsigned int prof_web_index_html_len;

bool prof_asset_find(const char *path, prof_asset *out)
{
    if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0) {
        *out = (prof_asset){"/", "text/html; charset=utf-8", prof_web_index_html,
                            prof_web_index_html_len};
        return true;
    }
    return false;
}
