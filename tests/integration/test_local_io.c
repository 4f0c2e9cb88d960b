/* SPDX-License-Identifier: BSD-3-Clause */
/* test_local_io — same-host clients read and write chunk files directly, only when safe.
 *
 *  1. A file of NCHUNK chunks with a hole reads back right, whole and in pieces that cross
 *     chunk boundaries, while the servers count no CHUNK_READ (every chunk came from its file),
 *     at most one CHUNK_DIR each, and no read-ahead hints; again with its chunk files evicted
 *     from the page cache (cold: the reads find the device and read ahead).
 *  2. A descriptor that keeps chunk files open sees another client's truncate and rewrite.
 *  3. A server whose <data>/instance does not hold its nonce (the client would be looking at
 *     another directory) is read through RPCs, and the bytes are still right.
 *  4. With BENCHFS_LOCAL_READS=0 every chunk read goes to the servers.
 *  5. A restarted server (a new nonce) is found again and read directly, with its old data.
 *  6. Many open descriptors keep at most 64 chunk files open in all (the application's own
 *     descriptor limit comes first), and still read right.
 *  7. Writes: the servers count CHUNK_RESERVEs and no CHUNK_WRITE, the bytes read back right
 *     through the servers, and a descriptor whose chunk files were unlinked under it (another
 *     client's truncate) writes into the new files, where others see the bytes.
 *  8. Reserving ahead: 20 strided 1000-byte writes into one chunk cost 7 CHUNK_RESERVEs (each
 *     window as large as what was reserved before, to the chunk's end), read back right;
 *     a file of one 20000-byte write allocates exactly that (its chunk file's size).
 *
 * usage: test_local_io NSERVERS */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster.h"

#define CHUNK 65536u
#define NCHUNK 6
#define HOLE 3 /* chunk never written */
#define LEN ((size_t)NCHUNK * CHUNK)

static int nservers;

static long counter(benchfs_t *fs, const char *name)
{
    return cluster_counter(fs, nservers, name);
}

static void fill(unsigned char *d, unsigned seed)
{
    for (size_t i = 0; i < LEN; i++)
        d[i] = (i / CHUNK == HOLE) ? 0 : (unsigned char)(i * 31 + seed);
}

/* Write `want` (its hole chunk skipped) to path, truncating first. */
static void write_file(benchfs_t *fs, const char *path, const unsigned char *want)
{
    int fd = benchfs_open(fs, path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    CHECK(fd >= 0);
    for (unsigned k = 0; k < NCHUNK; k++)
        if (k != HOLE)
            CHECK(benchfs_pwrite(fs, fd, want + (size_t)k * CHUNK, CHUNK, (off_t)k * CHUNK) ==
                  (ssize_t)CHUNK);
    CHECK_OK(benchfs_close(fs, fd));
}

/* Read the whole file through fd in one call, then in 10000-byte pieces; compare. */
static void read_check(benchfs_t *fs, int fd, const unsigned char *want, const char *what)
{
    static unsigned char back[LEN];
    memset(back, 0xee, LEN);
    CHECK(benchfs_pread(fs, fd, back, LEN, 0) == (ssize_t)LEN);
    if (memcmp(back, want, LEN) != 0) {
        fprintf(stderr, "FAIL %s: whole-file read differs\n", what);
        test_failures++;
    }
    memset(back, 0xee, LEN);
    for (size_t off = 0; off < LEN; off += 10000) {
        size_t n = LEN - off < 10000 ? LEN - off : 10000;
        CHECK(benchfs_pread(fs, fd, back + off, n, (off_t)off) == (ssize_t)n);
    }
    if (memcmp(back, want, LEN) != 0) {
        fprintf(stderr, "FAIL %s: piecewise read differs\n", what);
        test_failures++;
    }
}

static void read_path(benchfs_t *fs, const char *path, const unsigned char *want, const char *what)
{
    int fd = benchfs_open(fs, path, O_RDONLY, 0);
    CHECK(fd >= 0);
    read_check(fs, fd, want, what);
    CHECK_OK(benchfs_close(fs, fd));
}

/* nftw callback: drop a file's clean pages from the page cache. */
static int evict(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)ftw;
    if (type != FTW_F)
        return 0;
    int fd = open(path, O_RDONLY);
    if (fd >= 0) {
        posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        close(fd);
    }
    return 0;
}

static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    if (!d)
        return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static benchfs_t *client(struct cluster *c)
{
    benchfs_options_t o = {.registry = c->registry, .nservers = c->n, .chunk_size = CHUNK,
                           .wait_ms = 20000};
    benchfs_t *fs = benchfs_init_opts(&o);
    if (!fs) {
        fprintf(stderr, "benchfs_init: %s\n", benchfs_strerror());
        exit(2);
    }
    return fs;
}

static void set_instance(struct cluster *c, int id, const char *text)
{
    char path[400];
    snprintf(path, sizeof path, "%s/instance", c->data[id]);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void get_instance(struct cluster *c, int id, char *out, size_t cap)
{
    char path[400];
    snprintf(path, sizeof path, "%s/instance", c->data[id]);
    FILE *f = fopen(path, "r");
    out[0] = '\0';
    CHECK(f != NULL && fgets(out, (int)cap, f) != NULL);
    if (f)
        fclose(f);
}

int main(int argc, char **argv)
{
    nservers = argc > 1 ? atoi(argv[1]) : 2;
    unsetenv("BENCHFS_LOCAL_READS");
    unsetenv("BENCHFS_SAME_HOST");
    struct cluster c;
    cluster_start(&c, nservers, NULL);
    benchfs_t *fs = client(&c), *other = client(&c);
    static unsigned char want[LEN], want2[LEN];
    fill(want, 7);
    fill(want2, 99);

    /* 1. Direct reads: right bytes, no CHUNK_READ, no hints. */
    write_file(fs, "/f", want);
    long reads0 = counter(fs, "chunk_read.count"), hints0 = counter(fs, "chunk_prefetch.count");
    int fd = benchfs_open(fs, "/f", O_RDONLY, 0);
    CHECK(fd >= 0);
    read_check(fs, fd, want, "direct reads");
    long reads1 = counter(fs, "chunk_read.count"), dirs = counter(fs, "chunk_dir.count");
    CHECK(reads1 == reads0);
    CHECK(dirs >= 1 && dirs <= nservers);
    CHECK(counter(fs, "chunk_prefetch.count") == hints0);
    printf("local_io: %ld chunk reads and %ld prefetch hints reached the servers; %ld "
           "chunk_dir\n", reads1 - reads0, counter(fs, "chunk_prefetch.count") - hints0, dirs);
    /* Cold: the chunk files' pages dropped from the page cache (written back first), so the
     * reads find the device (and start reading ahead); a fresh descriptor reads them. */
    int wfd0 = benchfs_open(fs, "/f", O_RDWR, 0);
    CHECK(wfd0 >= 0);
    CHECK_OK(benchfs_fsync(fs, wfd0));
    CHECK_OK(benchfs_close(fs, wfd0));
    for (int s = 0; s < nservers; s++)
        CHECK(nftw(c.data[s], evict, 16, FTW_PHYS) == 0);
    read_path(fs, "/f", want, "direct reads, cold");
    CHECK(counter(fs, "chunk_read.count") == reads0);

    /* 2. fd keeps chunk files open: another client's truncate + rewrite must show. The
     * first reads after it touch chunks 0 and 1, which fd has just read (kept open). */
    unsigned char head[200];
    CHECK(benchfs_pread(fs, fd, head, sizeof head, CHUNK - 100) == (ssize_t)sizeof head);
    write_file(other, "/f", want2);
    CHECK(benchfs_pread(fs, fd, head, sizeof head, CHUNK - 100) == (ssize_t)sizeof head);
    CHECK(memcmp(head, want2 + CHUNK - 100, sizeof head) == 0);
    read_check(fs, fd, want2, "after another client's truncate and rewrite");
    CHECK(benchfs_pread(fs, fd, head, sizeof head, CHUNK - 100) == (ssize_t)sizeof head);
    CHECK_OK(benchfs_truncate(other, "/f", 0));
    write_file(other, "/f", want);
    CHECK(benchfs_pread(fs, fd, head, sizeof head, CHUNK - 100) == (ssize_t)sizeof head);
    CHECK(memcmp(head, want + CHUNK - 100, sizeof head) == 0);
    read_check(fs, fd, want, "after truncate to 0 and rewrite");
    CHECK_OK(benchfs_close(fs, fd));
    /* Remove and recreate at the same path: a new file, read anew. */
    CHECK_OK(benchfs_unlink(other, "/f"));
    write_file(other, "/f", want2);
    read_path(fs, "/f", want2, "after remove and recreate");
    CHECK(counter(fs, "chunk_read.count") == reads0);

    /* 3. No server's instance file holds its nonce: reads go through the servers. */
    char saved[CLUSTER_MAX][64];
    for (int s = 0; s < nservers; s++) {
        get_instance(&c, s, saved[s], sizeof saved[s]);
        set_instance(&c, s, "00000000000000000000000000000000\n");
    }
    benchfs_t *fresh = client(&c);
    long before = counter(fs, "chunk_read.count");
    read_path(fresh, "/f", want2, "instance mismatch");
    long through = counter(fs, "chunk_read.count") - before;
    CHECK(through >= NCHUNK); /* the whole-file read alone is one CHUNK_READ per chunk */
    CHECK_OK(benchfs_term(fresh));
    for (int s = 0; s < nservers; s++)
        set_instance(&c, s, saved[s]);

    /* 4. Turned off: through the servers. */
    setenv("BENCHFS_LOCAL_READS", "0", 1);
    fresh = client(&c);
    unsetenv("BENCHFS_LOCAL_READS");
    before = counter(fs, "chunk_read.count");
    read_path(fresh, "/f", want2, "BENCHFS_LOCAL_READS=0");
    CHECK(counter(fs, "chunk_read.count") - before >= NCHUNK);
    CHECK_OK(benchfs_term(fresh));

    /* 5. Restart server 0: its new nonce is learnt, and direct reads resume. */
    cluster_kill(&c, 0, SIGKILL);
    cluster_start_server(&c, 0);
    char now[64];
    get_instance(&c, 0, now, sizeof now);
    CHECK(strcmp(now, saved[0]) != 0);
    read_path(fs, "/f", want2, "after a restart (first read)");
    before = counter(fs, "chunk_read.count");
    read_path(fs, "/f", want2, "after a restart");
    CHECK(counter(fs, "chunk_read.count") == before);

    /* 6. 40 files open at once, each read whole (5 chunk files each). */
    enum { NFILES = 40 };
    int fds[NFILES];
    char name[32];
    for (int i = 0; i < NFILES; i++) {
        snprintf(name, sizeof name, "/many%d", i);
        write_file(other, name, want);
    }
    int base = open_fds();
    for (int i = 0; i < NFILES; i++) {
        snprintf(name, sizeof name, "/many%d", i);
        fds[i] = benchfs_open(fs, name, O_RDONLY, 0);
        CHECK(fds[i] >= 0);
        read_check(fs, fds[i], want, "many open descriptors");
    }
    int kept = open_fds() - base;
    printf("local_io: %d descriptors open; %d process fds more than before\n", NFILES, kept);
    CHECK(kept >= 0 && kept <= 64 + 8); /* 64 chunk files, and a few for UCX at most */
    for (int i = 0; i < NFILES; i++)
        CHECK_OK(benchfs_close(fs, fds[i]));
    CHECK(open_fds() <= base + 8);

    /* 7. Direct writes. Every file so far was written directly: no CHUNK_WRITE at all. */
    CHECK(counter(fs, "chunk_write.count") == 0 && counter(fs, "chunk_reserve.count") > 0);
    setenv("BENCHFS_LOCAL_READS", "0", 1);
    benchfs_t *served = client(&c);
    unsetenv("BENCHFS_LOCAL_READS");
    read_path(served, "/many0", want, "direct writes, read through the servers");
    int wfd = benchfs_open(fs, "/w", O_CREAT | O_RDWR, 0644);
    CHECK(wfd >= 0);
    CHECK(benchfs_pwrite(fs, wfd, want, LEN, 0) == (ssize_t)LEN); /* keeps chunk files open */
    CHECK_OK(benchfs_fsync(fs, wfd));
    CHECK_OK(benchfs_truncate(other, "/w", 0)); /* unlinks them */
    const size_t last = LEN - CHUNK; /* the chunk written last: surely still open in wfd */
    CHECK(benchfs_pwrite(fs, wfd, want2 + last, CHUNK, (off_t)last) == (ssize_t)CHUNK);
    CHECK_OK(benchfs_close(fs, wfd));
    static unsigned char back[LEN];
    int rfd = benchfs_open(served, "/w", O_RDONLY, 0);
    CHECK(rfd >= 0);
    CHECK(benchfs_pread(served, rfd, back, LEN, 0) == (ssize_t)LEN);
    CHECK(memcmp(back + last, want2 + last, CHUNK) == 0);
    int zeros = 1;
    for (size_t i = 0; i < last; i++)
        zeros &= back[i] == 0;
    CHECK(zeros); /* the truncate removed the rest */
    CHECK_OK(benchfs_close(served, rfd));
    CHECK(counter(fs, "chunk_write.count") == 0);

    /* 8. Reserving ahead. Inline files off: these small writes must reach chunk files. */
    setenv("BENCHFS_INLINE_MAX", "0", 1);
    benchfs_t *ra = client(&c);
    unsetenv("BENCHFS_INLINE_MAX");
    int afd = benchfs_open(ra, "/ahead", O_CREAT | O_RDWR, 0644);
    CHECK(afd >= 0);
    long res0 = counter(ra, "chunk_reserve.count");
    for (int i = 0; i < 20; i++)
        CHECK(benchfs_pwrite(ra, afd, want + i * 3000, 1000, (off_t)i * 3000) == 1000);
    CHECK(counter(ra, "chunk_reserve.count") - res0 == 7); /* at 0, 3, 6, 9, 15, 24, 42 K */
    CHECK_OK(benchfs_close(ra, afd));
    afd = benchfs_open(served, "/ahead", O_RDONLY, 0);
    CHECK(afd >= 0);
    CHECK(benchfs_pread(served, afd, back, 57000 + 1000, 0) == 58000);
    int strided_ok = 1;
    for (int i = 0; i < 58000; i++)
        strided_ok &= back[i] == (i % 3000 < 1000 ? want[i] : 0);
    CHECK(strided_ok);
    CHECK_OK(benchfs_close(served, afd));
    afd = benchfs_open(ra, "/one", O_CREAT | O_WRONLY, 0644);
    CHECK(afd >= 0 && benchfs_write(ra, afd, want, 20000) == 20000);
    CHECK_OK(benchfs_close(ra, afd));
    benchfs_stat_t one;
    CHECK_OK(benchfs_stat(ra, "/one", &one));
    char chunk0[700];
    struct stat cst;
    int found = 0;
    for (int s = 0; s < nservers && !found; s++) {
        snprintf(chunk0, sizeof chunk0, "%s/chunks/%02x/%016llx/0", c.data[s],
                 (unsigned)(one.ino & 0xff), (unsigned long long)one.ino);
        found = stat(chunk0, &cst) == 0;
    }
    CHECK(found && cst.st_size == 20000); /* nothing reserved past the one write */
    CHECK_OK(benchfs_term(ra));
    CHECK_OK(benchfs_term(served));

    CHECK_OK(benchfs_term(other));
    CHECK_OK(benchfs_term(fs));
    cluster_stop(&c);
    return test_finish("local_io");
}
