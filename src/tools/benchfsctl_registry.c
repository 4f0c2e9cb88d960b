/* SPDX-License-Identifier: BSD-3-Clause */
/* benchfsctl_registry.c — processes, the registry directory and benchfsctl's state file. */
#include "benchfsctl.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "benchfs.h"
#include "common/util.h"
#include "net/registry.h"

/* ---- processes ---- */

void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

void human(uint64_t b, char *out, size_t cap)
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

void my_host(char *h, size_t cap)
{
    h[0] = '\0';
    gethostname(h, cap - 1);
    h[cap - 1] = '\0';
}

/* A process that exists and is not a zombie (killed servers may wait unreaped for a parent
 * that does not reap, e.g. PID 1 in a container). */
int alive(pid_t pid)
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
int alive_as(pid_t pid, const char *name)
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
int wait_gone(const pid_t *pids, int n, int64_t deadline)
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

void self_path(char *out, size_t cap)
{
    ssize_t n = readlink("/proc/self/exe", out, cap - 1);
    if (n <= 0) {
        snprintf(out, cap, "benchfsctl");
        return;
    }
    out[n] = '\0';
}

void allow_root_mpirun(void)
{
    if (geteuid() == 0) {
        setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 0);
        setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 0);
    }
}

/* Child side of a daemonised launch: own session, no terminal, output to `log`, exec. */
_Noreturn void exec_daemon(const char *log, char **argv)
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

/* ---- the registry directory ---- */

int state_write(const char *reg, const struct state *st)
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
    fprintf(f, "mode=%s\nnservers=%d\nhost=%s\nmpirun_pid=%ld\nlog_dir=%s\n", st->mode,
            st->nservers, st->host, (long)st->mpirun_pid, st->log_dir);
    if (st->hostfile[0])
        fprintf(f, "hostfile=%s\nnhosts=%d\nmpirun=%s\nmpirun_args=%s\n", st->hostfile,
                st->nhosts, st->mpirun, st->mpirun_args);
    fprintf(f, "pids=");
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

static void copy_value(char *dst, size_t cap, const char *v) { snprintf(dst, cap, "%s", v); }

int state_read(const char *reg, struct state *st)
{
    memset(st, 0, sizeof *st);
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", reg, STATE_FILE);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char *line = NULL;
    size_t lcap = 0;
    while (getline(&line, &lcap, f) > 0) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "mode=", 5) == 0)
            copy_value(st->mode, sizeof st->mode, line + 5);
        else if (strncmp(line, "nservers=", 9) == 0)
            st->nservers = atoi(line + 9);
        else if (strncmp(line, "host=", 5) == 0)
            copy_value(st->host, sizeof st->host, line + 5);
        else if (strncmp(line, "mpirun_pid=", 11) == 0)
            st->mpirun_pid = (pid_t)atol(line + 11);
        else if (strncmp(line, "log_dir=", 8) == 0)
            copy_value(st->log_dir, sizeof st->log_dir, line + 8);
        else if (strncmp(line, "hostfile=", 9) == 0)
            copy_value(st->hostfile, sizeof st->hostfile, line + 9);
        else if (strncmp(line, "nhosts=", 7) == 0)
            st->nhosts = atoi(line + 7);
        else if (strncmp(line, "mpirun=", 7) == 0)
            copy_value(st->mpirun, sizeof st->mpirun, line + 7);
        else if (strncmp(line, "mpirun_args=", 12) == 0)
            copy_value(st->mpirun_args, sizeof st->mpirun_args, line + 12);
        else if (strncmp(line, "pids=", 5) == 0 && !st->pids) {
            size_t cap = 1;
            for (const char *p = line + 5; *p; p++)
                cap += *p == ',';
            st->pids = calloc(cap, sizeof *st->pids);
            for (char *p = line + 5; st->pids && *p && (size_t)st->npids < cap;) {
                st->pids[st->npids++] = (pid_t)strtol(p, &p, 10);
                if (*p == ',')
                    p++;
                else
                    break;
            }
        }
    }
    free(line);
    fclose(f);
    return 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int list_entries(const char *reg, uint32_t **ids)
{
    *ids = NULL;
    DIR *d = opendir(reg);
    if (!d)
        return -1;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *s = de->d_name;
        if (strncmp(s, "server.", 7) != 0 || !isdigit((unsigned char)s[7]))
            continue;
        char *end;
        errno = 0;
        unsigned long id = strtoul(s + 7, &end, 10);
        if (*end || errno || id > UINT32_MAX)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            uint32_t *grown = realloc(*ids, cap * sizeof *grown);
            if (!grown)
                break;
            *ids = grown;
        }
        (*ids)[n++] = (uint32_t)id;
    }
    closedir(d);
    if (n)
        qsort(*ids, n, sizeof **ids, cmp_u32);
    return (int)n;
}

/* How many servers the cluster has: the state file, else what server.0 (or any entry) says. */
int cluster_size(const char *reg)
{
    static struct state st;
    int have = state_read(reg, &st) == 0;
    free(st.pids);
    if (have && st.nservers > 0)
        return st.nservers;
    uint32_t *ids;
    int n = list_entries(reg, &ids), size = 0;
    for (int i = 0; i < n; i++) {
        struct bfs_registry_entry e;
        if (bfs_registry_read(reg, ids[i], &e) == 0 && (int)e.nservers > size)
            size = (int)e.nservers;
    }
    free(ids);
    return size;
}

/* Is `dir` a registry (something benchfsd or benchfsctl wrote)? */
int looks_like_registry(const char *dir)
{
    char p[PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/key", dir);
    if (access(p, F_OK) == 0)
        return 1;
    snprintf(p, sizeof p, "%s/%s", dir, STATE_FILE);
    if (access(p, F_OK) == 0)
        return 1;
    uint32_t *ids;
    int n = list_entries(dir, &ids);
    free(ids);
    return n > 0;
}

/* Remove the registry directory: its files (key, entries, state, logs, temporaries), then it. */
int remove_registry(const char *reg)
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
int clear_stale(const char *reg, char *why, size_t cap)
{
    char host[256];
    my_host(host, sizeof host);
    uint32_t *ids;
    int n = list_entries(reg, &ids), live = 0;
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
    if (live) {
        free(ids);
        return live;
    }
    for (int i = 0; i < n; i++)
        bfs_registry_unpublish(reg, ids[i]);
    free(ids);
    char p[PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/%s", reg, STATE_FILE);
    unlink(p);
    return 0;
}

void print_log_tail(const char *path, int lines)
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
int registry_complete(const char *reg, int n, const pid_t *pids)
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

int registry_arg(const char *arg, char *reg, size_t cap, const char *cmd)
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

void default_log_dir(const char *reg, char *out, size_t cap)
{
    snprintf(out, cap, "%s.logs", reg);
}
