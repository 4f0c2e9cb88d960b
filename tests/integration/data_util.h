/* SPDX-License-Identifier: BSD-3-Clause */
/* data_util.h — helpers shared by the data-path integration suites (integrity, concurrency,
 * durability, dead server, capacity): a seeded PRNG, reproducible byte patterns, clients with
 * a chosen chunk size, placement helpers and a watchdog that never leaves servers behind. */
#ifndef BFS_TEST_DATA_UTIL_H
#define BFS_TEST_DATA_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cluster.h"
#include "common/ring.h"

/* ---- PRNG: splitmix64 seeded, xoshiro-like quality is not needed ---- */

struct rng {
    uint64_t s;
};

static inline uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n) (n > 0). */
static inline uint64_t rng_below(struct rng *r, uint64_t n) { return n ? rng_next(r) % n : 0; }

/* Uniform in [lo, hi]. */
static inline uint64_t rng_range(struct rng *r, uint64_t lo, uint64_t hi)
{
    return lo + rng_below(r, hi - lo + 1);
}

static inline void rng_fill(struct rng *r, void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len >= 8) {
        uint64_t x = rng_next(r);
        memcpy(p, &x, 8);
        p += 8;
        len -= 8;
    }
    if (len) {
        uint64_t x = rng_next(r);
        memcpy(p, &x, len);
    }
}

/* ---- reproducible content: byte i of stream `tag` is a function of (tag, i) only ---- */

static inline uint8_t pattern_byte(uint64_t tag, uint64_t i)
{
    uint64_t z = (tag * 0x9E3779B97F4A7C15ull) ^ (i / 8) * 0xD6E8FEB86659FD93ull;
    z = (z ^ (z >> 32)) * 0xBF58476D1CE4E5B9ull;
    z ^= z >> 29;
    return (uint8_t)(z >> (8 * (i % 8)));
}

static inline void pattern_fill(uint64_t tag, uint64_t start, void *buf, size_t len)
{
    uint8_t *p = buf;
    for (size_t i = 0; i < len; i++)
        p[i] = pattern_byte(tag, start + i);
}

/* Index of the first byte of buf[0..len) that differs from the pattern, or -1. */
static inline long pattern_check(uint64_t tag, uint64_t start, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    for (size_t i = 0; i < len; i++)
        if (p[i] != pattern_byte(tag, start + i))
            return (long)i;
    return -1;
}

/* First differing byte of two buffers, or -1. */
static inline long first_diff(const void *a, const void *b, size_t len)
{
    if (memcmp(a, b, len) == 0)
        return -1;
    const uint8_t *x = a, *y = b;
    for (size_t i = 0; i < len; i++)
        if (x[i] != y[i])
            return (long)i;
    return -1;
}

/* ---- time ---- */

static inline int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- clients ---- */

/* A client of cluster c with the given RPC timeout (ms) and chunk size for files it creates
 * (0: the library default). Exits on failure, like cluster_client. */
static inline benchfs_t *data_client(struct cluster *c, int rpc_timeout_ms, uint32_t chunk_size)
{
    benchfs_options_t o = {
        .registry = c->registry,
        .nservers = c->n,
        .wait_ms = 20000,
        .rpc_timeout_ms = rpc_timeout_ms > 0 ? rpc_timeout_ms : 5000,
        .chunk_size = chunk_size,
    };
    benchfs_t *fs = benchfs_init_opts(&o);
    if (!fs) {
        fprintf(stderr, "data_client: benchfs_init: %s\n", benchfs_strerror());
        exit(2);
    }
    return fs;
}

/* Write all of buf at off with pwrite; returns 0 or -1 (errno set). */
static inline int bfs_pwrite_all(benchfs_t *fs, int fd, const void *buf, size_t len, off_t off)
{
    ssize_t n = benchfs_pwrite(fs, fd, buf, len, off);
    if (n < 0)
        return -1;
    if ((size_t)n != len) {
        errno = EIO;
        return -1;
    }
    return 0;
}

/* Read the whole of `path` (size from stat) into a malloc'd buffer; NULL on failure. */
static inline uint8_t *bfs_slurp(benchfs_t *fs, const char *path, uint64_t *size_out)
{
    benchfs_stat_t st;
    if (benchfs_stat(fs, path, &st) != 0)
        return NULL;
    int fd = benchfs_open(fs, path, O_RDONLY, 0);
    if (fd < 0)
        return NULL;
    uint8_t *buf = malloc(st.size ? st.size : 1);
    ssize_t n = buf ? benchfs_pread(fs, fd, buf, st.size, 0) : -1;
    int saved = errno;
    benchfs_close(fs, fd);
    if (n < 0 || (uint64_t)n != st.size) {
        free(buf);
        errno = n < 0 ? saved : EIO;
        return NULL;
    }
    *size_out = st.size;
    return buf;
}

/* ---- placement (the same ring the library builds) ---- */

static inline uint32_t meta_server_of(const struct bfs_ring *r, const char *path)
{
    return bfs_ring_lookup(r, bfs_hash_path(path));
}

static inline uint32_t chunk_server_of(const struct bfs_ring *r, uint64_t fileid, uint64_t index)
{
    return bfs_ring_lookup(r, bfs_hash_chunk(fileid, index));
}

/* ---- watchdog and guardian: a hung, crashing or exiting test never leaves its servers
 * running (they inherit the test's stdout, so ctest would also wait for orphaned servers until
 * its timeout) ---- */

static struct cluster *watchdog_cluster_;
static pid_t watchdog_owner_;

static inline void watchdog_fire_(int sig)
{
    (void)sig;
    static const char msg[] = "WATCHDOG: test hung; killing its servers\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    if (watchdog_cluster_ && getpid() == watchdog_owner_)
        for (int i = 0; i < watchdog_cluster_->n; i++)
            if (watchdog_cluster_->pids[i] > 0)
                kill(watchdog_cluster_->pids[i], SIGKILL);
    _exit(3);
}

/* Kill every server the registry names whose command line mentions this registry (so a
 * recycled pid is never hit). */
static inline void guardian_reap_(const char *registry, int n)
{
    for (int i = 0; i < n; i++) {
        char path[512], text[8192];
        snprintf(path, sizeof path, "%s/server.%d", registry, i);
        int fd = open(path, O_RDONLY);
        if (fd < 0)
            continue;
        ssize_t len = read(fd, text, sizeof text - 1);
        close(fd);
        if (len <= 0)
            continue;
        text[len] = '\0';
        const char *p = strstr(text, "pid=");
        long pid = p ? strtol(p + 4, NULL, 10) : 0;
        if (pid <= 1)
            continue;
        snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
        fd = open(path, O_RDONLY);
        if (fd < 0)
            continue;
        len = read(fd, text, sizeof text - 1);
        close(fd);
        if (len <= 0)
            continue;
        for (ssize_t k = 0; k < len; k++)
            if (text[k] == '\0')
                text[k] = ' ';
        text[len] = '\0';
        if (strstr(text, "benchfsd") && strstr(text, registry))
            kill((pid_t)pid, SIGKILL);
    }
}

/* A process that outlives the test: when the test process ends, however it ends (exit, crash,
 * sanitizer report, watchdog), it kills whatever servers are still registered. */
static inline void guardian_start_(struct cluster *c)
{
    int p[2];
    if (pipe(p) != 0)
        return;
    pid_t g = fork();
    if (g < 0) {
        close(p[0]);
        close(p[1]);
        return;
    }
    if (g == 0) {
        close(p[1]);
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
            dup2(null, 2);
            if (null > 2)
                close(null);
        }
        char ch;
        ssize_t r;
        while ((r = read(p[0], &ch, 1)) != 0)
            if (r < 0 && errno != EINTR)
                break;
        guardian_reap_(c->registry, c->n);
        _exit(0);
    }
    close(p[0]);
    /* The write end stays open for the test's life; servers exec'd later must not hold it. */
    fcntl(p[1], F_SETFD, FD_CLOEXEC);
}

/* Arm (seconds > 0) or disarm (0) the watchdog for cluster c; the first call also starts the
 * guardian. Forked children never inherit the alarm. */
static inline void watchdog_arm(struct cluster *c, unsigned seconds)
{
    static int guarded;
    watchdog_cluster_ = c;
    watchdog_owner_ = getpid();
    if (!guarded) {
        guarded = 1;
        fflush(stdout);
        fflush(stderr);
        guardian_start_(c);
    }
    signal(SIGALRM, watchdog_fire_);
    alarm(seconds);
}

#endif
