/* benchfsctl — start, stop, inspect and wait for a BenchFS cluster (docs/benchfsctl.md).
 *
 *   benchfsctl start -n N -d DIR [-r REG] [-c SIZE] [-t SEC] [-- benchfsd flags]
 *   benchfsctl start --hostfile FILE -d DIR -r REG [-n N] ...      (through mpirun)
 *   benchfsctl stop   [-r REG] [-t SEC]
 *   benchfsctl status [-r REG] [-t MS] [-v]
 *   benchfsctl wait   [-r REG] [-n N] [-t SEC]
 *
 * Besides the servers' own files (key, server.<id>), benchfsctl keeps in the registry
 * directory a state file (how the cluster was started: local pids or the mpirun pid) and the
 * servers' logs; `stop` removes the whole directory once every server has left. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "benchfs.h"
#include "common/util.h"
#include "net/registry.h"

#define MAX_SERVERS 4096
#define STATE_FILE "benchfsctl.state"
#define EXIT_USAGE 2
#define EXIT_DOWN 3

static const char *prog = "benchfsctl";

__attribute__((format(printf, 1, 2))) static void msg(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: benchfsctl COMMAND [options]\n"
            "\n"
            "Commands:\n"
            "  start   start a cluster: N local servers, or one per host of a hostfile (mpirun)\n"
            "  stop    stop every server cleanly (SIGTERM) and remove the registry directory\n"
            "  status  show each server: up/down, host, pid, address, capacity, used, counters\n"
            "  wait    wait until every server is registered and answers\n"
            "\n"
            "start options:\n"
            "  -n, --nservers N      servers to start (local default 1; hostfile: one per host)\n"
            "  -d, --data-dir DIR    data directory; server i uses DIR/rank<i> (required)\n"
            "  -r, --registry DIR    registry directory (default $BENCHFS_REGISTRY)\n"
            "  -c, --capacity SIZE   capacity of each server (K/M/G/T; default: disk limit)\n"
            "  -t, --timeout SEC     how long to wait for the servers to register (60)\n"
            "      --hostfile FILE   start through mpirun over the hosts of FILE (backgrounded)\n"
            "      --mpirun CMD      the MPI launcher (default $MPIRUN or mpirun)\n"
            "      --mpirun-args STR extra launcher arguments, split at blanks\n"
            "      --benchfsd PATH   the server binary (default $BENCHFSD, the benchfsd next to\n"
            "                        benchfsctl, or benchfsd in PATH)\n"
            "  -- FLAGS...           further benchfsd flags (see benchfsd --help)\n"
            "  On success prints 'export BENCHFS_REGISTRY=DIR' for eval.\n"
            "\n"
            "stop options:    -r DIR, -t SEC (how long servers get to exit; 60)\n"
            "status options:  -r DIR, -t MS (per-server RPC timeout; 2000), -v (every counter)\n"
            "wait options:    -r DIR, -n N (servers; default as registered), -t SEC (60)\n"
            "\n"
            "Exit status: 0 success; 1 failure; 2 bad usage; 3 (status) a server is down.\n"
            "See docs/benchfsctl.md.\n");
}

/* ---- small helpers ---- */

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Absolute form of `in` (relative paths against the working directory), no trailing '/'. */
static int absolute(const char *in, char *out, size_t cap)
{
    char cwd[PATH_MAX];
    int n;
    if (in[0] == '/') {
        n = snprintf(out, cap, "%s", in);
    } else {
        if (!getcwd(cwd, sizeof cwd))
            return -1;
        n = snprintf(out, cap, "%s/%s", cwd, in);
    }
    if (n < 0 || (size_t)n >= cap)
        return -1;
    while (n > 1 && out[n - 1] == '/')
        out[--n] = '\0';
    return 0;
}

static int mkdir_p(const char *path, mode_t mode)
{
    char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *s = buf + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;
            *s = '\0';
            if (mkdir(buf, mode) != 0 && errno != EEXIST)
                return -1;
            *s = c;
            if (!c)
                break;
        }
    }
    return 0;
}

static int parse_uint(const char *s, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 0 || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_seconds(const char *s, long *ms)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || v < 0 || v > 86400.0 * 365)
        return -1;
    *ms = (long)(v * 1000.0);
    return 0;
}

static void human(uint64_t b, char *out, size_t cap)
{
    const char *u = "BKMGTP";
    double v = (double)b;
    int i = 0;
    while (v >= 1024 && i < 5) {
        v /= 1024;
        i++;
    }
    if (i == 0)
        snprintf(out, cap, "%lluB", (unsigned long long)b);
    else
        snprintf(out, cap, "%.1f%c", v, u[i]);
}

static void my_host(char *h, size_t cap)
{
    h[0] = '\0';
    gethostname(h, cap - 1);
    h[cap - 1] = '\0';
}

/* A process that exists and is not a zombie (killed servers may wait unreaped for a parent
 * that does not reap, e.g. PID 1 in a container). */
static int alive(pid_t pid)
{
    if (pid <= 0 || (kill(pid, 0) != 0 && errno == ESRCH))
        return 0;
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno != ENOENT;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 1;
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    return !(p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'));
}

/* Is pid a live process whose command name starts with `name`? (Guards against signalling a
 * recycled pid from a stale registry entry.) */
static int alive_as(pid_t pid, const char *name)
{
    if (!alive(pid))
        return 0;
    char path[64], comm[64] = "";
    snprintf(path, sizeof path, "/proc/%ld/comm", (long)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 1; /* no /proc: trust the pid */
    if (!fgets(comm, sizeof comm, f))
        comm[0] = '\0';
    fclose(f);
    return strncmp(comm, name, strlen(name)) == 0;
}

/* Wait (polling) until none of pids[] is alive or the deadline passes; reaps our children.
 * Returns how many are still alive. */
static int wait_gone(const pid_t *pids, int n, int64_t deadline)
{
    for (;;) {
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        int left = 0;
        for (int i = 0; i < n; i++)
            left += pids[i] > 0 && alive(pids[i]);
        if (!left || bfs_mono_ms() >= deadline)
            return left;
        sleep_ms(20);
    }
}

/* ---- the registry directory ---- */

struct state {
    char mode[16]; /* "local" or "mpirun" */
    int nservers;
    pid_t mpirun_pid;
    char host[64];
    pid_t pids[MAX_SERVERS];
    int npids;
};

static int state_write(const char *reg, const struct state *st)
{
    char path[PATH_MAX + 32], tmp[PATH_MAX + 48];
    snprintf(path, sizeof path, "%s/%s", reg, STATE_FILE);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    fprintf(f, "mode=%s\nnservers=%d\nhost=%s\nmpirun_pid=%ld\npids=", st->mode, st->nservers,
            st->host, (long)st->mpirun_pid);
    for (int i = 0; i < st->npids; i++)
        fprintf(f, "%s%ld", i ? "," : "", (long)st->pids[i]);
    fprintf(f, "\n");
    int err = fflush(f) != 0 || fsync(fileno(f)) != 0;
    err |= fclose(f) != 0;
    if (err || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static int state_read(const char *reg, struct state *st)
{
    memset(st, 0, sizeof *st);
    char path[PATH_MAX + 32], line[65536];
    snprintf(path, sizeof path, "%s/%s", reg, STATE_FILE);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "mode=", 5) == 0)
            snprintf(st->mode, sizeof st->mode, "%.15s", line + 5);
        else if (strncmp(line, "nservers=", 9) == 0)
            st->nservers = atoi(line + 9);
        else if (strncmp(line, "host=", 5) == 0)
            snprintf(st->host, sizeof st->host, "%.63s", line + 5);
        else if (strncmp(line, "mpirun_pid=", 11) == 0)
            st->mpirun_pid = (pid_t)atol(line + 11);
        else if (strncmp(line, "pids=", 5) == 0)
            for (char *p = line + 5; *p && st->npids < MAX_SERVERS;) {
                st->pids[st->npids++] = (pid_t)strtol(p, &p, 10);
                if (*p == ',')
                    p++;
                else
                    break;
            }
    }
    fclose(f);
    return 0;
}

/* Ids of the server.<id> entries present, sorted; returns the count. */
static int list_entries(const char *reg, uint32_t *ids, int cap)
{
    DIR *d = opendir(reg);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *s = de->d_name;
        if (strncmp(s, "server.", 7) != 0 || !isdigit((unsigned char)s[7]))
            continue;
        char *end;
        unsigned long id = strtoul(s + 7, &end, 10);
        if (*end || id >= MAX_SERVERS || n >= cap)
            continue;
        int j = n++;
        while (j > 0 && ids[j - 1] > id) {
            ids[j] = ids[j - 1];
            j--;
        }
        ids[j] = (uint32_t)id;
    }
    closedir(d);
    return n;
}

/* How many servers the cluster has: the state file, else what server.0 (or any entry) says. */
static int cluster_size(const char *reg)
{
    struct state st;
    if (state_read(reg, &st) == 0 && st.nservers > 0)
        return st.nservers;
    uint32_t ids[MAX_SERVERS];
    int n = list_entries(reg, ids, MAX_SERVERS), size = 0;
    for (int i = 0; i < n; i++) {
        struct bfs_registry_entry e;
        if (bfs_registry_read(reg, ids[i], &e) == 0 && (int)e.nservers > size)
            size = (int)e.nservers;
    }
    return size;
}

/* Is `dir` a registry (something benchfsd or benchfsctl wrote)? */
static int looks_like_registry(const char *dir)
{
    char p[PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/key", dir);
    if (access(p, F_OK) == 0)
        return 1;
    snprintf(p, sizeof p, "%s/%s", dir, STATE_FILE);
    if (access(p, F_OK) == 0)
        return 1;
    uint32_t id;
    return list_entries(dir, &id, 1) > 0;
}

/* Remove the registry directory: its files (key, entries, state, logs, temporaries), then it. */
static int remove_registry(const char *reg)
{
    DIR *d = opendir(reg);
    if (!d)
        return errno == ENOENT ? 0 : -1;
    struct dirent *de;
    int err = 0;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (unlinkat(dirfd(d), de->d_name, 0) != 0 && errno != ENOENT) {
            msg("cannot remove %s/%s: %s", reg, de->d_name, strerror(errno));
            err = -1;
        }
    }
    closedir(d);
    if (!err && rmdir(reg) != 0 && errno != ENOENT) {
        msg("cannot remove %s: %s", reg, strerror(errno));
        err = -1;
    }
    return err;
}

/* Remove server.<id> entries whose servers are gone (left by a crash), so a new cluster in the
 * same registry starts from a clean slate. Returns the number of live entries instead, if any. */
static int clear_stale(const char *reg, char *why, size_t cap)
{
    char host[64];
    my_host(host, sizeof host);
    uint32_t ids[MAX_SERVERS];
    int n = list_entries(reg, ids, MAX_SERVERS), live = 0;
    for (int i = 0; i < n; i++) {
        struct bfs_registry_entry e;
        if (bfs_registry_read(reg, ids[i], &e) != 0) {
            bfs_registry_unpublish(reg, ids[i]);
            continue;
        }
        int here = strcmp(e.host, host) == 0;
        if (!here || alive_as(e.pid, "benchfsd")) {
            if (!live)
                snprintf(why, cap, "server %u (pid %ld on %s) is registered", e.id, (long)e.pid,
                         e.host);
            live++;
        }
    }
    if (live)
        return live;
    for (int i = 0; i < n; i++)
        bfs_registry_unpublish(reg, ids[i]);
    char p[PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/%s", reg, STATE_FILE);
    unlink(p);
    return 0;
}

static void print_log_tail(const char *path, int lines)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char *ring[64] = {0};
    char buf[1024];
    int n = 0;
    if (lines > 64)
        lines = 64;
    while (fgets(buf, sizeof buf, f)) {
        free(ring[n % lines]);
        ring[n % lines] = strdup(buf);
        n++;
    }
    fclose(f);
    fprintf(stderr, "--- last lines of %s:\n", path);
    for (int i = n > lines ? n - lines : 0; i < n; i++)
        fputs(ring[i % lines] ? ring[i % lines] : "", stderr);
    for (int i = 0; i < lines; i++)
        free(ring[i]);
}

/* Is the registry complete: key plus server.0..n-1 announcing n, each by one of `pids` (when
 * given: not a leftover)? */
static int registry_complete(const char *reg, int n, const pid_t *pids)
{
    uint8_t key[BFS_KEY_LEN];
    if (bfs_registry_key_read(reg, key) != 0)
        return 0;
    for (int i = 0; i < n; i++) {
        struct bfs_registry_entry e;
        if (bfs_registry_read(reg, (uint32_t)i, &e) != 0)
            return 0;
        int ok = (int)e.nservers == n && (!pids || e.pid == pids[i]);
        if (!ok)
            return 0;
    }
    return 1;
}

/* ---- start ---- */

static void find_benchfsd(char *out, size_t cap)
{
    const char *env = getenv("BENCHFSD");
    if (env && *env) {
        snprintf(out, cap, "%s", env);
        return;
    }
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            int len = snprintf(out, cap, "%s/benchfsd", self);
            if (len > 0 && (size_t)len < cap && access(out, X_OK) == 0)
                return;
        }
    }
    snprintf(out, cap, "benchfsd");
}

/* Child side of a daemonised launch: own session, no terminal, output to `log`, exec. */
static void exec_daemon(const char *log, char **argv)
{
    setsid();
    int in = open("/dev/null", O_RDONLY);
    int out = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (in < 0 || out < 0)
        _exit(126);
    dup2(in, 0);
    dup2(out, 1);
    dup2(out, 2);
    if (in > 2)
        close(in);
    if (out > 2)
        close(out);
    if (chdir("/") != 0)
        _exit(126);
    execvp(argv[0], argv);
    fprintf(stderr, "benchfsctl: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

static int count_hosts(const char *hostfile)
{
    FILE *f = fopen(hostfile, "r");
    if (!f)
        return -1;
    char line[1024], hosts[256][256];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        char *s = line + strspn(line, " \t");
        size_t len = strcspn(s, " \t\r\n#");
        if (!len || len >= 256)
            continue;
        s[len] = '\0';
        int seen = 0;
        for (int i = 0; i < n && !seen; i++)
            seen = strcmp(hosts[i], s) == 0;
        if (!seen && n < 256)
            strcpy(hosts[n++], s);
    }
    fclose(f);
    return n;
}

/* The benchfsd arguments both start modes end with, from av[k] on, NULL-terminated. */
static void server_args(char **av, int k, char *data_dir, char *reg, const char *capacity,
                        char **extra, int nextra)
{
    av[k++] = "--data-dir";
    av[k++] = data_dir;
    av[k++] = "--registry";
    av[k++] = reg;
    if (capacity) {
        av[k++] = "--capacity";
        av[k++] = (char *)capacity;
    }
    for (int j = 0; j < nextra; j++)
        av[k++] = extra[j];
    av[k] = NULL;
}

static int cmd_start(int argc, char **argv)
{
    static const struct option lo[] = {
        {"nservers", required_argument, NULL, 'n'}, {"data-dir", required_argument, NULL, 'd'},
        {"registry", required_argument, NULL, 'r'}, {"capacity", required_argument, NULL, 'c'},
        {"timeout", required_argument, NULL, 't'},  {"hostfile", required_argument, NULL, 'H'},
        {"mpirun", required_argument, NULL, 'M'},   {"mpirun-args", required_argument, NULL, 'A'},
        {"benchfsd", required_argument, NULL, 'B'}, {"help", no_argument, NULL, 'h'},
        {0}};
    long n = -1, timeout_ms = 60000;
    const char *data = NULL, *reg_arg = getenv("BENCHFS_REGISTRY"), *capacity = NULL;
    const char *hostfile = NULL, *mpirun = getenv("MPIRUN"), *mpirun_args = NULL;
    char benchfsd[PATH_MAX];
    find_benchfsd(benchfsd, sizeof benchfsd);
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "+n:d:r:c:t:h", lo, NULL)) != -1) {
        switch (ch) {
        case 'n':
            if (parse_uint(optarg, MAX_SERVERS, &n) != 0 || n < 1) {
                msg("start: -n '%s': expected a number of servers, 1..%d", optarg, MAX_SERVERS);
                return EXIT_USAGE;
            }
            break;
        case 'd': data = optarg; break;
        case 'r': reg_arg = optarg; break;
        case 'c':
            if (bfs_parse_size(optarg) < 0) {
                msg("start: --capacity '%s' is not a size (e.g. 512M, 10G)", optarg);
                return EXIT_USAGE;
            }
            capacity = optarg;
            break;
        case 't':
            if (parse_seconds(optarg, &timeout_ms) != 0) {
                msg("start: -t '%s': expected seconds", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'H': hostfile = optarg; break;
        case 'M': mpirun = optarg; break;
        case 'A': mpirun_args = optarg; break;
        case 'B': snprintf(benchfsd, sizeof benchfsd, "%s", optarg); break;
        case 'h': usage(stdout); return 0;
        default: msg("start: see benchfsctl --help"); return EXIT_USAGE;
        }
    }
    int extra_from = optind;
    if (optind < argc && strcmp(argv[optind - 1], "--") != 0) {
        msg("start: unexpected argument '%s' (benchfsd flags go after '--')", argv[optind]);
        return EXIT_USAGE;
    }
    if (!data) {
        msg("start: -d DIR (the data directory) is required");
        return EXIT_USAGE;
    }
    if (!reg_arg || !*reg_arg) {
        msg("start: no registry: pass -r DIR or set BENCHFS_REGISTRY");
        return EXIT_USAGE;
    }
    char reg[PATH_MAX], dir[PATH_MAX], log[PATH_MAX + 64];
    if (absolute(reg_arg, reg, sizeof reg) != 0 || absolute(data, dir, sizeof dir) != 0) {
        msg("start: path too long");
        return EXIT_USAGE;
    }
    int nhosts = 0;
    if (hostfile) {
        nhosts = count_hosts(hostfile);
        if (nhosts < 0) {
            msg("start: hostfile %s: %s", hostfile, strerror(errno));
            return 1;
        }
        if (nhosts == 0) {
            msg("start: hostfile %s lists no host", hostfile);
            return 1;
        }
        if (n < 0)
            n = nhosts;
    }
    if (n < 0)
        n = 1;

    /* A registry in use by running servers is not ours to take over. */
    if (mkdir_p(reg, 0700) != 0) {
        msg("start: registry %s: %s", reg, strerror(errno));
        return 1;
    }
    char why[256] = "";
    if (clear_stale(reg, why, sizeof why) > 0) {
        msg("start: registry %s is in use (%s); run 'benchfsctl stop -r %s' first", reg, why,
            reg);
        return 1;
    }
    if (!hostfile && mkdir_p(dir, 0700) != 0) {
        msg("start: data directory %s: %s", dir, strerror(errno));
        return 1;
    }

    static struct state st;
    memset(&st, 0, sizeof st);
    st.nservers = (int)n;
    my_host(st.host, sizeof st.host);
    int nextra = argc - extra_from;
    int failed = 0;
    pid_t *wait_pids = NULL;

    if (!hostfile) {
        snprintf(st.mode, sizeof st.mode, "local");
        /* benchfsd --no-mpi --id I --nservers N --data-dir DIR/rankI --registry REG ... */
        char **av = calloc((size_t)nextra + 16, sizeof *av);
        if (!av)
            return 1;
        char idbuf[24], nbuf[24], ddir[PATH_MAX + 32];
        for (long i = 0; i < n; i++) {
            int k = 0;
            snprintf(idbuf, sizeof idbuf, "%ld", i);
            snprintf(nbuf, sizeof nbuf, "%ld", n);
            snprintf(ddir, sizeof ddir, "%s/rank%ld", dir, i);
            av[k++] = benchfsd;
            av[k++] = "--no-mpi";
            av[k++] = "--id";
            av[k++] = idbuf;
            av[k++] = "--nservers";
            av[k++] = nbuf;
            server_args(av, k, ddir, reg, capacity, argv + extra_from, nextra);
            snprintf(log, sizeof log, "%s/benchfsd.%ld.log", reg, i);
            fflush(NULL);
            pid_t pid = fork();
            if (pid < 0) {
                msg("start: fork: %s", strerror(errno));
                failed = 1;
                break;
            }
            if (pid == 0)
                exec_daemon(log, av);
            st.pids[st.npids++] = pid;
        }
        free(av);
        wait_pids = st.pids;
    } else {
        snprintf(st.mode, sizeof st.mode, "mpirun");
        char *args_copy = mpirun_args ? strdup(mpirun_args) : NULL;
        size_t cap = (size_t)nextra + 32 + (mpirun_args ? strlen(mpirun_args) : 0);
        char **av = calloc(cap, sizeof *av);
        if (!av)
            return 1;
        char nbuf[24], hf[PATH_MAX];
        if (absolute(hostfile, hf, sizeof hf) != 0) {
            msg("start: hostfile path too long");
            return EXIT_USAGE;
        }
        snprintf(nbuf, sizeof nbuf, "%ld", n);
        int k = 0;
        av[k++] = (char *)(mpirun && *mpirun ? mpirun : "mpirun");
        av[k++] = "--hostfile";
        av[k++] = hf;
        av[k++] = "-np";
        av[k++] = nbuf;
        av[k++] = "--map-by";
        av[k++] = "node";
        char *save = NULL;
        for (char *t = args_copy ? strtok_r(args_copy, " \t", &save) : NULL; t;
             t = strtok_r(NULL, " \t", &save))
            av[k++] = t;
        av[k++] = benchfsd;
        av[k++] = "--mpi";
        server_args(av, k, dir, reg, capacity, argv + extra_from, nextra);
        snprintf(log, sizeof log, "%s/mpirun.log", reg);
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) {
            msg("start: fork: %s", strerror(errno));
            failed = 1;
        } else if (pid == 0) {
            if (geteuid() == 0) { /* Open MPI refuses root without these; others ignore them */
                setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 0);
                setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 0);
            }
            exec_daemon(log, av);
        } else {
            st.mpirun_pid = pid;
        }
        free(av);
        free(args_copy);
    }
    if (!failed && state_write(reg, &st) != 0) {
        msg("start: cannot write %s/%s: %s", reg, STATE_FILE, strerror(errno));
        failed = 1;
    }

    /* Wait until every server is registered; a launcher or server that dies fails the start. */
    int64_t deadline = bfs_mono_ms() + timeout_ms;
    while (!failed) {
        if (registry_complete(reg, (int)n, wait_pids))
            break;
        int status;
        pid_t dead = waitpid(-1, &status, WNOHANG);
        if (dead > 0) {
            if (hostfile) {
                msg("start: mpirun exited (%s %d) before all servers registered",
                    WIFEXITED(status) ? "status" : "signal",
                    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
                snprintf(log, sizeof log, "%s/mpirun.log", reg);
            } else {
                int i = 0;
                while (i < st.npids && st.pids[i] != dead)
                    i++;
                msg("start: server %d (pid %ld) exited (%s %d) before registering", i,
                    (long)dead, WIFEXITED(status) ? "status" : "signal",
                    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
                snprintf(log, sizeof log, "%s/benchfsd.%d.log", reg, i);
            }
            print_log_tail(log, 40);
            failed = 1;
            break;
        }
        if (bfs_mono_ms() >= deadline) {
            msg("start: the servers did not all register in %s within %.1f s", reg,
                (double)timeout_ms / 1000);
            failed = 1;
            break;
        }
        sleep_ms(50);
    }
    if (failed) {
        /* Take down what did start, and leave nothing behind. */
        for (int i = 0; i < st.npids; i++)
            kill(st.pids[i], SIGTERM);
        if (st.mpirun_pid > 0)
            kill(st.mpirun_pid, SIGTERM);
        pid_t all[MAX_SERVERS + 1];
        int na = 0;
        for (int i = 0; i < st.npids; i++)
            all[na++] = st.pids[i];
        if (st.mpirun_pid > 0)
            all[na++] = st.mpirun_pid;
        if (wait_gone(all, na, bfs_mono_ms() + 15000)) {
            for (int i = 0; i < na; i++)
                kill(all[i], SIGKILL);
            wait_gone(all, na, bfs_mono_ms() + 5000);
        }
        remove_registry(reg);
        return 1;
    }
    if (hostfile)
        msg("%ld servers up under mpirun (pid %ld, log %s/mpirun.log)", n, (long)st.mpirun_pid,
            reg);
    else
        msg("%ld servers up (data %s/rank<i>, logs %s/benchfsd.<i>.log)", n, dir, reg);
    printf("export BENCHFS_REGISTRY=%s\n", reg);
    fflush(stdout);
    return 0;
}

/* ---- stop ---- */

static int registry_arg(const char *arg, char *reg, size_t cap, const char *cmd)
{
    if (!arg || !*arg) {
        msg("%s: no registry: pass -r DIR or set BENCHFS_REGISTRY", cmd);
        return EXIT_USAGE;
    }
    if (absolute(arg, reg, cap) != 0) {
        msg("%s: registry path too long", cmd);
        return EXIT_USAGE;
    }
    struct stat sb;
    if (stat(reg, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        msg("%s: no registry at %s", cmd, reg);
        return 1;
    }
    if (!looks_like_registry(reg)) {
        msg("%s: %s is not a BenchFS registry (no key, no server entries)", cmd, reg);
        return 1;
    }
    return 0;
}

static int cmd_stop(int argc, char **argv)
{
    static const struct option lo[] = {{"registry", required_argument, NULL, 'r'},
                                       {"timeout", required_argument, NULL, 't'},
                                       {"help", no_argument, NULL, 'h'},
                                       {0}};
    const char *reg_arg = getenv("BENCHFS_REGISTRY");
    long timeout_ms = 60000;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "r:t:h", lo, NULL)) != -1) {
        switch (ch) {
        case 'r': reg_arg = optarg; break;
        case 't':
            if (parse_seconds(optarg, &timeout_ms) != 0) {
                msg("stop: -t '%s': expected seconds", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: msg("stop: see benchfsctl --help"); return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        msg("stop: unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
    }
    char reg[PATH_MAX];
    int rc = registry_arg(reg_arg, reg, sizeof reg, "stop");
    if (rc)
        return rc;

    static struct state st;
    int have_state = state_read(reg, &st) == 0;
    char host[64];
    my_host(host, sizeof host);
    static pid_t local[MAX_SERVERS * 2];
    int nlocal = 0, remote = 0, stale = 0;
    uint32_t ids[MAX_SERVERS];
    int n = list_entries(reg, ids, MAX_SERVERS);
    for (int i = 0; i < n; i++) {
        struct bfs_registry_entry e;
        if (bfs_registry_read(reg, ids[i], &e) != 0)
            continue;
        if (strcmp(e.host, host) != 0) {
            if (!remote)
                msg("stop: server %u runs on %s%s", e.id, e.host,
                    have_state && st.mpirun_pid > 0 ? ": stopping it through mpirun" : "");
            remote++;
        } else if (alive_as(e.pid, "benchfsd")) {
            local[nlocal++] = e.pid;
        } else {
            stale++;
        }
    }
    /* Servers started by `benchfsctl start` that never registered. */
    if (have_state && strcmp(st.host, host) == 0)
        for (int i = 0; i < st.npids; i++) {
            int dup = 0;
            for (int j = 0; j < nlocal && !dup; j++)
                dup = local[j] == st.pids[i];
            if (!dup && alive_as(st.pids[i], "benchfsd"))
                local[nlocal++] = st.pids[i];
        }
    pid_t launcher = have_state && strcmp(st.host, host) == 0 ? st.mpirun_pid : 0;
    if (launcher > 0 && !alive(launcher))
        launcher = 0;
    if (remote && !launcher) {
        msg("stop: %d server%s on other hosts: stop %s there (SIGTERM), or stop the mpirun/srun "
            "that started them; the registry stays",
            remote, remote > 1 ? "s" : "", remote > 1 ? "them" : "it");
    }

    /* SIGTERM: each server finishes what is in flight, leaves the registry, syncs its data. */
    for (int i = 0; i < nlocal; i++)
        kill(local[i], SIGTERM);
    if (remote && launcher)
        kill(launcher, SIGTERM); /* mpirun passes it on to every rank */
    int64_t deadline = bfs_mono_ms() + timeout_ms;
    int left = wait_gone(local, nlocal, deadline);
    if (left) {
        msg("stop: %d server%s did not exit within %.1f s: killing (SIGKILL)", left,
            left > 1 ? "s" : "", (double)timeout_ms / 1000);
        for (int i = 0; i < nlocal; i++)
            if (alive(local[i]))
                kill(local[i], SIGKILL);
        wait_gone(local, nlocal, bfs_mono_ms() + 5000);
        rc = 1;
    }
    if (launcher) {
        /* With every rank gone mpirun exits by itself; give it a moment, then insist. */
        if (wait_gone(&launcher, 1, bfs_mono_ms() + 10000)) {
            kill(launcher, SIGTERM);
            if (wait_gone(&launcher, 1, deadline > bfs_mono_ms() + 5000 ? deadline
                                                                        : bfs_mono_ms() + 5000)) {
                msg("stop: mpirun (pid %ld) did not exit: killing it", (long)launcher);
                kill(launcher, SIGKILL);
                wait_gone(&launcher, 1, bfs_mono_ms() + 5000);
                rc = 1;
            }
        }
    }
    if (remote && !launcher)
        return 1;
    /* Entries still present belong to servers that were not running (crashed or killed). */
    n = list_entries(reg, ids, MAX_SERVERS);
    if (stale || n > 0)
        msg("stop: %d server%s had already died (no clean stop)", n > stale ? n : stale,
            (n > stale ? n : stale) == 1 ? "" : "s");
    if (rc) {
        msg("stop: not every server stopped cleanly; keeping %s (logs)", reg);
        return rc;
    }
    if (remove_registry(reg) != 0)
        return 1;
    msg("stopped %d server%s%s; removed %s", nlocal + remote, nlocal + remote == 1 ? "" : "s",
        launcher ? " and mpirun" : "", reg);
    return 0;
}

/* ---- status and wait: ask every server for its counters ---- */

struct srv_status {
    uint32_t id;
    int registered, up;
    pid_t pid;
    char host[64];
    char listen[64]; /* the UCX listener, "ip:port" */
    char why[160];
    char *stats; /* the server's counters ("key value" lines), when up */
};

static uint64_t stat_u64(const char *stats, const char *key)
{
    size_t kl = strlen(key);
    for (const char *p = stats; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, key, kl) == 0 && p[kl] == ' ')
            return strtoull(p + kl + 1, NULL, 10);
    return 0;
}

/* Sum of every "<op>.<suffix> N" line. */
static uint64_t stat_sum(const char *stats, const char *suffix)
{
    uint64_t sum = 0;
    size_t sl = strlen(suffix);
    for (const char *p = stats; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        const char *sp = strchr(p, ' ');
        const char *nl = strchr(p, '\n');
        if (!sp || (nl && sp > nl) || (size_t)(sp - p) <= sl)
            continue;
        if (strncmp(sp - sl, suffix, sl) == 0 && sp[-(long)sl - 1] == '.')
            sum += strtoull(sp + 1, NULL, 10);
    }
    return sum;
}

/* Probe servers 0..n-1: those registered and not known dead are put, renumbered, in a private
 * copy of the registry (key + their entries), so one client reaches them even while others are
 * missing (benchfs_init waits for a complete registry). Fills st[]; returns how many are up. */
static int probe(const char *reg, int n, struct srv_status *st, long rpc_timeout_ms)
{
    char host[64];
    my_host(host, sizeof host);
    int *cand = calloc((size_t)n, sizeof *cand), nc = 0, up = 0;
    if (!cand)
        return 0;
    for (int i = 0; i < n; i++) {
        struct srv_status *s = &st[i];
        memset(s, 0, sizeof *s);
        s->id = (uint32_t)i;
        struct bfs_registry_entry e;
        if (bfs_registry_read(reg, (uint32_t)i, &e) != 0) {
            snprintf(s->why, sizeof s->why, "not registered");
            continue;
        }
        s->registered = 1;
        s->pid = e.pid;
        snprintf(s->host, sizeof s->host, "%s", e.host);
        snprintf(s->listen, sizeof s->listen, "%s", e.listen);
        if (strcmp(s->host, host) == 0 && !alive(s->pid))
            snprintf(s->why, sizeof s->why, "process %ld is gone", (long)s->pid);
        else
            cand[nc++] = i;
    }
    char tmp[] = "/tmp/benchfsctl-probe.XXXXXX";
    uint8_t key[BFS_KEY_LEN];
    int ok = nc > 0 && bfs_registry_key_read(reg, key) == 0 && mkdtemp(tmp) != NULL;
    if (nc > 0 && !ok)
        for (int j = 0; j < nc; j++)
            snprintf(st[cand[j]].why, sizeof st[cand[j]].why, "cannot read the cluster key");
    if (ok) {
        /* The copy of the key: a 0700 directory of our own, removed below. */
        char path[PATH_MAX + 32], text[2 * BFS_KEY_LEN + 2];
        bfs_hex_encode(key, BFS_KEY_LEN, text);
        strcat(text, "\n");
        snprintf(path, sizeof path, "%s/key", tmp);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
        ok = fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text);
        if (fd >= 0)
            close(fd);
        for (int j = 0; ok && j < nc; j++) {
            struct bfs_registry_entry e;
            if (bfs_registry_read(reg, (uint32_t)cand[j], &e) != 0) {
                ok = 0;
                break;
            }
            e.id = (uint32_t)j;
            e.nservers = (uint32_t)nc;
            ok = bfs_registry_publish(tmp, &e) == 0;
        }
        benchfs_t *fs = NULL;
        if (ok) {
            benchfs_options_t o = {.registry = tmp, .nservers = nc, .wait_ms = 1000,
                                   .rpc_timeout_ms = (int)rpc_timeout_ms};
            fs = benchfs_init_opts(&o);
        }
        if (!fs) {
            for (int j = 0; j < nc; j++)
                snprintf(st[cand[j]].why, sizeof st[cand[j]].why, "client: %s",
                         benchfs_strerror());
        }
        char *buf = malloc(1 << 16);
        for (int j = 0; fs && buf && j < nc; j++) {
            struct srv_status *s = &st[cand[j]];
            ssize_t len = benchfs_server_stats(fs, j, buf, 1 << 16);
            if (len < 0) {
                snprintf(s->why, sizeof s->why, "%s", strerror(errno));
                continue;
            }
            s->up = 1;
            s->stats = strdup(buf);
            up++;
        }
        free(buf);
        if (fs)
            benchfs_term(fs);
        remove_registry(tmp);
    }
    free(cand);
    return up;
}

static int cmd_status(int argc, char **argv)
{
    static const struct option lo[] = {{"registry", required_argument, NULL, 'r'},
                                       {"timeout", required_argument, NULL, 't'},
                                       {"verbose", no_argument, NULL, 'v'},
                                       {"help", no_argument, NULL, 'h'},
                                       {0}};
    const char *reg_arg = getenv("BENCHFS_REGISTRY");
    long rpc_ms = 2000;
    int verbose = 0, ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "r:t:vh", lo, NULL)) != -1) {
        switch (ch) {
        case 'r': reg_arg = optarg; break;
        case 't':
            if (parse_uint(optarg, 3600000, &rpc_ms) != 0 || rpc_ms < 1) {
                msg("status: -t '%s': expected milliseconds", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'v': verbose = 1; break;
        case 'h': usage(stdout); return 0;
        default: msg("status: see benchfsctl --help"); return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        msg("status: unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
    }
    char reg[PATH_MAX];
    int rc = registry_arg(reg_arg, reg, sizeof reg, "status");
    if (rc)
        return rc;
    int n = cluster_size(reg);
    if (n <= 0) {
        msg("status: no server is registered in %s", reg);
        return EXIT_DOWN;
    }
    struct srv_status *st = calloc((size_t)n, sizeof *st);
    if (!st)
        return 1;
    int up = probe(reg, n, st, rpc_ms);
    printf("registry %s: %d server%s, %d up, %d down\n", reg, n, n == 1 ? "" : "s", up, n - up);
    printf("%-4s %-5s %-16s %-8s %-21s %9s %9s %8s %9s %6s %9s %9s %9s\n", "ID", "STATE", "HOST",
           "PID", "LISTEN", "CAPACITY", "USED", "ENTRIES", "OPS", "ERRORS", "IN", "OUT",
           "UPTIME");
    for (int i = 0; i < n; i++) {
        struct srv_status *s = &st[i];
        char addr[40] = "-", pid[16] = "-";
        if (s->registered) {
            snprintf(addr, sizeof addr, "%s", s->listen);
            snprintf(pid, sizeof pid, "%ld", (long)s->pid);
        }
        printf("%-4u %-5s %-16s %-8s %-21s", s->id, s->up ? "up" : "down",
               s->registered ? s->host : "-", pid, addr);
        if (s->up) {
            char cap[16], used[16], in[16], out[16];
            uint64_t c = stat_u64(s->stats, "capacity_bytes");
            if (c)
                human(c, cap, sizeof cap);
            else
                snprintf(cap, sizeof cap, "disk");
            human(stat_u64(s->stats, "used_bytes"), used, sizeof used);
            human(stat_sum(s->stats, "bytes_in"), in, sizeof in);
            human(stat_sum(s->stats, "bytes_out"), out, sizeof out);
            const char *up_line = strstr(s->stats, "uptime_s ");
            double uptime = up_line ? strtod(up_line + 9, NULL) : 0;
            printf(" %9s %9s %8llu %9llu %6llu %9s %9s %8.0fs\n", cap, used,
                   (unsigned long long)stat_u64(s->stats, "meta_entries"),
                   (unsigned long long)stat_sum(s->stats, "count"),
                   (unsigned long long)stat_sum(s->stats, "errors"), in, out, uptime);
        } else {
            printf("  (%s)\n", s->why);
        }
    }
    if (verbose)
        for (int i = 0; i < n; i++) {
            if (!st[i].up)
                continue;
            printf("\nserver %d:\n", i);
            for (char *line = st[i].stats; line && *line;) {
                char *nl = strchr(line, '\n');
                printf("  %.*s\n", (int)(nl ? nl - line : (long)strlen(line)), line);
                line = nl ? nl + 1 : NULL;
            }
        }
    for (int i = 0; i < n; i++)
        free(st[i].stats);
    free(st);
    return up == n ? 0 : EXIT_DOWN;
}

static int cmd_wait(int argc, char **argv)
{
    static const struct option lo[] = {{"registry", required_argument, NULL, 'r'},
                                       {"nservers", required_argument, NULL, 'n'},
                                       {"timeout", required_argument, NULL, 't'},
                                       {"help", no_argument, NULL, 'h'},
                                       {0}};
    const char *reg_arg = getenv("BENCHFS_REGISTRY");
    long timeout_ms = 60000, n = 0;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "r:n:t:h", lo, NULL)) != -1) {
        switch (ch) {
        case 'r': reg_arg = optarg; break;
        case 'n':
            if (parse_uint(optarg, MAX_SERVERS, &n) != 0 || n < 1) {
                msg("wait: -n '%s': expected a number of servers, 1..%d", optarg, MAX_SERVERS);
                return EXIT_USAGE;
            }
            break;
        case 't':
            if (parse_seconds(optarg, &timeout_ms) != 0) {
                msg("wait: -t '%s': expected seconds", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: msg("wait: see benchfsctl --help"); return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        msg("wait: unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
    }
    if (!reg_arg || !*reg_arg) {
        msg("wait: no registry: pass -r DIR or set BENCHFS_REGISTRY");
        return EXIT_USAGE;
    }
    char reg[PATH_MAX];
    if (absolute(reg_arg, reg, sizeof reg) != 0) {
        msg("wait: registry path too long");
        return EXIT_USAGE;
    }
    /* The registry may not exist yet: the servers may still be starting. */
    int64_t deadline = bfs_mono_ms() + timeout_ms;
    char why[200] = "no registry yet";
    for (;;) {
        int want = n > 0 ? (int)n : 0;
        if (!want && access(reg, F_OK) == 0)
            want = cluster_size(reg);
        if (want > 0 && registry_complete(reg, want, NULL)) {
            struct srv_status *st = calloc((size_t)want, sizeof *st);
            int up = st ? probe(reg, want, st, 2000) : 0;
            for (int i = 0; st && i < want; i++) {
                if (!st[i].up && up < want)
                    snprintf(why, sizeof why, "server %d: %s", i, st[i].why);
                free(st[i].stats);
            }
            free(st);
            if (up == want) {
                msg("%d server%s up (registry %s)", want, want == 1 ? "" : "s", reg);
                return 0;
            }
        } else if (want > 0) {
            snprintf(why, sizeof why, "not all %d servers are registered", want);
        }
        if (bfs_mono_ms() >= deadline) {
            msg("wait: gave up after %.1f s: %s", (double)timeout_ms / 1000, why);
            return 1;
        }
        sleep_ms(200);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("benchfsctl %s\n", benchfs_version());
        return 0;
    }
    if (strcmp(cmd, "start") == 0)
        return cmd_start(argc - 1, argv + 1);
    if (strcmp(cmd, "stop") == 0)
        return cmd_stop(argc - 1, argv + 1);
    if (strcmp(cmd, "status") == 0)
        return cmd_status(argc - 1, argv + 1);
    if (strcmp(cmd, "wait") == 0)
        return cmd_wait(argc - 1, argv + 1);
    msg("unknown command '%s' (start, stop, status, wait; see --help)", cmd);
    return EXIT_USAGE;
}
