/* SPDX-License-Identifier: BSD-3-Clause */
/* API conformance: every function of benchfs.h, and every errno of SPEC §4 that a single
 * healthy cluster can produce (ENOSPC, EIO and ETIMEDOUT/EHOSTDOWN belong to other suites).
 *
 * Usage: test_conformance NSERVERS
 *
 * Permission checks (EACCES/EPERM) need a caller that is not root, because root bypasses the
 * permission bits. When the test runs as root, a child forked before any BenchFS context exists
 * drops to nobody (65534) and connects its own client; otherwise the same checks run directly
 * against files this (unprivileged) user made inaccessible to itself. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cluster.h"
#include "listing.h"

#define NOBODY 65534u
#define SMALL_CHUNK 65536u

/* -1 with errno e1 or e2 (where POSIX allows either). */
#define CHECK_ERR2(expr, e1, e2)                                                                 \
    do {                                                                                         \
        errno = 0;                                                                               \
        long rc2_ = (long)(expr);                                                                \
        if (rc2_ != -1 || (errno != (e1) && errno != (e2))) {                                    \
            fprintf(stderr, "FAIL %s:%d: %s returned %ld errno %d (%s), expected -1/%s or %s\n", \
                    __FILE__, __LINE__, #expr, rc2_, errno, strerror(errno), #e1, #e2);          \
            test_failures++;                                                                     \
        }                                                                                        \
    } while (0)

/* opendir must fail with NULL and errno e. */
#define CHECK_OPENDIR_ERR(fs, path, e)                                                           \
    do {                                                                                         \
        errno = 0;                                                                               \
        benchfs_dir_t *d_ = benchfs_opendir((fs), (path));                                       \
        int en_ = errno;                                                                         \
        if (d_ != NULL || en_ != (e)) {                                                          \
            fprintf(stderr, "FAIL %s:%d: opendir(%s) gave %p errno %d (%s), expected NULL/%s\n", \
                    __FILE__, __LINE__, #path, (void *)d_, en_, strerror(en_), #e);              \
            test_failures++;                                                                     \
            if (d_)                                                                              \
                benchfs_closedir(d_);                                                            \
        }                                                                                        \
    } while (0)

/* Say which case a shared helper was running when it failed. */
static void context_note(int before, const char *what)
{
    if (test_failures != before)
        fprintf(stderr, "  ... the failure(s) above happened in: %s\n", what);
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

static int all_zero(const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return 0;
    return 1;
}

static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* Create (or truncate) `path` with `len` bytes of `data`. Returns 0 or -1. */
static int put_file(benchfs_t *fs, const char *path, const void *data, size_t len, mode_t mode)
{
    int fd = benchfs_open(fs, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
    if (fd < 0)
        return -1;
    ssize_t n = len ? benchfs_write(fs, fd, data, len) : 0;
    int rc = benchfs_close(fs, fd);
    return n == (ssize_t)len && rc == 0 ? 0 : -1;
}

/* Read the whole file into buf (capacity cap). Returns the length or -1. */
static ssize_t get_file(benchfs_t *fs, const char *path, void *buf, size_t cap)
{
    int fd = benchfs_open(fs, path, O_RDONLY, 0);
    if (fd < 0)
        return -1;
    size_t got = 0;
    for (;;) {
        ssize_t n = benchfs_read(fs, fd, (uint8_t *)buf + got, cap - got);
        if (n < 0) {
            benchfs_close(fs, fd);
            return -1;
        }
        if (n == 0 || got + (size_t)n == cap) {
            got += (size_t)n;
            break;
        }
        got += (size_t)n;
    }
    benchfs_close(fs, fd);
    return (ssize_t)got;
}

/* ---- listing helpers ---- */


/* Remove a whole tree (as the caller; failures are reported by the caller's checks). */
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
        snprintf(child, sizeof child, "%s/%s", strcmp(path, "/") ? path : "", l.v[i].name);
        if (rm_rf(fs, child) != 0)
            rc = -1;
    }
    free(l.v);
    if (strcmp(path, "/") != 0 && benchfs_rmdir(fs, path) != 0)
        rc = -1;
    return rc;
}

static int count_cb(const benchfs_dirent_t *e, void *arg)
{
    (void)e;
    (*(int *)arg)++;
    return 0;
}

/* ---- lifecycle, version, errors, cluster calls ---- */

static void *strerror_thread(void *arg)
{
    const char *needle = arg;
    const char *msg = benchfs_strerror();
    return (void *)(uintptr_t)(msg != NULL && strstr(msg, needle) == NULL);
}

static void test_lifecycle(struct cluster *c, benchfs_t *fs)
{
    char expect[64];
    snprintf(expect, sizeof expect, "%d.%d.%d", BENCHFS_VERSION_MAJOR, BENCHFS_VERSION_MINOR,
             BENCHFS_VERSION_PATCH);
    const char *v = benchfs_version();
    CHECK(v != NULL && v[0] != '\0');
    CHECK(v && strcmp(v, expect) == 0);

    CHECK(benchfs_nservers(fs) == c->n);

    /* benchfs_init with only a registry: the server count comes from the registry. */
    benchfs_t *plain = benchfs_init(c->registry);
    CHECK(plain != NULL);
    if (plain) {
        CHECK(benchfs_nservers(plain) == c->n);
        benchfs_stat_t st;
        CHECK_OK(benchfs_stat(plain, "/", &st));
        CHECK(S_ISDIR(st.mode));
        CHECK_OK(benchfs_term(plain));
    }
    CHECK_ERR(benchfs_term(NULL), EINVAL);

    /* A chunk size outside [MIN, MAX] is refused. */
    benchfs_options_t bad = {.registry = c->registry, .nservers = c->n, .chunk_size = 100};
    errno = 0;
    benchfs_t *b = benchfs_init_opts(&bad);
    CHECK(b == NULL && errno == EINVAL);
    if (b)
        benchfs_term(b);
    bad.chunk_size = BENCHFS_MAX_CHUNK_SIZE + 1;
    errno = 0;
    b = benchfs_init_opts(&bad);
    CHECK(b == NULL && errno == EINVAL);
    if (b)
        benchfs_term(b);

    /* A registry that never fills: a bounded wait, then NULL with errno set. */
    char missing[400];
    snprintf(missing, sizeof missing, "%s/no-such-registry", c->root);
    benchfs_options_t none = {.registry = missing, .nservers = 1, .wait_ms = 300};
    int64_t t0 = wall_ns();
    errno = 0;
    b = benchfs_init_opts(&none);
    CHECK(b == NULL && errno != 0);
    CHECK(wall_ns() - t0 < 10ll * 1000000000);
    if (b)
        benchfs_term(b);

    /* strerror: after a failure it names the path; it belongs to the calling thread. */
    benchfs_stat_t st;
    CHECK_ERR(benchfs_stat(fs, "/no-such-file-xyzzy", &st), ENOENT);
    const char *msg = benchfs_strerror();
    CHECK(msg != NULL);
    CHECK(msg && strstr(msg, "no-such-file-xyzzy") != NULL);
    pthread_t th;
    void *clean = NULL;
    CHECK(pthread_create(&th, NULL, strerror_thread, (void *)"xyzzy") == 0);
    pthread_join(th, &clean);
    CHECK(clean != NULL); /* another thread does not see this thread's error */

    /* Server statistics: the text counters of every server, after lookups reached them all
     * (256 distinct paths leave no server of a 150-vnode ring without one). */
    for (int i = 0; i < 256; i++) {
        char p[64];
        snprintf(p, sizeof p, "/stats-probe-%d", i);
        CHECK_ERR(benchfs_stat(fs, p, &st), ENOENT);
    }
    char *buf = malloc(65536);
    for (int s = 0; s < c->n; s++) {
        ssize_t n = benchfs_server_stats(fs, s, buf, 65536);
        CHECK(n > 0);
        if (n > 0) {
            CHECK((size_t)n == strlen(buf));
            CHECK(strstr(buf, "lookup.count") != NULL);
        }
    }
    char small[10];
    ssize_t n = benchfs_server_stats(fs, 0, small, sizeof small);
    CHECK(n == (ssize_t)sizeof small - 1 && small[sizeof small - 1] == '\0');
    CHECK(benchfs_server_stats(fs, 0, buf, 65536) > 0);
    CHECK(n > 0 && strncmp(small, buf, (size_t)n) == 0);
    CHECK_ERR(benchfs_server_stats(fs, -1, buf, 65536), EINVAL);
    CHECK_ERR(benchfs_server_stats(fs, c->n, buf, 65536), EINVAL);
    CHECK_ERR(benchfs_server_stats(fs, 0, buf, 0), EINVAL);
    free(buf);

    /* statfs: the sum over all servers. */
    benchfs_statfs_t sf;
    CHECK_OK(benchfs_statfs(fs, &sf));
    CHECK(sf.total_bytes > 0);
    CHECK(sf.total_bytes >= sf.free_bytes);
    CHECK(sf.used_bytes <= sf.total_bytes);
    CHECK(sf.nservers == (uint32_t)c->n);
    CHECK(sf.nservers_up == sf.nservers);
    CHECK_ERR2(benchfs_statfs(fs, NULL), EINVAL, EFAULT);
}

/* ---- paths: validation and normalisation ---- */

static void bad_path_everywhere(benchfs_t *fs, const char *p, int e, const char *what)
{
    int before = test_failures;
    benchfs_stat_t st;
    int cnt = 0;
    CHECK_ERR(benchfs_open(fs, p, O_RDONLY, 0), e);
    CHECK_ERR(benchfs_open(fs, p, O_CREAT | O_RDWR, 0644), e);
    CHECK_ERR(benchfs_create(fs, p, 0644), e);
    CHECK_ERR(benchfs_stat(fs, p, &st), e);
    CHECK_ERR(benchfs_unlink(fs, p), e);
    CHECK_ERR(benchfs_mkdir(fs, p, 0755), e);
    CHECK_ERR(benchfs_rmdir(fs, p), e);
    CHECK_ERR(benchfs_rename(fs, p, "/conf/path/target"), e);
    CHECK_ERR(benchfs_rename(fs, "/conf/path/exists", p), e);
    CHECK_ERR(benchfs_truncate(fs, p, 0), e);
    CHECK_ERR(benchfs_access(fs, p, F_OK), e);
    CHECK_ERR(benchfs_chmod(fs, p, 0644), e);
    CHECK_ERR(benchfs_chown(fs, p, (uid_t)-1, (gid_t)-1), e);
    CHECK_OPENDIR_ERR(fs, p, e);
    CHECK_ERR(benchfs_readdir_cb(fs, p, count_cb, &cnt), e);
    CHECK(cnt == 0);
    /* The failed rename left its source alone. */
    CHECK_OK(benchfs_stat(fs, "/conf/path/exists", &st));
    context_note(before, what);
}

static void test_paths(benchfs_t *fs)
{
    CHECK_OK(benchfs_mkdir(fs, "/conf/path", 0755));
    CHECK_OK(put_file(fs, "/conf/path/exists", "x", 1, 0644));

    bad_path_everywhere(fs, NULL, EINVAL, "NULL path");
    bad_path_everywhere(fs, "", ENOENT, "empty path"); /* POSIX: ENOENT */
    bad_path_everywhere(fs, "conf/path/exists", EINVAL, "relative path");
    bad_path_everywhere(fs, "./x", EINVAL, "relative path ./x");

    /* Names: 255 bytes are fine, 256 are too long. */
    char name255[256], name256[257];
    memset(name255, 'n', 255);
    name255[255] = '\0';
    memset(name256, 'm', 256);
    name256[256] = '\0';
    char p[8192];
    snprintf(p, sizeof p, "/conf/path/%s", name256);
    bad_path_everywhere(fs, p, ENAMETOOLONG, "256-byte name");
    snprintf(p, sizeof p, "/conf/%s/x", name256); /* a long name in the middle */
    bad_path_everywhere(fs, p, ENAMETOOLONG, "256-byte directory name");
    snprintf(p, sizeof p, "/conf/path/%s", name255);
    CHECK_OK(put_file(fs, p, "255", 3, 0644));
    benchfs_stat_t st;
    CHECK_OK(benchfs_stat(fs, p, &st));
    struct name_list l;
    CHECK_OK(list_dir(fs, "/conf/path", &l));
    CHECK(find_name(&l, name255) != NULL);
    free(l.v);
    CHECK_OK(benchfs_unlink(fs, p));

    /* Whole paths: 4095 bytes are fine, 4096 are too long (every name within 255). The tree:
     * 15 directories of 255-byte names (15 * 256 = 3840 bytes), then a 254-byte file name. */
    char deep[4200] = "";
    size_t len = 0;
    char comp[256];
    for (int i = 0; i < 15; i++) {
        memset(comp, 'a' + i, 255);
        comp[255] = '\0';
        len += (size_t)snprintf(deep + len, sizeof deep - len, "/%s", comp);
        CHECK_OK(benchfs_mkdir(fs, deep, 0755));
    }
    CHECK(len == 3840);
    char full[4600];
    memset(comp, 'z', 254);
    comp[254] = '\0';
    snprintf(full, sizeof full, "%s/%s", deep, comp);
    CHECK(strlen(full) == 4095);
    CHECK_OK(put_file(fs, full, "deep", 4, 0644));
    char back[8];
    CHECK(get_file(fs, full, back, sizeof back) == 4 && memcmp(back, "deep", 4) == 0);
    CHECK_OK(benchfs_stat(fs, full, &st));
    memset(comp, 'z', 255);
    comp[255] = '\0';
    snprintf(full, sizeof full, "%s/%s", deep, comp);
    CHECK(strlen(full) == 4096);
    bad_path_everywhere(fs, full, ENAMETOOLONG, "4096-byte path");
    /* Far too long, made of short names. */
    char huge[10000];
    len = 0;
    while (len < 9000)
        len += (size_t)snprintf(huge + len, sizeof huge - len, "/abcdefgh");
    bad_path_everywhere(fs, huge, ENAMETOOLONG, "9000-byte path of short names");
    /* The limit is on the path given: one that would normalise to something short is still
     * too long as written. */
    len = (size_t)snprintf(huge, sizeof huge, "/conf/path/exists");
    while (len < 4200)
        len += (size_t)snprintf(huge + len, sizeof huge - len, "/.");
    CHECK_ERR(benchfs_stat(fs, huge, &st), ENAMETOOLONG);
    /* Remove the deep tree from its top. */
    memset(comp, 'a', 255);
    comp[255] = '\0';
    snprintf(p, sizeof p, "/%s", comp);
    CHECK_OK(rm_rf(fs, p));
    CHECK_ERR(benchfs_stat(fs, p, &st), ENOENT);

    /* Normalisation: "//", ".", ".." and a trailing "/" name the same entry. */
    CHECK_OK(benchfs_mkdir(fs, "/conf/path/a", 0755));
    CHECK_OK(benchfs_mkdir(fs, "/conf/path/a/b", 0755));
    CHECK_OK(put_file(fs, "//conf/path//a/./b/../c", "norm", 4, 0644));
    benchfs_stat_t s1, s2;
    CHECK_OK(benchfs_stat(fs, "/conf/path/a/c", &s1));
    CHECK(s1.size == 4);
    CHECK_ERR(benchfs_stat(fs, "/conf/path/a/b/c", &s2), ENOENT);
    CHECK_OK(benchfs_stat(fs, "/conf/path/a/b/../c", &s2));
    CHECK(s1.ino == s2.ino);
    CHECK_OK(benchfs_stat(fs, "/conf/./path/a/b/./../../a/c", &s2));
    CHECK(s1.ino == s2.ino);
    CHECK(get_file(fs, "/conf/path/a/b/../c", back, sizeof back) == 4 &&
          memcmp(back, "norm", 4) == 0);
    CHECK_OK(benchfs_stat(fs, "/conf/path/a/b/", &s2));
    CHECK(S_ISDIR(s2.mode));
    /* ".." at the root stays at the root. */
    CHECK_OK(benchfs_stat(fs, "/..", &s2));
    CHECK(S_ISDIR(s2.mode));
    CHECK_OK(benchfs_stat(fs, "/../../conf/path/a/c", &s2));
    CHECK(s1.ino == s2.ino);
    CHECK_OK(benchfs_stat(fs, "//", &s2));
    CHECK(S_ISDIR(s2.mode));
    CHECK_OK(list_dir(fs, "/conf/path/a/b/..", &l));
    CHECK(l.n == 2 && find_name(&l, "b") && find_name(&l, "c"));
    free(l.v);
    CHECK_OK(benchfs_rename(fs, "/conf/path/a/./c", "/conf/path/a/b/../d"));
    CHECK_OK(benchfs_stat(fs, "/conf/path/a/d", &s2));
    CHECK(s1.ino == s2.ino);
    CHECK_OK(benchfs_unlink(fs, "/conf/path//a/d"));
    CHECK_OK(benchfs_rmdir(fs, "/conf/path/a/b/."));
    CHECK_ERR(benchfs_stat(fs, "/conf/path/a/b", &s2), ENOENT);
    CHECK_OK(rm_rf(fs, "/conf/path"));
}

/* ---- open ---- */

static void test_open(benchfs_t *fs)
{
    benchfs_stat_t st;
    char buf[64];
    CHECK_OK(benchfs_mkdir(fs, "/conf/open", 0755));

    CHECK_ERR(benchfs_open(fs, "/conf/open/missing", O_RDONLY, 0), ENOENT);
    CHECK_ERR(benchfs_open(fs, "/conf/open/missing", O_RDWR, 0), ENOENT);
    CHECK_ERR(benchfs_open(fs, "/conf/open/missing", O_WRONLY | O_TRUNC, 0), ENOENT);
    CHECK_ERR(benchfs_open(fs, "/conf/nodir/f", O_CREAT | O_WRONLY, 0644), ENOENT);
    CHECK_ERR(benchfs_create(fs, "/conf/nodir/f", 0644), ENOENT);
    CHECK_ERR(benchfs_open(fs, "/conf/nodir/deeper/f", O_CREAT | O_WRONLY, 0644), ENOENT);

    /* O_CREAT makes a regular file with the given permission bits. */
    int fd = benchfs_open(fs, "/conf/open/f", O_CREAT | O_RDWR, 0640);
    CHECK(fd >= 0);
    CHECK(benchfs_write(fs, fd, "hello", 5) == 5);
    CHECK_OK(benchfs_close(fs, fd));
    CHECK_OK(benchfs_stat(fs, "/conf/open/f", &st));
    CHECK(st.mode == (S_IFREG | 0640));
    CHECK(st.size == 5);

    /* Under a regular file: ENOTDIR. */
    CHECK_ERR(benchfs_open(fs, "/conf/open/f/x", O_CREAT | O_WRONLY, 0644), ENOTDIR);
    CHECK_ERR(benchfs_create(fs, "/conf/open/f/x", 0644), ENOTDIR);
    CHECK_ERR(benchfs_mkdir(fs, "/conf/open/f/x", 0755), ENOTDIR);

    /* O_EXCL: EEXIST on an existing file or directory; the file is untouched. */
    CHECK_ERR(benchfs_open(fs, "/conf/open/f", O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST);
    CHECK_ERR(benchfs_open(fs, "/conf/open/f", O_CREAT | O_EXCL | O_WRONLY | O_TRUNC, 0644),
              EEXIST);
    CHECK_ERR(benchfs_open(fs, "/conf/open", O_CREAT | O_EXCL | O_RDONLY, 0644), EEXIST);
    CHECK_OK(benchfs_stat(fs, "/conf/open/f", &st));
    CHECK(st.size == 5);
    fd = benchfs_open(fs, "/conf/open/g", O_CREAT | O_EXCL | O_WRONLY, 0600);
    CHECK(fd >= 0);
    CHECK_OK(benchfs_close(fs, fd));
    CHECK_OK(benchfs_stat(fs, "/conf/open/g", &st));
    CHECK(st.mode == (S_IFREG | 0600) && st.size == 0);

    /* O_CREAT without O_EXCL on an existing file opens it: no truncation, mode unchanged. */
    fd = benchfs_open(fs, "/conf/open/f", O_CREAT | O_RDWR, 0777);
    CHECK(fd >= 0);
    CHECK(benchfs_read(fs, fd, buf, sizeof buf) == 5 && memcmp(buf, "hello", 5) == 0);
    CHECK_OK(benchfs_close(fs, fd));
    CHECK_OK(benchfs_stat(fs, "/conf/open/f", &st));
    CHECK(st.mode == (S_IFREG | 0640) && st.size == 5);

    /* O_TRUNC empties the file. */
    fd = benchfs_open(fs, "/conf/open/f", O_WRONLY | O_TRUNC, 0);
    CHECK(fd >= 0);
    CHECK_OK(benchfs_fstat(fs, fd, &st));
    CHECK(st.size == 0);
    CHECK_OK(benchfs_close(fs, fd));
    CHECK_OK(benchfs_stat(fs, "/conf/open/f", &st));
    CHECK(st.size == 0);
    CHECK(get_file(fs, "/conf/open/f", buf, sizeof buf) == 0);
    /* ... and the old bytes do not come back when the file grows again. */
    CHECK_OK(put_file(fs, "/conf/open/f", "0123456789", 10, 0644));
    fd = benchfs_open(fs, "/conf/open/f", O_RDWR | O_TRUNC, 0);
    CHECK(fd >= 0);
    CHECK(benchfs_pwrite(fs, fd, "Z", 1, 9) == 1);
    memset(buf, 'q', sizeof buf);
    CHECK(benchfs_pread(fs, fd, buf, sizeof buf, 0) == 10);
    CHECK(all_zero((uint8_t *)buf, 9) && buf[9] == 'Z');
    CHECK_OK(benchfs_close(fs, fd));

    /* creat(): O_CREAT|O_WRONLY|O_TRUNC. */
    CHECK_OK(put_file(fs, "/conf/open/c", "abcdef", 6, 0644));
    fd = benchfs_create(fs, "/conf/open/c", 0600);
    CHECK(fd >= 0);
    CHECK_ERR(benchfs_read(fs, fd, buf, 1), EBADF); /* write-only */
    CHECK(benchfs_write(fs, fd, "xy", 2) == 2);
    CHECK_OK(benchfs_close(fs, fd));
    CHECK_OK(benchfs_stat(fs, "/conf/open/c", &st));
    CHECK(st.size == 2 && st.mode == (S_IFREG | 0644)); /* existed: mode unchanged */
    fd = benchfs_create(fs, "/conf/open/c2", 0604);
    CHECK(fd >= 0);
    CHECK_OK(benchfs_close(fs, fd));
    CHECK_OK(benchfs_stat(fs, "/conf/open/c2", &st));
    CHECK(st.mode == (S_IFREG | 0604) && st.size == 0);

    /* O_APPEND: every write goes to the end, wherever the offset was. */
    CHECK_OK(put_file(fs, "/conf/open/app", "abc", 3, 0644));
    fd = benchfs_open(fs, "/conf/open/app", O_WRONLY | O_APPEND, 0);
    CHECK(fd >= 0);
    CHECK(benchfs_lseek(fs, fd, 0, SEEK_SET) == 0);
    CHECK(benchfs_write(fs, fd, "def", 3) == 3);
    CHECK(benchfs_lseek(fs, fd, 0, SEEK_CUR) == 6);
    CHECK(benchfs_lseek(fs, fd, 1, SEEK_SET) == 1);
    CHECK(benchfs_write(fs, fd, "gh", 2) == 2);
    CHECK_OK(benchfs_close(fs, fd));
    CHECK(get_file(fs, "/conf/open/app", buf, sizeof buf) == 8 && memcmp(buf, "abcdefgh", 8) == 0);
    fd = benchfs_open(fs, "/conf/open/app", O_RDWR | O_APPEND | O_CREAT, 0644);
    CHECK(fd >= 0);
    CHECK(benchfs_write(fs, fd, "!", 1) == 1);
    CHECK(benchfs_pread(fs, fd, buf, sizeof buf, 0) == 9 && memcmp(buf, "abcdefgh!", 9) == 0);
    CHECK_OK(benchfs_close(fs, fd));

    /* Two appending descriptors of one context interleave, never overwrite each other, and
     * a reader of the same context sees their bytes before they are closed. */
    CHECK_OK(put_file(fs, "/conf/open/app2", "abc", 3, 0644));
    int ra = benchfs_open(fs, "/conf/open/app2", O_RDONLY, 0);
    int wa = benchfs_open(fs, "/conf/open/app2", O_WRONLY | O_APPEND, 0);
    int wb = benchfs_open(fs, "/conf/open/app2", O_WRONLY | O_APPEND, 0);
    CHECK(ra >= 0 && wa >= 0 && wb >= 0);
    CHECK(benchfs_write(fs, wa, "111", 3) == 3);
    CHECK(benchfs_write(fs, wb, "222", 3) == 3);
    CHECK(benchfs_write(fs, wa, "333", 3) == 3);
    memset(buf, 0, sizeof buf);
    CHECK(benchfs_pread(fs, ra, buf, sizeof buf, 0) == 12 && memcmp(buf, "abc111222333", 12) == 0);
    CHECK_OK(benchfs_close(fs, wa));
    CHECK_OK(benchfs_close(fs, wb));
    CHECK_OK(benchfs_close(fs, ra));
    memset(buf, 0, sizeof buf);
    CHECK(get_file(fs, "/conf/open/app2", buf, sizeof buf) == 12 &&
          memcmp(buf, "abc111222333", 12) == 0);

    /* Directories: readable, never writable. */
    CHECK_ERR(benchfs_open(fs, "/conf/open", O_WRONLY, 0), EISDIR);
    CHECK_ERR(benchfs_open(fs, "/conf/open", O_RDWR, 0), EISDIR);
    CHECK_ERR(benchfs_open(fs, "/conf/open", O_CREAT | O_RDWR, 0644), EISDIR);
    CHECK_ERR(benchfs_open(fs, "/conf/open", O_WRONLY | O_TRUNC, 0), EISDIR);
    CHECK_ERR(benchfs_create(fs, "/conf/open", 0644), EISDIR);
    CHECK_ERR(benchfs_open(fs, "/", O_WRONLY, 0), EISDIR);
    CHECK_ERR(benchfs_open(fs, "/", O_CREAT | O_WRONLY, 0644), EISDIR);
    fd = benchfs_open(fs, "/conf/open", O_RDONLY, 0);
    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK_ERR(benchfs_read(fs, fd, buf, sizeof buf), EISDIR);
        CHECK_ERR(benchfs_write(fs, fd, buf, 1), EBADF);
        CHECK_OK(benchfs_fstat(fs, fd, &st));
        CHECK(S_ISDIR(st.mode));
        CHECK_OK(benchfs_fsync(fs, fd));
        CHECK_OK(benchfs_close(fs, fd));
    }
    CHECK_OK(benchfs_stat(fs, "/conf/open", &st));
    CHECK(S_ISDIR(st.mode)); /* O_CREAT on it did not turn it into a file */

    /* Bad access mode. */
    CHECK_ERR(benchfs_open(fs, "/conf/open/f", O_WRONLY | O_RDWR, 0), EINVAL);

    /* Descriptors are reused only after close, and stay independent. */
    int a = benchfs_open(fs, "/conf/open/app", O_RDONLY, 0);
    int b = benchfs_open(fs, "/conf/open/app", O_RDONLY, 0);
    CHECK(a >= 0 && b >= 0 && a != b);
    CHECK(benchfs_read(fs, a, buf, 3) == 3 && memcmp(buf, "abc", 3) == 0);
    CHECK(benchfs_read(fs, b, buf, 2) == 2 && memcmp(buf, "ab", 2) == 0);
    CHECK(benchfs_read(fs, a, buf, 3) == 3 && memcmp(buf, "def", 3) == 0);
    CHECK_OK(benchfs_close(fs, a));
    CHECK_OK(benchfs_close(fs, b));

    CHECK_OK(rm_rf(fs, "/conf/open"));
}

/* ---- descriptors: EBADF everywhere ---- */

static void bad_fd_everywhere(benchfs_t *fs, int fd, const char *what)
{
    int before = test_failures;
    char buf[16] = "0123456789abcde";
    benchfs_stat_t st;
    CHECK_ERR(benchfs_read(fs, fd, buf, sizeof buf), EBADF);
    CHECK_ERR(benchfs_write(fs, fd, buf, sizeof buf), EBADF);
    CHECK_ERR(benchfs_pread(fs, fd, buf, sizeof buf, 0), EBADF);
    CHECK_ERR(benchfs_pwrite(fs, fd, buf, sizeof buf, 0), EBADF);
    CHECK_ERR(benchfs_lseek(fs, fd, 0, SEEK_SET), EBADF);
    CHECK_ERR(benchfs_fsync(fs, fd), EBADF);
    CHECK_ERR(benchfs_fstat(fs, fd, &st), EBADF);
    CHECK_ERR(benchfs_ftruncate(fs, fd, 0), EBADF);
    CHECK_ERR(benchfs_close(fs, fd), EBADF);
    context_note(before, what);
}

static void test_bad_fds(benchfs_t *fs)
{
    bad_fd_everywhere(fs, -1, "fd -1");
    bad_fd_everywhere(fs, 100000, "fd 100000");
    bad_fd_everywhere(fs, 0x7fffffff, "fd INT_MAX");
    CHECK_OK(benchfs_mkdir(fs, "/conf/fd", 0755));
    int fd = benchfs_open(fs, "/conf/fd/f", O_CREAT | O_RDWR, 0644);
    CHECK(fd >= 0);
    CHECK_OK(benchfs_close(fs, fd));
    bad_fd_everywhere(fs, fd, "closed fd");

    /* Access modes: write on O_RDONLY, read on O_WRONLY. */
    CHECK_OK(put_file(fs, "/conf/fd/data", "payload", 7, 0644));
    char buf[16];
    fd = benchfs_open(fs, "/conf/fd/data", O_RDONLY, 0);
    CHECK(fd >= 0);
    CHECK_ERR(benchfs_write(fs, fd, "x", 1), EBADF);
    CHECK_ERR(benchfs_pwrite(fs, fd, "x", 1, 0), EBADF);
    CHECK_ERR2(benchfs_ftruncate(fs, fd, 0), EBADF, EINVAL);
    CHECK(benchfs_read(fs, fd, buf, sizeof buf) == 7);
    CHECK_OK(benchfs_fsync(fs, fd));
    CHECK_OK(benchfs_close(fs, fd));
    fd = benchfs_open(fs, "/conf/fd/data", O_WRONLY, 0);
    CHECK(fd >= 0);
    CHECK_ERR(benchfs_read(fs, fd, buf, sizeof buf), EBADF);
    CHECK_ERR(benchfs_pread(fs, fd, buf, sizeof buf, 0), EBADF);
    CHECK_OK(benchfs_close(fs, fd));
    CHECK(get_file(fs, "/conf/fd/data", buf, sizeof buf) == 7 &&
          memcmp(buf, "payload", 7) == 0);
    CHECK_OK(rm_rf(fs, "/conf/fd"));
}

/* ---- reads, writes, offsets ---- */

static void test_io(benchfs_t *fs, benchfs_t *fs64)
{
    char buf[256];
    benchfs_stat_t st;
    CHECK_OK(benchfs_mkdir(fs, "/conf/io", 0755));

    /* Sequential read/write move the offset; lseek in all three ways. */
    int fd = benchfs_open(fs, "/conf/io/seq", O_CREAT | O_RDWR, 0644);
    CHECK(fd >= 0);
    CHECK(benchfs_write(fs, fd, "01234", 5) == 5);
    CHECK(benchfs_write(fs, fd, "56789", 5) == 5);
    CHECK(benchfs_write(fs, fd, buf, 0) == 0);
    CHECK(benchfs_lseek(fs, fd, 0, SEEK_CUR) == 10);
    CHECK(benchfs_lseek(fs, fd, 2, SEEK_SET) == 2);
    CHECK(benchfs_read(fs, fd, buf, 3) == 3 && memcmp(buf, "234", 3) == 0);
    CHECK(benchfs_lseek(fs, fd, 0, SEEK_CUR) == 5);
    CHECK(benchfs_lseek(fs, fd, 2, SEEK_CUR) == 7);
    CHECK(benchfs_read(fs, fd, buf, 1) == 1 && buf[0] == '7');
    CHECK(benchfs_lseek(fs, fd, -1, SEEK_END) == 9);
    CHECK(benchfs_read(fs, fd, buf, 5) == 1 && buf[0] == '9'); /* short read at EOF */
    CHECK(benchfs_read(fs, fd, buf, 5) == 0);                  /* then EOF */
    CHECK(benchfs_read(fs, fd, buf, 0) == 0);
    CHECK(benchfs_lseek(fs, fd, -3, SEEK_CUR) == 7);
    CHECK(benchfs_lseek(fs, fd, 0, SEEK_END) == 10);
    /* Bad offsets and whence leave the offset alone. */
    CHECK(benchfs_lseek(fs, fd, 4, SEEK_SET) == 4);
    CHECK_ERR(benchfs_lseek(fs, fd, -1, SEEK_SET), EINVAL);
    CHECK_ERR(benchfs_lseek(fs, fd, -5, SEEK_CUR), EINVAL);
    CHECK_ERR(benchfs_lseek(fs, fd, -11, SEEK_END), EINVAL);
    CHECK_ERR(benchfs_lseek(fs, fd, 0, 42), EINVAL);
    CHECK_ERR(benchfs_lseek(fs, fd, 0, -1), EINVAL);
    CHECK(benchfs_lseek(fs, fd, 0, SEEK_CUR) == 4);
    /* pread/pwrite do not move it. */
    CHECK(benchfs_pwrite(fs, fd, "AB", 2, 0) == 2);
    CHECK(benchfs_pread(fs, fd, buf, 4, 6) == 4 && memcmp(buf, "6789", 4) == 0);
    CHECK(benchfs_lseek(fs, fd, 0, SEEK_CUR) == 4);
    CHECK(benchfs_read(fs, fd, buf, 2) == 2 && memcmp(buf, "45", 2) == 0);
    CHECK_ERR(benchfs_pread(fs, fd, buf, 1, -1), EINVAL);
    CHECK_ERR(benchfs_pwrite(fs, fd, buf, 1, -1), EINVAL);
    /* Reads at and past EOF return 0. */
    CHECK(benchfs_pread(fs, fd, buf, 10, 10) == 0);
    CHECK(benchfs_pread(fs, fd, buf, 10, 1000000) == 0);
    CHECK(benchfs_pread(fs, fd, buf, 100, 8) == 2 && memcmp(buf, "89", 2) == 0);
    /* Seeking past the end and writing leaves a hole of zeros. */
    CHECK(benchfs_lseek(fs, fd, 20, SEEK_END) == 30);
    CHECK(benchfs_write(fs, fd, "X", 1) == 1);
    memset(buf, 'q', sizeof buf);
    CHECK(benchfs_pread(fs, fd, buf, sizeof buf, 0) == 31);
    CHECK(memcmp(buf, "AB23456789", 10) == 0 && all_zero((uint8_t *)buf + 10, 20) &&
          buf[30] == 'X');
    /* fstat sees what this descriptor wrote before close. */
    CHECK_OK(benchfs_fstat(fs, fd, &st));
    CHECK(st.size == 31);
    CHECK_OK(benchfs_close(fs, fd));
    CHECK_OK(benchfs_stat(fs, "/conf/io/seq", &st));
    CHECK(st.size == 31);

    /* Holes across chunks (64 KiB chunks): an unwritten chunk and the gap inside one. */
    size_t cs = SMALL_CHUNK, total = 3 * cs + 110;
    fd = benchfs_open(fs64, "/conf/io/holes", O_CREAT | O_RDWR, 0644);
    CHECK(fd >= 0);
    CHECK(benchfs_pwrite(fs64, fd, "A", 1, 0) == 1);
    CHECK(benchfs_pwrite(fs64, fd, "B", 1, 5000) == 1);
    CHECK(benchfs_pwrite(fs64, fd, "0123456789", 10, (off_t)(3 * cs + 100)) == 10);
    CHECK_OK(benchfs_close(fs64, fd));
    CHECK_OK(benchfs_stat(fs, "/conf/io/holes", &st));
    CHECK(st.size == total);
    CHECK(st.chunk_size == SMALL_CHUNK && st.blksize == SMALL_CHUNK);
    uint8_t *big = malloc(total + 100);
    memset(big, 0x77, total + 100);
    CHECK(get_file(fs, "/conf/io/holes", big, total + 100) == (ssize_t)total);
    CHECK(big[0] == 'A' && all_zero(big + 1, 4999) && big[5000] == 'B');
    CHECK(all_zero(big + 5001, 3 * cs + 100 - 5001));
    CHECK(memcmp(big + 3 * cs + 100, "0123456789", 10) == 0);
    free(big);

    /* A write across several chunk boundaries at an unaligned offset reads back intact,
     * through another client. */
    size_t len = 3 * cs + 777;
    uint8_t *data = malloc(len), *back = malloc(len + 10);
    pattern(data, len, 7);
    fd = benchfs_open(fs64, "/conf/io/multi", O_CREAT | O_WRONLY, 0644);
    CHECK(fd >= 0);
    CHECK(benchfs_pwrite(fs64, fd, data, len, 12345) == (ssize_t)len);
    CHECK_OK(benchfs_close(fs64, fd));
    fd = benchfs_open(fs, "/conf/io/multi", O_RDONLY, 0);
    CHECK(fd >= 0);
    memset(back, 0x55, len + 10);
    CHECK(benchfs_pread(fs, fd, back, len + 10, 12345) == (ssize_t)len);
    CHECK(memcmp(back, data, len) == 0);
    CHECK(benchfs_pread(fs, fd, back, 12345, 0) == 12345 && all_zero(back, 12345));
    CHECK_OK(benchfs_close(fs, fd));

    /* Far past the end: a sparse file of a TiB costs one chunk; limits of the offset type. */
    const off_t tib = (off_t)1 << 40;
    fd = benchfs_open(fs64, "/conf/io/sparse", O_CREAT | O_RDWR, 0644);
    CHECK(fd >= 0);
    CHECK(benchfs_pwrite(fs64, fd, "Q", 1, tib) == 1);
    CHECK_OK(benchfs_fstat(fs64, fd, &st));
    CHECK(st.size == (uint64_t)tib + 1);
    memset(buf, 0x77, sizeof buf);
    CHECK(benchfs_pread(fs64, fd, buf, 16, tib) == 1 && buf[0] == 'Q');
    memset(buf, 0x77, sizeof buf);
    CHECK(benchfs_pread(fs64, fd, buf, 100, tib / 2) == 100 && all_zero((uint8_t *)buf, 100));
    CHECK(benchfs_lseek(fs64, fd, 0, SEEK_END) == tib + 1);
    CHECK(benchfs_lseek(fs64, fd, INT64_MAX, SEEK_SET) == INT64_MAX);
    CHECK_ERR(benchfs_lseek(fs64, fd, 1, SEEK_CUR), EOVERFLOW);
    CHECK_ERR(benchfs_lseek(fs64, fd, INT64_MAX, SEEK_END), EOVERFLOW);
    CHECK_ERR(benchfs_pwrite(fs64, fd, "0123456789", 10, INT64_MAX - 5), EFBIG);
    CHECK_OK(benchfs_close(fs64, fd));
    CHECK_OK(benchfs_stat(fs, "/conf/io/sparse", &st));
    CHECK(st.size == (uint64_t)tib + 1);
    CHECK_OK(benchfs_truncate(fs, "/conf/io/sparse", tib));
    CHECK_OK(benchfs_truncate(fs, "/conf/io/sparse", tib + 1));
    fd = benchfs_open(fs, "/conf/io/sparse", O_RDONLY, 0);
    CHECK(fd >= 0);
    memset(buf, 0x77, sizeof buf);
    CHECK(benchfs_pread(fs, fd, buf, 16, tib) == 1 && buf[0] == 0);
    CHECK_OK(benchfs_close(fs, fd));
    CHECK_OK(benchfs_unlink(fs, "/conf/io/sparse"));

    /* fsync publishes the size (visible to another client before close). */
    fd = benchfs_open(fs, "/conf/io/sync", O_CREAT | O_WRONLY, 0644);
    CHECK(fd >= 0);
    CHECK(benchfs_write(fs, fd, data, 1000) == 1000);
    CHECK_OK(benchfs_fsync(fs, fd));
    CHECK_OK(benchfs_stat(fs64, "/conf/io/sync", &st));
    CHECK(st.size == 1000);
    CHECK_OK(benchfs_close(fs, fd));

    /* unlink frees the data on every server, and a new file of that name starts empty. */
    benchfs_statfs_t before, after;
    CHECK_OK(benchfs_statfs(fs, &before));
    benchfs_stat_t old;
    CHECK_OK(benchfs_stat(fs, "/conf/io/multi", &old));
    CHECK_OK(benchfs_unlink(fs, "/conf/io/multi"));
    CHECK_OK(benchfs_statfs(fs, &after));
    CHECK(before.used_bytes >= after.used_bytes + len);
    CHECK_ERR(benchfs_stat(fs, "/conf/io/multi", &st), ENOENT);
    CHECK_ERR(benchfs_unlink(fs, "/conf/io/multi"), ENOENT);
    fd = benchfs_open(fs64, "/conf/io/multi", O_CREAT | O_RDWR, 0644);
    CHECK(fd >= 0);
    CHECK(benchfs_pread(fs64, fd, back, len, 12345) == 0);
    CHECK_OK(benchfs_fstat(fs64, fd, &st));
    CHECK(st.size == 0 && st.ino != old.ino);
    CHECK(benchfs_pwrite(fs64, fd, "x", 1, (off_t)(2 * cs)) == 1);
    CHECK(benchfs_pread(fs64, fd, back, 2 * cs + 1, 0) == (ssize_t)(2 * cs + 1));
    CHECK(all_zero(back, 2 * cs) && back[2 * cs] == 'x');
    CHECK_OK(benchfs_close(fs64, fd));

    /* Two clients: close-to-open. */
    CHECK_OK(put_file(fs, "/conf/io/c2o", data, 5000, 0644));
    memset(back, 0, 5000);
    CHECK(get_file(fs64, "/conf/io/c2o", back, len) == 5000 && memcmp(back, data, 5000) == 0);
    fd = benchfs_open(fs64, "/conf/io/c2o", O_WRONLY | O_APPEND, 0);
    CHECK(fd >= 0);
    CHECK(benchfs_write(fs64, fd, "tail", 4) == 4);
    CHECK_OK(benchfs_close(fs64, fd));
    CHECK(get_file(fs, "/conf/io/c2o", back, len) == 5004 && memcmp(back + 5000, "tail", 4) == 0);

    free(data);
    free(back);
    CHECK_OK(rm_rf(fs, "/conf/io"));
}

/* ---- stat / fstat ---- */

static void test_stat(benchfs_t *fs)
{
    benchfs_stat_t st, fst, dst;
    int64_t t0 = wall_ns() - 5ll * 1000000000;
    CHECK_OK(benchfs_mkdir(fs, "/conf/stat", 0751));
    CHECK_OK(benchfs_stat(fs, "/conf/stat", &dst));
    CHECK(S_ISDIR(dst.mode) && (dst.mode & 07777) == 0751);
    CHECK(dst.uid == geteuid() && dst.gid == getegid());
    CHECK(dst.nlink >= 1);
    CHECK(dst.ino != 0);

    CHECK_OK(benchfs_stat(fs, "/", &st));
    CHECK(S_ISDIR(st.mode));

    int fd = benchfs_open(fs, "/conf/stat/f", O_CREAT | O_RDWR, 0640);
    CHECK(fd >= 0);
    uint8_t data[3000];
    pattern(data, sizeof data, 3);
    CHECK(benchfs_write(fs, fd, data, sizeof data) == (ssize_t)sizeof data);
    CHECK_OK(benchfs_fstat(fs, fd, &fst));
    CHECK_OK(benchfs_close(fs, fd));
    CHECK_OK(benchfs_stat(fs, "/conf/stat/f", &st));
    CHECK(S_ISREG(st.mode) && !S_ISDIR(st.mode));
    CHECK((st.mode & 07777) == 0640);
    CHECK(st.size == sizeof data && fst.size == sizeof data);
    CHECK(st.uid == geteuid() && st.gid == getegid());
    CHECK(st.nlink == 1);
    CHECK(st.ino != 0 && st.ino == fst.ino && st.ino != dst.ino);
    CHECK(st.chunk_size >= BENCHFS_MIN_CHUNK_SIZE && st.chunk_size <= BENCHFS_MAX_CHUNK_SIZE);
    CHECK(st.blksize == st.chunk_size);
    CHECK(st.blocks * 512 >= st.size);
    CHECK(fst.mode == st.mode && fst.uid == st.uid && fst.chunk_size == st.chunk_size);
    int64_t t1 = wall_ns() + 5ll * 1000000000;
    CHECK(st.mtime_ns >= t0 && st.mtime_ns <= t1);
    CHECK(st.ctime_ns >= t0 && st.ctime_ns <= t1);
    CHECK(st.atime_ns >= t0 && st.atime_ns <= t1);

    /* A later write moves mtime forward. */
    sleep_ms(20);
    fd = benchfs_open(fs, "/conf/stat/f", O_WRONLY, 0);
    CHECK(fd >= 0);
    CHECK(benchfs_pwrite(fs, fd, "x", 1, 10) == 1);
    CHECK_OK(benchfs_close(fs, fd));
    benchfs_stat_t st2;
    CHECK_OK(benchfs_stat(fs, "/conf/stat/f", &st2));
    CHECK(st2.mtime_ns > st.mtime_ns);
    CHECK(st2.ino == st.ino && st2.size == st.size);

    /* Inode numbers: distinct per file, stable across rename. */
    fd = benchfs_create(fs, "/conf/stat/g", 0644);
    CHECK(fd >= 0);
    CHECK_OK(benchfs_close(fs, fd));
    CHECK_OK(benchfs_stat(fs, "/conf/stat/g", &st2));
    CHECK(st2.ino != st.ino);
    CHECK_OK(benchfs_mkdir(fs, "/conf/stat/sub", 0755));
    CHECK_OK(benchfs_rename(fs, "/conf/stat/f", "/conf/stat/sub/renamed"));
    CHECK_OK(benchfs_stat(fs, "/conf/stat/sub/renamed", &st2));
    CHECK(st2.ino == st.ino && st2.size == st.size && st2.mode == st.mode);
    CHECK_ERR(benchfs_stat(fs, "/conf/stat/f", &st2), ENOENT);
    CHECK_OK(benchfs_rename(fs, "/conf/stat/sub", "/conf/stat/sub2"));
    CHECK_OK(benchfs_stat(fs, "/conf/stat/sub2/renamed", &st2));
    CHECK(st2.ino == st.ino);

    /* Missing entries and bad arguments. */
    CHECK_ERR(benchfs_stat(fs, "/conf/stat/missing", &st2), ENOENT);
    CHECK_ERR(benchfs_stat(fs, "/conf/nothing/missing", &st2), ENOENT);
    CHECK_ERR(benchfs_stat(fs, "/conf/stat/g/child", &st2), ENOTDIR);
    CHECK_ERR(benchfs_open(fs, "/conf/stat/g/child", O_RDONLY, 0), ENOTDIR);
    CHECK_ERR2(benchfs_stat(fs, "/conf/stat/g", NULL), EINVAL, EFAULT);
    fd = benchfs_open(fs, "/conf/stat/g", O_RDONLY, 0);
    CHECK(fd >= 0);
    CHECK_ERR2(benchfs_fstat(fs, fd, NULL), EINVAL, EFAULT);
    CHECK_OK(benchfs_close(fs, fd));
    CHECK_OK(rm_rf(fs, "/conf/stat"));
}

/* ---- truncate / ftruncate ---- */

static void test_truncate(benchfs_t *fs, benchfs_t *fs64)
{
    benchfs_stat_t st;
    size_t cs = SMALL_CHUNK, len = 3 * cs + 500;
    uint8_t *data = malloc(len), *back = malloc(len + 100);
    pattern(data, len, 11);
    CHECK_OK(benchfs_mkdir(fs, "/conf/trunc", 0755));

    /* Grow: zeros after the old end. */
    CHECK_OK(put_file(fs64, "/conf/trunc/t", data, 100, 0644));
    CHECK_OK(benchfs_truncate(fs, "/conf/trunc/t", 5000));
    CHECK_OK(benchfs_stat(fs, "/conf/trunc/t", &st));
    CHECK(st.size == 5000);
    CHECK(get_file(fs, "/conf/trunc/t", back, len) == 5000);
    CHECK(memcmp(back, data, 100) == 0 && all_zero(back + 100, 4900));

    /* Shrink across chunks, then grow again: the cut bytes must not come back. */
    CHECK_OK(put_file(fs64, "/conf/trunc/t", data, len, 0644));
    CHECK_OK(benchfs_truncate(fs, "/conf/trunc/t", (off_t)(cs + 100)));
    CHECK_OK(benchfs_stat(fs, "/conf/trunc/t", &st));
    CHECK(st.size == cs + 100);
    CHECK(get_file(fs, "/conf/trunc/t", back, len) == (ssize_t)(cs + 100));
    CHECK(memcmp(back, data, cs + 100) == 0);
    CHECK_OK(benchfs_truncate(fs, "/conf/trunc/t", (off_t)len));
    memset(back, 0x66, len);
    CHECK(get_file(fs, "/conf/trunc/t", back, len + 100) == (ssize_t)len);
    CHECK(memcmp(back, data, cs + 100) == 0);
    CHECK(all_zero(back + cs + 100, len - cs - 100));
    CHECK_OK(benchfs_truncate(fs, "/conf/trunc/t", 0));
    CHECK_OK(benchfs_stat(fs, "/conf/trunc/t", &st));
    CHECK(st.size == 0);
    CHECK(get_file(fs, "/conf/trunc/t", back, len) == 0);

    /* ftruncate through an open descriptor, seen by the descriptor and by others. */
    int fd = benchfs_open(fs64, "/conf/trunc/f", O_CREAT | O_RDWR, 0644);
    CHECK(fd >= 0);
    CHECK(benchfs_write(fs64, fd, data, 2 * cs) == (ssize_t)(2 * cs));
    CHECK_OK(benchfs_ftruncate(fs64, fd, 10));
    CHECK_OK(benchfs_fstat(fs64, fd, &st));
    CHECK(st.size == 10);
    CHECK_OK(benchfs_stat(fs, "/conf/trunc/f", &st));
    CHECK(st.size == 10);
    CHECK(benchfs_pread(fs64, fd, back, 100, 0) == 10 && memcmp(back, data, 10) == 0);
    CHECK_OK(benchfs_ftruncate(fs64, fd, (off_t)(cs + 5)));
    memset(back, 0x66, cs + 5);
    CHECK(benchfs_pread(fs64, fd, back, cs + 100, 0) == (ssize_t)(cs + 5));
    CHECK(memcmp(back, data, 10) == 0 && all_zero(back + 10, cs - 5));
    /* The offset is not moved by ftruncate; writing there after a shrink makes a hole. */
    CHECK(benchfs_lseek(fs64, fd, 0, SEEK_CUR) == (off_t)(2 * cs));
    CHECK_OK(benchfs_ftruncate(fs64, fd, 4));
    CHECK(benchfs_write(fs64, fd, "E", 1) == 1);
    CHECK_OK(benchfs_close(fs64, fd));
    CHECK_OK(benchfs_stat(fs, "/conf/trunc/f", &st));
    CHECK(st.size == 2 * cs + 1);
    CHECK(get_file(fs, "/conf/trunc/f", back, len) == (ssize_t)(2 * cs + 1));
    CHECK(memcmp(back, data, 4) == 0 && all_zero(back + 4, 2 * cs - 4) && back[2 * cs] == 'E');

    /* truncate by path while this client holds the file open: the descriptor sees the new
     * size, and its close (of writes made before the truncate) does not undo the truncate. */
    fd = benchfs_open(fs, "/conf/trunc/open", O_CREAT | O_RDWR, 0644);
    CHECK(fd >= 0);
    CHECK(benchfs_write(fs, fd, data, 1000) == 1000);
    CHECK_OK(benchfs_truncate(fs, "/conf/trunc/open", 10));
    CHECK(benchfs_pread(fs, fd, back, 1000, 0) == 10);
    CHECK(benchfs_lseek(fs, fd, 0, SEEK_END) == 10);
    CHECK_OK(benchfs_fstat(fs, fd, &st));
    CHECK(st.size == 10);
    CHECK_OK(benchfs_close(fs, fd));
    CHECK_OK(benchfs_stat(fs, "/conf/trunc/open", &st));
    CHECK(st.size == 10);
    /* The same through another descriptor's ftruncate. */
    fd = benchfs_open(fs, "/conf/trunc/open", O_RDWR, 0);
    int fd2 = benchfs_open(fs, "/conf/trunc/open", O_RDWR, 0);
    CHECK(fd >= 0 && fd2 >= 0);
    CHECK(benchfs_pwrite(fs, fd, data, 500, 0) == 500);
    CHECK_OK(benchfs_ftruncate(fs, fd2, 20));
    CHECK(benchfs_pread(fs, fd, back, 1000, 0) == 20 && memcmp(back, data, 20) == 0);
    CHECK_OK(benchfs_close(fs, fd));
    CHECK_OK(benchfs_close(fs, fd2));
    CHECK_OK(benchfs_stat(fs, "/conf/trunc/open", &st));
    CHECK(st.size == 20);

    /* Errors. */
    CHECK_ERR(benchfs_truncate(fs, "/conf/trunc/t", -1), EINVAL);
    fd = benchfs_open(fs, "/conf/trunc/t", O_RDWR, 0);
    CHECK(fd >= 0);
    CHECK_ERR(benchfs_ftruncate(fs, fd, -1), EINVAL);
    CHECK_OK(benchfs_close(fs, fd));
    CHECK_ERR(benchfs_truncate(fs, "/conf/trunc", 0), EISDIR);
    CHECK_ERR(benchfs_truncate(fs, "/conf/trunc/missing", 0), ENOENT);
    CHECK_ERR(benchfs_truncate(fs, "/conf/trunc/nodir/x", 0), ENOENT);
    CHECK_ERR(benchfs_truncate(fs, "/conf/trunc/t/x", 0), ENOTDIR);
    free(data);
    free(back);
    CHECK_OK(rm_rf(fs, "/conf/trunc"));
}

/* ---- namespace errors ---- */

static void test_namespace_errors(benchfs_t *fs)
{
    benchfs_stat_t st, st2;
    CHECK_OK(benchfs_mkdir(fs, "/conf/ns", 0755));
    CHECK_OK(benchfs_mkdir(fs, "/conf/ns/d", 0755));
    CHECK_OK(benchfs_mkdir(fs, "/conf/ns/d/sub", 0755));
    CHECK_OK(put_file(fs, "/conf/ns/f", "file", 4, 0644));
    CHECK_OK(put_file(fs, "/conf/ns/d/inner", "inner", 5, 0644));

    /* mkdir */
    CHECK_ERR(benchfs_mkdir(fs, "/conf/ns/d", 0755), EEXIST);
    CHECK_ERR(benchfs_mkdir(fs, "/conf/ns/f", 0755), EEXIST);
    CHECK_ERR(benchfs_mkdir(fs, "/", 0755), EEXIST);
    CHECK_ERR(benchfs_mkdir(fs, "/conf/ns/missing/x", 0755), ENOENT);
    CHECK_ERR(benchfs_mkdir(fs, "/conf/ns/f/x", 0755), ENOTDIR);
    CHECK_OK(benchfs_stat(fs, "/conf/ns/f", &st));
    CHECK(S_ISREG(st.mode) && st.size == 4);

    /* unlink */
    CHECK_ERR(benchfs_unlink(fs, "/conf/ns/d"), EISDIR);
    CHECK_ERR(benchfs_unlink(fs, "/conf/ns/missing"), ENOENT);
    CHECK_ERR(benchfs_unlink(fs, "/conf/ns/missing/x"), ENOENT);
    CHECK_ERR(benchfs_unlink(fs, "/conf/ns/f/x"), ENOTDIR);
    CHECK_ERR(benchfs_unlink(fs, "/"), EISDIR);
    CHECK_OK(benchfs_stat(fs, "/conf/ns/d", &st));

    /* rmdir */
    CHECK_ERR(benchfs_rmdir(fs, "/conf/ns/f"), ENOTDIR);
    CHECK_ERR(benchfs_rmdir(fs, "/conf/ns/missing"), ENOENT);
    CHECK_ERR(benchfs_rmdir(fs, "/conf/ns/f/x"), ENOTDIR);
    CHECK_ERR(benchfs_rmdir(fs, "/conf/ns/d"), ENOTEMPTY);
    CHECK_ERR(benchfs_rmdir(fs, "/"), EBUSY);
    CHECK_OK(benchfs_stat(fs, "/conf/ns/d/inner", &st));
    CHECK_OK(benchfs_stat(fs, "/conf/ns/f", &st));

    /* rename */
    CHECK_ERR(benchfs_rename(fs, "/conf/ns/missing", "/conf/ns/x"), ENOENT);
    CHECK_ERR(benchfs_rename(fs, "/conf/ns/f", "/conf/ns/missing/x"), ENOENT);
    CHECK_ERR(benchfs_rename(fs, "/conf/ns/f", "/conf/ns/f/x"), ENOTDIR);
    CHECK_ERR(benchfs_rename(fs, "/conf/ns/d", "/conf/ns/d/sub/x"), EINVAL);
    CHECK_ERR(benchfs_rename(fs, "/conf/ns/d", "/conf/ns/d/x"), EINVAL);
    CHECK_ERR(benchfs_rename(fs, "/conf/ns/f", "/conf/ns/d"), EISDIR);
    CHECK_ERR(benchfs_rename(fs, "/conf/ns/d/sub", "/conf/ns/f"), ENOTDIR);
    CHECK_ERR(benchfs_rename(fs, "/conf/ns/d/sub", "/conf/ns"), ENOTEMPTY); /* onto an ancestor */
    CHECK_OK(benchfs_mkdir(fs, "/conf/ns/full", 0755));
    CHECK_OK(put_file(fs, "/conf/ns/full/x", "x", 1, 0644));
    CHECK_ERR(benchfs_rename(fs, "/conf/ns/d", "/conf/ns/full"), ENOTEMPTY);
    CHECK_OK(benchfs_stat(fs, "/conf/ns/full/x", &st));
    CHECK_OK(benchfs_stat(fs, "/conf/ns/d/inner", &st));
    CHECK_OK(benchfs_stat(fs, "/conf/ns/f", &st));
    /* rename onto itself is a no-op, also for directories */
    CHECK_OK(benchfs_rename(fs, "/conf/ns/f", "/conf/ns/f"));
    CHECK_OK(benchfs_rename(fs, "/conf/ns/d", "/conf/ns/./d"));
    CHECK_OK(benchfs_stat(fs, "/conf/ns/f", &st2));
    CHECK(st2.ino == st.ino && st2.size == 4);
    CHECK_OK(benchfs_stat(fs, "/conf/ns/d/inner", &st));
    /* a directory may replace an empty directory */
    CHECK_OK(benchfs_mkdir(fs, "/conf/ns/empty", 0755));
    benchfs_stat_t dst;
    CHECK_OK(benchfs_stat(fs, "/conf/ns/d", &dst));
    CHECK_OK(benchfs_rename(fs, "/conf/ns/d", "/conf/ns/empty"));
    CHECK_OK(benchfs_stat(fs, "/conf/ns/empty", &st));
    CHECK(st.ino == dst.ino && S_ISDIR(st.mode));
    CHECK_OK(benchfs_stat(fs, "/conf/ns/empty/inner", &st));
    CHECK_OK(benchfs_stat(fs, "/conf/ns/empty/sub", &st));
    CHECK_ERR(benchfs_stat(fs, "/conf/ns/d", &st), ENOENT);
    CHECK_ERR(benchfs_rename(fs, "/", "/conf/ns/root"), EBUSY);

    CHECK_OK(rm_rf(fs, "/conf/ns"));
    CHECK_ERR(benchfs_stat(fs, "/conf/ns", &st), ENOENT);
}

/* ---- access, chmod, chown (as the caller; permission denials are in test_permissions) ---- */

static void test_attrs(benchfs_t *fs)
{
    benchfs_stat_t st, st2;
    CHECK_OK(benchfs_mkdir(fs, "/conf/attr", 0755));
    CHECK_OK(put_file(fs, "/conf/attr/f", "abc", 3, 0644));
    CHECK_OK(put_file(fs, "/conf/attr/x", "#!", 2, 0755));

    /* access */
    CHECK_OK(benchfs_access(fs, "/conf/attr/f", F_OK));
    CHECK_OK(benchfs_access(fs, "/conf/attr/f", R_OK));
    CHECK_OK(benchfs_access(fs, "/conf/attr/f", W_OK));
    CHECK_OK(benchfs_access(fs, "/conf/attr/f", R_OK | W_OK));
    CHECK_ERR(benchfs_access(fs, "/conf/attr/f", X_OK), EACCES); /* no x bit at all: even root */
    CHECK_ERR(benchfs_access(fs, "/conf/attr/f", R_OK | X_OK), EACCES);
    CHECK_OK(benchfs_access(fs, "/conf/attr/x", X_OK));
    CHECK_OK(benchfs_access(fs, "/conf/attr/x", R_OK | W_OK | X_OK));
    CHECK_OK(benchfs_access(fs, "/conf/attr", R_OK | W_OK | X_OK));
    CHECK_OK(benchfs_access(fs, "/", F_OK));
    CHECK_OK(benchfs_access(fs, "/", X_OK));
    CHECK_ERR(benchfs_access(fs, "/conf/attr/missing", F_OK), ENOENT);
    CHECK_ERR(benchfs_access(fs, "/conf/attr/missing", R_OK), ENOENT);
    CHECK_ERR(benchfs_access(fs, "/conf/attr/f/x", F_OK), ENOTDIR);
    CHECK_ERR(benchfs_access(fs, "/conf/attr/f", 0x100), EINVAL);

    /* chmod: permission bits change, the type stays. */
    CHECK_OK(benchfs_stat(fs, "/conf/attr/f", &st));
    sleep_ms(20);
    CHECK_OK(benchfs_chmod(fs, "/conf/attr/f", 0600));
    CHECK_OK(benchfs_stat(fs, "/conf/attr/f", &st2));
    CHECK(st2.mode == (S_IFREG | 0600));
    CHECK(st2.ctime_ns > st.ctime_ns);
    CHECK(st2.size == 3 && st2.ino == st.ino);
    CHECK_OK(benchfs_chmod(fs, "/conf/attr/f", 0751));
    CHECK_OK(benchfs_stat(fs, "/conf/attr/f", &st2));
    CHECK(st2.mode == (S_IFREG | 0751));
    CHECK_OK(benchfs_access(fs, "/conf/attr/f", X_OK));
    CHECK_OK(benchfs_chmod(fs, "/conf/attr", 0700));
    CHECK_OK(benchfs_stat(fs, "/conf/attr", &st2));
    CHECK(st2.mode == (S_IFDIR | 0700));
    CHECK_OK(benchfs_chmod(fs, "/conf/attr", 0755));
    CHECK_ERR(benchfs_chmod(fs, "/conf/attr/missing", 0644), ENOENT);
    CHECK_ERR(benchfs_chmod(fs, "/conf/attr/f/x", 0644), ENOTDIR);

    /* chown: -1 leaves a field alone. */
    uid_t me = geteuid();
    gid_t mygid = getegid();
    CHECK_OK(benchfs_chown(fs, "/conf/attr/f", (uid_t)-1, (gid_t)-1));
    CHECK_OK(benchfs_stat(fs, "/conf/attr/f", &st2));
    CHECK(st2.uid == me && st2.gid == mygid);
    CHECK_OK(benchfs_chown(fs, "/conf/attr/f", me, mygid)); /* to itself: always allowed */
    if (me == 0) {
        CHECK_OK(benchfs_chown(fs, "/conf/attr/f", 1234, 5678));
        CHECK_OK(benchfs_stat(fs, "/conf/attr/f", &st2));
        CHECK(st2.uid == 1234 && st2.gid == 5678);
        CHECK_OK(benchfs_chown(fs, "/conf/attr/f", (uid_t)-1, 42));
        CHECK_OK(benchfs_stat(fs, "/conf/attr/f", &st2));
        CHECK(st2.uid == 1234 && st2.gid == 42);
        CHECK_OK(benchfs_chown(fs, "/conf/attr/f", 99, (gid_t)-1));
        CHECK_OK(benchfs_stat(fs, "/conf/attr/f", &st2));
        CHECK(st2.uid == 99 && st2.gid == 42);
        CHECK(st2.mode == (S_IFREG | 0751) && st2.size == 3);
        CHECK_OK(benchfs_chown(fs, "/conf/attr", 1234, 1234));
        CHECK_OK(benchfs_stat(fs, "/conf/attr", &st2));
        CHECK(S_ISDIR(st2.mode) && st2.uid == 1234 && st2.gid == 1234);
        /* root still may do anything with it */
        CHECK_OK(put_file(fs, "/conf/attr/rootmade", "r", 1, 0644));
        CHECK_OK(benchfs_chown(fs, "/conf/attr", 0, 0));
    }
    CHECK_ERR(benchfs_chown(fs, "/conf/attr/missing", me, mygid), ENOENT);
    CHECK_OK(rm_rf(fs, "/conf/attr"));
}

/* ---- directories ---- */

struct stop_after {
    int calls, limit;
};

static int stop_cb(const benchfs_dirent_t *e, void *arg)
{
    (void)e;
    struct stop_after *s = arg;
    return ++s->calls >= s->limit ? 1 : 0;
}

struct reenter {
    benchfs_t *fs;
    const char *dir;
    int calls, mismatches;
};

/* A callback that calls back into the library (stat of each entry). */
static int reenter_cb(const benchfs_dirent_t *e, void *arg)
{
    struct reenter *r = arg;
    char p[600];
    snprintf(p, sizeof p, "%s/%s", r->dir, e->name);
    benchfs_stat_t st;
    r->calls++;
    if (benchfs_stat(r->fs, p, &st) != 0 || st.ino != e->ino || st.mode != e->mode)
        r->mismatches++;
    return 0;
}

static void test_dirs(benchfs_t *fs)
{
    benchfs_stat_t st;
    CHECK_OK(benchfs_mkdir(fs, "/conf/ls", 0755));
    struct name_list l;

    /* Empty directory. */
    benchfs_dir_t *d = benchfs_opendir(fs, "/conf/ls");
    CHECK(d != NULL);
    if (d) {
        errno = 0;
        CHECK(benchfs_readdir(d) == NULL && errno == 0);
        CHECK(benchfs_readdir(d) == NULL);
        CHECK_OK(benchfs_closedir(d));
    }
    int cnt = 0;
    CHECK_OK(benchfs_readdir_cb(fs, "/conf/ls", count_cb, &cnt));
    CHECK(cnt == 0);

    /* Files and directories, with their types and inode numbers; no "." or "..". */
    const char *files[] = {"alpha", "beta", "gamma", "delta", "epsilon", "with space", "ünï"};
    const char *dirs[] = {"d1", "d2"};
    size_t nf = sizeof files / sizeof *files, nd = sizeof dirs / sizeof *dirs;
    char p[600];
    for (size_t i = 0; i < nf; i++) {
        snprintf(p, sizeof p, "/conf/ls/%s", files[i]);
        CHECK_OK(put_file(fs, p, "x", 1, 0640));
    }
    for (size_t i = 0; i < nd; i++) {
        snprintf(p, sizeof p, "/conf/ls/%s", dirs[i]);
        CHECK_OK(benchfs_mkdir(fs, p, 0750));
    }
    CHECK_OK(put_file(fs, "/conf/ls/d1/nested", "y", 1, 0644)); /* not listed in /conf/ls */
    CHECK_OK(list_dir(fs, "/conf/ls", &l));
    CHECK(l.n == nf + nd);
    for (size_t i = 0; i < nf; i++) {
        const benchfs_dirent_t *e = find_name(&l, files[i]);
        CHECK(e != NULL);
        snprintf(p, sizeof p, "/conf/ls/%s", files[i]);
        if (e && benchfs_stat(fs, p, &st) == 0) {
            CHECK(e->ino == st.ino);
            CHECK(e->mode == (S_IFREG | 0640));
        }
    }
    for (size_t i = 0; i < nd; i++) {
        const benchfs_dirent_t *e = find_name(&l, dirs[i]);
        CHECK(e != NULL);
        CHECK(e && e->mode == (S_IFDIR | 0750));
    }
    CHECK(find_name(&l, ".") == NULL && find_name(&l, "..") == NULL);
    CHECK(find_name(&l, "nested") == NULL);
    for (size_t i = 0; i < l.n; i++) /* each name exactly once */
        for (size_t j = i + 1; j < l.n; j++)
            CHECK(strcmp(l.v[i].name, l.v[j].name) != 0);
    free(l.v);

    /* The callback form sees the same entries... */
    struct name_list cbl = {0};
    CHECK_OK(benchfs_readdir_cb(fs, "/conf/ls", collect_cb, &cbl));
    CHECK(cbl.n == nf + nd);
    for (size_t i = 0; i < nf; i++)
        CHECK(find_name(&cbl, files[i]) != NULL);
    free(cbl.v);
    /* ... stops when the callback says so ... */
    struct stop_after s = {0, 3};
    int rc = benchfs_readdir_cb(fs, "/conf/ls", stop_cb, &s);
    CHECK(rc != -1);
    CHECK(s.calls == 3);
    s = (struct stop_after){0, 1};
    benchfs_readdir_cb(fs, "/conf/ls", stop_cb, &s);
    CHECK(s.calls == 1);
    /* ... and may call back into the library. */
    struct reenter r = {fs, "/conf/ls", 0, 0};
    CHECK_OK(benchfs_readdir_cb(fs, "/conf/ls", reenter_cb, &r));
    CHECK(r.calls == (int)(nf + nd) && r.mismatches == 0);

    /* The root lists our top-level directory. */
    CHECK_OK(list_dir(fs, "/", &l));
    CHECK(find_name(&l, "conf") != NULL);
    free(l.v);

    /* A listing is a snapshot: later changes do not disturb an open stream. */
    d = benchfs_opendir(fs, "/conf/ls/d1");
    CHECK(d != NULL);
    CHECK_OK(put_file(fs, "/conf/ls/d1/later", "z", 1, 0644));
    if (d) {
        const benchfs_dirent_t *e = benchfs_readdir(d);
        CHECK(e && strcmp(e->name, "nested") == 0);
        CHECK(benchfs_readdir(d) == NULL);
        CHECK_OK(benchfs_closedir(d));
    }
    /* After unlink, the name is gone from the listing. */
    CHECK_OK(benchfs_unlink(fs, "/conf/ls/beta"));
    CHECK_OK(list_dir(fs, "/conf/ls", &l));
    CHECK(l.n == nf + nd - 1 && find_name(&l, "beta") == NULL);
    free(l.v);

    /* Errors. */
    CHECK_OPENDIR_ERR(fs, "/conf/ls/missing", ENOENT);
    CHECK_OPENDIR_ERR(fs, "/conf/ls/alpha", ENOTDIR);
    CHECK_OPENDIR_ERR(fs, "/conf/ls/alpha/x", ENOTDIR);
    CHECK_OPENDIR_ERR(fs, NULL, EINVAL);
    CHECK_ERR(benchfs_readdir_cb(fs, "/conf/ls/missing", count_cb, &cnt), ENOENT);
    CHECK_ERR(benchfs_readdir_cb(fs, "/conf/ls/alpha", count_cb, &cnt), ENOTDIR);
    CHECK_ERR(benchfs_readdir_cb(fs, "/conf/ls", NULL, NULL), EINVAL);
    errno = 0;
    CHECK(benchfs_readdir(NULL) == NULL && errno == EBADF);
    CHECK_ERR(benchfs_closedir(NULL), EBADF);
    CHECK_OK(rm_rf(fs, "/conf/ls"));
}

/* ---- thread safety: one context shared by several threads ---- */

struct worker {
    benchfs_t *fs;
    int id, failures;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    char dir[64], p[128];
    snprintf(dir, sizeof dir, "/conf/mt/t%d", w->id);
    if (benchfs_mkdir(w->fs, dir, 0755) != 0)
        w->failures++;
    for (int i = 0; i < 40; i++) {
        snprintf(p, sizeof p, "%s/f%d", dir, i);
        char data[32], back[32];
        int len = snprintf(data, sizeof data, "thread %d file %d", w->id, i);
        if (put_file(w->fs, p, data, (size_t)len, 0644) != 0)
            w->failures++;
        if (get_file(w->fs, p, back, sizeof back) != len || memcmp(back, data, (size_t)len))
            w->failures++;
    }
    return NULL;
}

static void test_threads(benchfs_t *fs)
{
    CHECK_OK(benchfs_mkdir(fs, "/conf/mt", 0755));
    struct worker w[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){fs, i, 0};
        CHECK(pthread_create(&th[i], NULL, worker_main, &w[i]) == 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK(w[i].failures == 0);
        char dir[64];
        snprintf(dir, sizeof dir, "/conf/mt/t%d", i);
        int cnt = 0;
        CHECK_OK(benchfs_readdir_cb(fs, dir, count_cb, &cnt));
        CHECK(cnt == 40);
    }
    CHECK_OK(rm_rf(fs, "/conf/mt"));
}

/* ---- permissions ----
 *
 * The tree, made by its owner (root, or the unprivileged user itself):
 *   /perm          0755  (root-owned case: nobody may not create or unlink here)
 *   /perm/ro       0444  "readonly"
 *   /perm/f644     0644
 *   /perm/secret   0300  (owner -wx, others nothing: nobody else may list it)
 *   /perm/dropbox  0333  (-wx for all: may create inside, may not list)
 *   /perm/nox      0666  (rw-: may not create inside, no search permission)
 *   /perm/ro_dir   0555  with ro_dir/victim 0644
 *   /perm/open     0777
 */
static void perm_setup(benchfs_t *fs)
{
    CHECK_OK(benchfs_mkdir(fs, "/perm", 0755));
    CHECK_OK(benchfs_chmod(fs, "/perm", 0755));
    CHECK_OK(put_file(fs, "/perm/ro", "readonly", 8, 0444));
    CHECK_OK(put_file(fs, "/perm/f644", "f644", 4, 0644));
    CHECK_OK(benchfs_mkdir(fs, "/perm/secret", 0700));
    CHECK_OK(put_file(fs, "/perm/secret/hidden", "h", 1, 0644));
    CHECK_OK(benchfs_chmod(fs, "/perm/secret", 0300));
    CHECK_OK(benchfs_mkdir(fs, "/perm/dropbox", 0755));
    CHECK_OK(put_file(fs, "/perm/dropbox/letter", "l", 1, 0644));
    CHECK_OK(benchfs_chmod(fs, "/perm/dropbox", 0333));
    CHECK_OK(benchfs_mkdir(fs, "/perm/nox", 0666));
    CHECK_OK(benchfs_mkdir(fs, "/perm/ro_dir", 0755));
    CHECK_OK(put_file(fs, "/perm/ro_dir/victim", "victim", 6, 0644));
    CHECK_OK(benchfs_chmod(fs, "/perm/ro_dir", 0555));
    CHECK_OK(benchfs_mkdir(fs, "/perm/open", 0777));
    CHECK_OK(benchfs_chmod(fs, "/perm/open", 0777));
}

/* The checks an unprivileged caller must see. `foreign`: the tree belongs to someone else
 * (root), so owner-only operations on it are refused too. */
static void perm_checks(benchfs_t *fs, int foreign)
{
    benchfs_stat_t st;
    char buf[32];
    uid_t me = geteuid();
    gid_t mygid = getegid();

    /* Opening for write without w permission: EACCES, and O_TRUNC does not truncate. */
    CHECK_ERR(benchfs_open(fs, "/perm/ro", O_WRONLY, 0), EACCES);
    CHECK_ERR(benchfs_open(fs, "/perm/ro", O_RDWR, 0), EACCES);
    CHECK_ERR(benchfs_open(fs, "/perm/ro", O_WRONLY | O_TRUNC, 0), EACCES);
    CHECK_ERR(benchfs_open(fs, "/perm/ro", O_CREAT | O_WRONLY, 0644), EACCES);
    CHECK_ERR(benchfs_create(fs, "/perm/ro", 0644), EACCES);
    CHECK_ERR(benchfs_truncate(fs, "/perm/ro", 0), EACCES);
    CHECK_OK(benchfs_stat(fs, "/perm/ro", &st));
    CHECK(st.size == 8);
    CHECK(get_file(fs, "/perm/ro", buf, sizeof buf) == 8 && memcmp(buf, "readonly", 8) == 0);

    /* access */
    CHECK_OK(benchfs_access(fs, "/perm/ro", F_OK));
    CHECK_OK(benchfs_access(fs, "/perm/ro", R_OK));
    CHECK_ERR(benchfs_access(fs, "/perm/ro", W_OK), EACCES);
    CHECK_ERR(benchfs_access(fs, "/perm/ro", R_OK | W_OK), EACCES);
    CHECK_ERR(benchfs_access(fs, "/perm/ro", X_OK), EACCES);
    CHECK_ERR(benchfs_access(fs, "/perm/secret", R_OK), EACCES);
    CHECK_ERR(benchfs_access(fs, "/perm/dropbox", R_OK), EACCES);
    CHECK_OK(benchfs_access(fs, "/perm/dropbox", W_OK | X_OK));
    CHECK_ERR(benchfs_access(fs, "/perm/nox", X_OK), EACCES);
    CHECK_ERR(benchfs_access(fs, "/perm/ro_dir", W_OK), EACCES);

    /* Creating, removing and renaming need w+x on the parent. */
    CHECK_ERR(benchfs_open(fs, "/perm/ro_dir/new", O_CREAT | O_WRONLY, 0644), EACCES);
    CHECK_ERR(benchfs_create(fs, "/perm/ro_dir/new", 0644), EACCES);
    CHECK_ERR(benchfs_mkdir(fs, "/perm/ro_dir/newdir", 0755), EACCES);
    CHECK_ERR(benchfs_unlink(fs, "/perm/ro_dir/victim"), EACCES);
    CHECK_ERR(benchfs_rename(fs, "/perm/ro_dir/victim", "/perm/open/stolen"), EACCES);
    CHECK_ERR(benchfs_open(fs, "/perm/nox/new", O_CREAT | O_WRONLY, 0644), EACCES);
    CHECK_ERR(benchfs_mkdir(fs, "/perm/nox/newdir", 0755), EACCES);
    CHECK_OK(benchfs_stat(fs, "/perm/ro_dir/victim", &st));
    CHECK_ERR(benchfs_stat(fs, "/perm/ro_dir/new", &st), ENOENT);
    CHECK_ERR(benchfs_stat(fs, "/perm/open/stolen", &st), ENOENT);

    /* Listing needs r; creating inside a -wx directory works. */
    CHECK_OPENDIR_ERR(fs, "/perm/secret", EACCES);
    CHECK_OPENDIR_ERR(fs, "/perm/dropbox", EACCES);
    int cnt = 0;
    CHECK_ERR(benchfs_readdir_cb(fs, "/perm/secret", count_cb, &cnt), EACCES);
    CHECK_ERR(benchfs_readdir_cb(fs, "/perm/dropbox", count_cb, &cnt), EACCES);
    CHECK(cnt == 0);
    CHECK_OK(put_file(fs, "/perm/dropbox/dropped", "d", 1, 0644));
    CHECK_OK(benchfs_stat(fs, "/perm/dropbox/dropped", &st));
    CHECK(st.uid == me && st.size == 1);
    CHECK_OK(benchfs_unlink(fs, "/perm/dropbox/dropped"));

    /* In a world-writable directory: my own files, with my uid and gid. */
    CHECK_OK(put_file(fs, "/perm/open/mine", "mine", 4, 0644));
    CHECK_OK(benchfs_stat(fs, "/perm/open/mine", &st));
    CHECK(st.uid == me && st.gid == mygid);
    CHECK(!foreign || (st.uid == NOBODY && st.gid == NOBODY));
    struct name_list l;
    CHECK_OK(list_dir(fs, "/perm/open", &l));
    CHECK(find_name(&l, "mine") != NULL);
    free(l.v);
    /* A file created with a read-only mode is still writable through the creating open. */
    int fd = benchfs_open(fs, "/perm/open/ro_new", O_CREAT | O_EXCL | O_RDWR, 0444);
    CHECK(fd >= 0);
    CHECK(benchfs_write(fs, fd, "ok", 2) == 2);
    CHECK_OK(benchfs_close(fs, fd));
    CHECK_ERR(benchfs_open(fs, "/perm/open/ro_new", O_WRONLY, 0), EACCES);
    /* The owner class decides alone: 0077 denies the owner what others may do. */
    CHECK_OK(benchfs_chmod(fs, "/perm/open/mine", 0077));
    CHECK_ERR(benchfs_open(fs, "/perm/open/mine", O_RDONLY, 0), EACCES);
    CHECK_ERR(benchfs_access(fs, "/perm/open/mine", R_OK), EACCES);
    CHECK_OK(benchfs_chmod(fs, "/perm/open/mine", 0600));
    CHECK(get_file(fs, "/perm/open/mine", buf, sizeof buf) == 4);
    /* chown: never to another user; to one of my own groups is fine. */
    uid_t other = me == 4242 ? 4243 : 4242;
    CHECK_ERR(benchfs_chown(fs, "/perm/open/mine", other, (gid_t)-1), EPERM);
    CHECK_ERR(benchfs_chown(fs, "/perm/open/mine", other, mygid), EPERM);
    CHECK_OK(benchfs_chown(fs, "/perm/open/mine", (uid_t)-1, mygid));
    CHECK_OK(benchfs_chown(fs, "/perm/open/mine", me, (gid_t)-1));
    gid_t groups[256];
    int ng = getgroups(256, groups), member0 = mygid == 0;
    for (int i = 0; i < ng; i++)
        member0 |= groups[i] == 0;
    if (!member0)
        CHECK_ERR(benchfs_chown(fs, "/perm/open/mine", (uid_t)-1, 0), EPERM);
    CHECK_OK(benchfs_stat(fs, "/perm/open/mine", &st));
    CHECK(st.uid == me && st.gid == mygid);
    CHECK_OK(benchfs_unlink(fs, "/perm/open/mine"));
    CHECK_OK(benchfs_unlink(fs, "/perm/open/ro_new"));

    if (foreign) {
        /* Somebody else's file and directory. */
        CHECK_ERR(benchfs_open(fs, "/perm/f644", O_WRONLY, 0), EACCES);
        CHECK_ERR(benchfs_access(fs, "/perm/f644", W_OK), EACCES);
        CHECK_ERR(benchfs_chmod(fs, "/perm/f644", 0666), EPERM);
        CHECK_ERR(benchfs_chmod(fs, "/perm", 0777), EPERM);
        CHECK_ERR(benchfs_chown(fs, "/perm/f644", me, (gid_t)-1), EPERM);
        CHECK_ERR(benchfs_chown(fs, "/perm/f644", (uid_t)-1, mygid), EPERM);
        CHECK_ERR(benchfs_open(fs, "/perm/new", O_CREAT | O_WRONLY, 0644), EACCES);
        CHECK_ERR(benchfs_mkdir(fs, "/perm/newdir", 0755), EACCES);
        CHECK_ERR(benchfs_unlink(fs, "/perm/f644"), EACCES);
        CHECK_ERR(benchfs_rmdir(fs, "/perm/nox"), EACCES);
        CHECK_ERR(benchfs_rename(fs, "/perm/f644", "/perm/open/f644"), EACCES);
        CHECK_ERR(benchfs_rename(fs, "/perm/open", "/perm/open2"), EACCES);
        CHECK_OK(benchfs_stat(fs, "/perm/f644", &st));
        CHECK(st.mode == (S_IFREG | 0644) && st.uid == 0 && st.size == 4);
        CHECK_ERR(benchfs_stat(fs, "/perm/new", &st), ENOENT);
    } else {
        /* "/" is root's: its mode is not ours to change. */
        CHECK_ERR(benchfs_chmod(fs, "/", 0700), EPERM);
    }
}

/* Make the registry readable by nobody. TEST-ONLY: the registry is deliberately 0700/0600
 * (it holds the cluster key, SPEC §2); the unprivileged child must read it to connect. */
static void open_registry_to_all(struct cluster *c)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "chmod a+x '%s' && chmod -R a+rX '%s'", c->root, c->registry);
    CHECK(system(cmd) == 0);
}

static int perm_child_main(struct cluster *c, int rfd)
{
    char go = 0;
    if (read(rfd, &go, 1) != 1 || go != 'g')
        return 3;
    close(rfd);
    if (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 || setuid(NOBODY) != 0) {
        perror("perm child: dropping to nobody");
        return 4;
    }
    if (geteuid() != NOBODY || getegid() != NOBODY || setuid(0) == 0) {
        fprintf(stderr, "perm child: still privileged\n");
        return 4;
    }
    if (access(c->registry, R_OK | X_OK) != 0) {
        fprintf(stderr, "perm child: registry %s not readable as nobody (TMPDIR not "
                        "searchable by others?): %s\n", c->registry, strerror(errno));
        return 5;
    }
    benchfs_t *fs = cluster_client(c, 5000);
    perm_checks(fs, 1);
    CHECK_OK(benchfs_term(fs));
    return test_failures ? 1 : 0;
}

/* Fork the unprivileged child now, before this process has a BenchFS (UCX) context: the
 * child then starts from a clean, single-threaded process image. */
static pid_t perm_fork(struct cluster *c, int *wfd)
{
    int p[2];
    if (pipe(p) != 0) {
        perror("pipe");
        exit(2);
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(2);
    }
    if (pid == 0) {
        close(p[1]);
        int rc = perm_child_main(c, p[0]);
        fflush(NULL);
        _exit(rc);
    }
    close(p[0]);
    *wfd = p[1];
    return pid;
}

static void test_permissions(struct cluster *c, benchfs_t *fs, pid_t child, int wfd)
{
    perm_setup(fs);
    if (child > 0) {
        open_registry_to_all(c);
        CHECK(write(wfd, "g", 1) == 1);
        close(wfd);
        int st = 0;
        pid_t r = 0;
        for (int t = 0; t < 600 && (r = waitpid(child, &st, WNOHANG)) == 0; t++)
            sleep_ms(100);
        if (r == 0) { /* bounded: a hung child must not hang the suite */
            fprintf(stderr, "FAIL: the permission child did not finish in 60 s\n");
            test_failures++;
            kill(child, SIGKILL);
            waitpid(child, &st, 0);
        } else if (r != child || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "FAIL: the permission checks as uid %u failed (status %#x)\n",
                    NOBODY, st);
            test_failures++;
        }
        /* Root bypasses the bits (but not a missing x bit for execution). */
        benchfs_stat_t sb;
        int fd = benchfs_open(fs, "/perm/ro", O_RDWR, 0);
        CHECK(fd >= 0);
        if (fd >= 0)
            CHECK_OK(benchfs_close(fs, fd));
        CHECK_OK(benchfs_access(fs, "/perm/ro", R_OK | W_OK));
        CHECK_OK(benchfs_access(fs, "/perm/secret", R_OK));
        CHECK_OK(put_file(fs, "/perm/ro_dir/rootfile", "r", 1, 0644));
        CHECK_OK(benchfs_stat(fs, "/perm/ro_dir/rootfile", &sb));
        struct name_list l;
        CHECK_OK(list_dir(fs, "/perm/secret", &l));
        CHECK(l.n == 1 && find_name(&l, "hidden"));
        free(l.v);
    } else {
        perm_checks(fs, 0);
        /* Let the owner clean up: give back the bits. */
        CHECK_OK(benchfs_chmod(fs, "/perm/secret", 0700));
        CHECK_OK(benchfs_chmod(fs, "/perm/dropbox", 0755));
        CHECK_OK(benchfs_chmod(fs, "/perm/nox", 0755));
        CHECK_OK(benchfs_chmod(fs, "/perm/ro_dir", 0755));
    }
    CHECK_OK(rm_rf(fs, "/perm"));
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2;
    umask(022);
    struct cluster c;
    cluster_start(&c, n, NULL);
    int wfd = -1;
    pid_t child = geteuid() == 0 ? perm_fork(&c, &wfd) : 0;

    benchfs_t *fs = cluster_client(&c, 5000);
    benchfs_options_t o = {.registry = c.registry, .nservers = n, .wait_ms = 20000,
                           .rpc_timeout_ms = 5000, .chunk_size = SMALL_CHUNK};
    benchfs_t *fs64 = benchfs_init_opts(&o);
    CHECK(fs64 != NULL);
    if (!fs64) {
        cluster_stop(&c);
        return test_finish("conformance");
    }

    test_permissions(&c, fs, child, wfd);
    CHECK_OK(benchfs_mkdir(fs, "/conf", 0755));
    test_lifecycle(&c, fs);
    test_paths(fs);
    test_open(fs);
    test_bad_fds(fs);
    test_io(fs, fs64);
    test_stat(fs);
    test_truncate(fs, fs64);
    test_namespace_errors(fs);
    test_attrs(fs);
    test_dirs(fs);
    test_threads(fs);

    CHECK_OK(benchfs_rmdir(fs, "/conf"));
    struct name_list l;
    CHECK_OK(list_dir(fs, "/", &l));
    CHECK(l.n == 0);
    free(l.v);
    CHECK_OK(benchfs_term(fs64));
    CHECK_OK(benchfs_term(fs));
    cluster_stop(&c);
    return test_finish("conformance");
}
