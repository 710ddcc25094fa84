/* tier.c: the native tier's manager. Counts calls and loop iterations (interp.c), queues hot
 * functions for a background thread that emits C (native_gen.c), compiles a batch with the system
 * C compiler into a shared object, loads it with dlopen and publishes each function with one
 * atomic store. Compiled code is cached on disk, one reference file per function keyed by a hash
 * of its generated C, the ABI version and the compiler's identity. */
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
#include <unistd.h>

extern char **environ;

#define BATCH_MAX 64
/* -fsignaling-nans: no folding of x*1, x-0, ... that would turn a signalling NaN quiet */
#define CFLAGS_TEXT                                                                                \
    "-O2 -fPIC -shared -w -fno-semantic-interposition -fno-math-errno -fsignaling-nans"

struct fwe_tier_mod {
    uint8_t *state; /* per def: 0 idle, 1 queued, 2 native, 3 stays interpreted */
    void **handles; /* dlopen handles (closed with the module) */
    uint32_t nhandles, cap_handles;
    pthread_mutex_t sync_lock; /* native mode: one synchronous compile of the module */
    bool all_done;
};
enum { ST_IDLE, ST_QUEUED, ST_NATIVE, ST_INTERP };

typedef struct job {
    const fwe_module *m;
    uint32_t def;
} job;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_work = PTHREAD_COND_INITIALIZER;
static pthread_cond_t g_idle = PTHREAD_COND_INITIALIZER;
static job *g_queue;
static uint32_t g_nqueue, g_capqueue;
static const fwe_module *g_current; /* the module the worker compiles for right now */
static bool g_worker_started;
static pid_t g_child; /* the compiler the worker waits for (killed when its module goes away) */
static bool g_cancel; /* the module of the running compile was freed */
static _Thread_local bool tls_worker; /* this thread is the background compiler */
static int g_mode = -1;               /* fwe_tier_mode, -1 = not chosen yet (FWE_TIER or auto) */
static uint64_t g_published;

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
static char g_cc_id[256]; /* the compiler binary's path, size and mtime (probe) */

static const char *cc_path(void)
{
    const char *cc = getenv("FWE_CC");
    return cc && *cc ? cc : "cc";
}

/* Runs argv with stdout and stderr into `log_fd` (when >= 0); returns the exit status, 128 for a
 * signal, -1 when it could not start. The background thread's child is recorded in g_child so
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
        g_child = pid;
        pthread_mutex_unlock(&g_lock);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            break;
    if (tls_worker) {
        pthread_mutex_lock(&g_lock);
        g_child = 0;
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
static void probe(void)
{
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

static hash128 hash_text(const char *t, size_t n)
{
    hash128 h = {UINT64_C(0xcbf29ce484222325), UINT64_C(0x84222325cbf29ce4)};
    char hdr[400];
    int k = snprintf(hdr, sizeof hdr, "abi %d cc %s flags %s\n", FWE_NABI_VERSION, g_cc_id,
                     CFLAGS_TEXT);
    h.a = fnv(hdr, (size_t)k, h.a);
    h.b = fnv(hdr, (size_t)k, h.b ^ 0x5bd1e995);
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

/* The cache directory, or "" when caching is off (FWE_CODE_CACHE=off) or impossible. */
static const char *cache_dir(void)
{
    static char dir[1024];
    static bool done;
    if (done)
        return dir;
    done = true;
    const char *env = getenv("FWE_CODE_CACHE");
    if (env && !strcmp(env, "off"))
        dir[0] = 0;
    else if (env && *env)
        snprintf(dir, sizeof dir, "%s", env);
    else if (getenv("XDG_CACHE_HOME") && *getenv("XDG_CACHE_HOME"))
        snprintf(dir, sizeof dir, "%s/fastlike/code", getenv("XDG_CACHE_HOME"));
    else if (getenv("HOME") && *getenv("HOME"))
        snprintf(dir, sizeof dir, "%s/.cache/fastlike/code", getenv("HOME"));
    if (dir[0] && !mkdirs(dir))
        dir[0] = 0;
    return dir;
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
    size_t n = 0, cap = 0;
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
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            centry *nv = realloc(v, cap * sizeof *v);
            if (!nv)
                break;
            v = nv;
        }
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
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    while (b) {
        size_t k = fread(b + n, 1, cap - n, f);
        n += k;
        if (n < cap)
            break;
        cap *= 2;
        char *nb = realloc(b, cap);
        if (!nb) {
            free(b);
            b = NULL;
        }
        b = nb;
    }
    fclose(f);
    if (!b)
        return false;
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
    if (!read_file(path, &so, &slen))
        return NULL;
    ok = slen == size && fnv(so, slen, UINT64_C(0xcbf29ce484222325)) == sum;
    free(so);
    if (!ok)
        return NULL;
    return dlopen(path, RTLD_NOW | RTLD_LOCAL);
}

/* ---------- compiling a batch ---------- */

/* Functions longer than this (internal code words) stay interpreted: the C compiler's time and
 * memory grow faster than linearly with function size (FWE_TIER_MAX_WORDS). */
static uint32_t max_words(void)
{
    const char *env = getenv("FWE_TIER_MAX_WORDS");
    long n = env ? strtol(env, NULL, 10) : 0;
    return n > 0 ? (uint32_t)n : 40000u;
}

typedef struct unit {
    uint32_t def;
    const fwe_code *code;
    fwe_text text;
    char fh[33];
    char sym[48];
    fwe_nfn fn;
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
    if (t->nhandles == t->cap_handles) {
        uint32_t cap = t->cap_handles ? t->cap_handles * 2 : 8;
        void **nh = realloc(t->handles, cap * sizeof *nh);
        if (nh) {
            t->handles = nh;
            t->cap_handles = cap;
        }
    }
    if (t->nhandles < t->cap_handles)
        t->handles[t->nhandles++] = h;
    pthread_mutex_unlock(&g_lock);
}

/* Whether an earlier unit of the batch still to compile has the same generated C as u[i]: then
 * they share one symbol (named by that hash), which must be defined only once in the file or the
 * whole batch fails to compile (found by fuzz_tier: two functions with identical bodies). */
static bool same_as_earlier(const unit *u, uint32_t i)
{
    for (uint32_t j = 0; j < i; j++)
        if (!u[j].fn && !strcmp(u[j].fh, u[i].fh))
            return true;
    return false;
}

/* Compiles the units without a cached object into one shared object; returns its handle. */
static void *compile_units(const char *dir, unit *u, uint32_t n)
{
    fwe_text src = {0};
    fwe_native_prelude(&src);
    hash128 bh = {0, 0};
    for (uint32_t i = 0; i < n; i++) {
        if (u[i].fn || same_as_earlier(u, i))
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
        char *argv[] = {g_cc,
                        "-O2",
                        "-fPIC",
                        "-shared",
                        "-w",
                        "-fno-semantic-interposition",
                        "-fno-math-errno",
                        "-fsignaling-nans",
                        "-o",
                        tmpso,
                        cpath,
                        "-lm",
                        NULL};
        int rc = run_cmd(argv, logfd);
        if (logfd >= 0)
            close(logfd);
        pthread_mutex_lock(&g_lock);
        bool cancelled = tls_worker && g_cancel;
        pthread_mutex_unlock(&g_lock);
        if (rc != 0 && cancelled) {
            ok = false;
            keep = false;
        } else if (rc != 0) {
            /* keep the source and the compiler's messages for a bug report */
            fprintf(stderr,
                    "fastlike: native tier: compiling %u functions failed (%s exit %d); see %s "
                    "and %s\n",
                    n, g_cc, rc, cpath, logp);
            ok = false;
        }
    }
    if (ok || !keep) {
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
                if (u[i].fn)
                    continue;
                snprintf(rpath, sizeof rpath, "%s/%s.ref", d, u[i].fh);
                write_atomic(rpath, ref, (size_t)rl);
            }
        }
        free(bytes);
        h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
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

/* Generates, finds in the cache or compiles, and publishes `defs` of `m`. */
static void compile_defs(const fwe_module *m, const uint32_t *defs, uint32_t n)
{
    struct fwe_tier_mod *t = m->tier;
    unit *u = calloc(n ? n : 1, sizeof *u);
    if (!u)
        return;
    bool cc = fwe_tier_compiler_available();
    const char *dir = cache_dir();
    uint32_t nu = 0, missing = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t def = defs[i];
        const fwe_code *code = cc ? fwe_module_code(m, def) : NULL;
        unit *x = &u[nu];
        if (!code || code->nwords > max_words() || !fwe_native_gen(m, def, code, &x->text) ||
            x->text.oom) {
            fwe_text_free(&x->text);
            t->state[def] = ST_INTERP;
            continue;
        }
        x->def = def;
        x->code = code;
        hash_hex(hash_text(x->text.p, x->text.len), x->fh);
        snprintf(x->sym, sizeof x->sym, "fwe_nf_%s", x->fh);
        if (dir[0]) {
            void *h = cache_open(dir, x->fh);
            if (h) {
                x->fn = (fwe_nfn)(uintptr_t)dlsym(h, x->sym);
                if (x->fn)
                    keep_handle(m, h);
                else
                    dlclose(h);
            }
        }
        if (!x->fn)
            missing++;
        nu++;
    }
    void *h = missing ? compile_units(dir, u, nu) : NULL;
    if (h)
        keep_handle(m, h);
    for (uint32_t i = 0; i < nu; i++) {
        if (!u[i].fn && h)
            u[i].fn = (fwe_nfn)(uintptr_t)dlsym(h, u[i].sym);
        if (u[i].fn) {
            publish(m, &u[i]);
            t->state[u[i].def] = ST_NATIVE;
        } else {
            t->state[u[i].def] = ST_INTERP;
        }
        fwe_text_free(&u[i].text);
    }
    free(u);
}

/* ---------- the background worker ---------- */

static void *worker(void *arg)
{
    (void)arg;
    tls_worker = true;
    uint32_t defs[BATCH_MAX];
    pthread_mutex_lock(&g_lock);
    for (;;) {
        while (!g_nqueue)
            pthread_cond_wait(&g_work, &g_lock);
        const fwe_module *m = g_queue[0].m;
        uint32_t n = 0, keep = 0;
        for (uint32_t i = 0; i < g_nqueue; i++) {
            if (g_queue[i].m == m && n < BATCH_MAX)
                defs[n++] = g_queue[i].def;
            else
                g_queue[keep++] = g_queue[i];
        }
        g_nqueue = keep;
        g_current = m;
        g_cancel = false;
        pthread_mutex_unlock(&g_lock);
        compile_defs(m, defs, n);
        pthread_mutex_lock(&g_lock);
        g_current = NULL;
        pthread_cond_broadcast(&g_idle);
    }
    return NULL;
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
            if (defs) {
                for (uint32_t i = 0; i < n; i++)
                    defs[i] = i;
                for (uint32_t at = 0; at < n; at += 1024)
                    compile_defs(m, defs + at, n - at < 1024 ? n - at : 1024);
                free(defs);
            }
            t->all_done = true;
        }
        pthread_mutex_unlock(&t->sync_lock);
        return;
    }
    if (fwe_tier_get() != FWE_TIER_AUTO)
        return;
    pthread_mutex_lock(&g_lock);
    if (t->state[def] == ST_IDLE) {
        if (g_nqueue == g_capqueue) {
            uint32_t cap = g_capqueue ? g_capqueue * 2 : 64;
            job *nq = realloc(g_queue, cap * sizeof *nq);
            if (nq) {
                g_queue = nq;
                g_capqueue = cap;
            }
        }
        if (g_nqueue < g_capqueue) {
            t->state[def] = ST_QUEUED;
            g_queue[g_nqueue++] = (job){m, def};
            if (!g_worker_started) {
                pthread_t th;
                pthread_attr_t attr;
                pthread_attr_init(&attr);
                pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
                g_worker_started = pthread_create(&th, &attr, worker, NULL) == 0;
                pthread_attr_destroy(&attr);
            }
            pthread_cond_signal(&g_work);
        }
    }
    pthread_mutex_unlock(&g_lock);
}

void fwe_tier_wait_idle(void)
{
    pthread_mutex_lock(&g_lock);
    while (g_nqueue || g_current)
        pthread_cond_wait(&g_idle, &g_lock);
    pthread_mutex_unlock(&g_lock);
}

uint32_t fwe_module_native_count(const fwe_module *m)
{
    uint32_t n = 0;
    for (uint32_t i = 0; m->ndefs && i < m->nfuncs - m->nfunc_imports; i++)
        n += fwe_native_fn(m, i) != NULL;
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
    if (m->tier)
        m->tier->state = calloc(n + 1, 1);
    if (!m->tier || !m->ndefs || !m->hot || !m->tier->state) {
        if (m->tier)
            free(m->tier->state);
        free(m->tier);
        free(m->ndefs);
        free(m->hot);
        m->tier = NULL;
        m->ndefs = NULL;
        m->hot = NULL;
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
    g_nqueue = keep;
    if (g_current == m) {
        g_cancel = true;
        if (g_child > 0)
            kill(g_child, SIGKILL); /* its result would be thrown away */
    }
    while (g_current == m)
        pthread_cond_wait(&g_idle, &g_lock);
    if (!g_nqueue && !g_current)
        pthread_cond_broadcast(&g_idle);
    pthread_mutex_unlock(&g_lock);
    for (uint32_t i = 0; i < t->nhandles; i++)
        dlclose(t->handles[i]);
    free(t->handles);
    free(t->state);
    pthread_mutex_destroy(&t->sync_lock);
    free(t);
    free(m->ndefs);
    free(m->hot);
    m->tier = NULL;
    m->ndefs = NULL;
    m->hot = NULL;
}
