/* tier.c: the native tier's manager. Counts calls, loop iterations (interp.c) and samples
 * (tier_sample.c), queues hot functions for a background thread that emits C (native_gen.c),
 * compiles a batch with the system C compiler into a shared object, loads it with dlopen and
 * publishes each function with one atomic store. Compiled code is cached on disk, one reference
 * file per function keyed by a hash of its generated C, the ABI version and the compiler's
 * identity. When a quick compiler (tcc) is installed, a hot batch is first compiled with it (a
 * tenth of a second instead of minutes of gcc for a JS guest's hot set) and published at once; an
 * optimize job then compiles the same functions with the system compiler and publishes that code
 * over it. */
#include "grow.h"
#include "native.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define BATCH_MAX 64
/* default budget of a batch in internal code words (FWE_TIER_BATCH_WORDS): ~80 KB of C, a second
 * or two of gcc -O2 on this machine */
#define FWE_TIER_BATCH_WORDS 4000u
/* -fsignaling-nans: no folding of x*1, x-0, ... that would turn a signalling NaN quiet */
#define CFLAGS_TEXT                                                                                \
    "-O2 -fPIC -shared -w -fno-semantic-interposition -fno-math-errno -fsignaling-nans "           \
    "-falign-loops=32"
/* functions above this many code words are compiled with -O1 (FWE_TIER_O1_WORDS): gcc -O2's time
 * and memory grow faster than linearly (SpiderMonkey's interpreter loop, 46k words: -O2 243 s and
 * 570 MB, -O1 122 s and 320 MB on the loaded 2-core VM) */
#define FWE_TIER_O1_WORDS 20000u

struct fwe_tier_mod {
    uint8_t *state; /* per def: 0 idle, 1 queued, 2 native, 3 stays interpreted */
    void **handles; /* dlopen handles (closed with the module) */
    uint32_t nhandles, cap_handles;
    pthread_mutex_t sync_lock; /* native mode: one synchronous compile of the module */
    bool all_done;
    bool prewarm_queued; /* the hot profile's functions were looked up (auto mode) */
};
enum { ST_IDLE, ST_QUEUED, ST_NATIVE, ST_INTERP };

typedef struct job {
    const fwe_module *m;
    uint32_t def;
    uint32_t words; /* size of its internal code: small functions are compiled first */
    uint32_t *part; /* JOB_PREWARM_PART: functions of the profile to publish (owned), `words` */
} job;

/* One background compiler thread. */
typedef struct worker_state {
    const fwe_module *current; /* the module it compiles for right now */
    bool optimizing;           /* running an optimize job */
    pid_t child;               /* the compiler it waits for (killed when its module goes away) */
    bool cancel;               /* the module of the running compile was freed */
} worker_state;
#define WORKERS_MAX 4
#define JOB_PREWARM UINT32_MAX /* job.def: publish the module's functions in the hot profile */
#define JOB_PREWARM_PART (UINT32_MAX - 1) /* job.def: publish job.part[0 .. job.words) */
#define JOB_OPTIMIZE (UINT32_MAX - 2)     /* job.def: recompile job.part[0 .. job.words) with cc */
#define IS_FN_JOB(def) ((def) < JOB_OPTIMIZE)

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_work = PTHREAD_COND_INITIALIZER;
static pthread_cond_t g_idle = PTHREAD_COND_INITIALIZER;
static job *g_queue;
static uint32_t g_nqueue, g_capqueue;
static worker_state g_w[WORKERS_MAX];
static uint32_t g_nworkers;                    /* threads started */
static _Thread_local worker_state *tls_worker; /* this thread's state when it is a compiler */
static int g_mode = -1; /* fwe_tier_mode, -1 = not chosen yet (FWE_TIER or auto) */
static uint64_t g_published;
static fwe_tier_stats g_stats;  /* under g_lock */
static uint64_t g_first_hot_ns; /* when the first function was queued (CLOCK_MONOTONIC) */

uint64_t fwe_tier_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A function's tier state changes under g_lock: the hot path and prewarm read it there. */
static void set_state(struct fwe_tier_mod *t, uint32_t def, uint8_t st)
{
    pthread_mutex_lock(&g_lock);
    t->state[def] = st;
    pthread_mutex_unlock(&g_lock);
}

static uint32_t env_u32(const char *name, uint32_t dflt, uint32_t max)
{
    const char *env = getenv(name);
    long v = env && *env ? strtol(env, NULL, 10) : 0;
    return v > 0 ? (uint32_t)(v < (long)max ? v : (long)max) : dflt;
}

/* FWE_TIER_LOG=1: one stderr line per batch and when the queue drains; 2: also one line per
 * function (benchmarks, tuning). 0 when unset. */
static int tier_log(void)
{
    static int on = -1;
    int v = __atomic_load_n(&on, __ATOMIC_RELAXED);
    if (v < 0) {
        const char *env = getenv("FWE_TIER_LOG");
        v = env && *env ? (int)strtol(env, NULL, 10) : 0;
        v = v < 0 ? 0 : v;
        __atomic_store_n(&on, v, __ATOMIC_RELAXED);
    }
    return v;
}

/* ---------- mode ---------- */

bool fwe_tier_parse(const char *s, fwe_tier_mode *out)
{
    if (!s)
        return false;
    if (!strcmp(s, "interp"))
        *out = FWE_TIER_INTERP;
    else if (!strcmp(s, "auto"))
        *out = FWE_TIER_AUTO;
    else if (!strcmp(s, "native"))
        *out = FWE_TIER_NATIVE;
    else
        return false;
    return true;
}

fwe_tier_mode fwe_tier_get(void)
{
    int m = __atomic_load_n(&g_mode, __ATOMIC_ACQUIRE);
    if (m >= 0)
        return (fwe_tier_mode)m;
    fwe_tier_mode mode = FWE_TIER_AUTO;
    const char *env = getenv("FWE_TIER");
    if (env && *env && !fwe_tier_parse(env, &mode))
        fprintf(stderr, "fastlike: FWE_TIER=%s is not interp, auto or native; using auto\n", env);
    __atomic_store_n(&g_mode, (int)mode, __ATOMIC_RELEASE);
    return mode;
}

void fwe_tier_set(fwe_tier_mode mode)
{
    __atomic_store_n(&g_mode, (int)mode, __ATOMIC_RELEASE);
}

/* ---------- the compiler ---------- */

static pthread_once_t g_probe_once = PTHREAD_ONCE_INIT;
static bool g_cc_ok;
static char g_cc[256];
static char g_cc_id[256];       /* the compiler binary's path, size and mtime (probe) */
static uint64_t g_prelude_hash; /* of the C every batch starts with (probe): part of cache keys */

static const char *cc_path(void)
{
    const char *cc = getenv("FWE_CC");
    return cc && *cc ? cc : "cc";
}

/* Runs argv with stdout and stderr into `log_fd` (when >= 0); returns the exit status, 128 for a
 * signal, -1 when it could not start. A background thread's child is recorded in its state so
 * that freeing its module can stop it. */
static int run_cmd(char *const argv[], int log_fd)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (log_fd >= 0) {
        posix_spawn_file_actions_adddup2(&fa, log_fd, 1);
        posix_spawn_file_actions_adddup2(&fa, log_fd, 2);
    }
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    if (tls_worker) {
        pthread_mutex_lock(&g_lock);
        tls_worker->child = pid;
        if (tls_worker->cancel) /* the module went away before the child was recorded */
            kill(pid, SIGKILL);
        pthread_mutex_unlock(&g_lock);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            break;
    if (tls_worker) {
        pthread_mutex_lock(&g_lock);
        tls_worker->child = 0;
        pthread_mutex_unlock(&g_lock);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* The compiler binary `name` resolves to through PATH (symlinks followed by stat), or false. */
static bool find_compiler(const char *name, char *path, size_t n, struct stat *st)
{
    if (strchr(name, '/')) {
        snprintf(path, n, "%s", name);
        return stat(path, st) == 0 && S_ISREG(st->st_mode) && access(path, X_OK) == 0;
    }
    const char *dirs = getenv("PATH");
    if (!dirs || !*dirs)
        dirs = "/usr/local/bin:/usr/bin:/bin";
    while (*dirs) {
        const char *end = strchr(dirs, ':');
        size_t len = end ? (size_t)(end - dirs) : strlen(dirs);
        if (snprintf(path, n, "%.*s/%s", (int)len, len ? dirs : ".", name) < (int)n &&
            stat(path, st) == 0 && S_ISREG(st->st_mode) && access(path, X_OK) == 0)
            return true;
        dirs += len + (end ? 1 : 0);
    }
    return false;
}

/* Finds the compiler without running it (a process start costs up to a few hundred ms on a
 * loaded machine, and cached code needs none): its identity for cache keys is the resolved
 * binary's path, size and modification time, which change when the compiler is replaced. */
static uint64_t fnv(const void *p, size_t n, uint64_t h);

static void probe(void)
{
    fwe_text pre = {0};
    fwe_native_prelude(&pre);
    fwe_native_simd_prelude(&pre);
    g_prelude_hash = fnv(pre.p ? pre.p : "", pre.len, UINT64_C(0xcbf29ce484222325));
    fwe_text_free(&pre);
    snprintf(g_cc, sizeof g_cc, "%s", cc_path());
    char path[512];
    struct stat st;
    if (!find_compiler(g_cc, path, sizeof path, &st)) {
        fprintf(stderr,
                "fastlike: native tier off: cannot run the C compiler '%s' (not found or not "
                "executable); the interpreter serves every function\n",
                g_cc);
        return;
    }
    snprintf(g_cc_id, sizeof g_cc_id, "%.200s %lld %lld", path, (long long)st.st_size,
             (long long)st.st_mtime);
    g_cc_ok = true;
}

bool fwe_tier_compiler_available(void)
{
    pthread_once(&g_probe_once, probe);
    return g_cc_ok;
}

/* The quick compiler (FWE_TIER_QUICK: a compiler name, default tcc; "off" or 0: none). Its code
 * is not cached: compiling again is as cheap as reading the cache. */
static pthread_once_t g_qprobe_once = PTHREAD_ONCE_INIT;
static bool g_qcc_ok;
static char g_qcc[256];

static void qprobe(void)
{
    const char *env = getenv("FWE_TIER_QUICK");
    if (env && (!strcmp(env, "off") || !strcmp(env, "0")))
        return;
    snprintf(g_qcc, sizeof g_qcc, "%s", env && *env ? env : "tcc");
    char path[512];
    struct stat st;
    g_qcc_ok = find_compiler(g_qcc, path, sizeof path, &st);
    if (!g_qcc_ok && env && *env)
        fprintf(stderr,
                "fastlike: native tier: quick compiler '%s' (FWE_TIER_QUICK) not found; hot "
                "functions wait for the C compiler\n",
                g_qcc);
}

/* Whether hot batches go through the quick compiler first (auto mode only). */
static bool quick_available(void)
{
    pthread_once(&g_qprobe_once, qprobe);
    return g_qcc_ok && fwe_tier_get() == FWE_TIER_AUTO;
}

/* ---------- the disk cache ---------- */

static uint64_t fnv(const void *p, size_t n, uint64_t h)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

typedef struct hash128 {
    uint64_t a, b;
} hash128;

static hash128 hash_text(const char *t, size_t n, bool o1)
{
    hash128 h = {UINT64_C(0xcbf29ce484222325), UINT64_C(0x84222325cbf29ce4)};
    char hdr[640];
    int k = snprintf(hdr, sizeof hdr, "abi %d prelude %016llx cc %s flags %s%s\n", FWE_NABI_VERSION,
                     (unsigned long long)g_prelude_hash, g_cc_id, CFLAGS_TEXT, o1 ? " -O1" : "");
    size_t hn = k < 0 ? 0 : (size_t)k < sizeof hdr ? (size_t)k : sizeof hdr - 1;
    h.a = fnv(hdr, hn, h.a);
    h.b = fnv(hdr, hn, h.b ^ 0x5bd1e995);
    h.a = fnv(t, n, h.a);
    h.b = fnv(t, n, h.b ^ UINT64_C(0x9e3779b97f4a7c15));
    return h;
}

static void hash_hex(hash128 h, char out[33])
{
    snprintf(out, 33, "%016llx%016llx", (unsigned long long)h.a, (unsigned long long)h.b);
}

static bool mkdirs(const char *path)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(buf, 0755);
            *p = '/';
        }
    return mkdir(buf, 0755) == 0 || errno == EEXIST;
}

/* Whether dir is a directory this process can create files in; errno says why not. */
static bool dir_writable(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0)
        return false;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return false;
    }
    return access(dir, W_OK | X_OK) == 0;
}

static char g_cache_dir[1024];
static pthread_once_t g_cache_once = PTHREAD_ONCE_INIT;

static void cache_dir_init(void)
{
    char *dir = g_cache_dir;
    const char *env = getenv("FWE_CODE_CACHE");
    if (env && !strcmp(env, "off"))
        dir[0] = 0;
    else if (env && *env)
        snprintf(dir, sizeof g_cache_dir, "%s", env);
    else if (getenv("XDG_CACHE_HOME") && *getenv("XDG_CACHE_HOME"))
        snprintf(dir, sizeof g_cache_dir, "%s/fastlike/code", getenv("XDG_CACHE_HOME"));
    else if (getenv("HOME") && *getenv("HOME"))
        snprintf(dir, sizeof g_cache_dir, "%s/.cache/fastlike/code", getenv("HOME"));
    /* a directory that cannot be made or written (another user's, made by a run under sudo; a
     * read-only file system) would fail every compile: compile in a temporary directory instead */
    if (dir[0] && (!mkdirs(dir) || !dir_writable(dir))) {
        fprintf(stderr,
                "fastlike: native tier: code cache %s: %s; compiled code is not cached (set "
                "FWE_CODE_CACHE to a writable directory)\n",
                dir, strerror(errno));
        dir[0] = 0;
    }
}

/* The cache directory, or "" when caching is off (FWE_CODE_CACHE=off) or impossible. */
static const char *cache_dir(void)
{
    pthread_once(&g_cache_once, cache_dir_init);
    return g_cache_dir;
}

/* Shared objects of the cache this process verified already (a batch's object holds up to 64
 * functions: reading and checksumming it once is enough). */
static pthread_mutex_t g_verified_lock = PTHREAD_MUTEX_INITIALIZER;
static char (*g_verified)[80];
static uint32_t g_nverified, g_capverified;

static bool verified(const char *soname, bool add)
{
    bool found = false;
    pthread_mutex_lock(&g_verified_lock);
    for (uint32_t i = 0; i < g_nverified && !found; i++)
        found = !strcmp(g_verified[i], soname);
    if (!found && add) {
        if (g_nverified < 65536)
            fwe_grow((void **)&g_verified, &g_capverified, g_nverified + 1, 64, sizeof *g_verified);
        if (g_nverified < g_capverified)
            snprintf(g_verified[g_nverified++], sizeof *g_verified, "%s", soname);
    }
    pthread_mutex_unlock(&g_verified_lock);
    return found;
}

static uint64_t cache_max_bytes(void)
{
    const char *env = getenv("FWE_CODE_CACHE_MAX_MB");
    long mb = env ? strtol(env, NULL, 10) : 0;
    return (uint64_t)(mb > 0 ? mb : 256) << 20;
}

typedef struct centry {
    char name[64];
    time_t mtime;
    off_t size;
} centry;

static int by_mtime(const void *a, const void *b)
{
    const centry *x = a, *y = b;
    return x->mtime < y->mtime ? -1 : x->mtime > y->mtime;
}

/* Keeps the cache under its bound: removes the oldest files down to 3/4 of it. */
static void cache_prune(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    centry *v = NULL;
    uint32_t n = 0, cap = 0;
    uint64_t total = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof v->name)
            continue;
        char path[1200];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (!fwe_grow((void **)&v, &cap, n + 1, 64, sizeof *v))
            break;
        snprintf(v[n].name, sizeof v[n].name, "%s", de->d_name);
        v[n].mtime = st.st_mtime;
        v[n].size = st.st_size;
        total += (uint64_t)st.st_size;
        n++;
    }
    closedir(d);
    uint64_t max = cache_max_bytes();
    if (total > max && v) {
        qsort(v, n, sizeof *v, by_mtime);
        for (size_t i = 0; i < n && total > max / 4 * 3; i++) {
            char path[1200];
            snprintf(path, sizeof path, "%s/%s", dir, v[i].name);
            if (unlink(path) == 0)
                total -= (uint64_t)v[i].size;
        }
    }
    free(v);
}

static bool read_file(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    uint32_t cap = 0, n = 0;
    char *b = NULL;
    for (;;) {
        if (!fwe_grow((void **)&b, &cap, n + 1, 4096, 1)) { /* twice the room once it is full */
            free(b);
            fclose(f);
            return false;
        }
        n += (uint32_t)fread(b + n, 1, cap - n, f);
        if (n < cap)
            break;
    }
    fclose(f);
    *out = b;
    *len = n;
    return true;
}

/* Writes data to path atomically (a unique temporary name, then rename). */
static bool write_atomic(const char *path, const void *data, size_t len)
{
    static unsigned counter;
    char tmp[1300];
    if (snprintf(tmp, sizeof tmp, "%s.tmp%d.%u", path, (int)getpid(),
                 __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED)) >= (int)sizeof tmp)
        return false;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return false;
    bool ok = write(fd, data, len) == (ssize_t)len;
    ok = close(fd) == 0 && ok;
    if (ok)
        ok = rename(tmp, path) == 0;
    if (!ok)
        unlink(tmp);
    return ok;
}

/* dlopen, dlsym and dlclose, one at a time. The dynamic loader orders them with a lock of its own,
 * which ThreadSanitizer does not see: one module's compiler thread opening a shared object that
 * another module shares while that module's thread closes it looked like a race on the loader's
 * memory (CI, test_hc_kv, once time-based hotness compiled its guests). Our lock makes the order
 * visible; it costs nothing the loader's lock does not already. */
static pthread_mutex_t g_dl_lock = PTHREAD_MUTEX_INITIALIZER;

static void *tier_dlopen(const char *path)
{
    pthread_mutex_lock(&g_dl_lock);
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    pthread_mutex_unlock(&g_dl_lock);
    return h;
}

static void *tier_dlsym(void *h, const char *sym)
{
    pthread_mutex_lock(&g_dl_lock);
    void *p = dlsym(h, sym);
    pthread_mutex_unlock(&g_dl_lock);
    return p;
}

static void tier_dlclose(void *h)
{
    pthread_mutex_lock(&g_dl_lock);
    dlclose(h);
    pthread_mutex_unlock(&g_dl_lock);
}

/* The shared object named by function hash `fh`'s reference file, verified against the size and
 * checksum recorded there, opened; NULL when absent or not intact. */
static void *cache_open(const char *dir, const char *fh)
{
    char path[1200], *ref = NULL, *so = NULL;
    size_t rlen = 0, slen = 0;
    snprintf(path, sizeof path, "%s/%s.ref", dir, fh);
    if (!read_file(path, &ref, &rlen))
        return NULL;
    char soname[80] = "";
    unsigned long long size = 0, sum = 0;
    char fmt[64];
    snprintf(fmt, sizeof fmt, "%%70s %%llu %%llx");
    bool ok = rlen < 200 && (ref[rlen < 200 ? rlen : 199] = 0, true) &&
              sscanf(ref, fmt, soname, &size, &sum) == 3 && !strchr(soname, '/');
    free(ref);
    if (!ok)
        return NULL;
    snprintf(path, sizeof path, "%s/%s", dir, soname);
    if (verified(soname, false))
        return tier_dlopen(path);
    if (!read_file(path, &so, &slen))
        return NULL;
    ok = slen == size && fnv(so, slen, UINT64_C(0xcbf29ce484222325)) == sum;
    free(so);
    if (!ok)
        return NULL;
    void *h = tier_dlopen(path);
    if (h)
        verified(soname, true);
    return h;
}

/* ---------- compiling a batch ---------- */

/* Functions longer than this (internal code words) stay interpreted: the C compiler's time and
 * memory grow faster than linearly with function size (FWE_TIER_MAX_WORDS). High enough for
 * SpiderMonkey's interpreter loop (46k words), where a JS guest spends most of its time. */
static uint32_t max_words(void)
{
    const char *env = getenv("FWE_TIER_MAX_WORDS");
    long n = env ? strtol(env, NULL, 10) : 0;
    return n > 0 ? (uint32_t)n : 60000u;
}

/* ---------- strict mode (FWE_TIER_STRICT) ---------- */

/* FWE_TIER_STRICT unset, empty or 0: off. Otherwise every function that stays interpreted is
 * named on stderr with the reason, and counted as a violation unless the reason is one of the
 * instruction names the variable lists (space or comma separated; "1" lists none). */
static uint32_t g_strict_violations;
static char g_strict_first[200];

static const char *strict_env(void)
{
    const char *env = getenv("FWE_TIER_STRICT");
    return env && *env && strcmp(env, "0") != 0 ? env : NULL;
}

static bool strict_allows(const char *list, const char *op)
{
    size_t n = strlen(op);
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, " ,");
        if (len == n && n && !strncmp(p, op, n))
            return true;
        p += len;
        p += strspn(p, " ,");
    }
    return false;
}

/* Reports that function `def` of m stays interpreted; op names the instruction responsible, or
 * is NULL when `why` alone says it. */
static void strict_refused(const fwe_module *m, uint32_t def, const char *op, const char *why)
{
    const char *list = strict_env();
    if (!list)
        return;
    bool allowed = op && strict_allows(list, op);
    char line[sizeof g_strict_first];
    snprintf(line, sizeof line, "function %u stays interpreted: %s%s%s", m->nfunc_imports + def,
             why, op ? " " : "", op ? op : "");
    fprintf(stderr, "fastlike: native tier strict: %s%s\n", line,
            allowed ? " (allowed by FWE_TIER_STRICT)" : "");
    if (allowed)
        return;
    pthread_mutex_lock(&g_lock);
    if (g_strict_violations++ == 0)
        snprintf(g_strict_first, sizeof g_strict_first, "%s", line);
    pthread_mutex_unlock(&g_lock);
}

uint32_t fwe_tier_strict_violations(char *first, size_t n)
{
    pthread_mutex_lock(&g_lock);
    uint32_t v = g_strict_violations;
    if (first && n)
        snprintf(first, n, "%s", v ? g_strict_first : "");
    pthread_mutex_unlock(&g_lock);
    return v;
}

typedef struct unit {
    uint32_t def;
    const fwe_code *code;
    fwe_text text;
    char fh[33];
    char sym[48];
    fwe_nfn fn;
    uint32_t dup; /* 1 + the earlier unit of the batch with the same generated C, else 0 */
    bool cached;  /* found in the disk cache */
    bool o1;      /* compiled with -O1 (a huge function) */
    bool quick;   /* its code came from the quick compiler */
} unit;

static void publish(const fwe_module *m, unit *u)
{
    fwe_ndef *d = &m->ndefs[u->def];
    d->code = u->code;
    d->words = u->code->words;
    d->frame_slots = u->code->frame_slots;
    __atomic_store_n(&d->fn, u->fn, __ATOMIC_RELEASE);
    __atomic_add_fetch(&g_published, 1, __ATOMIC_RELAXED);
}

static void keep_handle(const fwe_module *m, void *h)
{
    struct fwe_tier_mod *t = m->tier;
    pthread_mutex_lock(&g_lock);
    fwe_grow((void **)&t->handles, &t->cap_handles, t->nhandles + 1, 8, sizeof *t->handles);
    if (t->nhandles < t->cap_handles)
        t->handles[t->nhandles++] = h;
    pthread_mutex_unlock(&g_lock);
}

enum { CU_O2, CU_O1, CU_QUICK }; /* what compile_units compiles */

/* A compiler that fails every batch (a C compiler without the C library's headers, a full disk,
 * a quick compiler that cannot build shared objects) would fail each hot function again, with a
 * line and two kept files each. After FAIL_MAX failures in a row it is not run again in this
 * process: one more line says so, and only the first failure's files are kept. Cached code is
 * still used. Index: 1 for the quick compiler, 0 for cc; g_lock. */
#define FAIL_MAX 3
static uint32_t g_fails_in_a_row[2];
static bool g_compiler_dropped[2];

static bool compiler_dropped(bool quick)
{
    pthread_mutex_lock(&g_lock);
    bool d = g_compiler_dropped[quick];
    pthread_mutex_unlock(&g_lock);
    return d;
}

/* Counts a compile of n functions that exited rc and says what the user needs to know, in the
 * order of the failures (under g_lock). Returns false when the failure's source (cpath) and
 * messages (logp) need not be kept: only the first failure in a row keeps them. */
static bool count_compile(bool quick, int rc, uint32_t n, const char *cpath, const char *logp)
{
    const char *name = quick ? g_qcc : g_cc;
    pthread_mutex_lock(&g_lock);
    uint32_t nth = rc ? ++g_fails_in_a_row[quick] : (g_fails_in_a_row[quick] = 0);
    if (nth == 1)
        fprintf(stderr,
                "fastlike: native tier: compiling %u functions failed (%s exit %d); see %s and "
                "%s\n",
                n, name, rc, cpath, logp);
    if (nth == FAIL_MAX) {
        g_compiler_dropped[quick] = true;
        fprintf(stderr,
                "fastlike: native tier: %s failed on %u batches in a row and is not run again; "
                "%s\n",
                name, FAIL_MAX,
                quick ? "hot functions wait for the C compiler"
                      : "functions not in the code cache stay interpreted");
    }
    pthread_mutex_unlock(&g_lock);
    return nth <= 1;
}

/* Whether unit x (without code yet) belongs in a compile_units run of kind `which`. */
static bool unit_in(const unit *x, int which)
{
    return !x->fn && !x->dup && (which == CU_QUICK || x->o1 == (which == CU_O1));
}

/* Compiles the units without code of kind `which` into one shared object and returns its handle:
 * with cc at -O2 or -O1 (cached on disk), or with the quick compiler (a temporary file). */
static void *compile_units(const char *dir, unit *u, uint32_t n, int which)
{
    bool o1 = which == CU_O1, quick = which == CU_QUICK;
    if (quick)
        dir = "";
    fwe_text src = {0};
    fwe_native_prelude(&src);
    bool simd = false; /* the SIMD helpers cost the compiler ~10 ms: only when used */
    for (uint32_t i = 0; i < n; i++)
        simd |= unit_in(&u[i], which) && u[i].text.needs_simd;
    if (simd)
        fwe_native_simd_prelude(&src);
    hash128 bh = {(uint64_t)which, 0};
    for (uint32_t i = 0; i < n; i++) {
        if (!unit_in(&u[i], which))
            continue;
        fwe_text_add(&src, "#define FWE_NF %s\n", u[i].sym);
        fwe_text_add(&src, "%s", u[i].text.p);
        fwe_text_add(&src, "#undef FWE_NF\n");
        bh.a = fnv(u[i].fh, 32, bh.a ^ UINT64_C(0xcbf29ce484222325));
        bh.b = fnv(u[i].fh, 32, bh.b + 0x1234567);
    }
    if (src.oom) {
        fwe_text_free(&src);
        return NULL;
    }
    char bhex[33], so[1200], cpath[1200], tmpso[1200], logp[1200];
    hash_hex(bh, bhex);
    char tmpdir[64] = "";
    const char *d = dir;
    if (!d[0]) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/fwe-code-XXXXXX");
        if (!mkdtemp(tmpdir)) {
            fwe_text_free(&src);
            return NULL;
        }
        d = tmpdir;
    }
    static unsigned counter;
    unsigned k = __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
    snprintf(so, sizeof so, "%s/b%s.so", d, bhex);
    snprintf(cpath, sizeof cpath, "%s/b%s.c.tmp%d.%u.c", d, bhex, (int)getpid(), k);
    snprintf(tmpso, sizeof tmpso, "%s/b%s.so.tmp%d.%u", d, bhex, (int)getpid(), k);
    snprintf(logp, sizeof logp, "%s/b%s.log.tmp%d.%u", d, bhex, (int)getpid(), k);
    void *h = NULL;
    bool keep = true; /* a failed compile's source and log stay for a bug report */
    FILE *f = fopen(cpath, "wb");
    bool ok = f && fwrite(src.p, 1, src.len, f) == src.len;
    if (f)
        ok = fclose(f) == 0 && ok;
    fwe_text_free(&src);
    if (ok) {
        int logfd = open(logp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        char *argv[] = {quick ? g_qcc : g_cc,
                        o1 ? "-O1" : "-O2",
                        "-fPIC",
                        "-shared",
                        "-w",
                        "-fno-semantic-interposition",
                        "-fno-math-errno",
                        "-fsignaling-nans",
                        "-falign-loops=32", /* matmul -20 %: gcc places loop headers better */
                        "-o",
                        tmpso,
                        cpath,
                        "-lm",
                        NULL};
        int rc = run_cmd(argv, logfd);
        if (logfd >= 0)
            close(logfd);
        pthread_mutex_lock(&g_lock);
        bool cancelled = tls_worker && tls_worker->cancel;
        pthread_mutex_unlock(&g_lock);
        if (rc != 0 && cancelled) {
            ok = false;
            keep = false;
        } else {
            keep = count_compile(quick, rc, n, cpath, logp);
            ok = rc == 0;
        }
    }
    if (ok || !keep) {
        /* FWE_TIER_KEEP_C=1 keeps every batch's source (tools/spike measures compilers on it) */
        if (!ok || !getenv("FWE_TIER_KEEP_C"))
            unlink(cpath);
        unlink(logp);
    }
    if (ok && rename(tmpso, so) != 0)
        ok = false;
    if (!ok)
        unlink(tmpso);
    if (ok) {
        char *bytes = NULL;
        size_t len = 0;
        if (d == dir && read_file(so, &bytes, &len)) {
            char ref[200], rpath[1200];
            int rl = snprintf(ref, sizeof ref, "b%s.so %zu %llx\n", bhex, len,
                              (unsigned long long)fnv(bytes, len, UINT64_C(0xcbf29ce484222325)));
            for (uint32_t i = 0; i < n; i++) {
                if (!unit_in(&u[i], which))
                    continue;
                snprintf(rpath, sizeof rpath, "%s/%s.ref", d, u[i].fh);
                write_atomic(rpath, ref, (size_t)rl);
            }
        }
        free(bytes);
        h = tier_dlopen(so);
        if (!h)
            fprintf(stderr, "fastlike: native tier: loading compiled code failed: %s\n", dlerror());
        if (d == dir)
            cache_prune(dir);
    }
    if (tmpdir[0]) {
        unlink(so);
        rmdir(tmpdir);
    }
    return h;
}

/* What one batch did (added to g_stats). */
typedef struct batch_result {
    uint32_t cached, compiled, too_large, refused, failed;
    uint32_t quick;     /* published from the quick compiler (an optimize job follows) */
    uint32_t optimized; /* quick code replaced by cc's (optimize job) */
    uint64_t cc_ns;     /* time in the C compiler */
} batch_result;

static void profile_add_published(const fwe_module *m, const unit *u, uint32_t nu);
static void requeue_if_hot(const fwe_module *m, uint32_t def);

/* What compile_defs does with functions not in the disk cache. */
typedef enum cd_mode {
    CD_PREWARM,  /* nothing: they go back to idle (the hot profile) */
    CD_HOT,      /* quick compiler first when there is one, then an optimize job; else cc */
    CD_CC,       /* cc (-tier native, or no quick compiler) */
    CD_OPTIMIZE, /* cc, over quick code already published (an optimize job) */
} cd_mode;

static void push_optimize(const fwe_module *m, const unit *u, uint32_t nu);

/* Generates, finds in the cache or compiles (see cd_mode), and publishes `defs` of `m`. */
static void compile_defs(const fwe_module *m, const uint32_t *defs, uint32_t n, batch_result *res,
                         cd_mode mode)
{
    bool cache_only = mode == CD_PREWARM, optimize = mode == CD_OPTIMIZE;
    struct fwe_tier_mod *t = m->tier;
    memset(res, 0, sizeof *res);
    unit *u = calloc(n ? n : 1, sizeof *u);
    if (!u)
        return;
    bool cc = fwe_tier_compiler_available();
    const char *dir = cache_dir();
    uint32_t nu = 0, missing[2] = {0, 0};
    for (uint32_t i = 0; i < n; i++) {
        uint32_t def = defs[i];
        const fwe_code *code = cc ? fwe_module_code(m, def) : NULL;
        unit *x = &u[nu];
        bool large = code && code->nwords > max_words();
        if (!code || large || !fwe_native_gen(m, def, code, &x->text) || x->text.oom) {
            char op[64];
            if (optimize) { /* out of memory: the quick code stays */
                fwe_text_free(&x->text);
                continue;
            }
            if (!code)
                strict_refused(m, def, NULL, cc ? "no code" : "no C compiler");
            else if (large)
                strict_refused(m, def, NULL, "larger than FWE_TIER_MAX_WORDS");
            else if (fwe_native_refusal(m, def, code, op, sizeof op))
                strict_refused(m, def, op, "the generator does not handle");
            else
                strict_refused(m, def, NULL,
                               "the generator refused it (malformed code or out of memory)");
            fwe_text_free(&x->text);
            set_state(t, def, ST_INTERP);
            if (large)
                res->too_large++;
            else if (code)
                res->refused++;
            if (tier_log() >= 2 && code)
                fprintf(stderr, "fastlike: tier: function %u: %u words, %s\n",
                        m->nfunc_imports + def, code->nwords,
                        large ? "too large, stays interpreted" : "refused by the generator");
            continue;
        }
        x->def = def;
        x->code = code;
        x->o1 = code->nwords > env_u32("FWE_TIER_O1_WORDS", FWE_TIER_O1_WORDS, UINT32_MAX);
        hash_hex(hash_text(x->text.p, x->text.len, x->o1), x->fh);
        snprintf(x->sym, sizeof x->sym, "fwe_nf_%s", x->fh);
        /* two functions with the same code (common in large modules) share one definition: the
         * same symbol twice would make the whole batch fail to compile */
        for (uint32_t j = 0; j < nu && !x->dup; j++)
            if (!strcmp(u[j].fh, x->fh))
                x->dup = u[j].dup ? u[j].dup : j + 1;
        if (x->dup) {
            x->cached = u[x->dup - 1].cached;
            res->cached += x->cached;
            nu++;
            continue;
        }
        if (dir[0]) {
            void *h = cache_open(dir, x->fh);
            if (h) {
                x->fn = (fwe_nfn)(uintptr_t)tier_dlsym(h, x->sym);
                if (x->fn)
                    keep_handle(m, h);
                else
                    tier_dlclose(h);
            }
        }
        x->cached = x->fn != NULL;
        if (x->fn)
            res->cached++;
        else
            missing[x->o1]++;
        if (tier_log() >= 2)
            fprintf(stderr, "fastlike: tier: function %u: %u words, %zu bytes of C, %s\n",
                    m->nfunc_imports + def, code->nwords, x->text.len,
                    x->fn ? "cached" : "to compile");
        nu++;
    }
    uint64_t t0 = fwe_tier_now_ns();
    void *h[3] = {NULL, NULL, NULL};
    bool quick =
        mode == CD_HOT && missing[0] + missing[1] && quick_available() && !compiler_dropped(true);
    if (quick) {
        h[CU_QUICK] = compile_units(dir, u, nu, CU_QUICK);
        quick = h[CU_QUICK] != NULL; /* else cc compiles them now, unless the module went away */
        if (quick)
            keep_handle(m, h[CU_QUICK]);
        pthread_mutex_lock(&g_lock);
        bool cancelled = tls_worker && tls_worker->cancel;
        pthread_mutex_unlock(&g_lock);
        if (cancelled)
            cache_only = true; /* publish nothing new: the module is being freed */
    }
    for (int o1 = 0; o1 < 2 && !cache_only && !quick && !compiler_dropped(false); o1++)
        if (missing[o1]) {
            h[o1] = compile_units(dir, u, nu, o1 ? CU_O1 : CU_O2);
            if (h[o1])
                keep_handle(m, h[o1]);
        }
    if (missing[0] + missing[1] && !cache_only)
        res->cc_ns = fwe_tier_now_ns() - t0;
    for (uint32_t i = 0; i < nu; i++) {
        if (u[i].dup) {
            u[i].fn = u[u[i].dup - 1].fn; /* resolved already: earlier in this loop */
            u[i].quick = u[u[i].dup - 1].quick;
        }
        void *hi = quick ? h[CU_QUICK] : h[u[i].o1];
        if (!u[i].fn && hi) {
            u[i].fn = (fwe_nfn)(uintptr_t)tier_dlsym(hi, u[i].sym);
            u[i].quick = quick;
        }
        if (u[i].fn) {
            publish(m, &u[i]);
            if (optimize) {
                res->optimized++;
            } else {
                set_state(t, u[i].def, ST_NATIVE);
                res->compiled += !u[i].cached && !u[i].quick;
                res->quick += u[i].quick;
            }
        } else if (cache_only) {
            requeue_if_hot(m, u[i].def);
        } else if (optimize) {
            res->failed++; /* the quick code stays */
        } else {
            set_state(t, u[i].def, ST_INTERP);
            strict_refused(m, u[i].def, NULL, "compiling or loading its C failed");
            res->failed++;
        }
        fwe_text_free(&u[i].text);
    }
    if (!cache_only && !optimize)
        profile_add_published(m, u, nu);
    if (quick)
        push_optimize(m, u, nu);
    free(u);
}

/* ---------- the hot profile ----------
 * DIR/hot.list names the functions that ran native code before, one line per function: a hash of
 * its wasm body. After a module's first function gets hot, a compiler thread looks up the
 * module's functions in that list and publishes those found in the code cache (`prewarm`), so a
 * restarted server, or a rebuilt app whose functions did not change, does not wait for each to
 * become hot again. FWE_TIER_PROFILE=off disables it. */
#define PROFILE_MAX_BYTES (2u << 20)
static pthread_mutex_t g_prof_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t *g_prof; /* sorted */
static uint32_t g_nprof, g_capprof;
static bool g_prof_loaded;

static bool profile_on(void)
{
    const char *env = getenv("FWE_TIER_PROFILE");
    return !(env && !strcmp(env, "off")) && cache_dir()[0];
}

static uint64_t body_hash(const fwe_module *m, uint32_t def)
{
    const fwe_func_def *d = &m->funcs[def];
    uint64_t h = fnv(d->body, d->body_len, UINT64_C(0xcbf29ce484222325));
    h = fnv(&d->nlocals, sizeof d->nlocals, h);
    return fnv(d->local_types, d->nlocals, h);
}

static bool profile_has_locked(uint64_t h, uint32_t *at)
{
    uint32_t lo = 0, hi = g_nprof;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (g_prof[mid] < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    *at = lo;
    return lo < g_nprof && g_prof[lo] == h;
}

static void profile_insert_locked(uint64_t h)
{
    uint32_t at;
    if (profile_has_locked(h, &at))
        return;
    if (!fwe_grow((void **)&g_prof, &g_capprof, g_nprof + 1, 1024, sizeof *g_prof))
        return;
    memmove(g_prof + at + 1, g_prof + at, (g_nprof - at) * sizeof *g_prof);
    g_prof[at] = h;
    g_nprof++;
}

/* Reads DIR/hot.list once per process (lines of 16 hex digits; anything else is skipped; a file
 * above PROFILE_MAX_BYTES is removed and started afresh). g_prof_lock held. */
static void profile_load_locked(void)
{
    if (g_prof_loaded)
        return;
    g_prof_loaded = true;
    char path[1100], *b = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/hot.list", cache_dir());
    if (!read_file(path, &b, &len))
        return;
    if (len > PROFILE_MAX_BYTES) {
        unlink(path);
        free(b);
        return;
    }
    for (size_t i = 0; i + 17 <= len; i += 17) {
        uint64_t h = 0;
        bool ok = b[i + 16] == '\n';
        for (size_t k = 0; k < 16 && ok; k++) {
            char c = b[i + k];
            int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            ok = v >= 0;
            h = h << 4 | (uint64_t)(v & 15);
        }
        if (ok)
            profile_insert_locked(h);
        else /* resynchronise on the next line */
            while (i + 17 <= len && b[i + 16] != '\n')
                i++;
    }
    free(b);
}

/* Adds the published functions of a batch to the profile (in memory and appended to the file,
 * one write). */
static void profile_add_published(const fwe_module *m, const unit *u, uint32_t nu)
{
    if (!nu || !profile_on())
        return;
    char *buf = malloc((size_t)nu * 17 + 1);
    if (!buf)
        return;
    size_t len = 0;
    pthread_mutex_lock(&g_prof_lock);
    profile_load_locked();
    for (uint32_t i = 0; i < nu; i++) {
        if (!u[i].fn)
            continue;
        uint64_t h = body_hash(m, u[i].def);
        uint32_t at;
        if (profile_has_locked(h, &at))
            continue;
        profile_insert_locked(h);
        snprintf(buf + len, 18, "%016llx\n", (unsigned long long)h);
        len += 17;
    }
    pthread_mutex_unlock(&g_prof_lock);
    if (len) {
        char path[1100];
        snprintf(path, sizeof path, "%s/hot.list", cache_dir());
        int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0) {
            if (write(fd, buf, len) != (ssize_t)len) {
                /* a short write leaves a partial line, skipped when read */
            }
            close(fd);
        }
    }
    free(buf);
}

static void push_job(const fwe_module *m, uint32_t def, uint32_t words);

/* A function of the profile that was not in the cache goes back to idle; when it got hot while
 * it waited, it is queued now (its counter does not call again). */
static void requeue_if_hot(const fwe_module *m, uint32_t def)
{
    pthread_mutex_lock(&g_lock);
    m->tier->state[def] = ST_IDLE;
    bool cancelled = tls_worker && tls_worker->cancel; /* the module is being freed */
    if (!cancelled && __atomic_load_n(&m->hot[def], __ATOMIC_RELAXED) >= m->hot_threshold) {
        const fwe_code *code = fwe_module_code(m, def);
        push_job(m, def, code ? code->nwords : UINT32_MAX);
    }
    pthread_mutex_unlock(&g_lock);
}

static void account(const batch_result *r, uint32_t n, bool prewarm);

static void push_part(const fwe_module *m, uint32_t *defs, uint32_t n);

/* Publishes those of defs[n] (marked queued) that are in the code cache, 64 at a time, and
 * returns how many; the others go back to idle. Stops when the module is being freed. */
static uint64_t prewarm_part(const fwe_module *m, const uint32_t *defs, uint32_t n)
{
    struct fwe_tier_mod *t = m->tier;
    uint64_t published = 0;
    for (uint32_t at = 0; at < n; at += BATCH_MAX) {
        uint32_t chunk = n - at < BATCH_MAX ? n - at : BATCH_MAX;
        pthread_mutex_lock(&g_lock);
        bool cancelled = tls_worker->cancel;
        if (cancelled)
            for (uint32_t i = at; i < n; i++)
                t->state[defs[i]] = ST_IDLE;
        pthread_mutex_unlock(&g_lock);
        if (cancelled)
            break;
        batch_result r;
        compile_defs(m, defs + at, chunk, &r, CD_PREWARM);
        published += r.cached;
        pthread_mutex_lock(&g_lock);
        account(&r, chunk, true);
        pthread_mutex_unlock(&g_lock);
    }
    return published;
}

/* Publishes the functions of `m` named in the profile and present in the code cache; half of
 * them are offered to another compiler thread. */
static void prewarm(const fwe_module *m)
{
    struct fwe_tier_mod *t = m->tier;
    uint32_t n = m->nfuncs - m->nfunc_imports, nc = 0;
    uint32_t *cand = malloc(sizeof(uint32_t) * (n ? n : 1));
    if (!cand)
        return;
    uint64_t t0 = fwe_tier_now_ns();
    pthread_mutex_lock(&g_prof_lock);
    profile_load_locked();
    for (uint32_t def = 0; def < n && g_nprof; def++) {
        uint32_t at;
        if (profile_has_locked(body_hash(m, def), &at))
            cand[nc++] = def;
    }
    pthread_mutex_unlock(&g_prof_lock);
    pthread_mutex_lock(&g_lock);
    uint32_t k = 0;
    for (uint32_t i = 0; i < nc; i++)
        if (t->state[cand[i]] == ST_IDLE) {
            t->state[cand[i]] = ST_QUEUED;
            cand[k++] = cand[i];
        }
    /* the second half (every other chunk) for another compiler thread, if one is free */
    uint32_t *half = malloc(sizeof(uint32_t) * (k ? k : 1));
    uint32_t nh = 0, nk = 0;
    for (uint32_t i = 0; i < k; i++) {
        if (half && (i / 16) % 2)
            half[nh++] = cand[i];
        else
            cand[nk++] = cand[i];
    }
    if (nh)
        push_part(m, half, nh);
    else
        free(half);
    pthread_mutex_unlock(&g_lock);
    uint64_t published = prewarm_part(m, cand, nk);
    if (tier_log())
        fprintf(stderr,
                "fastlike: tier: %.3f s: profile: %llu of %u functions published from the code "
                "cache in %.3f s (%u more by another thread)\n",
                (double)(fwe_tier_now_ns() - g_first_hot_ns) / 1e9, (unsigned long long)published,
                nc, (double)(fwe_tier_now_ns() - t0) / 1e9, nh);
    free(cand);
}

static bool workers_busy(void)
{
    for (uint32_t i = 0; i < g_nworkers; i++)
        if (g_w[i].current)
            return true;
    return false;
}

/* Adds a batch's result to the statistics and, with FWE_TIER_LOG, reports it (g_lock held, the
 * batch's worker no longer counted as busy). A prewarm batch counts only what it published. */
static void account(const batch_result *r, uint32_t n, bool prewarm)
{
    g_stats.native += r->cached + r->compiled + r->quick;
    g_stats.quick += r->quick;
    g_stats.from_cache += r->cached;
    if (prewarm) {
        g_stats.prewarmed += r->cached;
        return;
    }
    g_stats.batches++;
    g_stats.compiled += r->compiled;
    g_stats.too_large += r->too_large;
    g_stats.refused += r->refused;
    g_stats.failed += r->failed;
    g_stats.compile_ns += r->cc_ns;
    if (!tier_log())
        return;
    double since = (double)(fwe_tier_now_ns() - g_first_hot_ns) / 1e9;
    fprintf(stderr,
            "fastlike: tier: %.3f s: batch of %u: %u cached, %u compiled, %u quick (%.2f s in "
            "%s), %u too large, %u refused, %u failed; %llu native, %u queued\n",
            since, n, r->cached, r->compiled, r->quick, (double)r->cc_ns / 1e9,
            r->quick ? g_qcc : "cc", r->too_large, r->refused, r->failed,
            (unsigned long long)g_stats.native, g_nqueue);
}

/* Adds an optimize job's result (g_lock held). */
static void account_optimize(const batch_result *r, uint32_t n)
{
    g_stats.optimized += r->optimized;
    g_stats.compile_ns += r->cc_ns;
    if (tier_log())
        fprintf(stderr,
                "fastlike: tier: %.3f s: optimized %u of %u functions (%.2f s in cc), %u "
                "failed; %llu optimized in all, %u queued\n",
                (double)(fwe_tier_now_ns() - g_first_hot_ns) / 1e9, r->optimized, n,
                (double)r->cc_ns / 1e9, r->failed, (unsigned long long)g_stats.optimized, g_nqueue);
}

/* With FWE_TIER_LOG: says when the last job finished (g_lock held, the worker no longer busy). */
static void log_drained(void)
{
    if (tier_log() && !g_nqueue && !workers_busy())
        fprintf(stderr, "fastlike: tier: %.3f s: queue drained, %llu functions native\n",
                (double)(fwe_tier_now_ns() - g_first_hot_ns) / 1e9,
                (unsigned long long)g_stats.native);
}

void fwe_tier_log_samples(const uint64_t d[3])
{
    uint64_t n = d[0] + d[1] + d[2];
    if (!tier_log() || !n)
        return;
    pthread_mutex_lock(&g_lock);
    double since = g_first_hot_ns ? (double)(fwe_tier_now_ns() - g_first_hot_ns) / 1e9 : 0.0;
    pthread_mutex_unlock(&g_lock);
    fprintf(stderr,
            "fastlike: tier: %.3f s: samples in the last second: %llu, interpreter %.1f %%, "
            "quick code %.1f %%, cc code %.1f %%\n",
            since, (unsigned long long)n, 100.0 * (double)d[0] / (double)n,
            100.0 * (double)d[1] / (double)n, 100.0 * (double)d[2] / (double)n);
}

void fwe_tier_stats_get(fwe_tier_stats *out)
{
    pthread_mutex_lock(&g_lock);
    *out = g_stats;
    uint64_t samples[3];
    fwe_tier_samples_get(samples);
    out->samples_interp = samples[FWE_SAMPLE_INTERP];
    out->samples_quick = samples[FWE_SAMPLE_QUICK];
    out->samples_cc = samples[FWE_SAMPLE_CC];
    out->queued = g_nqueue;
    out->busy = workers_busy();
    pthread_mutex_unlock(&g_lock);
}

/* ---------- the background workers ---------- */

uint32_t fwe_tier_pick_batch(const uint32_t *words, uint32_t n, uint32_t budget, uint32_t max,
                             uint32_t *out)
{
    uint32_t k = 0;
    uint64_t total = 0;
    for (uint32_t i = 0; i < n && k < max; i++)
        if (k == 0 || total + words[i] <= budget) {
            out[k++] = i;
            total += words[i];
        }
    return k;
}

uint32_t fwe_tier_pick_optimize(const uint64_t *score, uint32_t n)
{
    uint32_t best = 0;
    for (uint32_t i = 1; i < n; i++)
        if (score[i] > score[best])
            best = i;
    return best;
}

/* An optimize job's weight: the samples its functions' quick code took so far (g_lock held). */
static uint64_t optimize_score(const job *j)
{
    uint64_t sum = 0;
    for (uint32_t i = 0; i < j->words; i++)
        sum += __atomic_load_n(&j->m->qsamples[j->part[i]], __ATOMIC_RELAXED);
    return sum;
}

/* How many threads may run the system C compiler at once (FWE_TIER_THREADS, default 2 on a
 * machine with two or more CPUs); with a quick compiler one more thread serves hot batches. */
static uint32_t cc_threads(void)
{
    static uint32_t want;
    if (!want) {
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        want = env_u32("FWE_TIER_THREADS", ncpu >= 2 ? 2 : 1, WORKERS_MAX - 1);
    }
    return want;
}

/* The queue index of the job a free worker takes next, or g_nqueue when none may start now
 * (g_lock held): a prewarm first, then hot functions, then, while fewer than cc_threads() run,
 * the optimize job whose quick code took the most samples (the first of equals: hot order). */
#define OPT_CANDIDATES 64
static uint32_t next_job(void)
{
    uint32_t fn = g_nqueue, nopt = 0, opt[OPT_CANDIDATES];
    for (uint32_t i = 0; i < g_nqueue; i++) {
        uint32_t def = g_queue[i].def;
        if (def >= JOB_PREWARM_PART)
            return i;
        if (IS_FN_JOB(def) && fn == g_nqueue)
            fn = i;
        else if (def == JOB_OPTIMIZE && nopt < OPT_CANDIDATES)
            opt[nopt++] = i;
    }
    if (fn < g_nqueue)
        return fn;
    uint32_t running = 0;
    for (uint32_t i = 0; i < g_nworkers; i++)
        running += g_w[i].optimizing;
    if (!nopt || running >= cc_threads())
        return g_nqueue;
    uint64_t score[OPT_CANDIDATES];
    for (uint32_t i = 0; i < nopt; i++)
        score[i] = optimize_score(&g_queue[opt[i]]);
    return opt[fwe_tier_pick_optimize(score, nopt)];
}

/* Removes and returns queue entry `at` (g_lock held). */
static job take_job(uint32_t at)
{
    job j = g_queue[at];
    memmove(g_queue + at, g_queue + at + 1, (g_nqueue - at - 1) * sizeof *g_queue);
    g_nqueue--;
    return j;
}

static void *worker(void *arg)
{
    tls_worker = arg;
    uint32_t defs[BATCH_MAX], words[BATCH_MAX * 4], pick[BATCH_MAX], at[BATCH_MAX * 4];
    uint32_t budget = env_u32("FWE_TIER_BATCH_WORDS", FWE_TIER_BATCH_WORDS, UINT32_MAX);
    pthread_mutex_lock(&g_lock);
    for (;;) {
        uint32_t next;
        while ((next = next_job()) == g_nqueue)
            pthread_cond_wait(&g_work, &g_lock);
        if (!IS_FN_JOB(g_queue[next].def)) {
            job pj = take_job(next);
            bool opt = pj.def == JOB_OPTIMIZE;
            tls_worker->current = pj.m;
            tls_worker->cancel = false;
            tls_worker->optimizing = opt;
            pthread_mutex_unlock(&g_lock);
            batch_result r;
            if (pj.def == JOB_PREWARM)
                prewarm(pj.m);
            else if (opt)
                compile_defs(pj.m, pj.part, pj.words, &r, CD_OPTIMIZE);
            else
                prewarm_part(pj.m, pj.part, pj.words);
            free(pj.part);
            pthread_mutex_lock(&g_lock);
            if (opt)
                account_optimize(&r, pj.words);
            tls_worker->current = NULL;
            tls_worker->optimizing = false;
            log_drained();
            pthread_cond_broadcast(&g_idle);
            if (opt)
                pthread_cond_broadcast(&g_work); /* another optimize job may start now */
            continue;
        }
        /* the first queued module's functions (among its first BATCH_MAX*4), in the order they
         * became hot, up to `budget` code words: the hottest publish early, a large one goes
         * alone instead of holding up a whole batch */
        const fwe_module *m = g_queue[next].m;
        uint32_t nc = 0;
        for (uint32_t i = 0; i < g_nqueue && nc < BATCH_MAX * 4; i++)
            if (g_queue[i].m == m && IS_FN_JOB(g_queue[i].def)) {
                at[nc] = i;
                words[nc++] = g_queue[i].words;
            }
        uint32_t n = fwe_tier_pick_batch(words, nc, budget, BATCH_MAX, pick);
        for (uint32_t i = 0; i < n; i++) {
            defs[i] = g_queue[at[pick[i]]].def;
            g_queue[at[pick[i]]].m = NULL; /* taken */
        }
        uint32_t keep = 0;
        for (uint32_t i = 0; i < g_nqueue; i++)
            if (g_queue[i].m)
                g_queue[keep++] = g_queue[i];
        g_nqueue = keep;
        tls_worker->current = m;
        tls_worker->cancel = false;
        pthread_mutex_unlock(&g_lock);
        batch_result r;
        compile_defs(m, defs, n, &r, CD_HOT);
        pthread_mutex_lock(&g_lock);
        tls_worker->current = NULL;
        account(&r, n, false);
        log_drained();
        pthread_cond_broadcast(&g_idle);
    }
    return NULL;
}

/* Starts another compiler thread when there is queued work for it (g_lock held). */
static void start_workers(void)
{
    uint32_t want = cc_threads() + (quick_available() ? 1 : 0);
    uint32_t busy = 0;
    for (uint32_t i = 0; i < g_nworkers; i++)
        busy += g_w[i].current != NULL;
    if (g_nworkers >= want || busy < g_nworkers) /* enough, or one is idle and will take it */
        return;
    pthread_t th;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&th, &attr, worker, &g_w[g_nworkers]) == 0)
        g_nworkers++;
    pthread_attr_destroy(&attr);
}

void fwe_tier_hot(const fwe_module *m, uint32_t def)
{
    struct fwe_tier_mod *t = m->tier;
    if (!t)
        return;
    if (fwe_tier_get() == FWE_TIER_NATIVE) {
        pthread_mutex_lock(&t->sync_lock);
        if (!t->all_done) {
            uint32_t n = m->nfuncs - m->nfunc_imports;
            uint32_t *defs = malloc(sizeof(uint32_t) * (n ? n : 1));
            pthread_mutex_lock(&g_lock);
            if (!g_first_hot_ns) /* the log's times count from the first module's compile */
                g_first_hot_ns = fwe_tier_now_ns();
            pthread_mutex_unlock(&g_lock);
            if (defs) {
                for (uint32_t i = 0; i < n; i++)
                    defs[i] = i;
                for (uint32_t at = 0; at < n; at += 1024) {
                    batch_result r;
                    uint32_t k = n - at < 1024 ? n - at : 1024;
                    compile_defs(m, defs + at, k, &r, CD_CC);
                    pthread_mutex_lock(&g_lock);
                    account(&r, k, false);
                    pthread_mutex_unlock(&g_lock);
                }
                free(defs);
            }
            t->all_done = true;
        }
        pthread_mutex_unlock(&t->sync_lock);
        return;
    }
    if (fwe_tier_get() != FWE_TIER_AUTO)
        return;
    const fwe_code *code = fwe_module_code(m, def); /* translated already: it ran */
    uint32_t words = code ? code->nwords : UINT32_MAX;
    pthread_mutex_lock(&g_lock);
    if (t->state[def] == ST_IDLE) {
        push_job(m, def, words);
        if (!t->prewarm_queued) {
            t->prewarm_queued = true;
            if (profile_on())
                push_job(m, JOB_PREWARM, 0);
        }
    }
    pthread_mutex_unlock(&g_lock);
}

/* Queues part of a prewarm (g_lock held; takes `defs`). */
static void push_part(const fwe_module *m, uint32_t *defs, uint32_t n)
{
    uint32_t before = g_nqueue;
    push_job(m, JOB_PREWARM_PART, n);
    if (g_nqueue > before) {
        g_queue[g_nqueue - 1].part = defs;
        return;
    }
    for (uint32_t i = 0; i < n; i++) /* could not queue it: they wait for their counters */
        m->tier->state[defs[i]] = ST_IDLE;
    free(defs);
}

/* Queues the recompiling with cc of the units published from the quick compiler. */
static void push_optimize(const fwe_module *m, const unit *u, uint32_t nu)
{
    uint32_t *defs = malloc(sizeof(uint32_t) * (nu ? nu : 1)), n = 0;
    if (!defs)
        return; /* the quick code stays */
    for (uint32_t i = 0; i < nu; i++)
        if (u[i].quick && u[i].fn)
            defs[n++] = u[i].def;
    pthread_mutex_lock(&g_lock);
    uint32_t before = g_nqueue;
    if (n && !(tls_worker && tls_worker->cancel))
        push_job(m, JOB_OPTIMIZE, n);
    if (g_nqueue > before)
        g_queue[g_nqueue - 1].part = defs;
    else
        free(defs);
    pthread_mutex_unlock(&g_lock);
}

/* Queues a job and wakes a compiler thread, starting one if needed (g_lock held). */
static void push_job(const fwe_module *m, uint32_t def, uint32_t words)
{
    if (!fwe_grow((void **)&g_queue, &g_capqueue, g_nqueue + 1, 64, sizeof *g_queue))
        return;
    g_queue[g_nqueue++] = (job){m, def, words, NULL};
    if (IS_FN_JOB(def)) {
        m->tier->state[def] = ST_QUEUED;
        if (!g_stats.hot++)
            g_first_hot_ns = fwe_tier_now_ns();
    }
    start_workers();
    pthread_cond_signal(&g_work);
}

void fwe_tier_wait_idle(void)
{
    pthread_mutex_lock(&g_lock);
    while (g_nqueue || workers_busy())
        pthread_cond_wait(&g_idle, &g_lock);
    pthread_mutex_unlock(&g_lock);
}

/* Whether a job of m is queued or running (g_lock held): hot functions queued at the end of a run
 * are compiled too, so that the next run finds them. */
static bool work_pending(const fwe_module *m)
{
    for (uint32_t i = 0; i < g_nqueue; i++)
        if (g_queue[i].m == m)
            return true;
    for (uint32_t i = 0; i < g_nworkers; i++)
        if (g_w[i].current == m)
            return true;
    return false;
}

bool fwe_tier_settle(const fwe_module *m)
{
    if (!m || !m->tier)
        return true;
    const char *env = getenv("FWE_TIER_SETTLE_MS"); /* 0: do not wait */
    long v = env && *env ? strtol(env, NULL, 10) : 10000;
    uint32_t max_ms = v < 0 ? 10000u : v > 3600000 ? 3600000u : (uint32_t)v;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += max_ms / 1000;
    until.tv_nsec += (long)(max_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&g_lock);
    uint64_t t0 = fwe_tier_now_ns();
    bool waited = false, left;
    while ((left = work_pending(m)) &&
           pthread_cond_timedwait(&g_idle, &g_lock, &until) != ETIMEDOUT)
        waited = true;
    left = work_pending(m);
    if (tier_log() && (waited || left))
        fprintf(stderr, "fastlike: tier: waited %.3f s at exit for the C compiler%s\n",
                (double)(fwe_tier_now_ns() - t0) / 1e9, left ? "; the rest is dropped" : "");
    pthread_mutex_unlock(&g_lock);
    return !left;
}

uint32_t fwe_module_native_count(const fwe_module *m)
{
    uint32_t n = 0;
    for (uint32_t i = 0; m->ndefs && i < m->nfuncs - m->nfunc_imports; i++)
        n += fwe_native_fn(m, i) != NULL;
    return n;
}

uint32_t fwe_module_tier_ups(const fwe_module *m)
{
    uint32_t n = 0;
    for (uint32_t i = 0; m->ndefs && i < m->nfuncs - m->nfunc_imports; i++)
        n += __atomic_load_n(&m->ndefs[i].tier_ups, __ATOMIC_RELAXED);
    return n;
}

bool fwe_module_func_is_native(const fwe_module *m, uint32_t func_index)
{
    return func_index >= m->nfunc_imports && func_index < m->nfuncs &&
           fwe_native_fn(m, func_index - m->nfunc_imports) != NULL;
}

/* ---------- module lifetime ---------- */

void fwe_tier_module_init(fwe_module *m)
{
    fwe_tier_mode mode = fwe_tier_get();
    if (mode == FWE_TIER_INTERP)
        return;
    uint32_t n = m->nfuncs - m->nfunc_imports;
    m->tier = calloc(1, sizeof *m->tier);
    m->ndefs = calloc(n + 1, sizeof *m->ndefs);
    m->hot = calloc(n + 1, sizeof *m->hot);
    m->qsamples = calloc(n + 1, sizeof *m->qsamples);
    if (m->tier)
        m->tier->state = calloc(n + 1, 1);
    if (!m->tier || !m->ndefs || !m->hot || !m->qsamples || !m->tier->state) {
        if (m->tier)
            free(m->tier->state);
        free(m->tier);
        free(m->ndefs);
        free(m->hot);
        free(m->qsamples);
        m->tier = NULL;
        m->ndefs = NULL;
        m->hot = NULL;
        m->qsamples = NULL;
        return;
    }
    pthread_mutex_init(&m->tier->sync_lock, NULL);
    for (uint32_t i = 0; i < n; i++)
        m->ndefs[i].func_index = m->nfunc_imports + i;
    uint32_t threshold = FWE_TIER_HOT;
    const char *env = getenv("FWE_TIER_HOT");
    if (env && strtol(env, NULL, 10) > 0)
        threshold = (uint32_t)strtol(env, NULL, 10);
    m->hot_threshold = mode == FWE_TIER_NATIVE ? 1 : threshold;
    m->tier_sample = mode == FWE_TIER_AUTO && fwe_tier_sample_interval_us() > 0;
}

void fwe_tier_module_free(fwe_module *m)
{
    struct fwe_tier_mod *t = m->tier;
    if (!t)
        return;
    pthread_mutex_lock(&g_lock);
    uint32_t keep = 0;
    for (uint32_t i = 0; i < g_nqueue; i++)
        if (g_queue[i].m != m)
            g_queue[keep++] = g_queue[i];
        else
            free(g_queue[i].part);
    g_nqueue = keep;
    for (;;) {
        bool mine = false;
        for (uint32_t i = 0; i < g_nworkers; i++)
            if (g_w[i].current == m) {
                mine = true;
                if (!g_w[i].cancel && g_w[i].child > 0)
                    kill(g_w[i].child, SIGKILL); /* its result would be thrown away */
                g_w[i].cancel = true;
            }
        if (!mine)
            break;
        pthread_cond_wait(&g_idle, &g_lock);
    }
    if (!g_nqueue && !workers_busy())
        pthread_cond_broadcast(&g_idle);
    pthread_mutex_unlock(&g_lock);
    for (uint32_t i = 0; i < t->nhandles; i++)
        tier_dlclose(t->handles[i]);
    free(t->handles);
    free(t->state);
    pthread_mutex_destroy(&t->sync_lock);
    free(t);
    free(m->ndefs);
    free(m->hot);
    free(m->qsamples);
    m->tier = NULL;
    m->ndefs = NULL;
    m->hot = NULL;
    m->qsamples = NULL;
}
