/* cfg_geo_mmdb.c: MaxMind .mmdb lookups through libmaxminddb, mapped onto Fastly's geolocation
 * field names (cfg_geo_mmdb.h), the ISO 3166-1 alpha-2 to alpha-3 table for country_code3, and a
 * time zone's current UTC offset from its zoneinfo (TZif) file for utc_offset. */
#include "config/cfg_geo_mmdb.h"

#include <errno.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct cfg_geo_mmdb {
    MMDB_s db;
    atomic_size_t refs;
};

cfg_status cfg_geo_mmdb_open(const char *path, cfg_geo_mmdb **out, char *err, size_t errlen)
{
    *out = NULL;
    cfg_geo_mmdb *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, errlen, "%s: out of memory", path);
        return CFG_ERR_NOMEM;
    }
    errno = 0;
    int rc = MMDB_open(path, MMDB_MODE_MMAP, &m->db);
    if (rc != MMDB_SUCCESS) {
        int e = errno;
        bool io = rc == MMDB_FILE_OPEN_ERROR || rc == MMDB_IO_ERROR;
        if (io)
            snprintf(err, errlen, "%s: cannot read the file: %s", path,
                     e ? strerror(e) : MMDB_strerror(rc));
        else
            snprintf(err, errlen, "%s: not a valid MaxMind database (.mmdb): %s", path,
                     MMDB_strerror(rc));
        free(m);
        return io ? CFG_ERR_FILE : CFG_ERR_JSON;
    }
    atomic_init(&m->refs, 1);
    *out = m;
    return CFG_OK;
}

cfg_geo_mmdb *cfg_geo_mmdb_ref(cfg_geo_mmdb *m)
{
    if (m)
        atomic_fetch_add(&m->refs, 1);
    return m;
}

void cfg_geo_mmdb_unref(cfg_geo_mmdb *m)
{
    if (!m || atomic_fetch_sub(&m->refs, 1) != 1)
        return;
    MMDB_close(&m->db);
    free(m);
}

/* The value at path (NULL-terminated), when present. */
static bool get(MMDB_entry_s *e, MMDB_entry_data_s *d, const char *const *path)
{
    return MMDB_aget_value(e, d, path) == MMDB_SUCCESS && d->has_data;
}

static void set_string(json_t *obj, const char *field, MMDB_entry_s *e, const char *const *path)
{
    MMDB_entry_data_s d;
    if (get(e, &d, path) && d.type == MMDB_DATA_TYPE_UTF8_STRING)
        json_object_set_new(obj, field, json_stringn(d.utf8_string, d.data_size));
}

static bool get_uint(MMDB_entry_s *e, const char *const *path, uint64_t *v)
{
    MMDB_entry_data_s d;
    if (!get(e, &d, path))
        return false;
    switch (d.type) {
    case MMDB_DATA_TYPE_UINT16:
        *v = d.uint16;
        return true;
    case MMDB_DATA_TYPE_UINT32:
        *v = d.uint32;
        return true;
    case MMDB_DATA_TYPE_UINT64:
        *v = d.uint64;
        return true;
    case MMDB_DATA_TYPE_INT32:
        *v = d.int32 < 0 ? 0 : (uint64_t)d.int32;
        return true;
    default:
        return false;
    }
}

static void set_uint(json_t *obj, const char *field, MMDB_entry_s *e, const char *const *path)
{
    uint64_t v;
    if (get_uint(e, path, &v))
        json_object_set_new(obj, field, json_integer((json_int_t)v));
}

static void set_real(json_t *obj, const char *field, MMDB_entry_s *e, const char *const *path)
{
    MMDB_entry_data_s d;
    if (get(e, &d, path) && d.type == MMDB_DATA_TYPE_DOUBLE)
        json_object_set_new(obj, field, json_real(d.double_value));
    else if (get(e, &d, path) && d.type == MMDB_DATA_TYPE_FLOAT)
        json_object_set_new(obj, field, json_real(d.float_value));
}

static bool get_true(MMDB_entry_s *e, const char *const *path)
{
    MMDB_entry_data_s d;
    return get(e, &d, path) && d.type == MMDB_DATA_TYPE_BOOLEAN && d.boolean;
}

/* MaxMind's connection_type values as Fastly's conn_speed and conn_type. */
static void set_connection(json_t *obj, MMDB_entry_s *e)
{
    static const char *const map[][3] = {
        {"Cable/DSL", "broadband", "wired"}, {"Corporate", "broadband", "wired"},
        {"Cellular", "mobile", "mobile"},    {"Satellite", "satellite", "satellite"},
        {"Dialup", "dialup", "dialup"},
    };
    static const char *const a[] = {"connection_type", NULL};
    static const char *const b[] = {"traits", "connection_type", NULL};
    MMDB_entry_data_s d;
    if (!(get(e, &d, a) || get(e, &d, b)) || d.type != MMDB_DATA_TYPE_UTF8_STRING)
        return;
    for (size_t i = 0; i < sizeof map / sizeof *map; i++) {
        if (strlen(map[i][0]) == d.data_size &&
            memcmp(map[i][0], d.utf8_string, d.data_size) == 0) {
            json_object_set_new(obj, "conn_speed", json_string(map[i][1]));
            json_object_set_new(obj, "conn_type", json_string(map[i][2]));
        }
    }
}

/* The anonymity traits (GeoIP2 Anonymous-IP, or traits of Enterprise/City) as proxy_type. */
static void set_proxy(json_t *obj, MMDB_entry_s *e)
{
    static const char *const fields[][2] = {
        {"is_anonymous_proxy", "anonymous"}, {"is_anonymous_vpn", "anonymous"},
        {"is_tor_exit_node", "anonymous"},   {"is_public_proxy", "public"},
        {"is_hosting_provider", "hosting"},  {"is_anonymous", "anonymous"},
    };
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
        const char *top[] = {fields[i][0], NULL};
        const char *traits[] = {"traits", fields[i][0], NULL};
        if (get_true(e, top) || get_true(e, traits)) {
            json_object_set_new(obj, "proxy_type", json_string(fields[i][1]));
            json_object_set_new(obj, "proxy_description", json_string(fields[i][0] + 3));
            return;
        }
    }
}

bool cfg_geo_mmdb_lookup(const cfg_geo_mmdb *m, uint8_t family, const uint8_t *addr, json_t *obj)
{
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    const struct sockaddr *sa;
    if (family == 4) {
        memset(&sin, 0, sizeof sin);
        sin.sin_family = AF_INET;
        memcpy(&sin.sin_addr, addr, 4);
        sa = (const struct sockaddr *)&sin;
    } else {
        memset(&sin6, 0, sizeof sin6);
        sin6.sin6_family = AF_INET6;
        memcpy(&sin6.sin6_addr, addr, 16);
        sa = (const struct sockaddr *)&sin6;
    }
    int mmdb_err = MMDB_SUCCESS;
    /* MMDB_lookup_sockaddr does not change the database; it takes a non-const pointer */
    MMDB_lookup_result_s r = MMDB_lookup_sockaddr((MMDB_s *)&m->db, sa, &mmdb_err);
    if (mmdb_err != MMDB_SUCCESS || !r.found_entry)
        return false;
    MMDB_entry_s *e = &r.entry;
    static const char *const as_org[] = {"autonomous_system_organization", NULL};
    static const char *const as_org_t[] = {"traits", "autonomous_system_organization", NULL};
    static const char *const as_num[] = {"autonomous_system_number", NULL};
    static const char *const as_num_t[] = {"traits", "autonomous_system_number", NULL};
    static const char *const city[] = {"city", "names", "en", NULL};
    static const char *const continent[] = {"continent", "code", NULL};
    static const char *const country[] = {"country", "iso_code", NULL};
    static const char *const country_name[] = {"country", "names", "en", NULL};
    static const char *const lat[] = {"location", "latitude", NULL};
    static const char *const lon[] = {"location", "longitude", NULL};
    static const char *const metro[] = {"location", "metro_code", NULL};
    static const char *const postal[] = {"postal", "code", NULL};
    static const char *const region[] = {"subdivisions", "0", "iso_code", NULL};
    set_string(obj, "as_name", e, as_org_t);
    set_string(obj, "as_name", e, as_org);
    set_uint(obj, "as_number", e, as_num_t);
    set_uint(obj, "as_number", e, as_num);
    set_string(obj, "city", e, city);
    set_string(obj, "continent", e, continent);
    set_string(obj, "country_code", e, country);
    set_string(obj, "country_name", e, country_name);
    set_real(obj, "latitude", e, lat);
    set_real(obj, "longitude", e, lon);
    set_uint(obj, "metro_code", e, metro);
    set_string(obj, "postal_code", e, postal);
    set_string(obj, "region", e, region);
    set_connection(obj, e);
    set_proxy(obj, e);
    const char *cc = json_string_value(json_object_get(obj, "country_code"));
    char cc3[4];
    if (cc && cfg_geo_country_code3(cc, cc3))
        json_object_set_new(obj, "country_code3", json_string(cc3));
    static const char *const tz[] = {"location", "time_zone", NULL};
    MMDB_entry_data_s d;
    if (get(e, &d, tz) && d.type == MMDB_DATA_TYPE_UTF8_STRING && d.data_size < 128) {
        char zone[128];
        memcpy(zone, d.utf8_string, d.data_size);
        zone[d.data_size] = '\0';
        int offset;
        if (cfg_geo_utc_offset(zone, (long long)time(NULL), &offset))
            json_object_set_new(obj, "utc_offset", json_integer(offset));
    }
    return true;
}

/* ISO 3166-1: each entry is the alpha-2 code followed by the alpha-3 code; XK (Kosovo) as
 * MaxMind uses it. */
static const char country_codes[] =
    "ADANDAEAREAFAFGAGATGAIAIAALALBAMARMAOAGOAQATAARARGASASMATAUTAUAUSAWABWAXALAAZAZE"
    "BABIHBBBRBBDBGDBEBELBFBFABGBGRBHBHRBIBDIBJBENBLBLMBMBMUBNBRNBOBOLBQBESBRBRABSBHS"
    "BTBTNBVBVTBWBWABYBLRBZBLZCACANCCCCKCDCODCFCAFCGCOGCHCHECICIVCKCOKCLCHLCMCMRCNCHN"
    "COCOLCRCRICUCUBCVCPVCWCUWCXCXRCYCYPCZCZEDEDEUDJDJIDKDNKDMDMADODOMDZDZAECECUEEEST"
    "EGEGYEHESHERERIESESPETETHFIFINFJFJIFKFLKFMFSMFOFROFRFRAGAGABGBGBRGDGRDGEGEOGFGUF"
    "GGGGYGHGHAGIGIBGLGRLGMGMBGNGINGPGLPGQGNQGRGRCGSSGSGTGTMGUGUMGWGNBGYGUYHKHKGHMHMD"
    "HNHNDHRHRVHTHTIHUHUNIDIDNIEIRLILISRIMIMNININDIOIOTIQIRQIRIRNISISLITITAJEJEYJMJAM"
    "JOJORJPJPNKEKENKGKGZKHKHMKIKIRKMCOMKNKNAKPPRKKRKORKWKWTKYCYMKZKAZLALAOLBLBNLCLCA"
    "LILIELKLKALRLBRLSLSOLTLTULULUXLVLVALYLBYMAMARMCMCOMDMDAMEMNEMFMAFMGMDGMHMHLMKMKD"
    "MLMLIMMMMRMNMNGMOMACMPMNPMQMTQMRMRTMSMSRMTMLTMUMUSMVMDVMWMWIMXMEXMYMYSMZMOZNANAM"
    "NCNCLNENERNFNFKNGNGANINICNLNLDNONORNPNPLNRNRUNUNIUNZNZLOMOMNPAPANPEPERPFPYFPGPNG"
    "PHPHLPKPAKPLPOLPMSPMPNPCNPRPRIPSPSEPTPRTPWPLWPYPRYQAQATREREUROROURSSRBRURUSRWRWA"
    "SASAUSBSLBSCSYCSDSDNSESWESGSGPSHSHNSISVNSJSJMSKSVKSLSLESMSMRSNSENSOSOMSRSURSSSSD"
    "STSTPSVSLVSXSXMSYSYRSZSWZTCTCATDTCDTFATFTGTGOTHTHATJTJKTKTKLTLTLSTMTKMTNTUNTOTON"
    "TRTURTTTTOTVTUVTWTWNTZTZAUAUKRUGUGAUMUMIUSUSAUYURYUZUZBVAVATVCVCTVEVENVGVGBVIVIR"
    "VNVNMVUVUTWFWLFWSWSMXKXKXYEYEMYTMYTZAZAFZMZMBZWZWE";

bool cfg_geo_country_code3(const char *alpha2, char out[4])
{
    if (strlen(alpha2) != 2)
        return false;
    for (size_t i = 0; i + 5 < sizeof country_codes; i += 5) {
        if (country_codes[i] == alpha2[0] && country_codes[i + 1] == alpha2[1]) {
            memcpy(out, &country_codes[i + 2], 3);
            out[3] = '\0';
            return true;
        }
    }
    return false;
}

/* ---- utc_offset from the zoneinfo files ---- */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p)
{
    return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/* A zone name as the tz database spells them: letters, digits, '_', '-', '+', '/' between parts,
 * no "." components (so never a path outside the zoneinfo directory). */
static bool zone_name_ok(const char *z)
{
    size_t n = strlen(z);
    if (n == 0 || n > 100 || z[0] == '/' || z[n - 1] == '/')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = z[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-' || c == '+' || (c == '/' && z[i + 1] != '/');
        if (!ok)
            return false;
    }
    return true;
}

/* The offset in seconds at `now` from a TZif file's data block (v1: 4-byte times, v2+: 8-byte). */
static bool tzif_offset(const uint8_t *p, size_t n, size_t tsize, long long now, long *utoff)
{
    if (n < 44 || memcmp(p, "TZif", 4) != 0)
        return false;
    uint32_t isut = be32(p + 20), isstd = be32(p + 24), leap = be32(p + 28), timecnt = be32(p + 32),
             typecnt = be32(p + 36), charcnt = be32(p + 40);
    const uint8_t *times = p + 44, *idx = times + (size_t)timecnt * tsize;
    const uint8_t *types = idx + timecnt;
    size_t need = 44 + (size_t)timecnt * (tsize + 1) + (size_t)typecnt * 6 + charcnt +
                  (size_t)leap * (tsize + 4) + isstd + isut;
    if (typecnt == 0 || need > n)
        return false;
    /* before the first transition (or with none): the first standard-time type */
    size_t type = 0;
    for (size_t i = 0; i < typecnt; i++) {
        if (types[i * 6 + 4] == 0) {
            type = i;
            break;
        }
    }
    for (size_t i = 0; i < timecnt; i++) {
        long long t = tsize == 8 ? (long long)be64(times + i * 8) : (int32_t)be32(times + i * 4);
        if (t > now)
            break;
        type = idx[i] < typecnt ? idx[i] : type;
    }
    *utoff = (int32_t)be32(types + type * 6);
    return true;
}

bool cfg_geo_utc_offset(const char *zone, long long now, int *out)
{
    if (!zone_name_ok(zone))
        return false;
    const char *dir = getenv("TZDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", zone);
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    static const size_t cap = 1 << 16;
    uint8_t *buf = malloc(cap);
    size_t n = buf ? fread(buf, 1, cap, f) : 0;
    fclose(f);
    long utoff = 0;
    bool ok = false;
    if (n >= 44 && memcmp(buf, "TZif", 4) == 0) {
        /* prefer the 64-bit block of version 2+ files, which follows the 32-bit one */
        uint32_t isut = be32(buf + 20), isstd = be32(buf + 24), leap = be32(buf + 28),
                 timecnt = be32(buf + 32), typecnt = be32(buf + 36), charcnt = be32(buf + 40);
        size_t v1 = 44 + (size_t)timecnt * 5 + (size_t)typecnt * 6 + charcnt + (size_t)leap * 8 +
                    isstd + isut;
        if (buf[4] >= '2' && v1 < n)
            ok = tzif_offset(buf + v1, n - v1, 8, now, &utoff);
        if (!ok)
            ok = tzif_offset(buf, n, 4, now, &utoff);
    }
    free(buf);
    if (!ok)
        return false;
    long a = utoff < 0 ? -utoff : utoff;
    int hhmm = (int)(a / 3600 * 100 + a % 3600 / 60);
    *out = utoff < 0 ? -hhmm : hhmm;
    return true;
}
