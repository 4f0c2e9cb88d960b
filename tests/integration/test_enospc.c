/* SPDX-License-Identifier: BSD-3-Clause */
/* test_enospc — what a failed write leaves behind, against servers with --capacity 8M and
 * files of 4 MiB chunks.
 *
 * 1. Direct writers that die between CHUNK_RESERVE and their write (forked clients whose
 *    pwrite() of the chunk file — interposed below — kills them with SIGKILL, exactly where
 *    a killed writer stops): each server's used_bytes must equal what its chunk files occupy
 *    on disk (st_blocks * 512 under <data>/chunks), before and after the files are removed;
 *    after removal both are 0. Only with direct writes (the default): with
 *    BENCHFS_LOCAL_WRITES=0 no client writes chunk files itself.
 * 2. A write over both servers that meets the capacity in the middle (24 MiB at 2 MiB into a
 *    file holding 4 MiB): it fails with ENOSPC and leaves nothing: no server's used_bytes
 *    grew, the file's size and bytes are as before, and after an extending ftruncate the
 *    range it covered reads as zeros; used_bytes still equals the disk. Space is not leaked:
 *    a write that fits succeeds afterwards.
 *
 * usage: test_enospc NSERVERS */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cluster.h"
#include "data_util.h"

#define MiB (1u << 20)
#define CHUNK (4u * MiB)

/* The library's direct writes call pwrite(); this definition in the executable takes their
 * place. A child sets g_die_in_pwrite before its write: it then dies right after the
 * server answered its CHUNK_RESERVE, before a byte reaches the chunk file. */
static volatile sig_atomic_t g_die_in_pwrite;

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    if (g_die_in_pwrite)
        raise(SIGKILL);
    return (ssize_t)syscall(SYS_pwrite64, fd, buf, n, off);
}

static uint64_t g_disk;
static int add_blocks(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)path;
    (void)ftw;
    if (type == FTW_F && S_ISREG(st->st_mode))
        g_disk += (uint64_t)st->st_blocks * 512;
    return 0;
}

/* What server s's chunk files occupy on disk. */
static uint64_t disk_used(const struct cluster *c, int s)
{
    char root[400];
    snprintf(root, sizeof root, "%s/chunks", c->data[s]);
    g_disk = 0;
    nftw(root, add_blocks, 16, FTW_PHYS);
    return g_disk;
}

static long server_used(benchfs_t *fs, int s)
{
    static char buf[65536];
    ssize_t n = benchfs_server_stats(fs, s, buf, sizeof buf - 1);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    const char *p = strstr(buf, "used_bytes ");
    return p ? strtol(p + 11, NULL, 10) : -1;
}

/* Every server's counter equals its disk; returns the sum of the counters. */
static long check_counters(struct cluster *c, benchfs_t *fs, const char *when)
{
    long total = 0;
    for (int s = 0; s < c->n; s++) {
        long used = server_used(fs, s);
        uint64_t disk = disk_used(c, s);
        printf("enospc: %s: server %d used_bytes %ld, chunk files occupy %" PRIu64 "\n", when, s,
               used, disk);
        if (used < 0 || (uint64_t)used != disk) {
            fprintf(stderr, "FAIL: %s: server %d counts %ld bytes, its chunk files occupy %" PRIu64
                            "\n", when, s, used, disk);
            test_failures++;
        }
        total += used;
    }
    return total;
}

/* 1. Writers killed between the reserve and the write. */
static void dead_writers(struct cluster *c)
{
    static const struct {
        uint64_t off, len;
    } w[] = {{0, 1 * MiB}, {3 * MiB, 3 * MiB}, {1 * MiB, 2 * MiB}};
    int nw = (int)(sizeof w / sizeof w[0]);
    for (int i = 0; i < nw; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            benchfs_t *fs = data_client(c, 10000, CHUNK);
            char path[32];
            snprintf(path, sizeof path, "/dead%d", i);
            int fd = benchfs_open(fs, path, O_CREAT | O_RDWR, 0644);
            uint8_t *buf = malloc(w[i].len);
            if (fd < 0 || !buf)
                _exit(2);
            pattern_fill(10 + (uint64_t)i, w[i].off, buf, w[i].len);
            g_die_in_pwrite = 1;
            benchfs_pwrite(fs, fd, buf, w[i].len, (off_t)w[i].off);
            _exit(3); /* not killed: no direct write happened */
        }
        int st = 0;
        CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
        if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL) {
            fprintf(stderr, "FAIL: writer %d was not killed in its direct write (status %#x)\n",
                    i, st);
            test_failures++;
        }
    }
    benchfs_t *fs = data_client(c, 10000, CHUNK);
    long used = check_counters(c, fs, "writers killed after their reserve");
    printf("enospc: %d killed writers left %ld bytes allocated\n", nw, used);
    for (int i = 0; i < nw; i++) {
        char path[32];
        snprintf(path, sizeof path, "/dead%d", i);
        benchfs_stat_t st;
        CHECK_OK(benchfs_stat(fs, path, &st));
        CHECK(st.size == 0); /* nobody published a size */
        CHECK_OK(benchfs_unlink(fs, path));
    }
    used = check_counters(c, fs, "their files removed");
    CHECK(used == 0);
    CHECK_OK(benchfs_term(fs));
}

static void check_bytes(benchfs_t *fs, int fd, uint64_t size, uint64_t pattern_len,
                        const char *when)
{
    uint8_t *buf = malloc(size);
    ssize_t r = benchfs_pread(fs, fd, buf, size, 0);
    if (r != (ssize_t)size) {
        fprintf(stderr, "FAIL: %s: read %zd of %" PRIu64 " bytes: %s\n", when, r, size,
                benchfs_strerror());
        test_failures++;
    } else {
        long bad = pattern_check(1, 0, buf, pattern_len);
        uint64_t nonzero = 0;
        for (uint64_t i = pattern_len; i < size; i++)
            nonzero += buf[i] != 0;
        if (bad != -1 || nonzero) {
            fprintf(stderr, "FAIL: %s: first byte of the old data that changed: %ld; bytes "
                            "of the failed write readable where zeros belong: %" PRIu64 "\n",
                    when, bad, nonzero);
            test_failures++;
        }
    }
    free(buf);
}

/* 2. ENOSPC in the middle of a write over several servers. */
static void enospc_mid_write(struct cluster *c)
{
    benchfs_t *fs = data_client(c, 10000, CHUNK);
    int fd = benchfs_open(fs, "/a", O_CREAT | O_EXCL | O_RDWR, 0644);
    CHECK(fd >= 0);
    uint8_t *old = malloc(CHUNK);
    pattern_fill(1, 0, old, CHUNK);
    CHECK_OK(bfs_pwrite_all(fs, fd, old, CHUNK, 0));
    long before[CLUSTER_MAX];
    for (int s = 0; s < c->n; s++)
        before[s] = server_used(fs, s);
    check_counters(c, fs, "4 MiB written");

    /* 24 MiB at 2 MiB: 7 pieces, 22 MiB of new space on servers with at most 12 MiB free. */
    size_t len = 24 * MiB;
    uint8_t *big = malloc(len);
    pattern_fill(2, 2 * MiB, big, len);
    CHECK_ERR(benchfs_pwrite(fs, fd, big, len, 2 * MiB), ENOSPC);
    for (int s = 0; s < c->n; s++) {
        long used = server_used(fs, s);
        if (used != before[s]) {
            fprintf(stderr, "FAIL: the failed write changed server %d's used_bytes from %ld to "
                            "%ld\n", s, before[s], used);
            test_failures++;
        }
    }
    check_counters(c, fs, "after the failed write");
    benchfs_stat_t st;
    CHECK_OK(benchfs_fstat(fs, fd, &st));
    CHECK(st.size == CHUNK);
    check_bytes(fs, fd, CHUNK, CHUNK, "after the failed write");

    /* An extending truncate must show zeros where the failed write would have been. */
    CHECK_OK(benchfs_ftruncate(fs, fd, 32 * MiB));
    check_bytes(fs, fd, 32 * MiB, CHUNK, "after ftruncate to 32 MiB");
    CHECK_OK(benchfs_close(fs, fd));
    fd = benchfs_open(fs, "/a", O_RDONLY, 0);
    CHECK(fd >= 0);
    check_bytes(fs, fd, 32 * MiB, CHUNK, "reopened");
    CHECK_OK(benchfs_close(fs, fd));
    for (int s = 0; s < c->n; s++)
        CHECK(server_used(fs, s) == before[s]);
    check_counters(c, fs, "after the extending truncate");

    /* Nothing leaked: 4 more MiB fit on whichever server holds chunk 1 (8 MiB each). */
    fd = benchfs_open(fs, "/a", O_RDWR, 0);
    CHECK(fd >= 0);
    pattern_fill(1, CHUNK, big, CHUNK);
    CHECK_OK(bfs_pwrite_all(fs, fd, big, CHUNK, CHUNK));
    CHECK_OK(benchfs_close(fs, fd));
    check_counters(c, fs, "4 more MiB written");
    CHECK_OK(benchfs_unlink(fs, "/a"));
    CHECK(check_counters(c, fs, "file removed") == 0);
    free(old);
    free(big);
    CHECK_OK(benchfs_term(fs));
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    int n = argc > 1 ? atoi(argv[1]) : 2;
    struct cluster c;
    cluster_start(&c, n, "--capacity 8M");
    watchdog_arm(&c, 240);
    const char *lw = getenv("BENCHFS_LOCAL_WRITES");
    if (lw && strcmp(lw, "0") == 0)
        printf("enospc: direct writes off: no writer to kill between reserve and write\n");
    else
        dead_writers(&c);
    enospc_mid_write(&c);
    alarm(0);
    cluster_stop(&c);
    return test_finish("enospc");
}
