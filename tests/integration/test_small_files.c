/* SPDX-License-Identifier: BSD-3-Clause */
/* test_small_files — files whose data is kept in their metadata record (client/small_file.c,
 * server/meta_inline.c), and their move to chunks as they grow.
 *
 * Checked with the servers' counters: a small file's create + write + close is one CREATE and
 * one INLINE_WRITE (plus the parent's LOOKUP), its open + read + close one LOOKUP_DATA, its
 * unlink one REMOVE, and none of these touches a chunk (no CHUNK_* RPC, no bytes used).
 * An open through symbolic links follows each link LOOKUP_DATA finds (one LOOKUP_DATA a hop).
 * Then the threshold is crossed: a file grows by a second write and by O_APPEND from another
 * client; shrinks by truncate (cut bytes never come back) and grows by truncate past the
 * threshold; eight processes write their own regions of one file at once, some inline and
 * some past the threshold, and every region must be there; a reader that opened the file
 * before the move reads the old bytes and then the new ones past them, and a writer that
 * opened it before the move writes through the chunks after it. With two servers or more, a
 * mover stalled by a stopped chunk server (its write fails) leaves the file MOVING, still
 * readable, and the next writer takes the move over once the lease is over.
 * Last, small files (fsync'd and not) survive kill -9 of every server.
 *
 * usage: test_small_files NSERVERS */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cluster.h"
#include "common/ring.h"
#include "data_util.h"

#define TH 4096u /* the clients' BENCHFS_INLINE_MAX */
#define CHUNK 16384u
#define LEASE_MS 1000

static struct cluster c;

static const char *CTRS[] = {"create.count",      "lookup.count",        "lookup_data.count",
                             "inline_write.count", "remove.count",        "size_update.count",
                             "chunk_reserve.count", "chunk_write.count",  "chunk_read.count",
                             "chunk_remove.count",  "chunk_truncate.count", "move_begin.count",
                             "fsync.count"};
#define NCTR (sizeof CTRS / sizeof CTRS[0])

static void snap(benchfs_t *fs, long *v)
{
    for (size_t i = 0; i < NCTR; i++)
        v[i] = cluster_counter(fs, c.n, CTRS[i]);
}

/* Counter deltas since `before` must be exactly `want` (name=value pairs, others 0). */
static void expect_rpcs(benchfs_t *fs, const long *before, const char *what, const char *const *names,
                        const long *want, size_t nwant)
{
    long now[NCTR];
    snap(fs, now);
    for (size_t i = 0; i < NCTR; i++) {
        long w = 0;
        for (size_t j = 0; j < nwant; j++)
            if (strcmp(names[j], CTRS[i]) == 0)
                w = want[j];
        if (now[i] - before[i] != w) {
            fprintf(stderr, "FAIL %s: %s went up by %ld, expected %ld\n", what, CTRS[i],
                    now[i] - before[i], w);
            test_failures++;
        }
    }
}

static int write_file(benchfs_t *fs, const char *path, uint64_t tag, size_t len)
{
    uint8_t *b = malloc(len ? len : 1);
    pattern_fill(tag, 0, b, len);
    int fd = benchfs_open(fs, path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    int rc = fd < 0 ? -1 : bfs_pwrite_all(fs, fd, b, len, 0);
    if (fd >= 0 && benchfs_close(fs, fd) != 0)
        rc = -1;
    free(b);
    return rc;
}

/* The whole file equals `want` (len bytes). */
static int equals(benchfs_t *fs, const char *path, const uint8_t *want, size_t len)
{
    uint64_t n = 0;
    uint8_t *got = bfs_slurp(fs, path, &n);
    int ok = got && n == len && memcmp(got, want, len) == 0;
    if (!ok)
        fprintf(stderr, "  %s: %s, size %llu (want %zu), first difference at %ld\n", path,
                got ? "read" : benchfs_strerror(), (unsigned long long)n, len,
                got && n == len ? first_diff(got, want, len) : -1);
    free(got);
    return ok;
}

static void test_costs(benchfs_t *fs)
{
    long b[NCTR];
    uint8_t data[3901], got[3901];
    pattern_fill(1, 0, data, sizeof data);
    CHECK_OK(benchfs_mkdir(fs, "/sf/cost", 0755));

    snap(fs, b);
    int fd = benchfs_open(fs, "/sf/cost/a", O_CREAT | O_EXCL | O_WRONLY, 0644);
    CHECK(fd >= 0);
    CHECK(benchfs_write(fs, fd, data, sizeof data) == (ssize_t)sizeof data);
    CHECK_OK(benchfs_close(fs, fd));
    static const char *n1[] = {"lookup.count", "create.count", "inline_write.count"};
    expect_rpcs(fs, b, "create+write+close", n1, (long[]){1, 1, 1}, 3);

    snap(fs, b);
    benchfs_stat_t st;
    CHECK_OK(benchfs_stat(fs, "/sf/cost/a", &st));
    CHECK(st.size == sizeof data);
    static const char *n2[] = {"lookup.count"};
    expect_rpcs(fs, b, "stat", n2, (long[]){1}, 1);

    snap(fs, b);
    fd = benchfs_open(fs, "/sf/cost/a", O_RDONLY, 0);
    CHECK(fd >= 0);
    CHECK(benchfs_read(fs, fd, got, sizeof got) == (ssize_t)sizeof got);
    CHECK(memcmp(got, data, sizeof data) == 0);
    CHECK_OK(benchfs_close(fs, fd));
    static const char *n3[] = {"lookup_data.count"};
    expect_rpcs(fs, b, "open+read+close", n3, (long[]){1}, 1);

    long used = cluster_counter(fs, c.n, "used_bytes");
    CHECK(used == 0); /* no chunk file anywhere */

    snap(fs, b);
    CHECK_OK(benchfs_unlink(fs, "/sf/cost/a"));
    static const char *n4[] = {"lookup.count", "remove.count"};
    expect_rpcs(fs, b, "unlink", n4, (long[]){1, 1}, 2);
    CHECK_ERR(benchfs_stat(fs, "/sf/cost/a", &st), ENOENT);

    /* An fsync of a small file is its metadata server's alone. */
    fd = benchfs_open(fs, "/sf/cost/b", O_CREAT | O_WRONLY, 0644);
    CHECK(benchfs_write(fs, fd, data, 100) == 100);
    snap(fs, b);
    CHECK_OK(benchfs_fsync(fs, fd));
    static const char *n5[] = {"fsync.count"};
    expect_rpcs(fs, b, "fsync", n5, (long[]){1}, 1);
    CHECK_OK(benchfs_close(fs, fd));
    CHECK_OK(benchfs_unlink(fs, "/sf/cost/b"));
}

/* A link found by open's LOOKUP_DATA is followed as LOOKUP's would be: its target comes in
 * the reply, and the file it names is looked up (with its data) in turn. */
static void test_links(benchfs_t *fs)
{
    long b[NCTR];
    uint8_t data[1000], got[1000];
    pattern_fill(7, 0, data, sizeof data);
    CHECK_OK(benchfs_mkdir(fs, "/sf/ln", 0755));
    CHECK(write_file(fs, "/sf/ln/t", 7, sizeof data) == 0);
    CHECK_OK(benchfs_symlink(fs, "t", "/sf/ln/rel"));
    CHECK_OK(benchfs_symlink(fs, "/sf/ln/rel", "/sf/ln/abs"));
    snap(fs, b);
    int fd = benchfs_open(fs, "/sf/ln/abs", O_RDONLY, 0);
    CHECK(fd >= 0);
    CHECK(benchfs_read(fs, fd, got, sizeof got) == (ssize_t)sizeof got);
    CHECK(memcmp(got, data, sizeof data) == 0);
    CHECK_OK(benchfs_close(fs, fd));
    static const char *n1[] = {"lookup_data.count"};
    expect_rpcs(fs, b, "open+read+close through two links", n1, (long[]){3}, 1);
    CHECK_ERR(benchfs_open(fs, "/sf/ln/rel", O_RDONLY | O_NOFOLLOW, 0), ELOOP);
    CHECK_OK(benchfs_symlink(fs, "missing", "/sf/ln/dangling"));
    CHECK_ERR(benchfs_open(fs, "/sf/ln/dangling", O_RDONLY, 0), ENOENT);
    /* Writing through a link reaches the inline file. */
    fd = benchfs_open(fs, "/sf/ln/rel", O_WRONLY, 0);
    CHECK(fd >= 0);
    CHECK(benchfs_pwrite(fs, fd, "xyz", 3, 10) == 3);
    CHECK_OK(benchfs_close(fs, fd));
    memcpy(data + 10, "xyz", 3);
    CHECK(equals(fs, "/sf/ln/t", data, sizeof data));
    CHECK_OK(benchfs_unlink(fs, "/sf/ln/abs"));
    CHECK_OK(benchfs_unlink(fs, "/sf/ln/rel"));
    CHECK_OK(benchfs_unlink(fs, "/sf/ln/dangling"));
    CHECK_OK(benchfs_unlink(fs, "/sf/ln/t"));
    CHECK_OK(benchfs_rmdir(fs, "/sf/ln"));
}

static void test_grow(benchfs_t *fs, benchfs_t *fs2)
{
    uint8_t want[12000];
    pattern_fill(2, 0, want, 6000);
    long mb = cluster_counter(fs, c.n, "move_begin.count");
    int fd = benchfs_open(fs, "/sf/grow", O_CREAT | O_RDWR, 0644);
    CHECK(fd >= 0);
    CHECK_OK(bfs_pwrite_all(fs, fd, want, 3000, 0));
    CHECK(equals(fs2, "/sf/grow", want, 3000));
    CHECK_OK(bfs_pwrite_all(fs, fd, want + 3000, 3000, 3000)); /* past TH: moves */
    uint8_t got[6000];
    CHECK(benchfs_pread(fs, fd, got, 6000, 0) == 6000 && memcmp(got, want, 6000) == 0);
    CHECK_OK(benchfs_close(fs, fd));
    CHECK(cluster_counter(fs, c.n, "move_begin.count") == mb + 1);
    CHECK(cluster_counter(fs, c.n, "used_bytes") > 0);
    CHECK(equals(fs2, "/sf/grow", want, 6000));

    /* O_APPEND from another client, after the move. */
    pattern_fill(3, 6000, want + 6000, 100);
    fd = benchfs_open(fs2, "/sf/grow", O_WRONLY | O_APPEND, 0);
    CHECK(benchfs_write(fs2, fd, want + 6000, 100) == 100);
    CHECK_OK(benchfs_close(fs2, fd));
    CHECK(equals(fs, "/sf/grow", want, 6100));

    /* Appends that cross the threshold while inline, by two clients in turn (each append
     * opened and closed: O_APPEND is not atomic across clients, DESIGN.md). */
    pattern_fill(4, 0, want, 10 * 1000);
    for (int i = 0; i < 10; i++) {
        benchfs_t *w = i % 2 ? fs2 : fs;
        fd = benchfs_open(w, "/sf/append", O_CREAT | O_WRONLY | O_APPEND, 0644);
        CHECK(benchfs_write(w, fd, want + i * 1000, 1000) == 1000);
        CHECK_OK(benchfs_close(w, fd));
    }
    CHECK(equals(fs2, "/sf/append", want, 10000));

    /* One big first write: chunked at once (nothing to copy). */
    static uint8_t big[3 * CHUNK + 5];
    pattern_fill(5, 0, big, sizeof big);
    CHECK_OK(write_file(fs, "/sf/big", 5, sizeof big));
    CHECK(equals(fs2, "/sf/big", big, sizeof big));
    benchfs_stat_t st;
    CHECK_OK(benchfs_stat(fs2, "/sf/big", &st));
    CHECK(st.size == sizeof big);
}

static void test_truncate(benchfs_t *fs, benchfs_t *fs2)
{
    uint8_t want[10000];
    pattern_fill(6, 0, want, 3000);
    long used = cluster_counter(fs, c.n, "used_bytes");
    CHECK_OK(write_file(fs, "/sf/trunc", 6, 3000));
    CHECK_OK(benchfs_truncate(fs, "/sf/trunc", 100));
    CHECK(equals(fs2, "/sf/trunc", want, 100));
    /* Grow again inside the threshold: the cut bytes read as zeros. */
    CHECK_OK(benchfs_truncate(fs2, "/sf/trunc", 2000));
    memset(want + 100, 0, sizeof want - 100);
    CHECK(equals(fs, "/sf/trunc", want, 2000));
    CHECK(cluster_counter(fs, c.n, "used_bytes") == used); /* still no chunk of its own */
    /* Past the threshold by ftruncate: moved, zeros after. */
    int fd = benchfs_open(fs, "/sf/trunc", O_RDWR, 0);
    CHECK_OK(benchfs_ftruncate(fs, fd, 10000));
    uint8_t got[10000];
    CHECK(benchfs_pread(fs, fd, got, 10000, 0) == 10000 && memcmp(got, want, 10000) == 0);
    CHECK_OK(benchfs_close(fs, fd));
    CHECK(equals(fs2, "/sf/trunc", want, 10000));
    /* Back below it: stays in chunks, reads right. */
    CHECK_OK(benchfs_truncate(fs2, "/sf/trunc", 50));
    CHECK(equals(fs, "/sf/trunc", want, 50));
    /* O_TRUNC of a small file, then new contents. */
    CHECK_OK(write_file(fs, "/sf/otrunc", 7, 3000));
    CHECK_OK(write_file(fs2, "/sf/otrunc", 8, 500));
    pattern_fill(8, 0, want, 500);
    CHECK(equals(fs, "/sf/otrunc", want, 500));
    fd = benchfs_open(fs2, "/sf/otrunc", O_RDWR | O_TRUNC, 0); /* no O_CREAT: looked up */
    CHECK(fd >= 0 && benchfs_pread(fs2, fd, got, 10, 0) == 0);
    CHECK_OK(benchfs_close(fs2, fd));
}

/* Eight processes, each its own client, write their own 1 KiB regions of one file (two
 * halves each): half the regions lie inside the threshold, half past it. */
static void test_concurrent_writers(void)
{
    enum { NW = 8, REG = 1024 };
    for (int round = 0; round < 4; round++) {
        char path[64];
        snprintf(path, sizeof path, "/sf/conc%d", round);
        benchfs_t *fs = data_client(&c, 10000, CHUNK);
        int fd = benchfs_open(fs, path, O_CREAT | O_WRONLY, 0644);
        CHECK(fd >= 0);
        CHECK_OK(benchfs_close(fs, fd));
        pid_t pids[NW];
        for (int w = 0; w < NW; w++) {
            pids[w] = fork();
            if (pids[w] == 0) {
                benchfs_t *cfs = data_client(&c, 10000, CHUNK);
                uint8_t b[REG];
                pattern_fill(100 + (uint64_t)w, (uint64_t)w * REG, b, REG);
                int cfd = benchfs_open(cfs, path, O_WRONLY, 0);
                int ok = cfd >= 0;
                int order = (w + round) % 2; /* which half first */
                for (int h = 0; h < 2 && ok; h++) {
                    size_t off = (size_t)((h ^ order) * (REG / 2));
                    ok = bfs_pwrite_all(cfs, cfd, b + off, REG / 2, (off_t)(w * REG + off)) == 0;
                    if (!ok)
                        fprintf(stderr, "writer %d: %s\n", w, benchfs_strerror());
                }
                if (cfd >= 0 && benchfs_close(cfs, cfd) != 0)
                    ok = 0;
                benchfs_term(cfs);
                _exit(ok ? 0 : 1);
            }
        }
        for (int w = 0; w < NW; w++) {
            int status = 0;
            CHECK(pids[w] > 0 && waitpid(pids[w], &status, 0) == pids[w] && WIFEXITED(status) &&
                  WEXITSTATUS(status) == 0);
        }
        uint64_t n = 0;
        uint8_t *got = bfs_slurp(fs, path, &n);
        CHECK(got && n == NW * REG);
        for (int w = 0; got && n == NW * REG && w < NW; w++) {
            long bad = pattern_check(100 + (uint64_t)w, (uint64_t)w * REG, got + w * REG, REG);
            if (bad >= 0)
                fprintf(stderr, "  round %d: region %d wrong at %ld\n", round, w, bad);
            CHECK(bad < 0);
        }
        free(got);
        benchfs_term(fs);
    }
}

/* A reader and a writer that opened the file while it was inline, across its move. */
static void test_open_across_move(benchfs_t *fs, benchfs_t *fs2)
{
    uint8_t want[8000];
    pattern_fill(9, 0, want, 3000);
    CHECK_OK(write_file(fs, "/sf/across", 9, 3000));
    int rfd = benchfs_open(fs, "/sf/across", O_RDONLY, 0);
    int wfd = benchfs_open(fs2, "/sf/across", O_WRONLY, 0); /* inline when opened */
    uint8_t got[8000];
    CHECK(benchfs_pread(fs, rfd, got, 1000, 0) == 1000 && memcmp(got, want, 1000) == 0);
    benchfs_t *fs3 = data_client(&c, 10000, CHUNK);
    pattern_fill(10, 3000, want + 3000, 5000);
    int fd = benchfs_open(fs3, "/sf/across", O_WRONLY, 0);
    CHECK_OK(bfs_pwrite_all(fs3, fd, want + 3000, 5000, 3000)); /* moves */
    CHECK_OK(benchfs_close(fs3, fd));
    /* The reader: the bytes it had, then the new ones past them. */
    CHECK(benchfs_pread(fs, rfd, got + 1000, 2000, 1000) == 2000);
    CHECK(memcmp(got + 1000, want + 1000, 2000) == 0);
    CHECK(benchfs_pread(fs, rfd, got + 3000, 5000, 3000) == 5000);
    CHECK(memcmp(got + 3000, want + 3000, 5000) == 0);
    CHECK(benchfs_pread(fs, rfd, got, 10, 8000) == 0);
    CHECK_OK(benchfs_close(fs, rfd));
    /* The writer opened before the move writes through the chunks after it. */
    pattern_fill(11, 10, want + 10, 20);
    CHECK_OK(bfs_pwrite_all(fs2, wfd, want + 10, 20, 10));
    CHECK_OK(benchfs_close(fs2, wfd));
    CHECK(equals(fs3, "/sf/across", want, 8000));
    /* And a rename of a small file keeps its bytes. */
    CHECK_OK(write_file(fs, "/sf/ren1", 12, 2000));
    pattern_fill(12, 0, want, 2000);
    CHECK_OK(benchfs_rename(fs2, "/sf/ren1", "/sf/ren2"));
    CHECK(equals(fs, "/sf/ren2", want, 2000));
    CHECK_OK(benchfs_mkdir(fs, "/sf/rdir", 0755));
    CHECK_OK(write_file(fs, "/sf/rdir/x", 12, 2000));
    CHECK_OK(benchfs_rename(fs2, "/sf/rdir", "/sf/rdir2"));
    CHECK(equals(fs, "/sf/rdir2/x", want, 2000));
    benchfs_term(fs3);
}

/* A mover whose chunk server is stopped fails; the file stays MOVING with its bytes readable,
 * and the next writer takes the move over once the lease is over. */
static void test_takeover(benchfs_t *fs)
{
    struct bfs_ring ring;
    CHECK_OK(bfs_ring_init(&ring, (uint32_t)c.n, 0));
    char path[64] = "";
    uint64_t fileid = 0;
    uint32_t victim = 0;
    for (int i = 0; i < 64; i++) {
        char p[64];
        snprintf(p, sizeof p, "/sf/take%d", i);
        CHECK_OK(write_file(fs, p, 13, 3000));
        benchfs_stat_t st;
        CHECK_OK(benchfs_stat(fs, p, &st));
        uint32_t k = chunk_server_of(&ring, st.ino, 0);
        if (k != meta_server_of(&ring, p)) {
            strcpy(path, p);
            fileid = st.ino;
            victim = k;
            break;
        }
    }
    bfs_ring_free(&ring);
    CHECK(fileid != 0);
    if (!fileid)
        return;
    uint8_t want[5000];
    pattern_fill(13, 0, want, 3000);
    long me = cluster_counter(fs, c.n, "move_end.count");
    benchfs_t *a = data_client(&c, 800, CHUNK);
    kill(c.pids[victim], SIGSTOP);
    int fd = benchfs_open(a, path, O_WRONLY, 0);
    CHECK(fd >= 0);
    uint8_t more[2000];
    pattern_fill(14, 3000, more, sizeof more);
    CHECK(benchfs_pwrite(a, fd, more, sizeof more, 3000) < 0); /* the mover fails */
    benchfs_close(a, fd);
    kill(c.pids[victim], SIGCONT);
    benchfs_term(a);
    /* MOVING: still readable, as it was. */
    CHECK(equals(fs, path, want, 3000));
    benchfs_t *b = data_client(&c, 10000, CHUNK);
    pattern_fill(15, 0, want, 100);
    fd = benchfs_open(b, path, O_WRONLY, 0);
    CHECK_OK(bfs_pwrite_all(b, fd, want, 100, 0)); /* waits out the lease, takes over */
    CHECK_OK(benchfs_close(b, fd));
    /* Only a take-over could end the move A began and never ended. */
    CHECK(cluster_counter(fs, c.n, "move_end.count") == me + 1);
    CHECK(equals(fs, path, want, 3000));
    benchfs_term(b);
}

static void test_restart(benchfs_t **fsp)
{
    uint8_t a[3901], b[2000];
    pattern_fill(20, 0, a, sizeof a);
    pattern_fill(21, 0, b, sizeof b);
    int fd = benchfs_open(*fsp, "/sf/dur", O_CREAT | O_WRONLY, 0644);
    CHECK_OK(bfs_pwrite_all(*fsp, fd, a, sizeof a, 0));
    CHECK_OK(benchfs_fsync(*fsp, fd));
    CHECK_OK(benchfs_close(*fsp, fd));
    CHECK_OK(write_file(*fsp, "/sf/dur2", 21, sizeof b)); /* closed only */
    benchfs_term(*fsp);
    for (int i = 0; i < c.n; i++) {
        cluster_kill(&c, i, SIGKILL);
        cluster_start_server(&c, i);
    }
    *fsp = data_client(&c, 10000, CHUNK);
    CHECK(equals(*fsp, "/sf/dur", a, sizeof a));
    CHECK(equals(*fsp, "/sf/dur2", b, sizeof b));
    CHECK_OK(benchfs_unlink(*fsp, "/sf/dur"));
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2;
    setenv("BENCHFS_INLINE_MAX", "4096", 1);
    char extra[64];
    snprintf(extra, sizeof extra, "--move-lease-ms %d", LEASE_MS);
    cluster_start(&c, n, extra);
    watchdog_arm(&c, 240);
    benchfs_t *fs = data_client(&c, 10000, CHUNK), *fs2 = data_client(&c, 10000, CHUNK);
    CHECK_OK(benchfs_mkdir(fs, "/sf", 0755));
    test_costs(fs);
    test_links(fs);
    test_grow(fs, fs2);
    test_truncate(fs, fs2);
    test_concurrent_writers();
    test_open_across_move(fs, fs2);
    if (n >= 2)
        test_takeover(fs);
    benchfs_term(fs2);
    test_restart(&fs);
    benchfs_term(fs);
    watchdog_arm(&c, 0);
    cluster_stop(&c);
    return test_finish("small_files");
}
