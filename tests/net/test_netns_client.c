/* SPDX-License-Identifier: BSD-3-Clause */
/* test_netns_client — the client side of test_netns.sh: BenchFS servers on other "hosts"
 * (network namespaces with their own host names), reached over the network transport, and
 * what a client sees when one of them is cut off.
 *
 *   test_netns_client data
 *       write /big (64 MiB, 4 MiB chunks) and read it back; every server must hold chunks.
 *   test_netns_client cut LABEL SERVER CUT_CMD HEAL_CMD
 *       with /big in place: find probe files whose metadata / chunk live on SERVER or not
 *       (through the servers' counters), run CUT_CMD (sh -c), then check that every call
 *       returns by its deadline, calls to the other servers stay fast, and calls needing
 *       SERVER fail; run HEAL_CMD and check that this same process uses SERVER again within a
 *       bounded time and reads /big back intact.
 *
 * Environment: BENCHFS_REGISTRY, BENCHFS_RPC_TIMEOUT_MS (the deadline T; default here 3000).
 * A call is late when it takes more than T + SLACK_MS; a call to a healthy server is slow when
 * it takes more than FAST_MS. Every call is logged, one line each, as it returns (stdout is
 * line-buffered), so a run killed by the script's watchdog still shows which call hung.
 * Exit 0 if every check passed, 1 otherwise. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "benchfs.h"

#define MIB (1024u * 1024u)
#define BIG_PATH "/big"
#define BIG_SIZE (64u * MIB)
#define BIG_CHUNK (4u * MIB)
#define BIG_SEED 1u
#define IO_SIZE (8u * MIB)
#define PROBE_SIZE (64u * 1024u) /* one chunk */
#define MAX_PROBES 48
#define SLACK_MS 2000      /* a call may overrun its deadline by this much */
#define FAST_MS 1000       /* a call to a healthy server must answer within this */
#define RECOVER_EXTRA_MS 15000 /* after the heal: T + this to use the cut server again */

static int failures;
static long timeout_ms = 3000;
static const char *label = "data";

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("[%s] FAIL: ", label);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    failures++;
}

/* ---- data pattern: splitmix64 of (seed, 8-byte word index), so any range can be checked ---- */

static uint64_t mix(uint64_t z)
{
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void fill(unsigned char *buf, size_t len, uint64_t off, unsigned seed)
{
    for (size_t i = 0; i < len; i++) {
        uint64_t o = off + i;
        buf[i] = (unsigned char)(mix(((uint64_t)seed << 40) ^ (o >> 3)) >> (8 * (o & 7)));
    }
}

/* The first mismatching offset, or -1. */
static long long check(const unsigned char *buf, size_t len, uint64_t off, unsigned seed)
{
    unsigned char want[4096];
    for (size_t done = 0; done < len;) {
        size_t n = len - done < sizeof want ? len - done : sizeof want;
        fill(want, n, off + done, seed);
        if (memcmp(want, buf + done, n) != 0)
            for (size_t i = 0; i < n; i++)
                if (want[i] != buf[done + i])
                    return (long long)(off + done + i);
        done += n;
    }
    return -1;
}

/* ---- timed calls ---- */

enum expect { EXPECT_OK, EXPECT_FAIL, EXPECT_ANY };

/* Before a call that may hang: name it, so a run stopped by the watchdog shows which one. */
static void announce(const char *what, enum expect ex)
{
    if (ex != EXPECT_OK)
        printf("[%s] %-34s ...\n", label, what);
}

/* Log one call's outcome and check it against what was expected and its time bound. */
static void judge(const char *what, int ok, double ms, enum expect ex, double bound_ms)
{
    int e = errno;
    const char *res = ok ? "ok" : strerror(e);
    printf("[%s] %-34s %-24s %8.1f ms%s%s\n", label, what, res, ms, ok ? "" : "  ",
           ok ? "" : benchfs_strerror());
    if (ms > bound_ms)
        fail("%s took %.1f ms, bound %.0f ms", what, ms, bound_ms);
    if (ex == EXPECT_OK && !ok)
        fail("%s failed (%s)", what, strerror(e));
    if (ex == EXPECT_FAIL && ok)
        fail("%s succeeded although it needs the cut server", what);
}

static double late_ms(void) { return (double)(timeout_ms + SLACK_MS); }

static int t_stats(benchfs_t *fs, int s, enum expect ex, double bound, char *buf, size_t cap)
{
    char what[64];
    snprintf(what, sizeof what, "server_stats(%d)", s);
    announce(what, ex);
    double t0 = now_ms();
    ssize_t n = benchfs_server_stats(fs, s, buf, cap);
    judge(what, n >= 0, now_ms() - t0, ex, bound);
    return n >= 0 ? 0 : -1;
}

static int t_stat(benchfs_t *fs, const char *path, enum expect ex, double bound)
{
    char what[96];
    benchfs_stat_t st;
    snprintf(what, sizeof what, "stat(%s)", path);
    announce(what, ex);
    double t0 = now_ms();
    int rc = benchfs_stat(fs, path, &st);
    judge(what, rc == 0, now_ms() - t0, ex, bound);
    return rc;
}

static int t_statfs(benchfs_t *fs, enum expect ex, double bound, benchfs_statfs_t *sf)
{
    announce("statfs", ex);
    double t0 = now_ms();
    int rc = benchfs_statfs(fs, sf);
    judge("statfs", rc == 0, now_ms() - t0, ex, bound);
    return rc;
}

/* pread of [off, off+len) of a file opened earlier, verified when it succeeds. */
static int t_pread(benchfs_t *fs, int fd, const char *name, unsigned char *buf, size_t len,
                   uint64_t off, unsigned seed, enum expect ex, double bound)
{
    char what[96];
    snprintf(what, sizeof what, "pread(%s, %zu MiB)", name, len / MIB);
    if (len < MIB)
        snprintf(what, sizeof what, "pread(%s, %zu KiB)", name, len / 1024);
    announce(what, ex);
    double t0 = now_ms();
    ssize_t n = benchfs_pread(fs, fd, buf, len, (off_t)off);
    judge(what, n == (ssize_t)len, now_ms() - t0, ex, bound);
    if (n != (ssize_t)len)
        return -1;
    long long bad = check(buf, len, off, seed);
    if (bad >= 0) {
        fail("%s: wrong byte at offset %lld", what, bad);
        return -1;
    }
    return 0;
}

/* ---- counters ---- */

static long long counter(const char *stats, const char *name)
{
    size_t nl = strlen(name);
    for (const char *p = stats; p && *p;) {
        if (strncmp(p, name, nl) == 0 && p[nl] == ' ')
            return atoll(p + nl + 1);
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return 0;
}

/* One counter of every server, untimed (setup only). */
static int counters(benchfs_t *fs, int nsrv, const char *name, long long *out)
{
    static char buf[16384];
    for (int s = 0; s < nsrv; s++) {
        if (benchfs_server_stats(fs, s, buf, sizeof buf) < 0) {
            fail("server_stats(%d) during setup: %s", s, benchfs_strerror());
            return -1;
        }
        out[s] = counter(buf, name);
    }
    return 0;
}

/* The one server whose counter `name` rose while `op` ran, or -1. */
static int owner_of(benchfs_t *fs, int nsrv, const char *name, int (*op)(benchfs_t *, void *),
                    void *arg)
{
    long long before[16], after[16];
    if (counters(fs, nsrv, name, before) || op(fs, arg) || counters(fs, nsrv, name, after))
        return -1;
    int owner = -1;
    for (int s = 0; s < nsrv; s++)
        if (after[s] != before[s]) {
            if (owner >= 0)
                return -1;
            owner = s;
        }
    return owner;
}

static int op_stat(benchfs_t *fs, void *arg)
{
    benchfs_stat_t st;
    return benchfs_stat(fs, (const char *)arg, &st);
}

struct read_arg {
    int fd;
    unsigned char *buf;
};

static int op_read1(benchfs_t *fs, void *arg)
{
    struct read_arg *r = arg;
    return benchfs_pread(fs, r->fd, r->buf, 1, 0) == 1 ? 0 : -1;
}

/* ---- data phase ---- */

static int write_big(benchfs_t *fs, unsigned char *buf)
{
    double t0 = now_ms();
    int fd = benchfs_open(fs, BIG_PATH, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    if (fd < 0) {
        fail("create %s: %s", BIG_PATH, benchfs_strerror());
        return -1;
    }
    for (uint64_t off = 0; off < BIG_SIZE; off += IO_SIZE) {
        fill(buf, IO_SIZE, off, BIG_SEED);
        if (benchfs_pwrite(fs, fd, buf, IO_SIZE, (off_t)off) != (ssize_t)IO_SIZE) {
            fail("write %s at %llu: %s", BIG_PATH, (unsigned long long)off, benchfs_strerror());
            benchfs_close(fs, fd);
            return -1;
        }
    }
    if (benchfs_fsync(fs, fd) != 0 || benchfs_close(fs, fd) != 0) {
        fail("fsync/close %s: %s", BIG_PATH, benchfs_strerror());
        return -1;
    }
    double ms = now_ms() - t0;
    printf("[%s] wrote %s: %u MiB in %.0f ms (%.0f MiB/s)\n", label, BIG_PATH, BIG_SIZE / MIB, ms,
           BIG_SIZE / MIB / (ms / 1e3));
    return 0;
}

static int verify_big(benchfs_t *fs, unsigned char *buf)
{
    double t0 = now_ms();
    int fd = benchfs_open(fs, BIG_PATH, O_RDONLY, 0);
    if (fd < 0) {
        fail("open %s: %s", BIG_PATH, benchfs_strerror());
        return -1;
    }
    benchfs_stat_t st;
    if (benchfs_fstat(fs, fd, &st) != 0 || st.size != BIG_SIZE || st.chunk_size != BIG_CHUNK)
        fail("%s: size %llu chunk %u, expected %u and %u", BIG_PATH,
             (unsigned long long)st.size, st.chunk_size, BIG_SIZE, BIG_CHUNK);
    int rc = 0;
    for (uint64_t off = 0; off < BIG_SIZE && rc == 0; off += IO_SIZE) {
        ssize_t n = benchfs_pread(fs, fd, buf, IO_SIZE, (off_t)off);
        if (n != (ssize_t)IO_SIZE) {
            fail("read %s at %llu: %zd (%s)", BIG_PATH, (unsigned long long)off, n,
                 benchfs_strerror());
            rc = -1;
        } else {
            long long bad = check(buf, IO_SIZE, off, BIG_SEED);
            if (bad >= 0) {
                fail("%s: wrong byte at offset %lld", BIG_PATH, bad);
                rc = -1;
            }
        }
    }
    char tail;
    if (rc == 0 && benchfs_pread(fs, fd, &tail, 1, BIG_SIZE) != 0)
        fail("%s: read past the end returned data", BIG_PATH);
    benchfs_close(fs, fd);
    double ms = now_ms() - t0;
    if (rc == 0)
        printf("[%s] verified %s: %u MiB in %.0f ms (%.0f MiB/s)\n", label, BIG_PATH,
               BIG_SIZE / MIB, ms, BIG_SIZE / MIB / (ms / 1e3));
    return rc;
}

static int phase_data(benchfs_t *fs, int nsrv)
{
    unsigned char *buf = malloc(IO_SIZE);
    long long before[16], after[16];
    if (!buf || counters(fs, nsrv, "chunk_write.count", before))
        return 1;
    if (write_big(fs, buf) == 0 && counters(fs, nsrv, "chunk_write.count", after) == 0)
        for (int s = 0; s < nsrv; s++) {
            printf("[%s] server %d: %lld chunk writes\n", label, s, after[s] - before[s]);
            if (after[s] == before[s])
                fail("server %d got no chunk of %s", s, BIG_PATH);
        }
    verify_big(fs, buf);
    free(buf);
    return failures ? 1 : 0;
}

/* ---- cut phase ---- */

struct probe {
    char path[96];
    int meta, chunk; /* owning servers */
    int fd;          /* open for reading (opened before the cut) */
    unsigned seed;   /* of its contents */
};

static int run_cmd(const char *what, const char *cmd)
{
    double t0 = now_ms();
    int rc = system(cmd);
    printf("[%s] %s: `%s` -> %d (%.0f ms)\n", label, what, cmd, rc, now_ms() - t0);
    if (rc != 0)
        fail("%s command failed", what);
    return rc;
}

static int phase_cut(benchfs_t *fs, int nsrv, int cut, const char *cut_cmd, const char *heal_cmd)
{
    static char sbuf[16384];
    unsigned char *buf = malloc(BIG_SIZE);
    struct probe pr[MAX_PROBES];
    int npr = 0, nhealthy = 0, ncutmeta = 0, ncutchunk = 0;
    char dir[64];
    if (!buf)
        return 1;

    /* Setup, everything up: connect to all, make probe files and learn where they live. */
    for (int s = 0; s < nsrv; s++)
        if (t_stats(fs, s, EXPECT_OK, late_ms(), sbuf, sizeof sbuf))
            return 1;
    snprintf(dir, sizeof dir, "/probe-%s", label);
    if (benchfs_mkdir(fs, dir, 0755) != 0 && errno != EEXIST) {
        fail("mkdir %s: %s", dir, benchfs_strerror());
        return 1;
    }
    for (int i = 0; i < MAX_PROBES && (nhealthy < 3 || ncutmeta < 2 || ncutchunk < 1); i++) {
        struct probe *p = &pr[npr];
        snprintf(p->path, sizeof p->path, "%s/p%02d", dir, i);
        fill(buf, PROBE_SIZE, 0, 100 + (unsigned)i);
        int fd = benchfs_open(fs, p->path, O_CREAT | O_TRUNC | O_RDWR, 0644);
        if (fd < 0 || benchfs_pwrite(fs, fd, buf, PROBE_SIZE, 0) != (ssize_t)PROBE_SIZE ||
            benchfs_fsync(fs, fd) != 0) {
            fail("write %s: %s", p->path, benchfs_strerror());
            return 1;
        }
        struct read_arg ra = {fd, buf};
        p->fd = fd;
        p->seed = 100 + (unsigned)i;
        p->meta = owner_of(fs, nsrv, "lookup.count", op_stat, p->path);
        p->chunk = owner_of(fs, nsrv, "chunk_read.count", op_read1, &ra);
        if (p->meta < 0 || p->chunk < 0) {
            fail("%s: could not tell its servers (meta %d, chunk %d)", p->path, p->meta, p->chunk);
            return 1;
        }
        int healthy = p->meta != cut && p->chunk != cut;
        int keep = (healthy && nhealthy < 3) || (p->meta == cut && ncutmeta < 2) ||
                   (p->meta != cut && p->chunk == cut && ncutchunk < 1);
        if (!keep) {
            benchfs_close(fs, fd);
            continue;
        }
        nhealthy += healthy;
        ncutmeta += p->meta == cut;
        ncutchunk += p->meta != cut && p->chunk == cut;
        printf("[%s] probe %s: metadata on %d, chunk on %d\n", label, p->path, p->meta, p->chunk);
        npr++;
    }
    if (nhealthy < 1 || ncutmeta < 1 || ncutchunk < 1) {
        fail("probe placement: %d healthy, %d with metadata and %d with the chunk on server %d",
             nhealthy, ncutmeta, ncutchunk, cut);
        return 1;
    }
    int bigfd = benchfs_open(fs, BIG_PATH, O_RDONLY, 0);
    if (bigfd < 0) {
        fail("open %s (written by the data phase): %s", BIG_PATH, benchfs_strerror());
        return 1;
    }

    /* Cut. */
    printf("[%s] --- cutting server %d off (deadline %ld ms, late after %.0f ms, fast below %d ms)\n",
           label, cut, timeout_ms, late_ms(), FAST_MS);
    if (run_cmd("cut", cut_cmd) != 0)
        return 1;
    double t_cut = now_ms();
    /* The first call on the established connection, then the healthy ones, then a second one
     * to the cut server (a reconnect), and the healthy ones again: a reconnect must not hold
     * the client up beyond the deadline, nor delay anyone else. */
    t_stats(fs, cut, EXPECT_FAIL, late_ms(), sbuf, sizeof sbuf);
    for (int s = 0; s < nsrv; s++)
        if (s != cut)
            t_stats(fs, s, EXPECT_OK, FAST_MS, sbuf, sizeof sbuf);
    t_stats(fs, cut, EXPECT_FAIL, late_ms(), sbuf, sizeof sbuf);
    for (int s = 0; s < nsrv; s++)
        if (s != cut)
            t_stats(fs, s, EXPECT_OK, FAST_MS, sbuf, sizeof sbuf);
    /* Files on the healthy servers only: stat and read as usual. */
    for (int i = 0; i < npr; i++)
        if (pr[i].meta != cut && pr[i].chunk != cut) {
            t_stat(fs, pr[i].path, EXPECT_OK, FAST_MS);
            t_pread(fs, pr[i].fd, pr[i].path, buf, PROBE_SIZE, 0, pr[i].seed, EXPECT_OK, FAST_MS);
        }
    /* Calls that need the cut server: fail, by the deadline. */
    for (int i = 0, n = 0; i < npr && n < 1; i++)
        if (pr[i].meta == cut) {
            t_stat(fs, pr[i].path, EXPECT_FAIL, late_ms());
            n++;
        }
    for (int i = 0, n = 0; i < npr && n < 1; i++)
        if (pr[i].meta != cut && pr[i].chunk == cut) {
            t_stat(fs, pr[i].path, EXPECT_OK, FAST_MS);
            t_pread(fs, pr[i].fd, pr[i].path, buf, PROBE_SIZE, 0, pr[i].seed, EXPECT_FAIL,
                    late_ms());
            n++;
        }
    /* statfs asks every server: it may answer for the others (nservers_up) or fail. */
    benchfs_statfs_t sf;
    if (t_statfs(fs, EXPECT_ANY, late_ms(), &sf) == 0 && sf.nservers_up != (uint32_t)nsrv - 1)
        fail("statfs during the cut: %u of %d servers up", sf.nservers_up, nsrv);
    t_pread(fs, bigfd, BIG_PATH, buf, BIG_SIZE, 0, BIG_SEED, EXPECT_FAIL, late_ms());
    /* And the healthy servers once more, after all that. */
    for (int s = 0; s < nsrv; s++)
        if (s != cut)
            t_stats(fs, s, EXPECT_OK, FAST_MS, sbuf, sizeof sbuf);
    for (int i = 0, n = 0; i < npr && n < 1; i++)
        if (pr[i].meta != cut && pr[i].chunk != cut) {
            t_stat(fs, pr[i].path, EXPECT_OK, FAST_MS);
            n++;
        }
    printf("[%s] --- cut for %.1f s; healing\n", label, (now_ms() - t_cut) / 1e3);

    /* Heal: the same process must use the server again, within a bounded time. */
    if (run_cmd("heal", heal_cmd) != 0)
        return 1;
    double t_heal = now_ms(), limit = (double)timeout_ms + RECOVER_EXTRA_MS;
    int back = 0;
    for (int tries = 0; tries < 200 && now_ms() - t_heal < limit; tries++) {
        if (t_stats(fs, cut, EXPECT_ANY, late_ms(), sbuf, sizeof sbuf) == 0) {
            back = 1;
            break;
        }
        usleep(200 * 1000);
    }
    double rec = now_ms() - t_heal;
    printf("[%s] --- server %d %s %.1f s after the heal\n", label, cut,
           back ? "answered again" : "still not answering", rec / 1e3);
    if (!back) {
        fail("server %d not used again within %.0f ms of the heal", cut, limit);
        return 1;
    }
    for (int i = 0; i < npr; i++) {
        t_stat(fs, pr[i].path, EXPECT_OK, late_ms());
        t_pread(fs, pr[i].fd, pr[i].path, buf, PROBE_SIZE, 0, pr[i].seed, EXPECT_OK, late_ms());
        benchfs_close(fs, pr[i].fd);
    }
    if (t_statfs(fs, EXPECT_OK, late_ms(), &sf) == 0 && sf.nservers_up != (uint32_t)nsrv)
        fail("statfs after the heal: %u of %d servers up", sf.nservers_up, nsrv);
    t_pread(fs, bigfd, BIG_PATH, buf, BIG_SIZE, 0, BIG_SEED, EXPECT_OK, late_ms());
    benchfs_close(fs, bigfd);
    free(buf);
    return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2 || (strcmp(argv[1], "data") != 0 && (strcmp(argv[1], "cut") != 0 || argc != 6))) {
        fprintf(stderr, "usage: %s data | cut LABEL SERVER CUT_CMD HEAL_CMD\n", argv[0]);
        return 2;
    }
    const char *t = getenv("BENCHFS_RPC_TIMEOUT_MS");
    if (t && atol(t) > 0)
        timeout_ms = atol(t);
    char host[64] = "";
    gethostname(host, sizeof host - 1);
    benchfs_options_t o = {.rpc_timeout_ms = (int)timeout_ms, .chunk_size = BIG_CHUNK,
                           .wait_ms = 20000};
    if (strcmp(argv[1], "cut") == 0)
        label = argv[2];
    double t0 = now_ms();
    benchfs_t *fs = benchfs_init_opts(&o);
    if (!fs) {
        printf("[%s] FAIL: benchfs_init: %s\n", label, benchfs_strerror());
        return 1;
    }
    int nsrv = benchfs_nservers(fs);
    printf("[%s] client on host %s, pid %d: %d servers, init %.0f ms, deadline %ld ms\n", label,
           host, (int)getpid(), nsrv, now_ms() - t0, timeout_ms);
    if (nsrv < 2 || nsrv > 16) {
        printf("[%s] FAIL: %d servers, need 2..16\n", label, nsrv);
        benchfs_term(fs);
        return 1;
    }
    int rc;
    if (strcmp(argv[1], "data") == 0)
        rc = phase_data(fs, nsrv);
    else
        rc = phase_cut(fs, nsrv, atoi(argv[3]), argv[4], argv[5]);
    double tt = now_ms();
    benchfs_term(fs);
    printf("[%s] benchfs_term %.0f ms; %s (%d failed checks)\n", label, now_ms() - tt,
           rc || failures ? "FAILED" : "passed", failures);
    return rc || failures ? 1 : 0;
}
