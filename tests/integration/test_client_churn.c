/* SPDX-License-Identifier: BSD-3-Clause */
/* test_client_churn — many short-lived and many killed same-host clients.
 *
 * A real short-lived client is a process: each client here is one, forked by a small
 * "launcher" process that the test forks before it holds any BenchFS context itself (so no
 * UCX state ever crosses a fork). The test talks to the servers only through the public API
 * (include/benchfs.h) and looks at them only through /proc, so it holds whatever transport
 * same-host clients use (UCX shared memory today, an AF_UNIX socket later).
 *
 * "short": 5,000 clients in a row (BENCHFS_CHURN_CLIENTS; 1,000 by default under ASan),
 * BENCHFS_CHURN_PAR (4) at a time, each: benchfs_init, one call (statfs, which talks to every
 * server, or a tiny create+write+close), benchfs_term, exit. After a warm-up of 50 clients
 * (pools, caches, allocator arenas may grow once) the servers' resources are read from /proc —
 * System V segments attached (SYSV lines of /proc/PID/maps), mappings, open fds, VmRSS — and
 * after the 5,000 they must be back within a small bound of that baseline (see BOUND_*).
 * Every 250 clients the same figures are read and the run stops at once when a leak is
 * already far past the bound (so a leaking server never fills the host's segment table,
 * which other tests share). A new client must still connect and work.
 *
 * "killed": 200 clients (BENCHFS_CHURN_KILLS) killed with SIGKILL at random points, seeded
 * (the seed is printed; BENCHFS_CHURN_SEED replays a run), a random mix (BENCHFS_CHURN_MODES,
 * default "abc", picks a subset: one kind of death at a time) of
 *   a) killed 0-50 ms after the fork (mostly inside benchfs_init or its first calls),
 *   b) killed inside one 64 MiB benchfs_write through the servers (BENCHFS_LOCAL_WRITES=0,
 *      BENCHFS_LOCAL_READS=0: rendezvous transfers pulled by the server),
 *   c) killed inside one 64 MiB direct write (default settings: CHUNK_RESERVE, then the client
 *      writes the chunk files itself).
 * The kill delay of b) and c) is uniform over the time such a write takes here (measured
 * first with one client of each kind that is not killed); the clients reuse 8 file names per
 * kind (O_TRUNC), so the disk never holds more than ~1.2 GiB. After every kill both servers
 * must be alive, every 20 kills (and after any failure) they must answer. At the end: both
 * alive and answering, the System V segments attached in each server back to where they
 * were before the kills (+BOUND_SYSV), a new client (direct I/O) and one
 * through the servers can create, write, read back and verify a file; then every file is
 * removed (listing from the root) and each server's used_bytes counter must equal the bytes
 * its chunk files occupy on disk: the sum of st_blocks * 512 under <data>/chunks (allocated
 * bytes, the accounting the servers are moving to; st_size is printed next to it).
 *
 * Every loop is bounded in count and in time; a server that dies or stops answering fails the
 * test with a message saying so; a watchdog (data_util.h) ends a hung run and a guardian
 * kills the servers however the test ends; the launcher and its clients die with the test
 * (PR_SET_PDEATHSIG).
 *
 * usage: test_client_churn NSERVERS [short|killed|all] */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cluster.h"
#include "data_util.h"

#if defined(__SANITIZE_ADDRESS__)
#define CHURN_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CHURN_ASAN 1
#endif
#endif
#ifndef CHURN_ASAN
#define CHURN_ASAN 0
#endif

/* ---- bounds (after CLIENTS clients, against the baseline taken after the warm-up) ----
 *
 * Today every same-host HELLO leaves the server attached to the client's System V segment(s)
 * (~1 per client per server: 300 clients took the host from 32 to 632 segments) and at least
 * one more mapping: after 5,000 clients that is thousands of SYSV lines and > 5,000 mappings
 * per server, and the host's segment table (shmmni 4096) is full after ~2,000 clients. A server
 * that cleans up keeps what the warm-up already made it allocate; the bounds leave room for a
 * few connections still closing and for allocator growth, and are still two orders of
 * magnitude below one leaked item per client:
 *   segments  +4   a couple of clients whose teardown the server has not yet seen;
 *   mappings  +64  malloc arenas, pool classes, io_uring buffers first used after the warm-up;
 *   fds       +16  sockets/eventfds of a few connections still closing (after the AF_UNIX
 *                  change one leaked fd per client is 5,000);
 *   RSS       +64 MiB  pools may grow to the largest request seen; a leak of 4 KiB per
 *                  client is only 20 MiB, which the mapping bound catches instead, but leaked
 *                  segments or per-client buffers of 64 KiB+ are hundreds of MiB. Under ASan
 *                  freed memory sits in the quarantine (256 MiB by default): +320 MiB there. */
#define BOUND_SYSV 4
#define BOUND_MAPS 64
#define BOUND_FDS 16
#define BOUND_RSS_KB ((CHURN_ASAN ? 320L : 64L) * 1024)
/* Stop early (mid-run) once a server is this far past the baseline: a leak, clearly. */
#define EARLY_SYSV 256
#define EARLY_MAPS 2048
#define EARLY_FDS 1024

#define WARMUP 50
#define BATCH 250
#define DEFAULT_CLIENTS (CHURN_ASAN ? 1000 : 5000) /* ASan: ~2-4x slower per client */
#define DEFAULT_PAR 4
#define DEFAULT_KILLS 200
#define BIG (64u << 20)        /* the write that b) and c) clients are killed in */
#define NAMES 8                /* killed clients reuse (O_TRUNC) 8 names per kind: the disk
                                  holds at most ~1.2 GiB of their files, not 200 x 64 MiB */
#define CHILD_LIMIT_MS 30000   /* a client alive longer than this is hung: killed, a failure */
#define MAX_FAIL 10            /* a phase stops spawning after this many failed clients */
#define SHORT_BUDGET_MS 400000 /* the short run's clients (5,000 took 110-200 s here) */
#define KILLED_BUDGET_MS 240000
#define WATCHDOG_S 580         /* per run; ctest's TIMEOUT is 600 */
#define CLIENT_RPC_MS 10000

static struct cluster C;
static int NSRV;

static long env_long(const char *name, long def)
{
    const char *v = getenv(name);
    return v && *v ? strtol(v, NULL, 0) : def;
}

/* ---- /proc ---- */

struct snap {
    long maps, sysv, fds, rss_kb;
};

static int proc_snap(pid_t pid, struct snap *s)
{
    memset(s, 0, sizeof *s);
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/maps", (long)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        s->maps++;
        if (strstr(line, "SYSV"))
            s->sysv++;
    }
    fclose(f);
    snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
    f = fopen(path, "r");
    if (!f) {
        free(line);
        return -1;
    }
    while (getline(&line, &cap, f) > 0)
        if (strncmp(line, "VmRSS:", 6) == 0)
            s->rss_kb = strtol(line + 6, NULL, 10);
    fclose(f);
    free(line);
    snprintf(path, sizeof path, "/proc/%ld/fd", (long)pid);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            s->fds++;
    closedir(d);
    return 0;
}

/* The IPC namespace's System V segments (what ipcs -m lists): count, bytes, attaches. */
struct shm_total {
    long segs, nattch;
    unsigned long long bytes;
};

static void shm_totals(struct shm_total *t)
{
    memset(t, 0, sizeof *t);
    FILE *f = fopen("/proc/sysvipc/shm", "r");
    if (!f)
        return;
    char line[512];
    if (!fgets(line, sizeof line, f)) { /* header */
        fclose(f);
        return;
    }
    while (fgets(line, sizeof line, f)) {
        long key, id, perms, cpid, lpid, nattch;
        unsigned long long size;
        if (sscanf(line, "%ld %ld %lo %llu %ld %ld %ld", &key, &id, &perms, &size, &cpid, &lpid,
                   &nattch) == 7) {
            t->segs++;
            t->bytes += size;
            t->nattch += nattch;
        }
    }
    fclose(f);
}

static void print_snaps(const char *when, const struct snap *s)
{
    struct shm_total t;
    shm_totals(&t);
    printf("churn: %-26s", when);
    for (int i = 0; i < NSRV; i++)
        printf(" | srv%d: sysv %ld maps %ld fds %ld rss %ld MiB", i, s[i].sysv, s[i].maps,
               s[i].fds, s[i].rss_kb / 1024);
    printf(" | host shm: %ld segs %llu MiB nattch %ld\n", t.segs, t.bytes >> 20, t.nattch);
}

/* ---- server liveness ---- */

/* Both servers still running (not exited, not zombies)? Says which one is gone. */
static int servers_alive(const char *when)
{
    int ok = 1;
    for (int s = 0; s < NSRV; s++) {
        int st = 0;
        if (C.pids[s] <= 0) { /* reported when it was found dead */
            ok = 0;
            continue;
        }
        pid_t r = waitpid(C.pids[s], &st, WNOHANG);
        if (r == 0)
            continue;
        if (r == C.pids[s]) {
            fprintf(stderr, "FAIL: server %d (pid %ld) is dead %s: %s %d\n", s, (long)C.pids[s],
                    when, WIFSIGNALED(st) ? "killed by signal" : "exit status",
                    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
            C.pids[s] = 0;
        } else {
            fprintf(stderr, "FAIL: server %d is gone %s\n", s, when);
        }
        test_failures++;
        ok = 0;
    }
    return ok;
}

/* Every server answers a STATS call through fs (whose RPC timeout bounds the wait). */
static int servers_answer(benchfs_t *fs, const char *when)
{
    static char buf[65536];
    int ok = 1;
    for (int s = 0; s < NSRV; s++) {
        int64_t t0 = now_ms();
        if (benchfs_server_stats(fs, s, buf, sizeof buf) < 0) {
            fprintf(stderr, "FAIL: server %d does not answer %s (%lld ms): %s\n", s, when,
                    (long long)(now_ms() - t0), benchfs_strerror());
            test_failures++;
            ok = 0;
        }
    }
    return ok;
}

/* One counter ("used_bytes") of one server; -1 if it cannot be asked. */
static long server_counter(benchfs_t *fs, int s, const char *name)
{
    static char buf[65536];
    char key[96];
    snprintf(key, sizeof key, "\n%s ", name);
    buf[0] = '\n';
    if (benchfs_server_stats(fs, s, buf + 1, sizeof buf - 1) < 0)
        return -1;
    const char *p = strstr(buf, key);
    return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

/* ---- the clients (run in the launcher's children) ---- */

static benchfs_t *child_init(void)
{
    benchfs_options_t o = {.registry = C.registry, .nservers = NSRV, .wait_ms = 10000,
                           .rpc_timeout_ms = CLIENT_RPC_MS};
    return benchfs_init_opts(&o);
}

#define CHILD_FAIL(code, what)                                                                   \
    do {                                                                                         \
        fprintf(stderr, "churn: client %ld: %s: %s\n", idx, what, benchfs_strerror());          \
        _exit(code);                                                                             \
    } while (0)

/* create (truncating) + write + close of a whole file; 0, or the exit code of the step that
 * failed (13 create, 14 write, 15 close) with *what naming it. */
static int put_file(benchfs_t *fs, const char *path, const void *data, size_t len,
                    const char **what)
{
    int fd = benchfs_open(fs, path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (fd < 0)
        return *what = "create", 13;
    if (benchfs_write(fs, fd, data, len) != (ssize_t)len)
        return *what = "write", 14;
    if (benchfs_close(fs, fd) != 0)
        return *what = "close", 15;
    return 0;
}

/* A short-lived client: init, one call, term. Exit status 0 or the step that failed. */
static void short_client(long idx)
{
    benchfs_t *fs = child_init();
    if (!fs)
        CHILD_FAIL(10, "benchfs_init");
    if (idx % 2 == 0) { /* statfs asks every server */
        benchfs_statfs_t sf;
        if (benchfs_statfs(fs, &sf) != 0)
            CHILD_FAIL(11, "statfs");
        if (sf.nservers_up != (uint32_t)NSRV) {
            fprintf(stderr, "churn: client %ld: statfs: %u of %d servers up\n", idx,
                    sf.nservers_up, NSRV);
            _exit(12);
        }
    } else { /* a tiny file: a few names, rewritten over and over */
        char path[64], data[100];
        snprintf(path, sizeof path, "/short/f%ld", idx % 64);
        memset(data, 'a' + (int)(idx % 26), sizeof data);
        const char *what = NULL;
        int code = put_file(fs, path, data, sizeof data, &what);
        if (code)
            CHILD_FAIL(code, what);
    }
    if (benchfs_term(fs) != 0)
        CHILD_FAIL(16, "term");
    _exit(0);
}

enum { MODE_EARLY = 0, MODE_RPC_WRITE = 1, MODE_DIRECT_WRITE = 2 };
static const char *const mode_name[] = {"a) early", "b) write via servers", "c) direct write"};

/* A client to be killed. a) works in a loop until killed; b) and c) say 'r' on wfd just
 * before one 64 MiB write and 'd' after it. */
static void killed_client(int mode, long idx, int wfd)
{
    uint8_t *buf = NULL;
    if (mode == MODE_RPC_WRITE) {
        setenv("BENCHFS_LOCAL_WRITES", "0", 1);
        setenv("BENCHFS_LOCAL_READS", "0", 1);
    }
    if (mode != MODE_EARLY) {
        buf = malloc(BIG);
        if (!buf)
            _exit(20);
        memset(buf, (int)(idx & 0xff), BIG); /* every page present before the write */
    }
    benchfs_t *fs = child_init();
    if (!fs)
        CHILD_FAIL(10, "benchfs_init");
    char path[64];
    if (mode == MODE_EARLY) {
        static uint8_t piece[1 << 20];
        memset(piece, 'e', sizeof piece);
        for (int k = 0; k < 20; k++) {
            benchfs_statfs_t sf;
            if (benchfs_statfs(fs, &sf) != 0)
                CHILD_FAIL(11, "statfs");
            snprintf(path, sizeof path, "/killed/a%ld.%d", idx % NAMES, k);
            const char *what = NULL;
            int code = put_file(fs, path, piece, sizeof piece, &what);
            if (code)
                CHILD_FAIL(code, what);
        }
    } else {
        snprintf(path, sizeof path, "/killed/%c%ld", mode == MODE_RPC_WRITE ? 'b' : 'c',
                 idx % NAMES);
        int fd = benchfs_open(fs, path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
        if (fd < 0)
            CHILD_FAIL(13, "create");
        if (write(wfd, "r", 1) != 1)
            _exit(21);
        if (benchfs_write(fs, fd, buf, BIG) != (ssize_t)BIG)
            CHILD_FAIL(14, "64 MiB write");
        if (write(wfd, "d", 1) != 1)
            _exit(21);
        if (benchfs_close(fs, fd) != 0)
            CHILD_FAIL(15, "close");
    }
    if (benchfs_term(fs) != 0)
        CHILD_FAIL(16, "term");
    _exit(0);
}

/* ---- the launcher: forks the clients; the test process asks it over two pipes ---- */

enum { OP_SHORT = 1, OP_KILLED, OP_QUIT };

struct cmd {
    int op, mode, par;
    long first, count;
    long delay_us; /* OP_KILLED: from the fork (a) or from 'r' (b, c); < 0: never kill */
};

enum { K_KILLED, K_COMPLETED, K_FAILED };

struct res {
    long ok, failed, hung, elapsed_ms;
    long first_fail_idx;
    int first_fail_status;
    int state;     /* OP_KILLED: K_* */
    int status;    /* OP_KILLED: the wait status */
    long write_us; /* OP_KILLED: 'r' to 'd' when not killed */
};

static sigset_t launcher_oldmask;

static pid_t launcher_fork(int cmd_rd, int res_wr)
{
    pid_t launcher = getpid();
    pid_t p = fork();
    if (p == 0) {
        sigprocmask(SIG_SETMASK, &launcher_oldmask, NULL);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != launcher)
            _exit(1);
        close(cmd_rd);
        close(res_wr);
    }
    return p;
}

/* Reap whatever children ended; returns how many, with their pids and statuses. */
static int reap(pid_t *pids, int *sts, int max)
{
    int k = 0, st;
    pid_t p;
    while (k < max && (p = waitpid(-1, &st, WNOHANG)) > 0) {
        pids[k] = p;
        sts[k++] = st;
    }
    return k;
}

/* Wait up to ms for SIGCHLD (blocked in the launcher). */
static void wait_chld(long ms)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGCHLD);
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    sigtimedwait(&s, NULL, &ts);
}

static void launcher_short(const struct cmd *cmd, struct res *r, int cmd_rd, int res_wr)
{
    enum { MAXPAR = 64 };
    pid_t pids[MAXPAR];
    long idxs[MAXPAR];
    int64_t born[MAXPAR];
    int running = 0, par = cmd->par < 1 ? 1 : cmd->par > MAXPAR ? MAXPAR : cmd->par;
    long next = cmd->first, end = cmd->first + cmd->count;
    int64_t t0 = now_ms();
    r->first_fail_idx = -1;
    while (running > 0 || (next < end && r->failed < MAX_FAIL)) {
        while (running < par && next < end && r->failed < MAX_FAIL) {
            fflush(NULL);
            pid_t p = launcher_fork(cmd_rd, res_wr);
            if (p == 0)
                short_client(next);
            if (p < 0) {
                r->failed++;
                r->first_fail_idx = r->first_fail_idx < 0 ? next : r->first_fail_idx;
                r->first_fail_status = -errno;
                break;
            }
            pids[running] = p;
            idxs[running] = next++;
            born[running++] = now_ms();
        }
        wait_chld(100);
        pid_t done[MAXPAR];
        int sts[MAXPAR];
        int k = reap(done, sts, MAXPAR);
        for (int j = 0; j < k; j++)
            for (int i = 0; i < running; i++) {
                if (pids[i] != done[j])
                    continue;
                if (WIFEXITED(sts[j]) && WEXITSTATUS(sts[j]) == 0) {
                    r->ok++;
                } else {
                    r->failed++;
                    if (r->first_fail_idx < 0) {
                        r->first_fail_idx = idxs[i];
                        r->first_fail_status = sts[j];
                    }
                }
                pids[i] = pids[--running];
                idxs[i] = idxs[running];
                born[i] = born[running];
                break;
            }
        int64_t now = now_ms();
        for (int i = 0; i < running; i++)
            if (now - born[i] > CHILD_LIMIT_MS && kill(pids[i], SIGKILL) == 0) {
                r->hung++;
                born[i] = INT64_MAX / 2; /* counted once; reaped as failed */
            }
    }
    r->elapsed_ms = now_ms() - t0;
}

/* Wait up to ms for one byte on fd; returns it, 0 on EOF/timeout. */
static char read_byte(int fd, long ms)
{
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    int64_t deadline = now_ms() + ms;
    for (;;) {
        long left = (long)(deadline - now_ms());
        if (left < 0)
            return 0;
        int rc = poll(&pf, 1, (int)left);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0)
            return 0;
        char ch;
        ssize_t n = read(fd, &ch, 1);
        if (n < 0 && errno == EINTR)
            continue;
        return n == 1 ? ch : 0;
    }
}

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Wait for child p for up to ms; SIGKILL it past that. Returns its wait status. */
static int wait_child(pid_t p, long ms)
{
    int st = 0;
    int64_t deadline = now_ms() + ms;
    while (waitpid(p, &st, WNOHANG) == 0) {
        if (now_ms() > deadline) {
            kill(p, SIGKILL);
            waitpid(p, &st, 0);
            break;
        }
        wait_chld(50);
    }
    return st;
}

static void launcher_killed(const struct cmd *cmd, struct res *r, int cmd_rd, int res_wr)
{
    int pp[2];
    r->state = K_FAILED;
    if (pipe(pp) != 0)
        return;
    fflush(NULL);
    int64_t t0 = now_ms();
    pid_t p = launcher_fork(cmd_rd, res_wr);
    if (p == 0) {
        close(pp[0]);
        killed_client(cmd->mode, cmd->first, pp[1]);
    }
    close(pp[1]);
    if (p < 0) {
        close(pp[0]);
        return;
    }
    if (cmd->mode == MODE_EARLY) {
        sleep_us(cmd->delay_us);
        int st;
        pid_t w = waitpid(p, &st, WNOHANG);
        if (w == 0) {
            kill(p, SIGKILL);
            waitpid(p, &st, 0);
            r->state = K_KILLED;
        } else {
            r->state = WIFEXITED(st) && WEXITSTATUS(st) == 0 ? K_COMPLETED : K_FAILED;
        }
        r->status = st;
    } else if (read_byte(pp[0], CHILD_LIMIT_MS) != 'r') { /* failed before its write */
        r->status = wait_child(p, 1000);
        r->state = K_FAILED;
    } else if (cmd->delay_us < 0) { /* measure: not killed */
        struct timespec w0, w1;
        clock_gettime(CLOCK_MONOTONIC, &w0);
        char d = read_byte(pp[0], CHILD_LIMIT_MS);
        clock_gettime(CLOCK_MONOTONIC, &w1);
        r->write_us = (long)(w1.tv_sec - w0.tv_sec) * 1000000 + (w1.tv_nsec - w0.tv_nsec) / 1000;
        r->status = wait_child(p, CHILD_LIMIT_MS);
        r->state = d == 'd' && WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0 ? K_COMPLETED
                                                                                   : K_FAILED;
    } else {
        sleep_us(cmd->delay_us);
        kill(p, SIGKILL);
        r->status = wait_child(p, CHILD_LIMIT_MS);
        struct pollfd pf = {.fd = pp[0], .events = POLLIN};
        char d = 0;
        if (poll(&pf, 1, 0) == 1 && read(pp[0], &d, 1) != 1)
            d = 0;
        if (WIFSIGNALED(r->status) && WTERMSIG(r->status) == SIGKILL)
            r->state = d == 'd' ? K_COMPLETED : K_KILLED;
        else
            r->state = WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0 ? K_COMPLETED
                                                                           : K_FAILED;
    }
    close(pp[0]);
    r->elapsed_ms = now_ms() - t0;
}

static void launcher_loop(int cmd_rd, int res_wr)
{
    for (;;) {
        struct cmd cmd;
        ssize_t n = read(cmd_rd, &cmd, sizeof cmd);
        if (n < 0 && errno == EINTR)
            continue;
        if (n != (ssize_t)sizeof cmd || cmd.op == OP_QUIT)
            _exit(0);
        struct res r;
        memset(&r, 0, sizeof r);
        if (cmd.op == OP_SHORT)
            launcher_short(&cmd, &r, cmd_rd, res_wr);
        else
            launcher_killed(&cmd, &r, cmd_rd, res_wr);
        if (write(res_wr, &r, sizeof r) != (ssize_t)sizeof r)
            _exit(1);
    }
}

static int L_cmd = -1, L_res = -1;
static pid_t L_pid;

/* Fork the launcher; before this process makes any BenchFS context. */
static void launcher_start(void)
{
    int a[2], b[2];
    if (pipe(a) != 0 || pipe(b) != 0) {
        perror("churn: pipe");
        exit(2);
    }
    fflush(NULL);
    pid_t test = getpid();
    L_pid = fork();
    if (L_pid < 0) {
        perror("churn: fork");
        exit(2);
    }
    if (L_pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != test)
            _exit(1);
        close(a[1]);
        close(b[0]);
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGCHLD);
        sigprocmask(SIG_BLOCK, &s, &launcher_oldmask);
        launcher_loop(a[0], b[1]);
        _exit(0);
    }
    close(a[0]);
    close(b[1]);
    L_cmd = a[1];
    L_res = b[0];
}

static void launcher_stop(void)
{
    if (L_pid <= 0)
        return;
    struct cmd q = {.op = OP_QUIT};
    if (write(L_cmd, &q, sizeof q) != (ssize_t)sizeof q)
        kill(L_pid, SIGKILL);
    int st;
    int64_t deadline = now_ms() + 5000;
    while (waitpid(L_pid, &st, WNOHANG) == 0 && now_ms() < deadline)
        usleep(10000);
    if (waitpid(L_pid, &st, WNOHANG) == 0) {
        kill(L_pid, SIGKILL);
        waitpid(L_pid, &st, 0);
    }
    L_pid = 0;
}

/* Ask the launcher; -1 (a failure counted) if it does not answer within ms. */
static int launcher_call(const struct cmd *cmd, struct res *r, long ms)
{
    if (L_pid <= 0 || write(L_cmd, cmd, sizeof *cmd) != (ssize_t)sizeof *cmd) {
        fprintf(stderr, "FAIL: the launcher is gone\n");
        test_failures++;
        return -1;
    }
    struct pollfd pf = {.fd = L_res, .events = POLLIN};
    int64_t deadline = now_ms() + ms;
    size_t got = 0;
    while (got < sizeof *r) {
        long left = (long)(deadline - now_ms());
        int rc = left > 0 ? poll(&pf, 1, (int)left) : 0;
        if (rc < 0 && errno == EINTR)
            continue;
        ssize_t n = rc > 0 ? read(L_res, (char *)r + got, sizeof *r - got) : -1;
        if (n <= 0) {
            fprintf(stderr, "FAIL: the launcher did not answer within %ld ms\n", ms);
            test_failures++;
            kill(L_pid, SIGKILL); /* its clients die with it */
            waitpid(L_pid, NULL, 0);
            L_pid = 0;
            return -1;
        }
        got += (size_t)n;
    }
    return 0;
}

static void describe_status(char *out, size_t cap, int st)
{
    if (st < 0)
        snprintf(out, cap, "fork failed: %s", strerror(-st));
    else if (WIFSIGNALED(st))
        snprintf(out, cap, "killed by signal %d", WTERMSIG(st));
    else
        snprintf(out, cap, "exit status %d", WEXITSTATUS(st));
}

/* ---- checks shared by both runs ---- */

/* A normal client creates, writes, reads back and verifies a file. */
static void verify_io(benchfs_t *fs, const char *path, uint64_t tag, size_t len)
{
    uint8_t *buf = malloc(len), *back = malloc(len);
    pattern_fill(tag, 0, buf, len);
    int fd = benchfs_open(fs, path, O_CREAT | O_RDWR | O_TRUNC, 0644);
    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK(benchfs_write(fs, fd, buf, len) == (ssize_t)len);
        CHECK_OK(benchfs_close(fs, fd));
    }
    fd = benchfs_open(fs, path, O_RDONLY, 0);
    CHECK(fd >= 0);
    if (fd >= 0) {
        memset(back, 0, len);
        ssize_t r = benchfs_read(fs, fd, back, len);
        long bad = r == (ssize_t)len ? first_diff(buf, back, len) : -2;
        if (bad != -1) {
            fprintf(stderr, "FAIL: %s: read %zd of %zu bytes, first bad byte %ld (%s)\n", path, r,
                    len, bad, r < 0 ? benchfs_strerror() : "");
            test_failures++;
        }
        CHECK_OK(benchfs_close(fs, fd));
    }
    free(buf);
    free(back);
}

/* A brand-new client (env as given) connects, answers for every server, and does I/O. */
static void new_client_works(const char *path, int through_servers)
{
    if (through_servers) {
        setenv("BENCHFS_LOCAL_WRITES", "0", 1);
        setenv("BENCHFS_LOCAL_READS", "0", 1);
    }
    benchfs_options_t o = {.registry = C.registry, .nservers = NSRV, .wait_ms = 5000,
                           .rpc_timeout_ms = 5000};
    int64_t t0 = now_ms();
    benchfs_t *fs = benchfs_init_opts(&o);
    if (through_servers) {
        unsetenv("BENCHFS_LOCAL_WRITES");
        unsetenv("BENCHFS_LOCAL_READS");
    }
    if (!fs) {
        fprintf(stderr, "FAIL: a new client cannot connect: %s\n", benchfs_strerror());
        test_failures++;
        return;
    }
    int before = test_failures;
    if (servers_answer(fs, "to a new client")) {
        benchfs_statfs_t sf;
        CHECK_OK(benchfs_statfs(fs, &sf));
        CHECK(sf.nservers_up == (uint32_t)NSRV);
        verify_io(fs, path, (uint64_t)now_ms(), (8u << 20) + 12345);
    }
    CHECK_OK(benchfs_term(fs));
    printf("churn: a new client (%s) connected; %s %s in %lld ms\n",
           through_servers ? "I/O through the servers" : "direct I/O",
           test_failures == before ? "wrote, read and verified" : "FAILED to use", path,
           (long long)(now_ms() - t0));
}

/* ---- on-disk bytes of the chunk files ---- */

static unsigned long long walk_blocks, walk_size;
static long walk_files;

static int walk_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)path, (void)ftw;
    if (type == FTW_F && S_ISREG(st->st_mode)) {
        walk_blocks += (unsigned long long)st->st_blocks * 512;
        walk_size += (unsigned long long)st->st_size;
        walk_files++;
    }
    return 0;
}

static void chunk_disk(int s, unsigned long long *alloc, unsigned long long *size, long *files)
{
    char root[400];
    snprintf(root, sizeof root, "%s/chunks", C.data[s]);
    walk_blocks = walk_size = 0;
    walk_files = 0;
    nftw(root, walk_one, 16, FTW_PHYS);
    *alloc = walk_blocks;
    *size = walk_size;
    *files = walk_files;
}

/* Remove every file below dir (directories stay); bounded by *budget entries. */
static long remove_files(benchfs_t *fs, const char *dir, int depth, long *budget)
{
    long removed = 0;
    benchfs_dir_t *d = benchfs_opendir(fs, dir);
    if (!d) {
        fprintf(stderr, "FAIL: opendir %s: %s\n", dir, benchfs_strerror());
        test_failures++;
        return 0;
    }
    const benchfs_dirent_t *e;
    while ((e = benchfs_readdir(d)) && (*budget)-- > 0) {
        char path[600];
        snprintf(path, sizeof path, "%s/%s", strcmp(dir, "/") ? dir : "", e->name);
        if (S_ISDIR(e->mode)) {
            if (depth < 8)
                removed += remove_files(fs, path, depth + 1, budget);
        } else if (benchfs_unlink(fs, path) == 0) {
            removed++;
        } else {
            fprintf(stderr, "FAIL: unlink %s: %s\n", path, benchfs_strerror());
            test_failures++;
        }
    }
    benchfs_closedir(d);
    return removed;
}

/* ---- run 1: short-lived clients ---- */

static int over(const struct snap *b, const struct snap *s, long sysv, long maps, long fds,
                long rss_kb)
{
    for (int i = 0; i < NSRV; i++)
        if (s[i].sysv - b[i].sysv > sysv || s[i].maps - b[i].maps > maps ||
            s[i].fds - b[i].fds > fds || (rss_kb > 0 && s[i].rss_kb - b[i].rss_kb > rss_kb))
            return 1;
    return 0;
}

static int snap_all(struct snap *s, const char *when)
{
    for (int i = 0; i < NSRV; i++)
        if (C.pids[i] <= 0 || proc_snap(C.pids[i], &s[i]) != 0) {
            fprintf(stderr, "FAIL: cannot read /proc of server %d %s\n", i, when);
            test_failures++;
            return -1;
        }
    return 0;
}

/* Run count clients from index first; returns 0 if all worked. */
static int run_short(long first, long count, int par, struct res *r)
{
    memset(r, 0, sizeof *r);
    struct cmd cmd = {.op = OP_SHORT, .par = par, .first = first, .count = count};
    if (launcher_call(&cmd, r, SHORT_BUDGET_MS) != 0)
        return -1;
    if (r->failed || r->hung) {
        char why[64];
        describe_status(why, sizeof why, r->first_fail_status);
        fprintf(stderr, "FAIL: clients %ld..%ld: %ld failed (%ld hung, killed after %d ms); "
                        "the first, client %ld: %s\n", first, first + count - 1, r->failed,
                r->hung, CHILD_LIMIT_MS, r->first_fail_idx, why);
        test_failures++;
        return -1;
    }
    return 0;
}

static void run_short_lived(void)
{
    long nclients = env_long("BENCHFS_CHURN_CLIENTS", DEFAULT_CLIENTS);
    int par = (int)env_long("BENCHFS_CHURN_PAR", DEFAULT_PAR);
    printf("churn: short-lived clients: %d warm-up + %ld, %d at a time%s\n", WARMUP, nclients,
           par, CHURN_ASAN ? " (ASan build)" : "");
    benchfs_t *fs = cluster_client(&C, 5000);
    CHECK_OK(benchfs_mkdir(fs, "/short", 0755));
    servers_answer(fs, "at the start"); /* this client's own connections exist from here */
    struct snap s0[CLUSTER_MAX], base[CLUSTER_MAX], s[CLUSTER_MAX];
    if (snap_all(s0, "at the start") != 0)
        goto out;
    print_snaps("start", s0);

    struct res r;
    if (run_short(0, WARMUP, par, &r) != 0 || !servers_alive("after the warm-up"))
        goto out;
    usleep(1200 * 1000); /* teardown of the last clients (a dead pid is seen within 500 ms) */
    if (snap_all(base, "after the warm-up") != 0)
        goto out;
    print_snaps("after warm-up (baseline)", base);

    int64_t t0 = now_ms();
    long done = 0;
    int stopped = 0;
    while (done < nclients && now_ms() - t0 < SHORT_BUDGET_MS) {
        long n = nclients - done < BATCH ? nclients - done : BATCH;
        int bad = run_short(WARMUP + done, n, par, &r);
        done += r.ok + r.failed;
        char when[64];
        snprintf(when, sizeof when, "after %ld clients", done);
        if (!servers_alive(when) || snap_all(s, when) != 0) {
            stopped = 1;
            break;
        }
        int64_t el = now_ms() - t0;
        printf("churn: %ld clients in %.1f s (%.1f/s)\n", done, (double)el / 1e3,
               el > 0 ? (double)done * 1e3 / (double)el : 0.0);
        print_snaps(when, s);
        if (bad) {
            stopped = 1;
            break;
        }
        if (over(base, s, EARLY_SYSV, EARLY_MAPS, EARLY_FDS, 0)) {
            fprintf(stderr, "FAIL: the servers leak: after %ld clients already more than +%d "
                            "SYSV segments, +%d mappings or +%d fds over the baseline; stopping "
                            "here (before the host's segment table is full)\n", done, EARLY_SYSV,
                    EARLY_MAPS, EARLY_FDS);
            test_failures++;
            stopped = 1;
            break;
        }
    }
    int64_t el = now_ms() - t0;
    printf("churn: %ld short-lived clients took %.1f s (%.1f ms each, %d at a time)\n", done,
           (double)el / 1e3, done ? (double)el / (double)done : 0.0, par);
    if (!stopped && done < nclients) {
        fprintf(stderr, "FAIL: only %ld of %ld clients ran within %d s\n", done, nclients,
                SHORT_BUDGET_MS / 1000);
        test_failures++;
    }

    /* Back to the baseline? The last clients' teardown may take the server a moment: read
     * again for up to 5 s. */
    int64_t deadline = now_ms() + 5000;
    do {
        usleep(250 * 1000);
        if (snap_all(s, "at the end") != 0)
            goto out;
    } while (over(base, s, BOUND_SYSV, BOUND_MAPS, BOUND_FDS, BOUND_RSS_KB) &&
             now_ms() < deadline);
    print_snaps("end", s);
    for (int i = 0; i < NSRV; i++) {
        printf("churn: server %d after %ld clients, over the baseline: SYSV segments %+ld "
               "(bound +%d), mappings %+ld (+%d), fds %+ld (+%d), RSS %+ld KiB (+%ld); "
               "warm-up rise: segments %+ld, mappings %+ld, fds %+ld, RSS %+ld KiB\n", i, done,
               s[i].sysv - base[i].sysv, BOUND_SYSV, s[i].maps - base[i].maps, BOUND_MAPS,
               s[i].fds - base[i].fds, BOUND_FDS, s[i].rss_kb - base[i].rss_kb, BOUND_RSS_KB,
               base[i].sysv - s0[i].sysv, base[i].maps - s0[i].maps, base[i].fds - s0[i].fds,
               base[i].rss_kb - s0[i].rss_kb);
        const struct {
            const char *what;
            long rise, bound;
        } b[] = {{"attached SysV segments", s[i].sysv - base[i].sysv, BOUND_SYSV},
                 {"mappings", s[i].maps - base[i].maps, BOUND_MAPS},
                 {"open fds", s[i].fds - base[i].fds, BOUND_FDS},
                 {"RSS (KiB)", s[i].rss_kb - base[i].rss_kb, BOUND_RSS_KB}};
        for (size_t k = 0; k < sizeof b / sizeof b[0]; k++)
            if (b[k].rise > b[k].bound) {
                fprintf(stderr, "FAIL: server %d: %s grew by %ld over %ld short-lived clients "
                                "(bound %ld)\n", i, b[k].what, b[k].rise, done, b[k].bound);
                test_failures++;
            }
    }
    servers_answer(fs, "after the short-lived clients");
    new_client_works("/short/after", 0);
out:
    benchfs_term(fs);
}

/* ---- run 2: killed clients ---- */

static void run_killed(void)
{
    long nkills = env_long("BENCHFS_CHURN_KILLS", DEFAULT_KILLS);
    uint64_t seed = (uint64_t)env_long("BENCHFS_CHURN_SEED", 0);
    if (!seed)
        seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
    printf("churn: %ld killed clients, seed %" PRIu64 " (BENCHFS_CHURN_SEED=%" PRIu64
           " replays it)\n", nkills, seed, seed);
    /* BENCHFS_CHURN_MODES: a subset of "abc" (to look at one kind of death at a time). */
    const char *mstr = getenv("BENCHFS_CHURN_MODES");
    int modes[3], nmodes = 0;
    for (int m = 0; m < 3; m++)
        if (!mstr || !*mstr || strchr(mstr, 'a' + m))
            modes[nmodes++] = m;
    if (!nmodes) {
        fprintf(stderr, "FAIL: BENCHFS_CHURN_MODES=%s names none of a, b, c\n", mstr);
        test_failures++;
        return;
    }
    struct rng rng = {seed};
    benchfs_t *fs = cluster_client(&C, 5000);
    CHECK_OK(benchfs_mkdir(fs, "/killed", 0755));
    struct snap k0[CLUSTER_MAX], k1[CLUSTER_MAX];
    if (snap_all(k0, "at the start") != 0)
        goto out;
    servers_answer(fs, "at the start"); /* this client's own connections exist from here */
    print_snaps("start", k0);

    /* How long does one 64 MiB write take here, through the servers and direct? The fastest
     * of 3 (the loop's writes mostly replace a file of the same name, which is faster than
     * the first write of a new one). */
    long write_us[3] = {50000, LONG_MAX, LONG_MAX};
    for (int run = 0; run < 3; run++)
        for (int m = MODE_RPC_WRITE; m <= MODE_DIRECT_WRITE; m++) {
            struct cmd cmd = {.op = OP_KILLED, .mode = m, .first = 0, .delay_us = -1};
            struct res r;
            if (launcher_call(&cmd, &r, CHILD_LIMIT_MS + 5000) != 0)
                goto out;
            if (r.state != K_COMPLETED) {
                char why[64];
                describe_status(why, sizeof why, r.status);
                fprintf(stderr, "FAIL: a 64 MiB write (%s) that nobody killed failed: %s\n",
                        mode_name[m], why);
                test_failures++;
                goto out;
            }
            if (r.write_us < write_us[m])
                write_us[m] = r.write_us < 2000 ? 2000 : r.write_us;
        }
    printf("churn: one 64 MiB write (fastest of 3): %s %.1f ms, %s %.1f ms\n",
           mode_name[MODE_RPC_WRITE], write_us[MODE_RPC_WRITE] / 1e3,
           mode_name[MODE_DIRECT_WRITE], write_us[MODE_DIRECT_WRITE] / 1e3);

    long tally[3][3] = {{0}};
    int64_t t0 = now_ms();
    long i;
    int dead = 0;
    for (i = 0; i < nkills && now_ms() - t0 < KILLED_BUDGET_MS; i++) {
        int m = modes[rng_below(&rng, (uint64_t)nmodes)];
        long delay = (long)rng_range(&rng, 0, (uint64_t)write_us[m]);
        struct cmd cmd = {.op = OP_KILLED, .mode = m, .first = i, .delay_us = delay};
        struct res r;
        if (launcher_call(&cmd, &r, 3 * CHILD_LIMIT_MS) != 0) {
            dead = 1;
            break;
        }
        tally[m][r.state]++;
        if (r.state == K_FAILED) {
            char why[64];
            describe_status(why, sizeof why, r.status);
            fprintf(stderr, "FAIL: killed client %ld (%s, kill after %ld us) failed on its own "
                            "before the kill: %s\n", i, mode_name[m], delay, why);
            test_failures++;
        }
        /* Alive after every kill (a look at /proc); answering every 20 and after a failure. */
        char when[96];
        snprintf(when, sizeof when, "after %ld killed clients (the last: %s, killed after %ld us)",
                 i + 1, mode_name[m], delay);
        if (!servers_alive(when) ||
            ((i % 20 == 19 || i == nkills - 1 || r.state == K_FAILED) &&
             !servers_answer(fs, when))) {
            dead = 1;
            i++;
            break;
        }
        if (test_failures > 20) {
            fprintf(stderr, "FAIL: too many failures; stopping after %ld killed clients\n", i + 1);
            i++;
            break;
        }
    }
    printf("churn: %ld clients killed in %.1f s\n", i, (double)(now_ms() - t0) / 1e3);
    for (int m = 0; m < 3; m++)
        printf("churn:   %-22s killed %ld, finished before the kill %ld, failed %ld\n",
               mode_name[m], tally[m][K_KILLED], tally[m][K_COMPLETED], tally[m][K_FAILED]);
    if (i < nkills && !dead && test_failures <= 20) {
        fprintf(stderr, "FAIL: only %ld of %ld kills within %d s\n", i, nkills,
                KILLED_BUDGET_MS / 1000);
        test_failures++;
    }

    usleep(1500 * 1000); /* a dead client's pid is looked at every 500 ms */
    if (!servers_alive("after the killed clients"))
        goto out;
    servers_answer(fs, "after the killed clients");
    new_client_works("/after-direct", 0);
    new_client_works("/after-rpc", 1);
    /* What the servers held for the killed clients is released (they look at a same-host
     * client's pid every 500 ms): attached segments back to the start, within BOUND_SYSV.
     * Only segments: mappings, fds and RSS legitimately grow here (buffer pools for 64 MiB
     * transfers, the cache of open chunk files). */
    int64_t until = now_ms() + 5000;
    int snapped;
    do {
        usleep(250 * 1000);
        snapped = snap_all(k1, "after the killed clients") == 0;
    } while (snapped && over(k0, k1, BOUND_SYSV, LONG_MAX, LONG_MAX, 0) && now_ms() < until);
    if (snapped) {
        print_snaps("after the kills", k1);
        for (int s = 0; s < NSRV; s++)
            if (k1[s].sysv - k0[s].sysv > BOUND_SYSV) {
                fprintf(stderr, "FAIL: server %d: attached SysV segments grew by %ld during the "
                                "killed run (%ld clients killed, 8 more ended normally; bound "
                                "%d)\n", s, k1[s].sysv - k0[s].sysv, i, BOUND_SYSV);
                test_failures++;
            }
    }

    /* Capacity accounting: before removal (printed), then remove everything and compare. */
    unsigned long long alloc, size;
    long files;
    for (int s = 0; s < NSRV; s++) {
        chunk_disk(s, &alloc, &size, &files);
        printf("churn: server %d before removal: used_bytes %ld; chunk files %ld, allocated %llu, "
               "st_size %llu\n", s, server_counter(fs, s, "used_bytes"), files, alloc, size);
    }
    long budget = 100000;
    long removed = remove_files(fs, "/", 0, &budget);
    printf("churn: removed %ld files\n", removed);
    long used[CLUSTER_MAX];
    int64_t deadline = now_ms() + 5000;
    int equal;
    do { /* chunk files may be removed after the unlink returns */
        equal = 1;
        for (int s = 0; s < NSRV; s++) {
            used[s] = server_counter(fs, s, "used_bytes");
            chunk_disk(s, &alloc, &size, &files);
            equal &= used[s] >= 0 && (unsigned long long)used[s] == alloc;
        }
        if (!equal)
            usleep(200 * 1000);
    } while (!equal && now_ms() < deadline);
    for (int s = 0; s < NSRV; s++) {
        chunk_disk(s, &alloc, &size, &files);
        printf("churn: server %d after removal: used_bytes %ld; chunk files left %ld, "
               "allocated (st_blocks*512) %llu, st_size %llu\n", s, used[s], files, alloc, size);
        if (used[s] < 0 || (unsigned long long)used[s] != alloc) {
            fprintf(stderr, "FAIL: server %d: used_bytes %ld != %llu bytes allocated by its %ld "
                            "chunk files (st_size sum %llu)\n", s, used[s], alloc, files, size);
            test_failures++;
        }
    }
out:
    benchfs_term(fs);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    NSRV = argc > 1 ? atoi(argv[1]) : 2;
    const char *what = argc > 2 ? argv[2] : "all";
    if (NSRV < 1 || NSRV > CLUSTER_MAX ||
        (strcmp(what, "short") && strcmp(what, "killed") && strcmp(what, "all"))) {
        fprintf(stderr, "usage: test_client_churn NSERVERS [short|killed|all]\n");
        return 2;
    }
    int64_t t0 = now_ms();
    cluster_start(&C, NSRV, NULL);
    launcher_start(); /* before this process has any BenchFS context */
    signal(SIGPIPE, SIG_IGN); /* a dead launcher is an error message, not our death */
    watchdog_arm(&C, strcmp(what, "all") ? WATCHDOG_S : 2 * WATCHDOG_S);
    if (strcmp(what, "killed"))
        run_short_lived();
    if (strcmp(what, "short"))
        run_killed();
    launcher_stop();
    servers_alive("at the end");
    cluster_stop(&C);
    printf("churn: %s took %.1f s\n", what, (double)(now_ms() - t0) / 1e3);
    return test_finish(strcmp(what, "all") ? (strcmp(what, "short") ? "client_churn killed"
                                                                      : "client_churn short")
                                            : "client_churn");
}
