/* SPDX-License-Identifier: BSD-3-Clause */
/* test_prefetch — a sequential reader makes the servers read ahead, and nothing else does.
 *
 * A file of NCHUNK chunks is written, then read front to back in quarter-chunk reads: each
 * read that enters chunk k at its start sends chunk k+1's server a CHUNK_PREFETCH hint, so the
 * servers together count exactly NCHUNK-1 hints (none past the end of the file), and every byte
 * reads back right. Reads that never start a chunk (mid-chunk, backwards) send none, and a
 * hint for a chunk that was never written (a hole) is harmless. Hints get no reply. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "cluster.h"

#define CHUNK 65536u
#define NCHUNK 10

static long prefetch_hints(benchfs_t *fs, int nservers)
{
    return cluster_counter(fs, nservers, "chunk_prefetch.count");
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2;
    /* Hints are for chunks read through their servers: same-host clients read chunk files
     * themselves and send none (test_local_io checks that). */
    setenv("BENCHFS_LOCAL_READS", "0", 1);
    struct cluster c;
    cluster_start(&c, n, NULL);
    benchfs_options_t o = {.registry = c.registry, .nservers = n, .chunk_size = CHUNK};
    benchfs_t *fs = benchfs_init_opts(&o);
    CHECK(fs != NULL);
    if (!fs)
        return test_finish("prefetch");
    size_t len = (size_t)NCHUNK * CHUNK;
    unsigned char *data = malloc(len), *back = malloc(len);
    for (size_t i = 0; i < len; i++)
        data[i] = (unsigned char)(i * 31 + 7);
    int fd = benchfs_open(fs, "/seq", O_CREAT | O_RDWR, 0644);
    CHECK(fd >= 0);
    CHECK(benchfs_pwrite(fs, fd, data, len, 0) == (ssize_t)len); /* connects every server */
    CHECK_OK(benchfs_close(fs, fd));

    long before = prefetch_hints(fs, n);
    fd = benchfs_open(fs, "/seq", O_RDONLY, 0);
    memset(back, 0, len);
    for (size_t off = 0; off < len; off += CHUNK / 4)
        CHECK(benchfs_read(fs, fd, back + off, CHUNK / 4) == (ssize_t)(CHUNK / 4));
    CHECK(memcmp(data, back, len) == 0);
    long after = prefetch_hints(fs, n);
    CHECK(before == 0 && after - before == NCHUNK - 1);

    /* Mid-chunk and backward reads start no chunk: no hints. */
    for (int k = NCHUNK - 1; k >= 0; k--)
        CHECK(benchfs_pread(fs, fd, back, 100, (off_t)k * CHUNK + 1000) == 100);
    CHECK(prefetch_hints(fs, n) == after);
    CHECK_OK(benchfs_close(fs, fd));

    /* A file with a hole: the hint for the missing chunk finds nothing and does no harm. */
    fd = benchfs_open(fs, "/holey", O_CREAT | O_RDWR, 0644);
    CHECK(benchfs_pwrite(fs, fd, data, CHUNK, 0) == (ssize_t)CHUNK);
    CHECK(benchfs_pwrite(fs, fd, data, CHUNK, 2 * (off_t)CHUNK) == (ssize_t)CHUNK);
    CHECK(benchfs_pread(fs, fd, back, CHUNK, 0) == (ssize_t)CHUNK); /* hints chunk 1: a hole */
    CHECK(benchfs_pread(fs, fd, back, CHUNK, CHUNK) == (ssize_t)CHUNK);
    int zeros = 1;
    for (size_t i = 0; i < CHUNK; i++)
        zeros &= back[i] == 0;
    CHECK(zeros);
    CHECK(prefetch_hints(fs, n) == after + 2);
    CHECK_OK(benchfs_close(fs, fd));

    free(data);
    free(back);
    CHECK_OK(benchfs_term(fs));
    cluster_stop(&c);
    return test_finish("prefetch");
}
