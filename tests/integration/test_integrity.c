/* SPDX-License-Identifier: BSD-3-Clause */
/* test_integrity — thousands of random operations (pwrite, pread, write/read through lseek,
 * ftruncate, fsync, fstat, close/reopen with O_APPEND or O_TRUNC, reopen through a second
 * client) on BenchFS files with small chunk sizes, mirrored on local POSIX files. Every read
 * is compared byte for byte with the local one; every size and offset must agree; at the end
 * the whole files are compared through a fresh client.
 *
 * usage: test_integrity NSERVERS [SEED [OPS]]   (seed defaults to the time; printed first) */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster.h"
#include "data_util.h"

#define MAX_FILE (3u << 20)      /* no file grows past 3 MiB */
#define MAX_IO (320u << 10)      /* largest single read or write */
#define NFILES 3

struct tfile {
    char path[64];       /* in BenchFS */
    char local[512];     /* the POSIX mirror */
    uint32_t chunk;
    benchfs_t *fs;       /* the client the current descriptor belongs to */
    int bfd, lfd;
    int append;
};

static uint64_t seed;
static struct rng rng;
static long opno;
static uint8_t *wbuf, *rbuf_b, *rbuf_l;
static benchfs_t *clients[2];

/* Report a divergence with everything needed to replay it. */
#define DIVERGE(tf, ...)                                                                         \
    do {                                                                                         \
        fprintf(stderr, "FAIL %s:%d: seed=%" PRIu64 " op #%ld on %s (chunk %u): ", __FILE__,     \
                __LINE__, seed, opno, (tf)->path, (tf)->chunk);                                  \
        fprintf(stderr, __VA_ARGS__);                                                            \
        fprintf(stderr, " [benchfs: %s]\n", benchfs_strerror());                                 \
        test_failures++;                                                                         \
    } while (0)

static off_t local_size(struct tfile *tf)
{
    struct stat st;
    if (fstat(tf->lfd, &st) != 0) {
        perror("fstat local");
        exit(2);
    }
    return st.st_size;
}

/* An offset for I/O: often near a chunk boundary, otherwise anywhere up to `limit`. */
static uint64_t pick_offset(struct tfile *tf, uint64_t limit)
{
    uint64_t r = rng_below(&rng, 10);
    if (r < 3 && limit > tf->chunk) {
        uint64_t k = rng_below(&rng, limit / tf->chunk + 1);
        int64_t o = (int64_t)(k * tf->chunk) + (int64_t)rng_range(&rng, 0, 64) - 32;
        if (o < 0)
            o = 0;
        return (uint64_t)o > limit ? limit : (uint64_t)o;
    }
    return rng_below(&rng, limit + 1);
}

static size_t pick_len(struct tfile *tf)
{
    uint64_t r = rng_below(&rng, 100);
    if (r < 25)
        return (size_t)rng_range(&rng, 1, 64);
    if (r < 65)
        return (size_t)rng_range(&rng, 1, 2 * (uint64_t)tf->chunk + 17);
    if (r < 90)
        return (size_t)rng_range(&rng, 1, 64 << 10);
    return (size_t)rng_range(&rng, 1, MAX_IO);
}

static void clamp_io(uint64_t off, size_t *len)
{
    if (off >= MAX_FILE)
        *len = 0;
    else if (off + *len > MAX_FILE)
        *len = (size_t)(MAX_FILE - off);
}

/* Compare a BenchFS read result with the local one. */
static void compare_read(struct tfile *tf, const char *what, uint64_t off, size_t len, ssize_t nb,
                         ssize_t nl)
{
    if (nb != nl) {
        DIVERGE(tf, "%s(%" PRIu64 ", %zu) returned %zd, local %zd", what, off, len, nb, nl);
        return;
    }
    if (nb > 0) {
        long d = first_diff(rbuf_b, rbuf_l, (size_t)nb);
        if (d >= 0)
            DIVERGE(tf, "%s(%" PRIu64 ", %zu): byte %" PRIu64 " is %#x, local %#x", what, off, len,
                    off + (uint64_t)d, rbuf_b[d], rbuf_l[d]);
    }
}

static void do_pwrite(struct tfile *tf)
{
    uint64_t off = pick_offset(tf, (uint64_t)local_size(tf) + (256u << 10));
    size_t len = pick_len(tf);
    clamp_io(off, &len);
    if (!len)
        return;
    rng_fill(&rng, wbuf, len);
    ssize_t nb = benchfs_pwrite(tf->fs, tf->bfd, wbuf, len, (off_t)off);
    ssize_t nl = pwrite(tf->lfd, wbuf, len, (off_t)off);
    if (nb != nl)
        DIVERGE(tf, "pwrite(%" PRIu64 ", %zu) returned %zd, local %zd", off, len, nb, nl);
}

static void do_pread(struct tfile *tf)
{
    uint64_t off = pick_offset(tf, (uint64_t)local_size(tf) + (64u << 10));
    size_t len = pick_len(tf);
    memset(rbuf_b, 0xA5, len);
    memset(rbuf_l, 0x5A, len);
    ssize_t nb = benchfs_pread(tf->fs, tf->bfd, rbuf_b, len, (off_t)off);
    ssize_t nl = pread(tf->lfd, rbuf_l, len, (off_t)off);
    compare_read(tf, "pread", off, len, nb, nl);
}

/* lseek both descriptors the same way; returns 0 if they agree. */
static int do_seek(struct tfile *tf)
{
    int w = (int)rng_below(&rng, 3);
    off_t size = local_size(tf), cur = lseek(tf->lfd, 0, SEEK_CUR), off;
    if (w == 0) {
        off = (off_t)pick_offset(tf, (uint64_t)size + (128u << 10));
        w = SEEK_SET;
    } else if (w == 1) {
        off = (off_t)rng_range(&rng, 0, (uint64_t)cur + (64u << 10)) - cur; /* may go back */
        w = SEEK_CUR;
    } else {
        off = (off_t)rng_range(&rng, 0, (uint64_t)size + (64u << 10)) - size;
        w = SEEK_END;
    }
    off_t rb = benchfs_lseek(tf->fs, tf->bfd, off, w);
    off_t rl = lseek(tf->lfd, off, w);
    if (rb != rl) {
        DIVERGE(tf, "lseek(%lld, %d) returned %lld, local %lld", (long long)off, w,
                (long long)rb, (long long)rl);
        return -1;
    }
    return 0;
}

static void check_pos(struct tfile *tf, const char *after)
{
    off_t pb = benchfs_lseek(tf->fs, tf->bfd, 0, SEEK_CUR);
    off_t pl = lseek(tf->lfd, 0, SEEK_CUR);
    if (pb != pl)
        DIVERGE(tf, "position after %s is %lld, local %lld", after, (long long)pb, (long long)pl);
}

static void do_write(struct tfile *tf, int seek_first)
{
    if (seek_first && do_seek(tf))
        return;
    uint64_t pos = tf->append ? (uint64_t)local_size(tf) : (uint64_t)lseek(tf->lfd, 0, SEEK_CUR);
    size_t len = pick_len(tf);
    clamp_io(pos, &len);
    if (!len)
        return;
    rng_fill(&rng, wbuf, len);
    ssize_t nb = benchfs_write(tf->fs, tf->bfd, wbuf, len);
    ssize_t nl = write(tf->lfd, wbuf, len);
    if (nb != nl)
        DIVERGE(tf, "write(%zu) at %" PRIu64 "%s returned %zd, local %zd", len, pos,
                tf->append ? " (O_APPEND)" : "", nb, nl);
    check_pos(tf, "write");
}

static void do_read(struct tfile *tf, int seek_first)
{
    if (seek_first && do_seek(tf))
        return;
    uint64_t pos = (uint64_t)lseek(tf->lfd, 0, SEEK_CUR);
    size_t len = pick_len(tf);
    memset(rbuf_b, 0xA5, len);
    memset(rbuf_l, 0x5A, len);
    ssize_t nb = benchfs_read(tf->fs, tf->bfd, rbuf_b, len);
    ssize_t nl = read(tf->lfd, rbuf_l, len);
    compare_read(tf, "read", pos, len, nb, nl);
    check_pos(tf, "read");
}

static void do_ftruncate(struct tfile *tf)
{
    uint64_t size = (uint64_t)local_size(tf), len;
    uint64_t r = rng_below(&rng, 10);
    if (r < 4)
        len = rng_below(&rng, size + 1);                       /* shrink */
    else if (r < 7)
        len = size + rng_range(&rng, 0, 3 * (uint64_t)tf->chunk); /* grow a little */
    else if (r < 9)
        len = pick_offset(tf, MAX_FILE);                       /* anywhere */
    else
        len = 0;
    if (len > MAX_FILE)
        len = MAX_FILE;
    int rb = benchfs_ftruncate(tf->fs, tf->bfd, (off_t)len);
    int rl = ftruncate(tf->lfd, (off_t)len);
    if (rb != rl)
        DIVERGE(tf, "ftruncate(%" PRIu64 ") returned %d, local %d", len, rb, rl);
}

static void do_fstat(struct tfile *tf)
{
    benchfs_stat_t st;
    int rb = benchfs_fstat(tf->fs, tf->bfd, &st);
    if (rb != 0) {
        DIVERGE(tf, "fstat failed: %s", strerror(errno));
        return;
    }
    if (st.size != (uint64_t)local_size(tf))
        DIVERGE(tf, "fstat size %" PRIu64 ", local %lld", st.size, (long long)local_size(tf));
    if (!S_ISREG(st.mode) || st.chunk_size != tf->chunk)
        DIVERGE(tf, "fstat mode %#o chunk %u", st.mode, st.chunk_size);
}

static void do_fsync(struct tfile *tf)
{
    if (benchfs_fsync(tf->fs, tf->bfd) != 0) {
        DIVERGE(tf, "fsync failed: %s", strerror(errno));
        return;
    }
    /* After fsync the size is published: every client sees it by path. */
    benchfs_stat_t st;
    benchfs_t *other = clients[tf->fs == clients[0]];
    if (benchfs_stat(other, tf->path, &st) != 0)
        DIVERGE(tf, "stat after fsync failed: %s", strerror(errno));
    else if (st.size != (uint64_t)local_size(tf))
        DIVERGE(tf, "size after fsync (other client) %" PRIu64 ", local %lld", st.size,
                (long long)local_size(tf));
}

static void open_pair(struct tfile *tf, int flags)
{
    tf->bfd = benchfs_open(tf->fs, tf->path, flags, 0644);
    tf->lfd = open(tf->local, flags, 0644);
    tf->append = (flags & O_APPEND) != 0;
    if (tf->lfd < 0) {
        perror(tf->local);
        exit(2);
    }
    if (tf->bfd < 0)
        DIVERGE(tf, "open(flags %#x) failed: %s", flags, strerror(errno));
}

static void do_reopen(struct tfile *tf)
{
    if (benchfs_close(tf->fs, tf->bfd) != 0)
        DIVERGE(tf, "close failed: %s", strerror(errno));
    close(tf->lfd);
    tf->fs = clients[rng_below(&rng, 3) == 0]; /* a third of reopens go to the other client */
    int flags = O_RDWR;
    uint64_t r = rng_below(&rng, 20);
    if (r < 4)
        flags |= O_APPEND;
    else if (r == 4)
        flags |= O_TRUNC;
    open_pair(tf, flags);
}

/* Compare a whole file through client fs (a descriptor of its own) with the mirror. */
static void compare_whole(benchfs_t *fs, struct tfile *tf, const char *when)
{
    off_t size = local_size(tf);
    benchfs_stat_t st;
    if (benchfs_stat(fs, tf->path, &st) != 0) {
        DIVERGE(tf, "%s: stat failed: %s", when, strerror(errno));
        return;
    }
    if (st.size != (uint64_t)size)
        DIVERGE(tf, "%s: size %" PRIu64 ", local %lld", when, st.size, (long long)size);
    uint8_t *b = malloc((size_t)size + 1), *l = malloc((size_t)size + 1);
    int fd = benchfs_open(fs, tf->path, O_RDONLY, 0);
    if (fd < 0) {
        DIVERGE(tf, "%s: open failed: %s", when, strerror(errno));
    } else {
        memset(b, 0xA5, (size_t)size + 1);
        ssize_t nb = benchfs_pread(fs, fd, b, (size_t)size + 1, 0);
        ssize_t nl = pread(tf->lfd, l, (size_t)size + 1, 0);
        if (nb != nl || nb != size)
            DIVERGE(tf, "%s: whole read returned %zd, local %zd (size %lld)", when, nb, nl,
                    (long long)size);
        else {
            long d = first_diff(b, l, (size_t)size);
            if (d >= 0)
                DIVERGE(tf, "%s: byte %ld is %#x, local %#x", when, d, b[d], l[d]);
        }
        CHECK_OK(benchfs_close(fs, fd));
    }
    free(b);
    free(l);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* keep stdout and stderr lines in order */
    int n = argc > 1 ? atoi(argv[1]) : 2;
    seed = argc > 2 ? strtoull(argv[2], NULL, 0)
                    : ((uint64_t)time(NULL) * 1000003u) ^ (uint64_t)getpid();
    long nops = argc > 3 ? atol(argv[3]) : 5000;
    printf("integrity: seed=%" PRIu64 " servers=%d ops=%ld (replay: %s %d %" PRIu64 ")\n", seed,
           n, nops, argv[0], n, seed);
    fflush(stdout);
    rng.s = seed;

    struct cluster c;
    cluster_start(&c, n, NULL);
    watchdog_arm(&c, 240);
    wbuf = malloc(MAX_IO);
    rbuf_b = malloc(MAX_IO);
    rbuf_l = malloc(MAX_IO);

    /* Small chunks so every file spans many chunks and every server; a non-power-of-two
     * size too, so chunk boundaries do not line up with anything else. */
    static const uint32_t chunks[NFILES] = {4096, 16384, 12288 + 1000};
    benchfs_t *creators[NFILES];
    clients[0] = data_client(&c, 10000, 4096);
    clients[1] = data_client(&c, 10000, 16384);
    creators[0] = clients[0];
    creators[1] = clients[1];
    creators[2] = data_client(&c, 10000, chunks[2]);

    char tmpl[300];
    snprintf(tmpl, sizeof tmpl, "%s/local-XXXXXX", c.root);
    if (!mkdtemp(tmpl)) {
        perror("mkdtemp");
        return 2;
    }
    CHECK_OK(benchfs_mkdir(clients[0], "/integrity", 0755));
    struct tfile files[NFILES];
    for (int i = 0; i < NFILES; i++) {
        struct tfile *tf = &files[i];
        memset(tf, 0, sizeof *tf);
        snprintf(tf->path, sizeof tf->path, "/integrity/f%d", i);
        snprintf(tf->local, sizeof tf->local, "%s/f%d", tmpl, i);
        tf->chunk = chunks[i];
        tf->fs = creators[i];
        open_pair(tf, O_RDWR | O_CREAT | O_EXCL);
        /* From now on only clients[] touch the files (the creator's chunk size stays). */
        if (tf->fs != clients[0] && tf->fs != clients[1]) {
            CHECK_OK(benchfs_close(tf->fs, tf->bfd));
            tf->fs = clients[0];
            tf->bfd = benchfs_open(tf->fs, tf->path, O_RDWR, 0);
            CHECK(tf->bfd >= 0);
        }
    }
    CHECK_OK(benchfs_term(creators[2]));

    int64_t t0 = now_ms();
    for (opno = 0; opno < nops && !test_failures; opno++) {
        struct tfile *tf = &files[rng_below(&rng, NFILES)];
        uint64_t r = rng_below(&rng, 100);
        if (r < 24) {
            if (tf->append)
                do_write(tf, 0); /* pwrite on O_APPEND differs between systems: use write */
            else
                do_pwrite(tf);
        } else if (r < 48) {
            do_pread(tf);
        } else if (r < 56) {
            do_write(tf, 1);
        } else if (r < 64) {
            do_read(tf, 1);
        } else if (r < 70) {
            do_read(tf, 0);
        } else if (r < 74) {
            do_write(tf, 0);
        } else if (r < 80) {
            do_ftruncate(tf);
        } else if (r < 85) {
            do_reopen(tf);
        } else if (r < 87) {
            do_fsync(tf);
        } else if (r < 93) {
            do_fstat(tf);
        } else if (r < 97) {
            if (do_seek(tf) == 0)
                check_pos(tf, "lseek");
        } else if (opno % 7 == 0) {
            /* Occasionally the whole file through the other client, after a publish. */
            if (benchfs_fsync(tf->fs, tf->bfd) != 0)
                DIVERGE(tf, "fsync failed: %s", strerror(errno));
            compare_whole(clients[tf->fs == clients[0]], tf, "mid-run");
        } else {
            do_fstat(tf);
        }
    }
    int64_t t1 = now_ms();

    /* Close everything, then compare every file through a brand-new client. */
    for (int i = 0; i < NFILES; i++)
        CHECK_OK(benchfs_close(files[i].fs, files[i].bfd));
    benchfs_t *fresh = data_client(&c, 10000, 0);
    uint64_t total = 0;
    for (int i = 0; i < NFILES; i++) {
        compare_whole(fresh, &files[i], "final");
        total += (uint64_t)local_size(&files[i]);
        close(files[i].lfd);
    }
    /* Directory listing still shows exactly the files. */
    int seen = 0;
    benchfs_dir_t *d = benchfs_opendir(fresh, "/integrity");
    CHECK(d != NULL);
    for (const benchfs_dirent_t *e; d && (e = benchfs_readdir(d));)
        seen += strncmp(e->name, "f", 1) == 0 && S_ISREG(e->mode);
    if (d)
        benchfs_closedir(d);
    CHECK(seen == NFILES);
    for (int i = 0; i < NFILES; i++)
        CHECK_OK(benchfs_unlink(fresh, files[i].path));
    CHECK_OK(benchfs_rmdir(fresh, "/integrity"));

    printf("integrity: %ld ops in %lld ms, final sizes total %" PRIu64 " bytes\n", opno,
           (long long)(t1 - t0), total);
    if (test_failures)
        printf("integrity: FAILED with seed=%" PRIu64 " (replay: %s %d %" PRIu64 " %ld)\n", seed,
               argv[0], n, seed, nops);
    CHECK_OK(benchfs_term(fresh));
    CHECK_OK(benchfs_term(clients[0]));
    CHECK_OK(benchfs_term(clients[1]));
    free(wbuf);
    free(rbuf_b);
    free(rbuf_l);
    alarm(0);
    cluster_stop(&c);
    return test_finish("integrity");
}
