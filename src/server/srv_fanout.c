/* srv_fanout.c: Fanout settings and our own Pushpin process: finding the binary, writing its
 * config (all internal sockets as ipc:// files in its own run directory, so only the proxy and
 * publish ports are taken) and routes, starting it in a process group of its own, waiting until
 * it reports "started" and accepts connections, and stopping it at shutdown. Also the embedding
 * API's setters for these settings. */
#include "server/srv_fanout.h"

#include "server/srv_config.h"
#include "util/util_clock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define START_TIMEOUT_MS 30000 /* Pushpin starts four services; generous on a loaded machine */
#define STOP_TIMEOUT_MS 5000

struct srv_fanout {
    hc_fanout settings;
    pid_t pid; /* our Pushpin (leader of its process group), or 0 */
    char dir[256];
    const srv_log *log;
};

const hc_fanout *srv_fanout_settings(const srv_fanout *f)
{
    return f ? &f->settings : NULL;
}

/* ---- the files ---- */

static bool append(char **buf, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool append(char **buf, size_t *len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *line = NULL;
    int n = vasprintf(&line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return false;
    char *grown = realloc(*buf, *len + (size_t)n + 1);
    if (!grown) {
        free(line);
        return false;
    }
    memcpy(grown + *len, line, (size_t)n + 1);
    *buf = grown;
    *len += (size_t)n;
    free(line);
    return true;
}

static bool route_line(char **buf, size_t *len, const be_backend *b)
{
    char target[300];
    if (strchr(b->host, ':'))
        snprintf(target, sizeof target, "[%s]:%u", b->host, (unsigned)b->port);
    else
        snprintf(target, sizeof target, "%s:%u", b->host, (unsigned)b->port);
    size_t plen = b->path_prefix ? strlen(b->path_prefix) : 0;
    while (plen > 0 && b->path_prefix[plen - 1] == '/')
        plen--;
    bool ok = b->name ? append(buf, len, "id=%s", b->name) : append(buf, len, "*");
    if (ok && plen > 0)
        ok = append(buf, len, ",replace_beg=%.*s", (int)plen, b->path_prefix);
    if (ok)
        ok = append(buf, len, " %s,over_http%s", target, b->tls ? ",ssl" : "");
    if (ok && b->override_host)
        ok = append(buf, len, ",host=%s", b->override_host);
    return ok && append(buf, len, "\n");
}

char *srv_fanout_routes(const be_backend *backends, size_t nbackends)
{
    char *buf = NULL;
    size_t len = 0;
    if (!append(&buf, &len, "# routes for Fastlike's Pushpin: one per backend\n"))
        return NULL;
    const be_backend *catch_all = NULL;
    for (size_t i = 0; i < nbackends; i++) {
        if (!backends[i].name) {
            catch_all = &backends[i];
            continue;
        }
        if (!route_line(&buf, &len, &backends[i])) {
            free(buf);
            return NULL;
        }
    }
    /* a route name that matches no backend goes where the catch-all backend takes requests */
    if (catch_all && !route_line(&buf, &len, catch_all)) {
        free(buf);
        return NULL;
    }
    return buf;
}

static const char conf_template[] =
    "[global]\n"
    "include={libdir}/internal.conf\n"
    "rundir=%s/run\n"
    "ipc_prefix=fl-\n"
    "port_offset=0\n"
    "stats_connection_ttl=120\n"
    "[runner]\n"
    "services=condure,zurl,pushpin-proxy,pushpin-handler\n"
    "http_port=127.0.0.1:%u\n"
    "logdir=%s/log\n"
    "log_level=2\n"
    "client_buffer_size=8192\n"
    "client_maxconn=10000\n"
    "[proxy]\n"
    "routesfile=%s/routes\n"
    "zurl_out_specs=ipc://{rundir}/{ipc_prefix}zurl-in\n"
    "zurl_out_stream_specs=ipc://{rundir}/{ipc_prefix}zurl-in-stream\n"
    "zurl_in_specs=ipc://{rundir}/{ipc_prefix}zurl-out\n"
    "debug=false\n"
    "auto_cross_origin=false\n"
    "accept_x_forwarded_protocol=false\n"
    "set_x_forwarded_protocol=proto-only\n"
    "x_forwarded_for=\n"
    "x_forwarded_for_trusted=\n"
    "orig_headers_need_mark=\n"
    "accept_pushpin_route=true\n"
    "cdn_loop=\n"
    "log_from=false\n"
    "log_user_agent=false\n"
    "sig_iss=fastlike\n"
    "sig_key=fastlike_dev_signing_key_dont_use_in_production\n"
    "upstream_key=\n"
    "sockjs_url=http://cdn.jsdelivr.net/sockjs/0.3.4/sockjs.min.js\n"
    "updates_check=off\n"
    "organization_name=\n"
    "[handler]\n"
    "push_in_spec=ipc://{rundir}/{ipc_prefix}push-in\n"
    "push_in_sub_specs=ipc://{rundir}/{ipc_prefix}push-in-sub\n"
    "push_in_sub_connect=false\n"
    "push_in_http_addr=127.0.0.1\n"
    "push_in_http_port=%u\n"
    "push_in_http_max_headers_size=10000\n"
    "push_in_http_max_body_size=1000000\n"
    "stats_spec=ipc://{rundir}/{ipc_prefix}stats\n"
    "command_spec=ipc://{rundir}/{ipc_prefix}command\n"
    "message_rate=2500\n"
    "message_hwm=25000\n"
    "message_wait=5000\n"
    "id_cache_ttl=60\n"
    "connection_subscription_max=20\n"
    "subscription_linger=60\n"
    "stats_subscription_ttl=60\n"
    "stats_report_interval=10\n"
    "stats_format=tnetstring\n";

static bool write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    if (!fp)
        return false;
    bool ok = fputs(text, fp) >= 0;
    return fclose(fp) == 0 && ok;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* ---- the process ---- */

/* The binary: the configured path (as given, PATH searched when it has no '/'), else pushpin
 * from PATH. False when there is none. */
static bool find_binary(const char *want, char *out, size_t n)
{
    const char *name = want ? want : "pushpin";
    if (strchr(name, '/')) {
        snprintf(out, n, "%s", name);
        return access(out, X_OK) == 0;
    }
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        size_t len = strcspn(path, ":");
        snprintf(out, n, "%.*s/%s", (int)(len ? len : 1), len ? path : ".", name);
        if (access(out, X_OK) == 0)
            return true;
        path += len;
        if (*path == ':')
            path++;
    }
    return false;
}

/* True when 127.0.0.1:port can be bound (nothing listens there). */
static bool port_free(uint16_t port)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return false;
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = bind(s, (struct sockaddr *)&a, sizeof a) == 0;
    close(s);
    return ok;
}

static bool accepts(uint16_t port)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return false;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = connect(s, (struct sockaddr *)&a, sizeof a) == 0;
    close(s);
    return ok;
}

/* True once Pushpin's output has a line ending in "started" (the runner's "all services up"). */
static bool reported_started(const char *out_path)
{
    FILE *fp = fopen(out_path, "r");
    if (!fp)
        return false;
    char line[1024];
    bool started = false;
    while (fgets(line, sizeof line, fp)) {
        size_t n = strcspn(line, "\r\n");
        if (n >= 7 && memcmp(line + n - 7, "started", 7) == 0)
            started = true;
    }
    fclose(fp);
    return started;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The runner starts each service in a process group of its own and writes their pids into its
 * run directory: when the runner does not stop them, they are ended by those pids. */
static void kill_services(const srv_fanout *f)
{
    static const char *const names[] = {"condure", "zurl", "pushpin-proxy", "pushpin-handler"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/run/%s.pid", f->dir, names[i]);
        FILE *fp = fopen(path, "r");
        long pid = 0;
        if (fp && fscanf(fp, "%ld", &pid) == 1 && pid > 1)
            kill((pid_t)pid, SIGKILL);
        if (fp)
            fclose(fp);
    }
}

static void stop_process(srv_fanout *f)
{
    if (f->pid <= 0)
        return;
    kill(f->pid, SIGTERM); /* the runner stops its services, then itself */
    uint64_t deadline = util_now_ns() + STOP_TIMEOUT_MS * 1000000ull;
    int status;
    while (waitpid(f->pid, &status, WNOHANG) == 0) {
        if (util_now_ns() >= deadline) {
            kill(-f->pid, SIGKILL);
            waitpid(f->pid, &status, 0);
            kill_services(f);
            break;
        }
        sleep_ms(20);
    }
    f->pid = 0;
}

/* Starts Pushpin; false with a one-line reason in why. */
static bool start_pushpin(srv_fanout *f, const cfg_pushpin *cfg, const be_backend *backends,
                          size_t nbackends, char *why, size_t whylen)
{
    char bin[4096];
    if (!find_binary(cfg->path, bin, sizeof bin)) {
        if (cfg->path)
            snprintf(why, whylen, "pushpin binary '%s' not found or not executable", cfg->path);
        else
            snprintf(why, whylen,
                     "pushpin is not installed (Debian package pushpin; or give "
                     "-pushpin-path / local_server.pushpin.pushpin_path)");
        return false;
    }
    uint16_t proxy = cfg_pushpin_proxy_port(cfg), publish = cfg_pushpin_publish_port(cfg);
    if (!port_free(proxy) || !port_free(publish)) {
        snprintf(why, whylen,
                 "port %u or %u on 127.0.0.1 is in use (another Pushpin? then give only "
                 "-pushpin-port %u to use it)",
                 (unsigned)proxy, (unsigned)publish, (unsigned)proxy);
        return false;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof f->dir, "%s/fastlike-pushpin-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(f->dir)) {
        snprintf(why, whylen, "cannot create a directory for its files: %s", strerror(errno));
        f->dir[0] = '\0';
        return false;
    }
    char path[512], conf[512], out_path[512];
    snprintf(conf, sizeof conf, "%s/pushpin.conf", f->dir);
    snprintf(out_path, sizeof out_path, "%s/pushpin.out", f->dir);
    char *text = NULL;
    bool ok = asprintf(&text, conf_template, f->dir, (unsigned)proxy, f->dir, f->dir,
                       (unsigned)publish) >= 0;
    ok = ok && write_file(conf, text);
    free(text);
    char *routes = srv_fanout_routes(backends, nbackends);
    snprintf(path, sizeof path, "%s/routes", f->dir);
    ok = ok && routes && write_file(path, routes);
    free(routes);
    snprintf(path, sizeof path, "%s/run", f->dir);
    ok = ok && mkdir(path, 0700) == 0;
    snprintf(path, sizeof path, "%s/log", f->dir);
    ok = ok && mkdir(path, 0700) == 0;
    if (!ok) {
        snprintf(why, whylen, "cannot write its files in %s", f->dir);
        return false;
    }
    char conf_arg[600];
    snprintf(conf_arg, sizeof conf_arg, "--config=%s", conf);
    int out_fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (out_fd < 0 || null_fd < 0) {
        snprintf(why, whylen, "cannot open %s", out_path);
        if (out_fd >= 0)
            close(out_fd);
        if (null_fd >= 0)
            close(null_fd);
        return false;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) { /* only async-signal-safe calls until exec */
        setpgid(0, 0);
        /* Pushpin ends with us even when we exit without stopping it (a second signal) */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(127);
        /* our signal mask and ignored signals would be Pushpin's: it must see SIGTERM */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        dup2(null_fd, 0);
        dup2(out_fd, 1);
        dup2(out_fd, 2);
        char *const argv[] = {bin, conf_arg, NULL};
        execv(bin, argv);
        _exit(127);
    }
    close(out_fd);
    close(null_fd);
    if (pid < 0) {
        snprintf(why, whylen, "cannot start it: %s", strerror(errno));
        return false;
    }
    setpgid(pid, pid); /* also here, so the group exists before we might signal it */
    f->pid = pid;
    uint64_t deadline = util_now_ns() + START_TIMEOUT_MS * 1000000ull;
    for (;;) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            f->pid = 0;
            kill(-pid, SIGKILL);
            snprintf(why, whylen, "pushpin exited while starting (%s %d; its output: %s)",
                     WIFEXITED(status) ? "status" : "signal",
                     WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), out_path);
            return false;
        }
        if (reported_started(out_path) && accepts(proxy))
            return true;
        if (util_now_ns() >= deadline) {
            stop_process(f);
            snprintf(why, whylen, "pushpin did not start within %d s (its output: %s)",
                     START_TIMEOUT_MS / 1000, out_path);
            return false;
        }
        sleep_ms(50);
    }
}

srv_fanout *srv_fanout_new(const cfg_pushpin *cfg, const be_backend *backends, size_t nbackends,
                           const srv_log *log)
{
    srv_fanout *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->log = log;
    f->settings.websocket_passthrough = cfg->websocket_passthrough >= 0;
    if (cfg->start != 1) {
        f->settings.pushpin_port = cfg->proxy_port; /* one already running there, or 0: off */
        if (cfg->proxy_port)
            srv_logf(log, "fastlike: Fanout through the Pushpin on 127.0.0.1:%u",
                     (unsigned)cfg->proxy_port);
        return f;
    }
    char why[1024];
    if (!start_pushpin(f, cfg, backends, nbackends, why, sizeof why)) {
        srv_logf(log, "fastlike: Fanout is off: %s", why);
        if (f->dir[0] && f->pid == 0) {
            nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
            f->dir[0] = '\0';
        }
        return f;
    }
    f->settings.pushpin_port = cfg_pushpin_proxy_port(cfg);
    srv_logf(log, "fastlike: Pushpin started for Fanout: proxy 127.0.0.1:%u, publish %u (%s)",
             (unsigned)f->settings.pushpin_port, (unsigned)cfg_pushpin_publish_port(cfg), f->dir);
    return f;
}

/* The whole file at `path` as a string, or NULL. */
static char *read_text(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return NULL;
    char *text = NULL;
    size_t cap = 0;
    ssize_t n = getdelim(&text, &cap, '\0', fp); /* the routes file has no NUL: all of it */
    fclose(fp);
    if (n < 0) {
        free(text);
        return NULL;
    }
    return text;
}

bool srv_fanout_reload_routes(srv_fanout *f, const be_backend *backends, size_t nbackends)
{
    if (!f || f->pid <= 0 || !f->dir[0])
        return true;
    char *routes = srv_fanout_routes(backends, nbackends);
    if (!routes) {
        srv_logf(f->log, "fastlike: reload: Pushpin routes not rewritten: out of memory");
        return false;
    }
    char path[512], tmp[600];
    snprintf(path, sizeof path, "%s/routes", f->dir);
    char *old = read_text(path);
    bool same = old && strcmp(old, routes) == 0;
    free(old);
    bool ok = true;
    if (!same) {
        /* a new file renamed over the old: Pushpin never reads half of it */
        snprintf(tmp, sizeof tmp, "%s.new", path);
        ok = write_file(tmp, routes) && rename(tmp, path) == 0;
        if (ok)
            srv_logf(f->log, "fastlike: reload: Pushpin routes rewritten for the new backends");
        else
            srv_logf(f->log, "fastlike: reload: Pushpin routes not rewritten: %s: %s", path,
                     strerror(errno));
    }
    free(routes);
    return ok;
}

void srv_fanout_free(srv_fanout *f)
{
    if (!f)
        return;
    stop_process(f);
    if (f->dir[0])
        nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
}

/* ---- the embedding API's setters ---- */

fastlike_status fastlike_config_set_pushpin(fastlike_config *c, bool start, uint16_t proxy_port,
                                            uint16_t publish_port, const char *path)
{
    char *p = NULL;
    if (path && !(p = strdup(path)))
        return FASTLIKE_ERR_NOMEM;
    free(c->pushpin.path);
    c->pushpin.path = p;
    c->pushpin.start = start ? 1 : -1;
    c->pushpin.proxy_port = proxy_port;
    c->pushpin.publish_port = publish_port;
    return FASTLIKE_OK;
}

void fastlike_config_set_websocket_passthrough(fastlike_config *c, bool enable)
{
    c->pushpin.websocket_passthrough = enable ? 1 : -1;
}
