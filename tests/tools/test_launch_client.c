/* SPDX-License-Identifier: BSD-3-Clause */
/* test_launch_client — the client side of the launch tests (test_launch_mpi.sh,
 * test_benchfsctl.sh): against a running cluster, write files that land on every server, read
 * them back, list them, and check through the per-server counters that every server holds
 * metadata and chunk data.
 *
 *   test_launch_client REGISTRY NSERVERS write    create /launch/... and verify it
 *   test_launch_client REGISTRY NSERVERS verify   only verify (e.g. after a restart)
 * Exit 0 if every check passed, 1 otherwise. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchfs.h"

static int failures;
#define CHECK(cond, ...)                                                                         \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                       \
            fprintf(stderr, __VA_ARGS__);                                                        \
            fprintf(stderr, " (%s)\n", benchfs_strerror());                                      \
            failures++;                                                                          \
        }                                                                                        \
    } while (0)

#define CHUNK 65536u
#define BIG_SIZE (CHUNK * 24 + 1234) /* a file over many chunks, so over every server */

static void fill(unsigned char *buf, size_t len, unsigned seed)
{
    uint64_t x = 0x9e3779b97f4a7c15ull * (seed + 1);
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        buf[i] = (unsigned char)x;
    }
}

static size_t file_size(int i) { return (size_t)(i * 97 % 5000) + 1; }

static void write_file(benchfs_t *fs, const char *path, size_t len, unsigned seed)
{
    unsigned char *buf = malloc(len);
    fill(buf, len, seed);
    int fd = benchfs_open(fs, path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    CHECK(fd >= 0, "create %s", path);
    if (fd >= 0) {
        CHECK(benchfs_write(fs, fd, buf, len) == (ssize_t)len, "write %s", path);
        CHECK(benchfs_fsync(fs, fd) == 0, "fsync %s", path);
        CHECK(benchfs_close(fs, fd) == 0, "close %s", path);
    }
    free(buf);
}

static void verify_file(benchfs_t *fs, const char *path, size_t len, unsigned seed)
{
    unsigned char *want = malloc(len), *got = malloc(len + 16);
    fill(want, len, seed);
    benchfs_stat_t st;
    CHECK(benchfs_stat(fs, path, &st) == 0 && st.size == len, "stat %s: size %llu, want %zu",
          path, (unsigned long long)st.size, len);
    int fd = benchfs_open(fs, path, O_RDONLY, 0);
    CHECK(fd >= 0, "open %s", path);
    if (fd >= 0) {
        size_t off = 0;
        ssize_t n;
        while ((n = benchfs_read(fs, fd, got + off, len + 16 - off)) > 0)
            off += (size_t)n;
        CHECK(n == 0 && off == len && memcmp(want, got, len) == 0, "read back %s (%zu of %zu)",
              path, off, len);
        benchfs_close(fs, fd);
    }
    free(want);
    free(got);
}

static uint64_t counter(const char *stats, const char *key)
{
    const char *p = strstr(stats, key);
    return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

int main(int argc, char **argv)
{
    if (argc != 4 || (strcmp(argv[3], "write") && strcmp(argv[3], "verify"))) {
        fprintf(stderr, "usage: test_launch_client REGISTRY NSERVERS write|verify\n");
        return 2;
    }
    int n = atoi(argv[2]);
    benchfs_options_t o = {.registry = argv[1], .nservers = n, .wait_ms = 60000,
                           .rpc_timeout_ms = 20000, .chunk_size = CHUNK};
    benchfs_t *fs = benchfs_init_opts(&o);
    if (!fs) {
        fprintf(stderr, "FAIL: benchfs_init: %s\n", benchfs_strerror());
        return 1;
    }
    CHECK(benchfs_nservers(fs) == n, "%d servers, want %d", benchfs_nservers(fs), n);
    int nfiles = 16 * n;
    char path[64];
    if (strcmp(argv[3], "write") == 0) {
        CHECK(benchfs_mkdir(fs, "/launch", 0755) == 0, "mkdir /launch");
        for (int i = 0; i < nfiles; i++) {
            snprintf(path, sizeof path, "/launch/f%03d", i);
            write_file(fs, path, file_size(i), (unsigned)i);
        }
        write_file(fs, "/launch/big", BIG_SIZE, 4242);
    }
    for (int i = 0; i < nfiles; i++) {
        snprintf(path, sizeof path, "/launch/f%03d", i);
        verify_file(fs, path, file_size(i), (unsigned)i);
    }
    verify_file(fs, "/launch/big", BIG_SIZE, 4242);

    /* The listing gathers every server's part of the directory. */
    int seen = 0, big = 0;
    benchfs_dir_t *d = benchfs_opendir(fs, "/launch");
    CHECK(d != NULL, "opendir /launch");
    for (const benchfs_dirent_t *e; d && (e = benchfs_readdir(d)) != NULL;) {
        if (strcmp(e->name, "big") == 0)
            big++;
        else if (strncmp(e->name, "f", 1) == 0 && atoi(e->name + 1) < nfiles)
            seen++;
    }
    if (d)
        benchfs_closedir(d);
    CHECK(seen == nfiles && big == 1, "listing: %d of %d files, big %d", seen, nfiles, big);

    /* Every server holds part of it: metadata entries and chunk bytes. */
    char stats[8192];
    for (int s = 0; s < n; s++) {
        ssize_t len = benchfs_server_stats(fs, s, stats, sizeof stats);
        CHECK(len > 0, "stats of server %d", s);
        if (len <= 0)
            continue;
        uint64_t entries = counter(stats, "meta_entries "), used = counter(stats, "used_bytes ");
        CHECK(entries > 0 && used > 0, "server %d holds %llu entries, %llu bytes", s,
              (unsigned long long)entries, (unsigned long long)used);
    }
    benchfs_statfs_t sf;
    CHECK(benchfs_statfs(fs, &sf) == 0 && sf.nservers == (uint32_t)n && sf.nservers_up == sf.nservers,
          "statfs: %u of %u up", sf.nservers_up, sf.nservers);
    CHECK(benchfs_term(fs) == 0, "benchfs_term");
    printf("%s: %d servers, %d files + 1 big: %s\n", argv[3], n, nfiles,
           failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
