/* SPDX-License-Identifier: BSD-3-Clause */
/* test_capacity — servers started with --capacity 1M.
 *
 * statfs reports the sum of the capacities. Writing more than fits gives -1/ENOSPC (not a
 * crash, not a hang, not silent loss); everything written before the ENOSPC is intact and
 * readable, through the same descriptor and after a reopen; overwriting bytes that already
 * exist still works on a full server. ftruncate and unlink give the space back: statfs free
 * grows and the same amount can be written again.
 *
 * usage: test_capacity NSERVERS */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster.h"
#include "data_util.h"

#define CAP (1u << 20)
#define CHUNK 16384u
#define PIECE (64u << 10)

static int get_statfs(benchfs_t *fs, benchfs_statfs_t *sf)
{
    memset(sf, 0, sizeof *sf);
    int rc = benchfs_statfs(fs, sf);
    if (rc != 0) {
        fprintf(stderr, "FAIL: statfs: %s\n", benchfs_strerror());
        test_failures++;
    }
    return rc;
}

/* Write tag's pattern to `path` from offset 0 in PIECE-sized pwrites until one fails or
 * `limit` bytes are written; returns the bytes written by successful calls, *err the errno
 * of the failed call (0 if none failed). */
static uint64_t fill(benchfs_t *fs, int fd, uint64_t tag, uint64_t limit, int *err)
{
    uint8_t *buf = malloc(PIECE);
    uint64_t pos = 0;
    *err = 0;
    while (pos < limit) {
        size_t len = limit - pos < PIECE ? (size_t)(limit - pos) : PIECE;
        pattern_fill(tag, pos, buf, len);
        errno = 0;
        ssize_t w = benchfs_pwrite(fs, fd, buf, len, (off_t)pos);
        if (w != (ssize_t)len) {
            *err = w < 0 ? errno : EIO;
            break;
        }
        pos += len;
    }
    free(buf);
    return pos;
}

static void check_content(benchfs_t *fs, int fd, const char *what, uint64_t tag, uint64_t len)
{
    uint8_t *buf = malloc(len + 1);
    ssize_t r = benchfs_pread(fs, fd, buf, len, 0);
    long bad = r == (ssize_t)len ? pattern_check(tag, 0, buf, (size_t)len) : -2;
    if (bad != -1) {
        fprintf(stderr, "FAIL: %s: read %zd of %" PRIu64 " bytes, first bad byte %ld (%s)\n",
                what, r, len, bad, r < 0 ? benchfs_strerror() : "");
        test_failures++;
    }
    free(buf);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* keep stdout and stderr lines in order */
    int n = argc > 1 ? atoi(argv[1]) : 2;
    struct cluster c;
    cluster_start(&c, n, "--capacity 1M");
    watchdog_arm(&c, 240);
    benchfs_t *fs = data_client(&c, 10000, CHUNK);
    uint64_t total = (uint64_t)n * CAP;

    benchfs_statfs_t sf0, sf;
    get_statfs(fs, &sf0);
    CHECK(sf0.total_bytes == total);
    CHECK(sf0.free_bytes == total);
    CHECK(sf0.used_bytes == 0);
    CHECK(sf0.nservers == (uint32_t)n && sf0.nservers_up == (uint32_t)n);

    /* 1. Fill until ENOSPC. */
    int fd = benchfs_open(fs, "/big", O_CREAT | O_EXCL | O_RDWR, 0644);
    CHECK(fd >= 0);
    int err = 0;
    uint64_t ok = fill(fs, fd, 1, 2 * total + PIECE, &err);
    printf("capacity: %d x 1 MiB: %" PRIu64 " bytes written before the failure (%s)\n", n, ok,
           strerror(err));
    if (err != ENOSPC) {
        fprintf(stderr, "FAIL: filling %" PRIu64 " bytes ended with errno %d (%s), expected "
                        "ENOSPC\n", 2 * total + PIECE, err, strerror(err));
        test_failures++;
    }
    /* No server can store more than its capacity; the first full one stops the fill when it
     * holds at least CAP - CHUNK bytes of this file, but others may not be full yet. */
    CHECK(ok <= total);
    CHECK(ok >= CAP - CHUNK - PIECE);
    get_statfs(fs, &sf);
    CHECK(sf.used_bytes <= total);
    CHECK(sf.used_bytes >= ok);
    CHECK(sf.free_bytes == total - sf.used_bytes);
    /* Another ENOSPC on the same full server is still an error (not a crash or hang). */
    uint8_t *buf = malloc(PIECE);
    pattern_fill(1, ok, buf, PIECE);
    CHECK_ERR(benchfs_pwrite(fs, fd, buf, PIECE, (off_t)ok), ENOSPC);

    /* 2. What was written before the ENOSPC is intact: same fd, then after a reopen. */
    check_content(fs, fd, "after ENOSPC, same fd", 1, ok);
    /* Overwriting existing bytes needs no new space, even with a server full. */
    pattern_fill(1, 0, buf, PIECE);
    CHECK(benchfs_pwrite(fs, fd, buf, PIECE, 0) == (ssize_t)PIECE);
    CHECK_OK(benchfs_close(fs, fd));
    benchfs_stat_t st;
    CHECK_OK(benchfs_stat(fs, "/big", &st));
    CHECK(st.size == ok);
    fd = benchfs_open(fs, "/big", O_RDWR, 0);
    CHECK(fd >= 0);
    check_content(fs, fd, "after ENOSPC, reopened", 1, ok);

    /* 3. Truncate gives space back. */
    uint64_t half = (ok / 2 / CHUNK) * CHUNK;
    CHECK_OK(benchfs_ftruncate(fs, fd, (off_t)half));
    benchfs_statfs_t sf2;
    get_statfs(fs, &sf2);
    CHECK(sf2.free_bytes > sf.free_bytes);
    CHECK(sf2.used_bytes == half); /* chunks below `half` were written in full */
    check_content(fs, fd, "after truncate", 1, half);
    CHECK_OK(benchfs_close(fs, fd));

    /* 4. Unlink gives everything back: statfs shows the full capacity free again. */
    CHECK_OK(benchfs_unlink(fs, "/big"));
    get_statfs(fs, &sf2);
    CHECK(sf2.used_bytes == 0);
    CHECK(sf2.free_bytes == total);

    /* 5. And the space is usable again: a file of one server's capacity always fits in an
     * empty cluster (no server can be asked for more than CAP of it); so does a second fill
     * to ENOSPC that gets at least as far as the first one had to. */
    int fa = benchfs_open(fs, "/again-a", O_CREAT | O_EXCL | O_RDWR, 0644);
    CHECK(fa >= 0);
    uint64_t wa = fill(fs, fa, 2, CAP, &err);
    if (wa != CAP || err) {
        fprintf(stderr, "FAIL: rewriting %u bytes after the unlink stopped at %" PRIu64 ": %s\n",
                CAP, wa, strerror(err));
        test_failures++;
    }
    check_content(fs, fa, "rewrite a", 2, wa);
    CHECK_OK(benchfs_close(fs, fa));
    CHECK_OK(benchfs_unlink(fs, "/again-a"));
    int fb = benchfs_open(fs, "/again-b", O_CREAT | O_EXCL | O_RDWR, 0644);
    CHECK(fb >= 0);
    uint64_t wb = fill(fs, fb, 3, 2 * total + PIECE, &err);
    CHECK(err == ENOSPC);
    CHECK(wb >= CAP - CHUNK - PIECE && wb <= total);
    check_content(fs, fb, "refill b", 3, wb);
    CHECK_OK(benchfs_close(fs, fb));
    CHECK_OK(benchfs_unlink(fs, "/again-b"));
    get_statfs(fs, &sf2);
    CHECK(sf2.used_bytes == 0);

    /* 6. Fill to ENOSPC with many small files; all of those that were written in full
     * read back; unlinking them all frees everything. */
    char path[64];
    int nsmall = 0, e2 = 0;
    uint64_t sizes[2048];
    while (nsmall < 2048) {
        snprintf(path, sizeof path, "/s%d", nsmall);
        int f = benchfs_open(fs, path, O_CREAT | O_EXCL | O_WRONLY, 0644);
        CHECK(f >= 0);
        if (f < 0)
            break;
        uint64_t want = 5000 + (uint64_t)(nsmall % 7) * 3000;
        sizes[nsmall] = fill(fs, f, 100 + (uint64_t)nsmall, want, &e2);
        CHECK_OK(benchfs_close(fs, f));
        nsmall++;
        if (e2)
            break;
    }
    CHECK(e2 == ENOSPC);
    printf("capacity: %d small files until %s\n", nsmall, strerror(e2));
    for (int i = 0; i < nsmall; i++) {
        snprintf(path, sizeof path, "/s%d", i);
        int f = benchfs_open(fs, path, O_RDONLY, 0);
        CHECK(f >= 0);
        if (f >= 0) {
            CHECK_OK(benchfs_fstat(fs, f, &st));
            CHECK(st.size == sizes[i]);
            check_content(fs, f, path, 100 + (uint64_t)i, sizes[i]);
            CHECK_OK(benchfs_close(fs, f));
        }
        CHECK_OK(benchfs_unlink(fs, path));
    }
    get_statfs(fs, &sf2);
    CHECK(sf2.used_bytes == 0);
    CHECK(sf2.free_bytes == total);

    free(buf);
    CHECK_OK(benchfs_term(fs));
    alarm(0);
    cluster_stop(&c);
    return test_finish("capacity");
}
