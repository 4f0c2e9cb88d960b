/* SPDX-License-Identifier: BSD-3-Clause */
/* test_fsync_limits — FSYNC never claims what it did not do, and stays within the server's
 * descriptor limit. One server, chunk size 64 KiB, a 64-chunk file:
 *   --max-open-chunks 4 (raised to the minimum, 16): fsync succeeds, the data reads back, and
 *     the server holds no more chunk descriptors than its cache allows (the old fsync pinned
 *     all 64 at once);
 *   a chunk the server cannot open (a directory where a chunk file should be: EISDIR): fsync
 *     fails with an errno instead of succeeding with that chunk unsynced;
 *   the server's RLIMIT_NOFILE lowered (prlimit) below its next free descriptor: fsync fails
 *     with an errno (EMFILE), never success; with the limit restored it succeeds again. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster.h"

#define CHUNK (64 * 1024)
#define NCHUNKS 64

/* Descriptors of `pid` open on files under `under`; lowest free descriptor in *lowest. */
static int count_fds(pid_t pid, const char *under, int *lowest)
{
    char dir[64], link[PATH_MAX + 64], target[PATH_MAX];
    snprintf(dir, sizeof dir, "/proc/%ld/fd", (long)pid);
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    static char used[65536];
    memset(used, 0, sizeof used);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        int fd = atoi(e->d_name);
        if (fd >= 0 && fd < (int)sizeof used)
            used[fd] = 1;
        snprintf(link, sizeof link, "%s/%s", dir, e->d_name);
        ssize_t len = readlink(link, target, sizeof target - 1);
        if (len > 0) {
            target[len] = '\0';
            n += strncmp(target, under, strlen(under)) == 0;
        }
    }
    closedir(d);
    if (lowest) {
        *lowest = 0;
        while (*lowest < (int)sizeof used && used[*lowest])
            (*lowest)++;
    }
    return n;
}

/* The chunk directory of the file holding `want` chunk files (data/chunks/xx/<fileid>). */
static int find_chunk_dir(const char *data, int want, char *out, size_t cap)
{
    char root[PATH_MAX], sub[PATH_MAX + 300];
    snprintf(root, sizeof root, "%s/chunks", data);
    DIR *d1 = opendir(root);
    struct dirent *e1;
    int found = 0;
    while (d1 && !found && (e1 = readdir(d1))) {
        if (e1->d_name[0] == '.')
            continue;
        snprintf(sub, sizeof sub, "%s/%s", root, e1->d_name);
        DIR *d2 = opendir(sub);
        struct dirent *e2;
        while (d2 && !found && (e2 = readdir(d2))) {
            if (e2->d_name[0] == '.')
                continue;
            int w = snprintf(out, cap, "%s/%s", sub, e2->d_name);
            if (w < 0 || (size_t)w >= cap)
                continue;
            DIR *d3 = opendir(out);
            int n = 0;
            struct dirent *e3;
            while (d3 && (e3 = readdir(d3)))
                n += e3->d_name[0] != '.';
            if (d3)
                closedir(d3);
            found = n == want;
        }
        if (d2)
            closedir(d2);
    }
    if (d1)
        closedir(d1);
    return found ? 0 : -1;
}

static void fill(char *buf, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (char)((i * 131 + seed * 7919) >> 3);
}

/* Create `path` with NCHUNKS chunks of data; returns its descriptor (open). */
static int write_file(benchfs_t *fs, const char *path, unsigned seed, char *buf)
{
    int fd = benchfs_create(fs, path, 0644);
    CHECK(fd >= 0);
    fill(buf, (size_t)CHUNK * NCHUNKS, seed);
    CHECK(benchfs_write(fs, fd, buf, (size_t)CHUNK * NCHUNKS) == (ssize_t)CHUNK * NCHUNKS);
    return fd;
}

static void verify(benchfs_t *fs, const char *path, unsigned seed, char *buf, char *back)
{
    fill(buf, (size_t)CHUNK * NCHUNKS, seed);
    int fd = benchfs_open(fs, path, O_RDONLY, 0);
    CHECK(fd >= 0);
    CHECK(benchfs_read(fs, fd, back, (size_t)CHUNK * NCHUNKS) == (ssize_t)CHUNK * NCHUNKS);
    CHECK(memcmp(buf, back, (size_t)CHUNK * NCHUNKS) == 0);
    if (fd >= 0)
        benchfs_close(fs, fd);
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    /* The data goes through the server, so it is the server that opens the chunk files. */
    setenv("BENCHFS_LOCAL_WRITES", "0", 1);
    setenv("BENCHFS_LOCAL_READS", "0", 1);
    struct cluster c;
    cluster_start(&c, 1, "--max-open-chunks 4");
    benchfs_options_t o = {.registry = c.registry, .chunk_size = CHUNK, .rpc_timeout_ms = 20000};
    benchfs_t *fs = benchfs_init_opts(&o);
    if (!fs) {
        fprintf(stderr, "FAIL: benchfs_init: %s\n", benchfs_strerror());
        return 1;
    }
    char *buf = malloc((size_t)CHUNK * NCHUNKS), *back = malloc((size_t)CHUNK * NCHUNKS);
    char chunks[PATH_MAX];
    snprintf(chunks, sizeof chunks, "%s/chunks/", c.data[0]);
    pid_t srv = c.pids[0];

    /* --- 64 chunks, a cache of 16: every chunk synced, never more than the cache open */
    int fd = write_file(fs, "/big", 1, buf);
    CHECK_OK(benchfs_fsync(fs, fd));
    int open_now = count_fds(srv, chunks, NULL);
    if (open_now < 0 || open_now > 16) {
        fprintf(stderr, "FAIL: after fsync the server holds %d chunk descriptors (cache: 16)\n",
                open_now);
        test_failures++;
    }
    CHECK_OK(benchfs_close(fs, fd));
    verify(fs, "/big", 1, buf, back);

    /* --- a chunk file that cannot be opened: the fsync fails */
    fd = write_file(fs, "/unopenable", 2, buf);
    char dir[PATH_MAX + 300], bad[PATH_MAX + 400];
    if (find_chunk_dir(c.data[0], NCHUNKS, dir, sizeof dir) != 0) {
        /* /big has 64 chunks too: take the one that is not /big's (written later) */
        fprintf(stderr, "FAIL: no chunk directory with %d chunks\n", NCHUNKS);
        test_failures++;
    }
    /* Both files have 64 chunks; a directory named like a chunk in each makes either fail. */
    snprintf(bad, sizeof bad, "%s/%d", dir, NCHUNKS + 5);
    CHECK(mkdir(bad, 0700) == 0);
    errno = 0;
    int rc = benchfs_fsync(fs, fd);
    int err = errno;
    int rc_big = -1;
    if (rc == 0) { /* the directory went into /big's chunks: that fsync must fail then */
        int fb = benchfs_open(fs, "/big", O_RDWR, 0);
        rc_big = benchfs_fsync(fs, fb);
        err = errno;
        benchfs_close(fs, fb);
    }
    if ((rc == 0 && rc_big == 0) || err == 0) {
        fprintf(stderr, "FAIL: fsync with an unopenable chunk succeeded (rc %d/%d)\n", rc,
                rc_big);
        test_failures++;
    } else {
        printf("fsync with an unopenable chunk: %s\n", strerror(err));
    }
    rmdir(bad);
    CHECK_OK(benchfs_fsync(fs, fd));
    CHECK_OK(benchfs_close(fs, fd));
    verify(fs, "/unopenable", 2, buf, back);

    /* --- RLIMIT_NOFILE below the next free descriptor: no open can succeed */
    fd = write_file(fs, "/limited", 3, buf);
    /* Push /limited's chunks out of the cache so the fsync has to open them. */
    int other = write_file(fs, "/other", 4, buf);
    CHECK_OK(benchfs_close(fs, other));
    struct rlimit old, low;
    int lowest = 0;
    count_fds(srv, chunks, &lowest);
    CHECK(prlimit(srv, RLIMIT_NOFILE, NULL, &old) == 0);
    low = old;
    low.rlim_cur = (rlim_t)lowest;
    CHECK(prlimit(srv, RLIMIT_NOFILE, &low, NULL) == 0);
    errno = 0;
    rc = benchfs_fsync(fs, fd);
    err = errno;
    if (rc == 0 || err == 0) {
        fprintf(stderr, "FAIL: fsync under RLIMIT_NOFILE %d succeeded\n", lowest);
        test_failures++;
    } else {
        printf("fsync under RLIMIT_NOFILE %d: %s\n", lowest, strerror(err));
    }
    CHECK(prlimit(srv, RLIMIT_NOFILE, &old, NULL) == 0);
    CHECK_OK(benchfs_fsync(fs, fd));
    CHECK_OK(benchfs_close(fs, fd));
    verify(fs, "/limited", 3, buf, back);

    benchfs_term(fs);
    free(buf);
    free(back);
    cluster_stop(&c);
    return test_finish("test_fsync_limits");
}
