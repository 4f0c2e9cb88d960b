/* SPDX-License-Identifier: BSD-3-Clause */
/* test_dead_server — a server dies (SIGKILL) under a client with a short RPC timeout.
 *
 * Operations that need the dead server (stat of paths whose metadata it holds, reads and
 * writes of chunks it stores, listings, statfs) fail with -1 and ETIMEDOUT or EHOSTDOWN within
 * a bound; operations that touch only the other servers keep working, including through
 * descriptors opened before the death. Nothing hangs. After a restart of the server on its
 * data directory, the same benchfs_t reconnects and everything works again with the old data.
 * Finally a server is killed and restarted while the client is idle: the client's first
 * requests to it must just work. A hung (stopped) server fails calls by timeout; its chunks
 * still read right where the client reads them from its files (same host).
 *
 * Placement is computed with the library's own ring (common/ring.h).
 *
 * usage: test_dead_server NSERVERS   (2 or more) */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster.h"
#include "common/util.h"
#include "data_util.h"

#define CHUNK 4096u
#define TIMEOUT_MS 1500
#define BOUND_MS (3 * TIMEOUT_MS + 2000)
#define NBIG 24   /* 8-chunk files */
#define NSMALL 24 /* 1-chunk files */
#define BIG_SIZE (8 * CHUNK)
#define SMALL_SIZE 4000u

struct tf {
    char path[64];
    uint64_t fileid, size, tag;
    uint32_t meta;
};

static struct bfs_ring ring;
static int victim;
static struct tf bigs[NBIG], smalls[NSMALL];

/* Does this client read same-host chunk files directly (the library's default)? */
static int local_reads(void)
{
    return !bfs_env_off("BENCHFS_SAME_HOST") && !bfs_env_off("BENCHFS_LOCAL_READS");
}

static int chunk_on_victim(const struct tf *f, uint64_t k)
{
    return chunk_server_of(&ring, f->fileid, k) == (uint32_t)victim;
}

/* Expect a failure caused by the dead server, within the bound. */
#define EXPECT_DEAD(what, expr)                                                                  \
    do {                                                                                         \
        int64_t t0_ = now_ms();                                                                  \
        errno = 0;                                                                               \
        long rc_ = (long)(expr);                                                                 \
        int e_ = errno;                                                                          \
        int64_t dt_ = now_ms() - t0_;                                                            \
        if (rc_ != -1 || (e_ != ETIMEDOUT && e_ != EHOSTDOWN) || dt_ > BOUND_MS) {               \
            fprintf(stderr, "FAIL %s:%d: %s: %s returned %ld errno %d (%s) after %lld ms; "        \
                            "expected -1/ETIMEDOUT|EHOSTDOWN within %d ms\n", __FILE__, __LINE__,  \
                    what, #expr, rc_, e_, strerror(e_), (long long)dt_, BOUND_MS);             \
            test_failures++;                                                                     \
        } else {                                                                                 \
            printf("  %-44s failed as expected (%s) in %lld ms\n", what, strerror(e_),          \
                   (long long)dt_);                                                              \
        }                                                                                        \
    } while (0)

/* Expect success, also within the bound (live servers must not wait on the dead one). */
#define EXPECT_LIVE(what, expr)                                                                  \
    do {                                                                                         \
        int64_t t0_ = now_ms();                                                                  \
        errno = 0;                                                                               \
        long rc_ = (long)(expr);                                                                 \
        int64_t dt_ = now_ms() - t0_;                                                            \
        if (rc_ < 0 || dt_ > BOUND_MS) {                                                         \
            fprintf(stderr, "FAIL %s:%d: %s: %s returned %ld (%s) after %lld ms\n", __FILE__,    \
                    __LINE__, what, #expr, rc_, rc_ < 0 ? benchfs_strerror() : "ok",             \
                    (long long)dt_);                                                             \
            test_failures++;                                                                     \
        }                                                                                        \
    } while (0)

static void make_file(benchfs_t *fs, struct tf *f, const char *fmt, int i, uint64_t size)
{
    snprintf(f->path, sizeof f->path, fmt, i);
    f->size = size;
    f->tag = (uint64_t)(size == BIG_SIZE ? 1000 : 2000) + (uint64_t)i;
    f->meta = meta_server_of(&ring, f->path);
    int fd = benchfs_open(fs, f->path, O_CREAT | O_EXCL | O_WRONLY, 0644);
    CHECK(fd >= 0);
    uint8_t *buf = malloc(size);
    pattern_fill(f->tag, 0, buf, size);
    CHECK_OK(bfs_pwrite_all(fs, fd, buf, size, 0));
    CHECK_OK(benchfs_close(fs, fd));
    free(buf);
    benchfs_stat_t st;
    CHECK_OK(benchfs_stat(fs, f->path, &st));
    f->fileid = st.ino;
}

/* pread [off, off+len) of f through fd and compare with its pattern; returns the rc. */
static long read_check(benchfs_t *fs, int fd, const struct tf *f, uint64_t off, size_t len)
{
    uint8_t *buf = malloc(len);
    ssize_t n = benchfs_pread(fs, fd, buf, len, (off_t)off);
    int e = errno;
    if (n == (ssize_t)len && pattern_check(f->tag, off, buf, len) != -1) {
        fprintf(stderr, "FAIL: %s [%" PRIu64 ", +%zu): wrong data\n", f->path, off, len);
        test_failures++;
    }
    free(buf);
    errno = e;
    return n == (ssize_t)len ? 0 : -1;
}

static int count_entries(benchfs_t *fs, const char *dir)
{
    benchfs_dir_t *d = benchfs_opendir(fs, dir);
    if (!d)
        return -1;
    int count = 0;
    while (benchfs_readdir(d))
        count++;
    benchfs_closedir(d);
    return count;
}

static int statfs_up(benchfs_t *fs, uint32_t *up)
{
    benchfs_statfs_t sf;
    memset(&sf, 0, sizeof sf);
    int rc = benchfs_statfs(fs, &sf);
    *up = sf.nservers_up;
    return rc;
}

/* A fresh top-level name whose metadata lives on `server` (want == 1) or elsewhere (0). */
static void name_on(char *out, size_t cap, const char *prefix, int want_victim)
{
    for (int i = 0;; i++) {
        snprintf(out, cap, "/%s%d", prefix, i);
        if ((meta_server_of(&ring, out) == (uint32_t)victim) == want_victim)
            return;
    }
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* keep stdout and stderr lines in order */
    int n = argc > 1 ? atoi(argv[1]) : 2;
    if (n < 2) {
        fprintf(stderr, "test_dead_server needs at least 2 servers\n");
        return 2;
    }
    struct cluster c;
    cluster_start(&c, n, NULL);
    watchdog_arm(&c, 240);
    CHECK_OK(bfs_ring_init(&ring, (uint32_t)n, 0));
    victim = n - 1;
    benchfs_t *fs = data_client(&c, TIMEOUT_MS, CHUNK);

    for (int i = 0; i < NBIG; i++)
        make_file(fs, &bigs[i], "/big%d", i, BIG_SIZE);
    for (int i = 0; i < NSMALL; i++)
        make_file(fs, &smalls[i], "/small%d", i, SMALL_SIZE);

    /* Pick the actors: a file whose metadata is on the victim, a one-chunk file entirely on
     * live servers, and an 8-chunk file with live metadata and chunks on both sides. */
    struct tf *dead_meta = NULL, *live_small = NULL, *mixed = NULL;
    for (int i = 0; i < NSMALL; i++) {
        if (!dead_meta && smalls[i].meta == (uint32_t)victim)
            dead_meta = &smalls[i];
        if (!live_small && smalls[i].meta != (uint32_t)victim && !chunk_on_victim(&smalls[i], 0))
            live_small = &smalls[i];
    }
    for (int i = 0; i < NBIG && !mixed; i++) {
        int on = 0, off = 0;
        for (uint64_t k = 0; k < 8; k++)
            chunk_on_victim(&bigs[i], k) ? on++ : off++;
        if (bigs[i].meta != (uint32_t)victim && on && off)
            mixed = &bigs[i];
    }
    /* A file with metadata on the victim but a chunk elsewhere, for a read through an fd. */
    struct tf *dead_meta_big = NULL;
    for (int i = 0; i < NBIG && !dead_meta_big; i++)
        if (bigs[i].meta == (uint32_t)victim)
            dead_meta_big = &bigs[i];
    CHECK(dead_meta && live_small && mixed && dead_meta_big);
    if (!dead_meta || !live_small || !mixed || !dead_meta_big) {
        cluster_stop(&c);
        return test_finish("dead_server");
    }
    uint64_t k_dead = 0, k_live = 0, k_dm_live = 0;
    while (!chunk_on_victim(mixed, k_dead))
        k_dead++;
    while (chunk_on_victim(mixed, k_live))
        k_live++;
    int dm_has_live = 0;
    for (uint64_t k = 0; k < 8 && !dm_has_live; k++)
        if (!chunk_on_victim(dead_meta_big, k))
            k_dm_live = k, dm_has_live = 1;
    printf("dead_server: victim %d; dead-meta %s, live %s, mixed %s (chunk %" PRIu64
           " dead, %" PRIu64 " live)\n", victim, dead_meta->path, live_small->path, mixed->path,
           k_dead, k_live);

    /* Descriptors opened before the death. */
    int fd_mixed = benchfs_open(fs, mixed->path, O_RDWR, 0);
    int fd_dm = benchfs_open(fs, dead_meta_big->path, O_RDONLY, 0);
    CHECK(fd_mixed >= 0 && fd_dm >= 0);
    int before = count_entries(fs, "/");
    CHECK(before == NBIG + NSMALL);

    cluster_kill(&c, victim, SIGKILL);
    printf("dead_server: killed server %d\n", victim);
    int64_t outage0 = now_ms();
    benchfs_stat_t st;
    uint8_t buf[2 * CHUNK];

    /* Needs the dead server: fails, bounded. The first call must see the death within
     * 100 ms (DESIGN.md, Failures: end of file on a local socket, UCX's report remotely),
     * not wait for its deadline. */
    EXPECT_DEAD("stat of a path on the dead server", benchfs_stat(fs, dead_meta->path, &st));
    printf("dead_server: first failing call %lld ms after the kill\n",
           (long long)(now_ms() - outage0));
    CHECK(now_ms() - outage0 < 100);
    EXPECT_DEAD("stat again (no hang on reconnect)", benchfs_stat(fs, dead_meta->path, &st));
    EXPECT_DEAD("open of a path on the dead server",
                benchfs_open(fs, dead_meta->path, O_RDONLY, 0));
    EXPECT_DEAD("read of a chunk on the dead server",
                read_check(fs, fd_mixed, mixed, k_dead * CHUNK + 10, 100));
    EXPECT_DEAD("read spanning every chunk", read_check(fs, fd_mixed, mixed, 0, BIG_SIZE));
    pattern_fill(mixed->tag, k_dead * CHUNK, buf, CHUNK);
    EXPECT_DEAD("write of a chunk on the dead server",
                benchfs_pwrite(fs, fd_mixed, buf, CHUNK, (off_t)(k_dead * CHUNK)));
    char pth[64];
    name_on(pth, sizeof pth, "newdir", 1);
    EXPECT_DEAD("mkdir of a path on the dead server", benchfs_mkdir(fs, pth, 0755));
    name_on(pth, sizeof pth, "newfile", 1);
    EXPECT_DEAD("create of a path on the dead server",
                benchfs_open(fs, pth, O_CREAT | O_WRONLY, 0644));
    EXPECT_DEAD("opendir / (needs every server)", benchfs_opendir(fs, "/") ? 0 : -1);
    uint32_t up = 0;
    EXPECT_DEAD("statfs (needs every server)", statfs_up(fs, &up));
    CHECK(up == (uint32_t)n - 1);

    /* Touches only live servers: works. */
    EXPECT_LIVE("stat of a path on a live server", benchfs_stat(fs, live_small->path, &st));
    CHECK(st.size == SMALL_SIZE && st.ino == live_small->fileid);
    EXPECT_LIVE("read of a live chunk (old fd)",
                read_check(fs, fd_mixed, mixed, k_live * CHUNK + 5, CHUNK - 5));
    pattern_fill(mixed->tag, k_live * CHUNK, buf, CHUNK);
    EXPECT_LIVE("rewrite of a live chunk (old fd)",
                benchfs_pwrite(fs, fd_mixed, buf, CHUNK, (off_t)(k_live * CHUNK)));
    if (dm_has_live)
        EXPECT_LIVE("read of a live chunk, metadata dead (old fd)",
                    read_check(fs, fd_dm, dead_meta_big, k_dm_live * CHUNK, CHUNK));
    int fd = benchfs_open(fs, live_small->path, O_RDONLY, 0);
    EXPECT_LIVE("open of a live file", fd);
    if (fd >= 0) {
        EXPECT_LIVE("read of a live file", read_check(fs, fd, live_small, 0, SMALL_SIZE));
        CHECK_OK(benchfs_close(fs, fd));
    }
    /* Create a new file on a live server and write to a chunk index that is live as well. */
    name_on(pth, sizeof pth, "fresh", 0);
    fd = benchfs_open(fs, pth, O_CREAT | O_EXCL | O_RDWR, 0644);
    EXPECT_LIVE("create of a path on a live server", fd);
    if (fd >= 0) {
        benchfs_stat_t fst;
        CHECK_OK(benchfs_fstat(fs, fd, &fst));
        uint64_t k = 0;
        while (chunk_server_of(&ring, fst.ino, k) == (uint32_t)victim)
            k++;
        struct tf fresh = {.fileid = fst.ino, .tag = 77, .size = (k + 1) * CHUNK};
        snprintf(fresh.path, sizeof fresh.path, "%s", pth);
        pattern_fill(fresh.tag, k * CHUNK, buf, CHUNK);
        EXPECT_LIVE("write to a live chunk of a new file",
                    benchfs_pwrite(fs, fd, buf, CHUNK, (off_t)(k * CHUNK)));
        EXPECT_LIVE("close of the new file", benchfs_close(fs, fd));
        fd = benchfs_open(fs, pth, O_RDONLY, 0);
        EXPECT_LIVE("reopen of the new file", fd);
        CHECK_OK(benchfs_fstat(fs, fd, &fst));
        CHECK(fst.size == (k + 1) * CHUNK);
        EXPECT_LIVE("read back of the new file", read_check(fs, fd, &fresh, k * CHUNK, CHUNK));
        CHECK_OK(benchfs_close(fs, fd));
    }
    char fresh_path[64];
    snprintf(fresh_path, sizeof fresh_path, "%s", pth);
    /* The dead server again, after all that: still bounded. */
    EXPECT_DEAD("stat on the dead server, later", benchfs_stat(fs, dead_meta->path, &st));
    printf("dead_server: outage checks took %lld ms\n", (long long)(now_ms() - outage0));

    /* Restart: the same client reconnects; the old data is there. */
    cluster_start_server(&c, victim);
    printf("dead_server: restarted server %d\n", victim);
    EXPECT_LIVE("stat on the restarted server", benchfs_stat(fs, dead_meta->path, &st));
    CHECK(st.size == SMALL_SIZE && st.ino == dead_meta->fileid);
    EXPECT_LIVE("read of the restarted server's chunk (old fd)",
                read_check(fs, fd_mixed, mixed, k_dead * CHUNK, CHUNK));
    EXPECT_LIVE("read of every chunk (old fd)", read_check(fs, fd_mixed, mixed, 0, BIG_SIZE));
    EXPECT_LIVE("read through the fd of a file on the restarted server",
                read_check(fs, fd_dm, dead_meta_big, 0, BIG_SIZE));
    pattern_fill(mixed->tag, k_dead * CHUNK, buf, CHUNK);
    EXPECT_LIVE("write of the restarted server's chunk",
                benchfs_pwrite(fs, fd_mixed, buf, CHUNK, (off_t)(k_dead * CHUNK)));
    CHECK_OK(benchfs_close(fs, fd_mixed));
    CHECK_OK(benchfs_close(fs, fd_dm));
    /* Unlink frees chunks on every server, so it waited for the restart. */
    EXPECT_LIVE("unlink of the file created during the outage", benchfs_unlink(fs, fresh_path));
    EXPECT_LIVE("statfs with every server back", statfs_up(fs, &up));
    CHECK(up == (uint32_t)n);
    int after = count_entries(fs, "/");
    if (after != NBIG + NSMALL) {
        fprintf(stderr, "FAIL: / lists %d entries after the restart, expected %d\n", after,
                NBIG + NSMALL);
        test_failures++;
    }
    for (int i = 0; i < NBIG; i++) {
        uint64_t size = 0;
        uint8_t *d = bfs_slurp(fs, bigs[i].path, &size);
        CHECK(d && size == BIG_SIZE && pattern_check(bigs[i].tag, 0, d, BIG_SIZE) == -1);
        free(d);
    }
    for (int i = 0; i < NSMALL; i++) {
        uint64_t size = 0;
        uint8_t *d = bfs_slurp(fs, smalls[i].path, &size);
        CHECK(d && size == SMALL_SIZE && pattern_check(smalls[i].tag, 0, d, SMALL_SIZE) == -1);
        free(d);
    }

    /* Kill and restart while the client is idle: it has not seen the death, and its first
     * requests to the new incarnation must succeed all the same. */
    cluster_kill(&c, victim, SIGKILL);
    cluster_start_server(&c, victim);
    EXPECT_LIVE("stat after an unnoticed restart", benchfs_stat(fs, dead_meta->path, &st));
    EXPECT_LIVE("statfs after an unnoticed restart", statfs_up(fs, &up));
    fd = benchfs_open(fs, mixed->path, O_RDONLY, 0);
    EXPECT_LIVE("open after an unnoticed restart", fd);
    if (fd >= 0) {
        EXPECT_LIVE("read after an unnoticed restart", read_check(fs, fd, mixed, 0, BIG_SIZE));
        CHECK_OK(benchfs_close(fs, fd));
    }

    /* A hung server (SIGSTOP: connections stay up, nothing answers) is the case only the RPC
     * timeout can catch: calls to it fail with ETIMEDOUT within the bound, the others work,
     * and after SIGCONT everything works again (its late replies to timed-out calls are
     * dropped, not mistaken for answers to new ones). */
    pid_t vp = c.pids[victim];
    kill(vp, SIGSTOP);
    printf("dead_server: stopped server %d\n", victim);
    int64_t t_stop = now_ms();
    EXPECT_DEAD("stat on a hung server", benchfs_stat(fs, dead_meta->path, &st));
    EXPECT_LIVE("stat on a live server, one hung", benchfs_stat(fs, live_small->path, &st));
    fd = benchfs_open(fs, mixed->path, O_RDWR, 0);
    EXPECT_LIVE("open with metadata on a live server", fd);
    if (fd >= 0) {
        /* Same-host clients read chunk files themselves (client/local_read.c): a hung
         * server's chunks still read right, from its disk; through the server they fail. */
        if (local_reads())
            EXPECT_LIVE("read spanning a hung server's chunks (read locally)",
                        read_check(fs, fd, mixed, 0, BIG_SIZE));
        else
            EXPECT_DEAD("read spanning a hung server's chunks",
                        read_check(fs, fd, mixed, 0, BIG_SIZE));
        EXPECT_LIVE("read of a live chunk, one server hung",
                    read_check(fs, fd, mixed, k_live * CHUNK, CHUNK));
    }
    EXPECT_DEAD("stat on a hung server, again", benchfs_stat(fs, dead_meta->path, &st));
    printf("dead_server: hung-server checks took %lld ms\n", (long long)(now_ms() - t_stop));
    kill(vp, SIGCONT);
    EXPECT_LIVE("stat after SIGCONT", benchfs_stat(fs, dead_meta->path, &st));
    CHECK(st.ino == dead_meta->fileid && st.size == SMALL_SIZE);
    if (fd >= 0) {
        EXPECT_LIVE("read after SIGCONT", read_check(fs, fd, mixed, 0, BIG_SIZE));
        CHECK_OK(benchfs_close(fs, fd));
    }
    for (int i = 0; i < NSMALL; i++) {
        EXPECT_LIVE("stat of every file after SIGCONT", benchfs_stat(fs, smalls[i].path, &st));
        CHECK(st.ino == smalls[i].fileid && st.size == SMALL_SIZE);
    }

    /* Clean up: unlinks need every server. */
    for (int i = 0; i < NBIG; i++)
        CHECK_OK(benchfs_unlink(fs, bigs[i].path));
    for (int i = 0; i < NSMALL; i++)
        CHECK_OK(benchfs_unlink(fs, smalls[i].path));
    CHECK_OK(benchfs_term(fs));
    bfs_ring_free(&ring);
    alarm(0);
    cluster_stop(&c);
    return test_finish("dead_server");
}
