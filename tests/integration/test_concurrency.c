/* SPDX-License-Identifier: BSD-3-Clause */
/* test_concurrency — 4 client processes at once (fork; each its own benchfs_init after the
 * fork). Each writes a disjoint region of one shared file (regions do not line up with chunks,
 * so neighbours write different bytes of the same chunk at the same time), its own private
 * file, and a few small files in a shared directory; then closes. When all are done (a pipe
 * barrier), every process verifies EVERYTHING: each region of the shared file, its total size,
 * every private file and every small file. Finally the parent checks again with a new client.
 *
 * usage: test_concurrency NSERVERS [SEED] */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cluster.h"
#include "data_util.h"

#define NPROC 4
#define REGION ((1536u << 10) + 4321) /* not a multiple of any chunk size used here */
#define SHARED_CHUNK 16384u
#define NSMALL 16

static uint64_t seed;

static uint64_t private_size(int i) { return (uint64_t)(300u << 10) * (uint64_t)(i + 1) + 77u * (uint64_t)i; }
static uint32_t private_chunk(int i) { return 4096u << (i % 3); } /* 4K, 8K, 16K, 4K */
static uint64_t small_size(int i, int k) { return (uint64_t)(i * NSMALL + k) * 37u; }

/* Pattern tags: shared region i, private file i, small file (i, k). */
static uint64_t tag_shared(void) { return seed ^ 0x5348415245440000ull; }
static uint64_t tag_private(int i) { return seed ^ (0x5052495600000000ull + (uint64_t)i); }
static uint64_t tag_small(int i, int k) { return seed ^ (0x534d000000000000ull + (uint64_t)(i * 1000 + k)); }

/* Write region i of the shared file in random pieces, in random order. */
static void write_shared_region(benchfs_t *fs, int i, struct rng *r)
{
    int fd = benchfs_open(fs, "/shared", O_WRONLY, 0);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    uint64_t start = (uint64_t)i * REGION, end = start + REGION;
    /* Cut the region into pieces of 1..48K, then write them in a shuffled order. */
    uint64_t cuts[512];
    int np = 0;
    for (uint64_t p = start; p < end && np < 511; np++) {
        cuts[np] = p;
        p += rng_range(r, 1, 48u << 10);
    }
    cuts[np] = end;
    int order[512];
    for (int k = 0; k < np; k++)
        order[k] = k;
    for (int k = np - 1; k > 0; k--) {
        int j = (int)rng_below(r, (uint64_t)k + 1), t = order[k];
        order[k] = order[j];
        order[j] = t;
    }
    uint8_t *buf = malloc(48u << 10);
    for (int k = 0; k < np; k++) {
        uint64_t a = cuts[order[k]], b = order[k] + 1 < np ? cuts[order[k] + 1] : end;
        if (b > end)
            b = end;
        pattern_fill(tag_shared(), a, buf, (size_t)(b - a));
        CHECK_OK(bfs_pwrite_all(fs, fd, buf, (size_t)(b - a), (off_t)a));
    }
    free(buf);
    CHECK_OK(benchfs_close(fs, fd));
}

static void write_private(benchfs_t *fs, int i, struct rng *r)
{
    char path[64];
    snprintf(path, sizeof path, "/priv/p%d", i);
    int fd = benchfs_open(fs, path, O_CREAT | O_EXCL | O_WRONLY, 0640);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    uint64_t size = private_size(i), pos = 0;
    uint8_t *buf = malloc(64u << 10);
    while (pos < size) {
        size_t len = (size_t)rng_range(r, 1, 64u << 10);
        if (len > size - pos)
            len = (size_t)(size - pos);
        pattern_fill(tag_private(i), pos, buf, len);
        ssize_t w = benchfs_write(fs, fd, buf, len);
        CHECK(w == (ssize_t)len);
        if (w != (ssize_t)len)
            break;
        pos += len;
    }
    free(buf);
    CHECK_OK(benchfs_close(fs, fd));
}

static void write_smalls(benchfs_t *fs, int i)
{
    uint8_t buf[NPROC * NSMALL * 37];
    for (int k = 0; k < NSMALL; k++) {
        char path[64];
        snprintf(path, sizeof path, "/smalls/s%d-%d", i, k);
        int fd = benchfs_create(fs, path, 0600);
        CHECK(fd >= 0);
        if (fd < 0)
            continue;
        size_t len = (size_t)small_size(i, k);
        pattern_fill(tag_small(i, k), 0, buf, len);
        CHECK(benchfs_write(fs, fd, buf, len) == (ssize_t)len);
        CHECK_OK(benchfs_close(fs, fd));
    }
}

/* Verify everything every process wrote; `who` names the verifier in messages. */
static void verify_all(benchfs_t *fs, const char *who)
{
    benchfs_stat_t st;
    CHECK_OK(benchfs_stat(fs, "/shared", &st));
    if (st.size != (uint64_t)NPROC * REGION) {
        fprintf(stderr, "FAIL %s: /shared size %" PRIu64 ", expected %llu (seed=%" PRIu64 ")\n",
                who, st.size, (unsigned long long)NPROC * REGION, seed);
        test_failures++;
    }
    CHECK(st.chunk_size == SHARED_CHUNK);
    int fd = benchfs_open(fs, "/shared", O_RDONLY, 0);
    CHECK(fd >= 0);
    uint8_t *buf = malloc(REGION + 1);
    for (int i = 0; fd >= 0 && i < NPROC; i++) {
        /* Each region read in one call, plus a byte past the end of the last one. */
        size_t want = REGION + (i == NPROC - 1);
        ssize_t got = benchfs_pread(fs, fd, buf, want, (off_t)((uint64_t)i * REGION));
        long bad = got == (ssize_t)REGION ? pattern_check(tag_shared(), (uint64_t)i * REGION,
                                                          buf, REGION)
                                          : -2;
        if (bad != -1) {
            fprintf(stderr, "FAIL %s: /shared region %d: read %zd, first bad byte %ld "
                            "(seed=%" PRIu64 ")\n", who, i, got, bad, seed);
            test_failures++;
        }
    }
    if (fd >= 0)
        CHECK_OK(benchfs_close(fs, fd));
    free(buf);

    for (int i = 0; i < NPROC; i++) {
        char path[64];
        snprintf(path, sizeof path, "/priv/p%d", i);
        uint64_t size = 0;
        uint8_t *data = bfs_slurp(fs, path, &size);
        long bad = data && size == private_size(i)
                       ? pattern_check(tag_private(i), 0, data, (size_t)size)
                       : -2;
        if (bad != -1) {
            fprintf(stderr, "FAIL %s: %s: %s, size %" PRIu64 " (expected %" PRIu64 "), first "
                            "bad byte %ld (seed=%" PRIu64 ")\n", who, path,
                    data ? "read" : benchfs_strerror(), size, private_size(i), bad, seed);
            test_failures++;
        }
        free(data);
        CHECK_OK(benchfs_stat(fs, path, &st));
        CHECK(st.chunk_size == private_chunk(i));
        CHECK((st.mode & 07777) == 0640 && S_ISREG(st.mode));
    }

    int count = 0;
    benchfs_dir_t *d = benchfs_opendir(fs, "/smalls");
    CHECK(d != NULL);
    for (const benchfs_dirent_t *e; d && (e = benchfs_readdir(d));)
        count++;
    if (d)
        benchfs_closedir(d);
    if (count != NPROC * NSMALL) {
        fprintf(stderr, "FAIL %s: /smalls lists %d entries, expected %d\n", who, count,
                NPROC * NSMALL);
        test_failures++;
    }
    for (int i = 0; i < NPROC; i++) {
        for (int k = 0; k < NSMALL; k++) {
            char path[64];
            snprintf(path, sizeof path, "/smalls/s%d-%d", i, k);
            uint64_t size = 0;
            uint8_t *data = bfs_slurp(fs, path, &size);
            long bad = data && size == small_size(i, k)
                           ? pattern_check(tag_small(i, k), 0, data, (size_t)size)
                           : -2;
            if (bad != -1) {
                fprintf(stderr, "FAIL %s: %s: size %" PRIu64 ", first bad byte %ld\n", who, path,
                        size, bad);
                test_failures++;
            }
            free(data);
        }
    }
}

static void xwrite(int fd, char ch)
{
    if (write(fd, &ch, 1) != 1) {
        perror("barrier write");
        _exit(2);
    }
}

static int xread(int fd)
{
    char ch;
    ssize_t r;
    do
        r = read(fd, &ch, 1);
    while (r < 0 && errno == EINTR);
    return r == 1 ? ch : -1;
}

/* One worker process: connect, write, report, wait for everybody, verify everything. */
static void child(struct cluster *c, int i, int done_w, int go_r)
{
    alarm(0);
    struct rng r = {.s = seed * 31 + (uint64_t)i};
    benchfs_t *fs = data_client(c, 10000, private_chunk(i));
    int64_t t0 = now_ms();
    /* Interleave the three kinds of work so all processes hit all servers at once. */
    write_shared_region(fs, i, &r);
    write_private(fs, i, &r);
    write_smalls(fs, i);
    int64_t t1 = now_ms();
    xwrite(done_w, test_failures ? 'F' : 'K');
    if (xread(go_r) != 'G') {
        fprintf(stderr, "FAIL child %d: no go signal\n", i);
        test_failures++;
    } else {
        char who[32];
        snprintf(who, sizeof who, "process %d", i);
        verify_all(fs, who);
    }
    printf("concurrency: process %d wrote in %lld ms, verified in %lld ms\n", i,
           (long long)(t1 - t0), (long long)(now_ms() - t1));
    fflush(stdout);
    CHECK_OK(benchfs_term(fs));
    fflush(stderr);
    _exit(test_failures ? 1 : 0);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* keep stdout and stderr lines in order */
    int n = argc > 1 ? atoi(argv[1]) : 2;
    seed = argc > 2 ? strtoull(argv[2], NULL, 0)
                    : ((uint64_t)time(NULL) * 1000003u) ^ (uint64_t)getpid();
    printf("concurrency: seed=%" PRIu64 " servers=%d processes=%d\n", seed, n, NPROC);
    fflush(stdout);
    struct cluster c;
    cluster_start(&c, n, NULL);
    watchdog_arm(&c, 240);

    /* Set up the shared objects, then drop the client: no UCX state crosses a fork. */
    benchfs_t *fs = data_client(&c, 10000, SHARED_CHUNK);
    int fd = benchfs_open(fs, "/shared", O_CREAT | O_EXCL | O_RDWR, 0666);
    CHECK(fd >= 0);
    CHECK_OK(benchfs_close(fs, fd));
    CHECK_OK(benchfs_mkdir(fs, "/priv", 0777));
    CHECK_OK(benchfs_mkdir(fs, "/smalls", 0777));
    CHECK_OK(benchfs_term(fs));

    int done_p[2], go_p[2];
    if (pipe(done_p) != 0 || pipe(go_p) != 0) {
        perror("pipe");
        return 2;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t kids[NPROC];
    for (int i = 0; i < NPROC; i++) {
        kids[i] = fork();
        if (kids[i] < 0) {
            perror("fork");
            return 2;
        }
        if (kids[i] == 0) {
            close(done_p[0]);
            close(go_p[1]);
            child(&c, i, done_p[1], go_p[0]);
        }
    }
    close(done_p[1]);
    close(go_p[0]);
    int64_t t0 = now_ms();
    /* Wait for every report; a process that dies before reporting must not leave the others
     * waiting for a go signal forever. */
    int reported = 0, exited_early = 0, status[NPROC] = {0}, reaped[NPROC] = {0};
    while (reported + exited_early < NPROC) {
        struct pollfd pfd = {.fd = done_p[0], .events = POLLIN};
        if (poll(&pfd, 1, 100) > 0) {
            int ch = xread(done_p[0]);
            if (ch == 'K' || ch == 'F')
                reported++;
            else if (ch < 0)
                break;
        }
        for (int i = 0; i < NPROC; i++) {
            if (!reaped[i] && waitpid(kids[i], &status[i], WNOHANG) == kids[i]) {
                reaped[i] = 1;
                fprintf(stderr, "FAIL: process %d exited before the barrier (status %#x)\n", i,
                        status[i]);
                test_failures++;
                exited_early++;
            }
        }
    }
    CHECK(reported == NPROC);
    /* Everybody has closed its files: let all of them verify at the same time. */
    for (int i = 0; i < NPROC; i++)
        xwrite(go_p[1], 'G');
    close(go_p[1]);
    close(done_p[0]);
    for (int i = 0; i < NPROC; i++) {
        int st = status[i];
        if (!reaped[i])
            CHECK(waitpid(kids[i], &st, 0) == kids[i]);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "FAIL: process %d ended with status %#x (seed=%" PRIu64 ")\n", i, st,
                    seed);
            test_failures++;
        }
    }
    int64_t t1 = now_ms();

    /* And once more from a client that never wrote anything. */
    fs = data_client(&c, 10000, 0);
    verify_all(fs, "parent");
    /* Unlinking everything leaves no data behind on any server. */
    CHECK_OK(benchfs_unlink(fs, "/shared"));
    for (int i = 0; i < NPROC; i++) {
        char path[64];
        snprintf(path, sizeof path, "/priv/p%d", i);
        CHECK_OK(benchfs_unlink(fs, path));
        for (int k = 0; k < NSMALL; k++) {
            snprintf(path, sizeof path, "/smalls/s%d-%d", i, k);
            CHECK_OK(benchfs_unlink(fs, path));
        }
    }
    CHECK_OK(benchfs_rmdir(fs, "/priv"));
    CHECK_OK(benchfs_rmdir(fs, "/smalls"));
    benchfs_statfs_t sf;
    CHECK_OK(benchfs_statfs(fs, &sf));
    CHECK(sf.used_bytes == 0);
    CHECK(sf.nservers == (uint32_t)n && sf.nservers_up == (uint32_t)n);
    CHECK_OK(benchfs_term(fs));
    printf("concurrency: processes ran %lld ms\n", (long long)(t1 - t0));
    if (test_failures)
        printf("concurrency: FAILED with seed=%" PRIu64 "\n", seed);
    alarm(0);
    cluster_stop(&c);
    return test_finish("concurrency");
}
