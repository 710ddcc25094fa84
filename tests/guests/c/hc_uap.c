/* hc_uap.c: test guest for fastly_uap.parse (uap-core database). Run by
 * tests/unit/hostcalls/test_hc_uap.c. */
#include "hc_check.h"

#define SC(lit) (lit), (sizeof(lit) - 1)

static char fam[64], maj[16], min[16], pat[16];
static size_t nf, nmaj, nmin, npat;

int main(void)
{
    /* covers: fastly_uap.parse */
    EXPECT_ST(fastly_uap_parse(SC("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like "
                                  "Gecko) Chrome/120.0.6099.71 Safari/537.36"),
                               fam, sizeof fam, &nf, maj, sizeof maj, &nmaj, min, sizeof min, &nmin,
                               pat, sizeof pat, &npat),
              ST_OK);
    EXPECT_BYTES(fam, nf, "Chrome");
    EXPECT_BYTES(maj, nmaj, "120");
    EXPECT_BYTES(min, nmin, "0");
    EXPECT_BYTES(pat, npat, "6099");
    EXPECT_ST(fastly_uap_parse(SC("curl/8.4.0"), fam, sizeof fam, &nf, maj, sizeof maj, &nmaj, min,
                               sizeof min, &nmin, pat, sizeof pat, &npat),
              ST_OK);
    EXPECT_BYTES(fam, nf, "curl");
    EXPECT_BYTES(maj, nmaj, "8");
    EXPECT_ST(fastly_uap_parse(SC("no such agent"), fam, sizeof fam, &nf, maj, sizeof maj, &nmaj,
                               min, sizeof min, &nmin, pat, sizeof pat, &npat),
              ST_OK);
    EXPECT_BYTES(fam, nf, "Other");
    EXPECT_INT(nmaj, 0);
    /* a too-small family buffer */
    EXPECT_ST(fastly_uap_parse(SC("curl/8.4.0"), fam, 2, &nf, maj, sizeof maj, &nmaj, min,
                               sizeof min, &nmin, pat, sizeof pat, &npat),
              ST_BUFLEN);
    EXPECT_INT(nf, 4);
    EXPECT_ST(fastly_uap_parse(BAD_PTR, 10, fam, sizeof fam, &nf, maj, sizeof maj, &nmaj, min,
                               sizeof min, &nmin, pat, sizeof pat, &npat),
              ST_INVAL);
    EXPECT_ST(fastly_uap_parse(SC("curl/8.4.0"), fam, sizeof fam, &nf, maj, sizeof maj, BAD_PTR,
                               min, sizeof min, &nmin, pat, sizeof pat, &npat),
              ST_INVAL);
    return hc_done();
}
