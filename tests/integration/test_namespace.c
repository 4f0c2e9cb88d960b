/* SPDX-License-Identifier: BSD-3-Clause */
/* Namespace operations across servers: big directories, rename of files and of whole trees,
 * rmdir/rename onto non-empty directories whose entries live on other servers, deep trees.
 *
 * Usage: test_namespace NSERVERS
 *
 * Where an entry's metadata lives is observed from outside, through the servers' counters
 * (benchfs_server_stats): the server whose "create.count" or "mkdir.count" moved holds it. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cluster.h"
#include "listing.h"

#define BIG_N 1000
#define BIG_TOTAL 2600
#define SMALL_CHUNK 65536u

static int nsrv;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void pattern(uint8_t *b, size_t n, uint64_t seed)
{
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        b[i] = (uint8_t)x;
    }
}

static int put_file(benchfs_t *fs, const char *path, const void *data, size_t len, mode_t mode)
{
    int fd = benchfs_open(fs, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
    if (fd < 0)
        return -1;
    ssize_t n = len ? benchfs_write(fs, fd, data, len) : 0;
    int rc = benchfs_close(fs, fd);
    return n == (ssize_t)len && rc == 0 ? 0 : -1;
}

/* 1 if `path` holds exactly `len` bytes equal to `want`, else 0. */
static int file_equals(benchfs_t *fs, const char *path, const uint8_t *want, size_t len)
{
    int fd = benchfs_open(fs, path, O_RDONLY, 0);
    if (fd < 0)
        return 0;
    uint8_t *buf = malloc(len + 16);
    ssize_t n = benchfs_pread(fs, fd, buf, len + 16, 0);
    int ok = n == (ssize_t)len && (len == 0 || memcmp(buf, want, len) == 0);
    benchfs_close(fs, fd);
    free(buf);
    return ok;
}

/* ---- listings ---- */


/* Check that `dir` lists exactly the names in `names` (count k), each once. */
static void expect_listing(benchfs_t *fs, const char *dir, const char *const *names, size_t k)
{
    struct name_list l;
    int before = test_failures;
    CHECK_OK(list_dir(fs, dir, &l));
    CHECK(l.n == k);
    for (size_t i = 0; i < k; i++) {
        size_t seen = 0;
        for (size_t j = 0; j < l.n; j++)
            seen += strcmp(l.v[j].name, names[i]) == 0;
        CHECK(seen == 1);
    }
    if (test_failures != before) {
        fprintf(stderr, "  ... listing of %s (%zu entries):", dir, l.n);
        for (size_t j = 0; j < l.n; j++)
            fprintf(stderr, " '%s'", l.v[j].name);
        fprintf(stderr, "\n");
    }
    free(l.v);
}

static int rm_rf(benchfs_t *fs, const char *path)
{
    benchfs_stat_t st;
    if (benchfs_stat(fs, path, &st) != 0)
        return -1;
    if (!S_ISDIR(st.mode))
        return benchfs_unlink(fs, path);
    struct name_list l;
    if (list_dir(fs, path, &l) != 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < l.n; i++) {
        char child[4096];
        snprintf(child, sizeof child, "%s/%s", path, l.v[i].name);
        if (rm_rf(fs, child) != 0)
            rc = -1;
    }
    free(l.v);
    return benchfs_rmdir(fs, path) == 0 ? rc : -1;
}

/* mkdir -p: create every missing component; an existing directory is fine. */
static int mkdir_p(benchfs_t *fs, const char *path, mode_t mode)
{
    char p[4096];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char saved = *s;
        *s = '\0';
        if (benchfs_mkdir(fs, p, mode) != 0) {
            benchfs_stat_t st;
            if (errno != EEXIST)
                return -1;
            if (benchfs_stat(fs, p, &st) != 0)
                return -1;
            if (!S_ISDIR(st.mode)) {
                errno = ENOTDIR;
                return -1;
            }
        }
        *s = saved;
        if (!saved)
            return 0;
    }
}

/* ---- server counters ---- */

static long counter(benchfs_t *fs, int server, const char *key)
{
    static char buf[65536];
    if (benchfs_server_stats(fs, server, buf, sizeof buf) < 0)
        return -1;
    size_t kl = strlen(key);
    for (char *line = buf; *line;) {
        if (strncmp(line, key, kl) == 0 && line[kl] == ' ')
            return strtol(line + kl + 1, NULL, 10);
        char *nl = strchr(line, '\n');
        if (!nl)
            break;
        line = nl + 1;
    }
    return 0; /* counters of ops never seen are not printed */
}

static void counters(benchfs_t *fs, const char *key, long *out)
{
    for (int s = 0; s < nsrv; s++)
        out[s] = counter(fs, s, key);
}

/* The one server whose `key` counter moved by exactly one since `before`, or -1. */
static int moved_server(benchfs_t *fs, const char *key, const long *before)
{
    long now[CLUSTER_MAX];
    counters(fs, key, now);
    int who = -1;
    for (int s = 0; s < nsrv; s++) {
        if (now[s] == before[s])
            continue;
        if (now[s] != before[s] + 1 || who >= 0)
            return -1;
        who = s;
    }
    return who;
}

/* ---- 1000 entries in one directory ---- */

static void check_big_listing(benchfs_t *fs, const char *dir, int total, int step,
                              const char *what)
{
    int before = test_failures;
    int *seen = calloc((size_t)total, sizeof *seen);
    int extra = 0, badmode = 0;
    struct name_list l;
    CHECK_OK(list_dir(fs, dir, &l));
    for (size_t j = 0; j < l.n; j++) {
        int i = -1, len = -1;
        if (sscanf(l.v[j].name, "e%5d%n", &i, &len) != 1 || len != 6 ||
            (size_t)len != strlen(l.v[j].name) || i < 0 || i >= total || i % step != 0) {
            extra++;
            continue;
        }
        seen[i]++;
        if ((i % 10 == 0) != (S_ISDIR(l.v[j].mode) != 0))
            badmode++;
    }
    int missing = 0, dup = 0, expected = 0;
    for (int i = 0; i < total; i += step) {
        expected++;
        missing += seen[i] == 0;
        dup += seen[i] > 1;
    }
    CHECK(l.n == (size_t)expected);
    CHECK(missing == 0);
    CHECK(dup == 0);
    CHECK(extra == 0);
    CHECK(badmode == 0);
    free(l.v);

    /* The callback form too. */
    struct name_list cb = {0};
    CHECK_OK(benchfs_readdir_cb(fs, dir, collect_cb, &cb));
    CHECK(cb.n == (size_t)expected);
    memset(seen, 0, (size_t)total * sizeof *seen);
    extra = 0;
    for (size_t j = 0; j < cb.n; j++) {
        int i = -1;
        if (sscanf(cb.v[j].name, "e%5d", &i) != 1 || i < 0 || i >= total || i % step)
            extra++;
        else
            seen[i]++;
    }
    missing = dup = 0;
    for (int i = 0; i < total; i += step) {
        missing += seen[i] == 0;
        dup += seen[i] > 1;
    }
    CHECK(missing == 0 && dup == 0 && extra == 0);
    free(cb.v);
    free(seen);
    if (test_failures != before)
        fprintf(stderr, "  ... in the listing of %s (%s): %d missing, %d duplicated, %d extra\n",
                dir, what, missing, dup, extra);
}

static int stop_after_cb(const benchfs_dirent_t *e, void *arg)
{
    (void)e;
    int *left = arg;
    return --*left <= 0;
}

/* Entries from..to-1 of the big directory; every tenth is a directory. */
static void big_fill(benchfs_t *fs, int from, int to)
{
    for (int i = from; i < to; i++) {
        char p[64];
        snprintf(p, sizeof p, "/ns/big/e%05d", i);
        if (i % 10 == 0) {
            CHECK_OK(benchfs_mkdir(fs, p, 0755));
        } else {
            int fd = benchfs_open(fs, p, O_CREAT | O_EXCL | O_WRONLY, 0644);
            CHECK(fd >= 0);
            if (fd >= 0)
                CHECK_OK(benchfs_close(fs, fd));
        }
    }
}

static void test_big_dir(benchfs_t *fs)
{
    long cr0[CLUSTER_MAX], cr1[CLUSTER_MAX];
    counters(fs, "create.count", cr0);
    CHECK_OK(benchfs_mkdir(fs, "/ns/big", 0755));
    double t0 = now_s();
    big_fill(fs, 0, BIG_N);
    double t1 = now_s();
    check_big_listing(fs, "/ns/big", BIG_N, 1, "all");
    double t2 = now_s();
    printf("big dir: %d creates %.2f s, listing %.3f s\n", BIG_N, t1 - t0, t2 - t1);

    /* The creates were spread over the servers, not funnelled through the directory's. */
    counters(fs, "create.count", cr1);
    long files = BIG_N - BIG_N / 10;
    for (int s = 0; s < nsrv; s++) {
        long d = cr1[s] - cr0[s];
        printf("server %d: %ld creates\n", s, d);
        CHECK(d > 0);
        if (nsrv > 1)
            CHECK(d >= files / nsrv / 4); /* balanced within a wide margin */
    }

    /* Early stop with many entries on many servers. */
    int left = 10;
    benchfs_readdir_cb(fs, "/ns/big", stop_after_cb, &left);
    CHECK(left == 0);

    /* More than one listing page per server (1024 entries) with one or two servers. */
    big_fill(fs, BIG_N, BIG_TOTAL);
    check_big_listing(fs, "/ns/big", BIG_TOTAL, 1, "after growing");

    /* Remove every odd entry: the listing follows. */
    for (int i = 1; i < BIG_TOTAL; i += 2) {
        char p[64];
        snprintf(p, sizeof p, "/ns/big/e%05d", i);
        CHECK_OK(benchfs_unlink(fs, p)); /* odd numbers are never directories */
    }
    check_big_listing(fs, "/ns/big", BIG_TOTAL, 2, "evens");
    CHECK_ERR(benchfs_rmdir(fs, "/ns/big"), ENOTEMPTY);

    /* Rename the whole directory: more entries than one subtree page (256) per server. */
    CHECK_OK(put_file(fs, "/ns/big/e00000/inner", "inner", 5, 0644));
    CHECK_OK(put_file(fs, "/ns/big/e02590/inner", "inner2", 6, 0644));
    double t3 = now_s();
    CHECK_OK(benchfs_rename(fs, "/ns/big", "/ns/bigmoved"));
    printf("big dir: rename of %d entries %.2f s\n", BIG_TOTAL / 2 + 2, now_s() - t3);
    benchfs_stat_t st;
    CHECK_ERR(benchfs_stat(fs, "/ns/big", &st), ENOENT);
    CHECK_ERR(benchfs_stat(fs, "/ns/big/e00002", &st), ENOENT);
    CHECK_ERR(benchfs_stat(fs, "/ns/big/e00000/inner", &st), ENOENT);
    check_big_listing(fs, "/ns/bigmoved", BIG_TOTAL, 2, "renamed");
    CHECK(file_equals(fs, "/ns/bigmoved/e00000/inner", (const uint8_t *)"inner", 5));
    CHECK(file_equals(fs, "/ns/bigmoved/e02590/inner", (const uint8_t *)"inner2", 6));
    CHECK_OK(rm_rf(fs, "/ns/bigmoved"));
    CHECK_ERR(benchfs_stat(fs, "/ns/bigmoved", &st), ENOENT);
    CHECK_ERR(benchfs_stat(fs, "/ns/bigmoved/e00000", &st), ENOENT);
}

/* ---- rename of files ---- */

static void test_rename_file(benchfs_t *fs, benchfs_t *fs64)
{
    benchfs_stat_t st, st2;
    CHECK_OK(benchfs_mkdir(fs, "/ns/rf", 0755));
    CHECK_OK(benchfs_mkdir(fs, "/ns/rf/a", 0755));
    CHECK_OK(benchfs_mkdir(fs, "/ns/rf/b", 0755));
    size_t len = 5 * SMALL_CHUNK + 1234;
    uint8_t *data = malloc(len);
    pattern(data, len, 21);
    CHECK_OK(put_file(fs64, "/ns/rf/a/src", data, len, 0640));
    CHECK_OK(benchfs_stat(fs, "/ns/rf/a/src", &st));

    /* Across directories. */
    CHECK_OK(benchfs_rename(fs, "/ns/rf/a/src", "/ns/rf/b/dst"));
    CHECK_OK(benchfs_stat(fs, "/ns/rf/b/dst", &st2));
    CHECK(st2.ino == st.ino && st2.size == len && st2.mode == st.mode);
    CHECK(st2.chunk_size == SMALL_CHUNK);
    CHECK(file_equals(fs, "/ns/rf/b/dst", data, len));
    CHECK_ERR(benchfs_stat(fs, "/ns/rf/a/src", &st2), ENOENT);
    CHECK_ERR(benchfs_open(fs, "/ns/rf/a/src", O_RDONLY, 0), ENOENT);
    expect_listing(fs, "/ns/rf/a", NULL, 0);
    const char *dst[] = {"dst"};
    expect_listing(fs, "/ns/rf/b", dst, 1);

    /* Through many names (their metadata lands on different servers). */
    char from[64] = "/ns/rf/b/dst", to[64];
    for (int i = 0; i < 16; i++) {
        snprintf(to, sizeof to, "/ns/rf/%s/name%d", i % 2 ? "a" : "b", i);
        CHECK_OK(benchfs_rename(fs, from, to));
        CHECK_ERR(benchfs_stat(fs, from, &st2), ENOENT);
        CHECK_OK(benchfs_stat(fs, to, &st2));
        CHECK(st2.ino == st.ino && st2.size == len);
        snprintf(from, sizeof from, "%s", to);
    }
    CHECK(file_equals(fs64, from, data, len));
    CHECK_OK(benchfs_rename(fs, from, "/ns/rf/b/dst"));

    /* Over an existing file: it is replaced, and its data freed. */
    size_t vlen = 17 * SMALL_CHUNK + 5;
    uint8_t *vdata = malloc(vlen);
    pattern(vdata, vlen, 99);
    CHECK_OK(put_file(fs64, "/ns/rf/b/victim", vdata, vlen, 0600));
    benchfs_stat_t vst;
    CHECK_OK(benchfs_stat(fs, "/ns/rf/b/victim", &vst));
    benchfs_statfs_t before, after;
    CHECK_OK(benchfs_statfs(fs, &before));
    CHECK_OK(benchfs_rename(fs, "/ns/rf/b/dst", "/ns/rf/b/victim"));
    CHECK_OK(benchfs_statfs(fs, &after));
    CHECK(before.used_bytes >= after.used_bytes + vlen);
    CHECK(before.used_bytes - after.used_bytes < vlen + len); /* the survivor kept its data */
    CHECK_OK(benchfs_stat(fs, "/ns/rf/b/victim", &st2));
    CHECK(st2.ino == st.ino && st2.ino != vst.ino && st2.size == len && st2.mode == st.mode);
    CHECK(file_equals(fs, "/ns/rf/b/victim", data, len));
    CHECK_ERR(benchfs_stat(fs, "/ns/rf/b/dst", &st2), ENOENT);
    const char *victim[] = {"victim"};
    expect_listing(fs, "/ns/rf/b", victim, 1);

    /* A descriptor open across a rename follows the file. */
    int fd = benchfs_open(fs, "/ns/rf/b/victim", O_RDWR, 0);
    CHECK(fd >= 0);
    CHECK_OK(benchfs_rename(fs, "/ns/rf/b/victim", "/ns/rf/a/moved"));
    CHECK(benchfs_pwrite(fs, fd, "TAIL", 4, (off_t)len) == 4);
    CHECK_OK(benchfs_close(fs, fd));
    CHECK_OK(benchfs_stat(fs, "/ns/rf/a/moved", &st2));
    CHECK(st2.size == len + 4 && st2.ino == st.ino);
    CHECK_ERR(benchfs_stat(fs, "/ns/rf/b/victim", &st2), ENOENT);

    /* A file being written by another client is renamed under it: what that client writes
     * and closes afterwards lands in the file under its new name (close-to-open). */
    fd = benchfs_open(fs64, "/ns/rf/a/busy", O_CREAT | O_WRONLY, 0644);
    CHECK(fd >= 0);
    CHECK(benchfs_write(fs64, fd, data, 100) == 100);
    CHECK_OK(benchfs_rename(fs, "/ns/rf/a/busy", "/ns/rf/b/busy2"));
    CHECK(benchfs_write(fs64, fd, data + 100, 100) == 100);
    CHECK_OK(benchfs_close(fs64, fd));
    CHECK_OK(benchfs_stat(fs, "/ns/rf/b/busy2", &st2));
    CHECK(st2.size == 200);
    CHECK(file_equals(fs, "/ns/rf/b/busy2", data, 200));
    CHECK_ERR(benchfs_stat(fs, "/ns/rf/a/busy", &st2), ENOENT);
    CHECK_OK(benchfs_unlink(fs, "/ns/rf/b/busy2"));

    /* Another client sees the rename at once. */
    CHECK_ERR(benchfs_stat(fs64, "/ns/rf/b/victim", &st2), ENOENT);
    CHECK_OK(benchfs_stat(fs64, "/ns/rf/a/moved", &st2));
    CHECK(st2.ino == st.ino);

    free(vdata);
    free(data);
    CHECK_OK(rm_rf(fs, "/ns/rf"));
}

/* ---- rename of a directory tree ---- */

struct node {
    const char *rel; /* below the tree's top; "" is the top itself */
    int dir;
    size_t size;
    mode_t mode;
    uint64_t ino;
};

static struct node tree[] = {
    {"", 1, 0, 0755, 0},
    {"/empty", 0, 0, 0644, 0},
    {"/one", 0, 1, 0644, 0},
    {"/l1a", 1, 0, 0755, 0},
    {"/l1a/page", 0, 4096, 0600, 0},
    {"/l1a/l2", 1, 0, 0750, 0},
    {"/l1a/l2/multi", 0, 3 * SMALL_CHUNK + 17, 0644, 0},
    {"/l1a/l2/l3", 1, 0, 0755, 0},
    {"/l1a/l2/l3/deepest", 0, 70000, 0644, 0},
    {"/l1a/l2/l3/open", 0, 10, 0644, 0},
    {"/l1a/l2/l3/emptydir", 1, 0, 0700, 0},
    {"/l1b", 1, 0, 0700, 0},
    {"/l1b/x", 0, 12345, 0644, 0},
    {"/l1b/l2b", 1, 0, 0755, 0},
    {"/l1b/l2b/y", 0, 5, 0444, 0},
};
#define TREE_N (sizeof tree / sizeof *tree)

static void tree_data(size_t i, uint8_t *buf) { pattern(buf, tree[i].size, 1000 + i); }

static void check_tree(benchfs_t *fs, const char *top, const char *what)
{
    int before = test_failures;
    char p[512];
    uint8_t *want = malloc(4 * SMALL_CHUNK);
    for (size_t i = 0; i < TREE_N; i++) {
        snprintf(p, sizeof p, "%s%s", top, tree[i].rel);
        benchfs_stat_t st;
        int rc = benchfs_stat(fs, p, &st);
        CHECK(rc == 0);
        if (rc)
            continue;
        CHECK(st.ino == tree[i].ino);
        CHECK(st.mode == ((tree[i].dir ? S_IFDIR : S_IFREG) | tree[i].mode));
        if (!tree[i].dir) {
            CHECK(st.size == tree[i].size);
            tree_data(i, want);
            CHECK(file_equals(fs, p, want, tree[i].size));
        }
    }
    /* Every directory lists exactly its children. */
    for (size_t i = 0; i < TREE_N; i++) {
        if (!tree[i].dir)
            continue;
        const char *names[TREE_N];
        size_t k = 0, rl = strlen(tree[i].rel);
        for (size_t j = 0; j < TREE_N; j++) {
            const char *r = tree[j].rel;
            if (j != i && strncmp(r, tree[i].rel, rl) == 0 && r[rl] == '/' &&
                !strchr(r + rl + 1, '/'))
                names[k++] = r + rl + 1;
        }
        snprintf(p, sizeof p, "%s%s", top, tree[i].rel);
        expect_listing(fs, p, names, k);
    }
    free(want);
    if (test_failures != before)
        fprintf(stderr, "  ... checking the tree at %s (%s)\n", top, what);
}

static void check_tree_gone(benchfs_t *fs, const char *top)
{
    char p[512];
    for (size_t i = 0; i < TREE_N; i++) {
        snprintf(p, sizeof p, "%s%s", top, tree[i].rel);
        benchfs_stat_t st;
        errno = 0;
        int rc = benchfs_stat(fs, p, &st);
        if (rc != -1 || errno != ENOENT) {
            fprintf(stderr, "FAIL: %s still exists after its tree moved away\n", p);
            test_failures++;
        }
    }
}

static void test_rename_dir(benchfs_t *fs, benchfs_t *fs64)
{
    CHECK_OK(benchfs_mkdir(fs, "/ns/rd", 0755));
    CHECK_OK(benchfs_mkdir(fs, "/ns/rd/src", 0755));
    CHECK_OK(benchfs_mkdir(fs, "/ns/rd/dst", 0755));
    uint8_t *buf = malloc(4 * SMALL_CHUNK);
    char p[512];
    for (size_t i = 0; i < TREE_N; i++) {
        snprintf(p, sizeof p, "/ns/rd/src/top%s", tree[i].rel);
        if (tree[i].dir) {
            CHECK_OK(benchfs_mkdir(fs, p, 0755));
        } else {
            tree_data(i, buf);
            CHECK_OK(put_file(fs64, p, buf, tree[i].size, 0644));
        }
    }
    /* Modes last, so the creator could still write everywhere. */
    for (size_t i = TREE_N; i-- > 0;) {
        snprintf(p, sizeof p, "/ns/rd/src/top%s", tree[i].rel);
        CHECK_OK(benchfs_chmod(fs, p, tree[i].mode));
        benchfs_stat_t st;
        CHECK_OK(benchfs_stat(fs, p, &st));
        tree[i].ino = st.ino;
    }
    /* Neighbours whose names share the prefix "top" must not move along. */
    CHECK_OK(benchfs_mkdir(fs, "/ns/rd/src/top2", 0755));
    CHECK_OK(put_file(fs, "/ns/rd/src/top2/keep", "keep", 4, 0644));
    CHECK_OK(put_file(fs, "/ns/rd/src/top-file", "tf", 2, 0644));
    check_tree(fs, "/ns/rd/src/top", "before");

    /* A descriptor open inside the tree follows it. */
    int fd = benchfs_open(fs, "/ns/rd/src/top/l1a/l2/l3/open", O_RDWR, 0);
    CHECK(fd >= 0);

    /* Into another directory, under a new name. */
    CHECK_OK(benchfs_rename(fs, "/ns/rd/src/top", "/ns/rd/dst/moved"));
    check_tree(fs, "/ns/rd/dst/moved", "after the first rename");
    check_tree(fs64, "/ns/rd/dst/moved", "after the first rename, other client");
    check_tree_gone(fs, "/ns/rd/src/top");
    const char *src_left[] = {"top2", "top-file"};
    expect_listing(fs, "/ns/rd/src", src_left, 2);
    const char *dst_now[] = {"moved"};
    expect_listing(fs, "/ns/rd/dst", dst_now, 1);
    const char *keep[] = {"keep"};
    expect_listing(fs, "/ns/rd/src/top2", keep, 1);

    if (fd >= 0) {
        CHECK(benchfs_pwrite(fs, fd, "0123456789!", 11, 0) == 11);
        CHECK_OK(benchfs_close(fs, fd));
        benchfs_stat_t st;
        CHECK_OK(benchfs_stat(fs, "/ns/rd/dst/moved/l1a/l2/l3/open", &st));
        CHECK(st.size == 11);
        CHECK(file_equals(fs, "/ns/rd/dst/moved/l1a/l2/l3/open",
                          (const uint8_t *)"0123456789!", 11));
        CHECK_ERR(benchfs_stat(fs, "/ns/rd/src/top/l1a/l2/l3/open", &st), ENOENT);
        for (size_t i = 0; i < TREE_N; i++) /* back to the content check_tree expects */
            if (strcmp(tree[i].rel, "/l1a/l2/l3/open") == 0) {
                tree_data(i, buf);
                CHECK_OK(put_file(fs, "/ns/rd/dst/moved/l1a/l2/l3/open", buf, tree[i].size,
                                  0644));
            }
    }

    /* Within its directory, and a subtree on its own. */
    CHECK_OK(benchfs_rename(fs, "/ns/rd/dst/moved", "/ns/rd/dst/again"));
    check_tree(fs, "/ns/rd/dst/again", "after the second rename");
    check_tree_gone(fs, "/ns/rd/dst/moved");
    CHECK_OK(benchfs_rename(fs, "/ns/rd/dst/again/l1a/l2", "/ns/rd/src/l2moved"));
    benchfs_stat_t st;
    CHECK_OK(benchfs_stat(fs, "/ns/rd/src/l2moved/l3/deepest", &st));
    CHECK(st.size == 70000);
    CHECK_ERR(benchfs_stat(fs, "/ns/rd/dst/again/l1a/l2", &st), ENOENT);
    CHECK_ERR(benchfs_stat(fs, "/ns/rd/dst/again/l1a/l2/l3/deepest", &st), ENOENT);
    CHECK_OK(benchfs_rename(fs, "/ns/rd/src/l2moved", "/ns/rd/dst/again/l1a/l2"));
    check_tree(fs, "/ns/rd/dst/again", "after moving a subtree out and back");

    /* Onto an empty directory: replaced. Onto a non-empty one: ENOTEMPTY, nothing moves. */
    CHECK_OK(benchfs_mkdir(fs, "/ns/rd/emptydst", 0755));
    CHECK_OK(benchfs_rename(fs, "/ns/rd/dst/again", "/ns/rd/emptydst"));
    check_tree(fs, "/ns/rd/emptydst", "after replacing an empty directory");
    CHECK_ERR(benchfs_rename(fs, "/ns/rd/src", "/ns/rd/emptydst"), ENOTEMPTY);
    CHECK_ERR(benchfs_rename(fs, "/ns/rd/emptydst", "/ns/rd/src"), ENOTEMPTY);
    check_tree(fs, "/ns/rd/emptydst", "after the refused renames");
    expect_listing(fs, "/ns/rd/src", src_left, 2);
    /* Into its own subtree: EINVAL. */
    CHECK_ERR(benchfs_rename(fs, "/ns/rd/emptydst", "/ns/rd/emptydst/l1a/inside"), EINVAL);
    check_tree(fs, "/ns/rd/emptydst", "after the refused rename into itself");

    /* The moved tree stays fully usable: new entries, removal. */
    CHECK_OK(put_file(fs, "/ns/rd/emptydst/l1a/l2/l3/new", "n", 1, 0644));
    CHECK_OK(benchfs_chmod(fs, "/ns/rd/emptydst/l1b", 0755));
    CHECK_OK(rm_rf(fs, "/ns/rd"));
    CHECK_ERR(benchfs_stat(fs, "/ns/rd", &st), ENOENT);
    free(buf);
}

/* ---- non-empty directories whose only entry lives on another server ---- */

/* Make dir (mkdir) and return the server holding it, or -1. */
static int mkdir_where(benchfs_t *fs, const char *dir)
{
    long before[CLUSTER_MAX];
    counters(fs, "mkdir.count", before);
    CHECK_OK(benchfs_mkdir(fs, dir, 0755));
    return moved_server(fs, "mkdir.count", before);
}

/* Create one child of `dir` (a file, or a directory if `as_dir`) on a server other than
 * `avoid` (or on `avoid` itself if `same`); writes its path into `out`. 0 or -1. */
static int child_where(benchfs_t *fs, const char *dir, int as_dir, int avoid, int same, char *out,
                       size_t cap)
{
    const char *key = as_dir ? "mkdir.count" : "create.count";
    for (int k = 0; k < 200; k++) {
        snprintf(out, cap, "%s/%s%d", dir, as_dir ? "sub" : "child", k);
        long before[CLUSTER_MAX];
        counters(fs, key, before);
        if (as_dir ? benchfs_mkdir(fs, out, 0755) != 0 : put_file(fs, out, "c", 1, 0644) != 0)
            return -1;
        int where = moved_server(fs, key, before);
        if (where < 0)
            return -1;
        if ((where == avoid) == same)
            return 0;
        if ((as_dir ? benchfs_rmdir(fs, out) : benchfs_unlink(fs, out)) != 0)
            return -1;
    }
    return -1;
}

static void test_not_empty(benchfs_t *fs)
{
    CHECK_OK(benchfs_mkdir(fs, "/ns/ne", 0755));
    CHECK_OK(benchfs_mkdir(fs, "/ns/ne/other", 0755));
    benchfs_stat_t st;
    for (int as_dir = 0; as_dir <= 1; as_dir++) {
        for (int same = 0; same <= 1; same++) {
            if (nsrv == 1 && !same)
                continue; /* one server: every entry is on the directory's server */
            char dir[64], child[128];
            snprintf(dir, sizeof dir, "/ns/ne/d%d%d", as_dir, same);
            int where = mkdir_where(fs, dir);
            CHECK(where >= 0);
            int rc = child_where(fs, dir, as_dir, where, same, child, sizeof child);
            CHECK(rc == 0);
            if (rc != 0)
                continue;
            int before = test_failures;
            CHECK_ERR(benchfs_rmdir(fs, dir), ENOTEMPTY);
            CHECK_ERR(benchfs_rename(fs, "/ns/ne/other", dir), ENOTEMPTY);
            CHECK_OK(benchfs_stat(fs, child, &st));
            CHECK_OK(benchfs_stat(fs, "/ns/ne/other", &st));
            struct name_list l;
            CHECK_OK(list_dir(fs, dir, &l));
            CHECK(l.n == 1);
            free(l.v);
            CHECK_OK(as_dir ? benchfs_rmdir(fs, child) : benchfs_unlink(fs, child));
            CHECK_OK(benchfs_rmdir(fs, dir));
            CHECK_ERR(benchfs_stat(fs, dir, &st), ENOENT);
            if (test_failures != before)
                fprintf(stderr, "  ... directory on server %d, its only %s %s on %s server\n",
                        where, as_dir ? "subdirectory" : "file", child,
                        same ? "the same" : "another");
        }
    }
    CHECK_OK(rm_rf(fs, "/ns/ne"));
}

/* ---- mkdir -p and deep trees ---- */

static void test_deep(benchfs_t *fs)
{
    enum { DEPTH = 40 };
    char p[1024] = "/ns/deep";
    size_t len = strlen(p);
    for (int i = 0; i < DEPTH; i++)
        len += (size_t)snprintf(p + len, sizeof p - len, "/l%02d", i);
    CHECK_OK(mkdir_p(fs, p, 0755));
    CHECK_OK(mkdir_p(fs, p, 0755)); /* idempotent */
    char f[1100];
    snprintf(f, sizeof f, "%s/leaf", p);
    CHECK_OK(put_file(fs, f, "leaf", 4, 0644));
    CHECK_ERR(benchfs_mkdir(fs, p, 0755), EEXIST);
    errno = 0;
    snprintf(f, sizeof f, "%s/leaf/below", p);
    CHECK(mkdir_p(fs, f, 0755) == -1 && errno == ENOTDIR);

    /* Every level is a directory listing exactly the next one; none may be removed. */
    char q[1024] = "/ns/deep";
    for (int i = 0; i <= DEPTH; i++) {
        benchfs_stat_t st;
        CHECK_OK(benchfs_stat(fs, q, &st));
        CHECK(S_ISDIR(st.mode));
        char next[8];
        if (i < DEPTH)
            snprintf(next, sizeof next, "l%02d", i);
        else
            snprintf(next, sizeof next, "leaf");
        const char *names[] = {next};
        expect_listing(fs, q, names, 1);
        CHECK_ERR(benchfs_rmdir(fs, q), ENOTEMPTY);
        size_t ql = strlen(q);
        snprintf(q + ql, sizeof q - ql, "/%s", next);
    }

    /* The whole chain moves as one. */
    CHECK_OK(benchfs_rename(fs, "/ns/deep/l00", "/ns/deep/m00"));
    snprintf(f, sizeof f, "/ns/deep/m00%s/leaf", p + strlen("/ns/deep/l00"));
    CHECK(file_equals(fs, f, (const uint8_t *)"leaf", 4));
    snprintf(f, sizeof f, "%s/leaf", p);
    benchfs_stat_t st;
    CHECK_ERR(benchfs_stat(fs, f, &st), ENOENT);

    /* A wide tree by mkdir -p of every leaf: fan-out 3, depth 4. */
    int dirs = 0, files = 0;
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            for (int c = 0; c < 3; c++)
                for (int d = 0; d < 3; d++) {
                    char leaf[128], file[160];
                    snprintf(leaf, sizeof leaf, "/ns/wide/a%d/b%d/c%d/d%d", a, b, c, d);
                    CHECK_OK(mkdir_p(fs, leaf, 0755));
                    snprintf(file, sizeof file, "%s/file", leaf);
                    CHECK_OK(put_file(fs, file, leaf, strlen(leaf), 0644));
                }
    /* Walk it back: 3 + 9 + 27 + 81 directories, 81 files, each with its own path inside. */
    char stack[64][512];
    int sp = 0;
    snprintf(stack[sp++], sizeof stack[0], "/ns/wide");
    while (sp > 0) {
        char dir[512];
        snprintf(dir, sizeof dir, "%s", stack[--sp]);
        struct name_list l;
        int listed = list_dir(fs, dir, &l);
        CHECK(listed == 0);
        if (listed != 0)
            continue;
        for (size_t i = 0; i < l.n; i++) {
            char child[1024];
            snprintf(child, sizeof child, "%s/%s", dir, l.v[i].name);
            if (S_ISDIR(l.v[i].mode)) {
                dirs++;
                size_t cl = strlen(child);
                if (sp < 64 && cl < sizeof stack[0])
                    memcpy(stack[sp++], child, cl + 1);
            } else {
                files++;
                CHECK(strcmp(l.v[i].name, "file") == 0);
                CHECK(file_equals(fs, child, (const uint8_t *)dir, strlen(dir)));
            }
        }
        free(l.v);
    }
    CHECK(dirs == 3 + 9 + 27 + 81);
    CHECK(files == 81);
    CHECK_OK(rm_rf(fs, "/ns/wide"));
    CHECK_OK(rm_rf(fs, "/ns/deep"));
    CHECK_ERR(benchfs_stat(fs, "/ns/wide", &st), ENOENT);
    CHECK_ERR(benchfs_stat(fs, "/ns/deep", &st), ENOENT);
}

int main(int argc, char **argv)
{
    nsrv = argc > 1 ? atoi(argv[1]) : 2;
    umask(022);
    struct cluster c;
    cluster_start(&c, nsrv, NULL);
    benchfs_t *fs = cluster_client(&c, 5000);
    benchfs_options_t o = {.registry = c.registry, .nservers = nsrv, .wait_ms = 20000,
                           .rpc_timeout_ms = 5000, .chunk_size = SMALL_CHUNK};
    benchfs_t *fs64 = benchfs_init_opts(&o);
    CHECK(fs64 != NULL);
    if (!fs64) {
        cluster_stop(&c);
        return test_finish("namespace");
    }
    CHECK_OK(benchfs_mkdir(fs, "/ns", 0755));
    double t0 = now_s();
    test_big_dir(fs);
    double t1 = now_s();
    test_rename_file(fs, fs64);
    test_rename_dir(fs, fs64);
    double t2 = now_s();
    test_not_empty(fs);
    test_deep(fs);
    double t3 = now_s();
    printf("timings: big dir %.2f s, renames %.2f s, rest %.2f s\n", t1 - t0, t2 - t1, t3 - t2);
    CHECK_OK(benchfs_rmdir(fs, "/ns"));
    CHECK_OK(benchfs_term(fs64));
    CHECK_OK(benchfs_term(fs));
    cluster_stop(&c);
    return test_finish("namespace");
}
