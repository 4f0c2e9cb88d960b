/* SPDX-License-Identifier: BSD-3-Clause */
/* test_attrs — times and listings with attributes against real servers.
 *
 * utimens/futimens: explicit times to the nanosecond, UTIME_NOW, UTIME_OMIT, times NULL, the
 * no-follow flag on a link, futimens after writes through the descriptor (its close must not
 * put the write's mtime back), invalid arguments, and utimensat's permission rules (explicit
 * times: owner only, EPERM; "now": owner or write permission, EACCES), checked with a thread
 * identity. readdirplus: a directory of files, directories and links, enough entries for
 * several pages per server; every entry's attributes equal lstat's, and the servers' counters
 * show one READDIRPLUS per page and no LOOKUP per entry.
 *
 * usage: test_attrs NSERVERS */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cluster.h"
#include "common/util.h"

#define NPLUS 2500 /* entries: up to 3 pages of 1024 on one server */

static int nsrv;

static int put_file(benchfs_t *fs, const char *path, size_t len, mode_t mode)
{
    char buf[512];
    memset(buf, 'a', sizeof buf);
    int fd = benchfs_open(fs, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
    if (fd < 0)
        return -1;
    ssize_t n = len ? benchfs_write(fs, fd, buf, len) : 0;
    return benchfs_close(fs, fd) == 0 && n == (ssize_t)len ? 0 : -1;
}

static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void times_basic(benchfs_t *fs)
{
    benchfs_stat_t st, st2;
    CHECK_OK(benchfs_mkdir(fs, "/u", 0777));
    CHECK_OK(put_file(fs, "/u/f", 10, 0644));
    struct timespec t[2] = {{100, 5}, {200, 7}};
    int64_t t0 = wall_ns();
    CHECK_OK(benchfs_utimens(fs, "/u/f", t, 0));
    CHECK_OK(benchfs_stat(fs, "/u/f", &st));
    CHECK(st.atime_ns == 100000000005LL && st.mtime_ns == 200000000007LL);
    CHECK(st.ctime_ns >= t0 - 1000000000LL); /* ctime is now, not the time set */
    CHECK(st.size == 10);
    /* OMIT keeps; NOW takes the clock */
    struct timespec t2[2] = {{0, UTIME_OMIT}, {0, UTIME_NOW}};
    t0 = wall_ns();
    CHECK_OK(benchfs_utimens(fs, "/u/f", t2, 0));
    int64_t t1 = wall_ns();
    CHECK_OK(benchfs_stat(fs, "/u/f", &st));
    CHECK(st.atime_ns == 100000000005LL);
    CHECK(st.mtime_ns >= t0 - 1000000000LL && st.mtime_ns <= t1 + 1000000000LL);
    struct timespec t3[2] = {{300, 0}, {0, UTIME_OMIT}};
    CHECK_OK(benchfs_utimens(fs, "/u/f", t3, 0));
    CHECK_OK(benchfs_stat(fs, "/u/f", &st2));
    CHECK(st2.atime_ns == 300000000000LL && st2.mtime_ns == st.mtime_ns);
    /* NULL: both now */
    t0 = wall_ns();
    CHECK_OK(benchfs_utimens(fs, "/u/f", NULL, 0));
    CHECK_OK(benchfs_stat(fs, "/u/f", &st));
    CHECK(st.atime_ns >= t0 - 1000000000LL && st.mtime_ns >= t0 - 1000000000LL);
    /* both OMIT: nothing changes */
    struct timespec omit[2] = {{1, UTIME_OMIT}, {1, UTIME_OMIT}};
    CHECK_OK(benchfs_utimens(fs, "/u/f", omit, 0));
    CHECK_OK(benchfs_stat(fs, "/u/f", &st2));
    CHECK(st2.atime_ns == st.atime_ns && st2.mtime_ns == st.mtime_ns);
    /* directories too */
    CHECK_OK(benchfs_utimens(fs, "/u", t, 0));
    CHECK_OK(benchfs_stat(fs, "/u", &st));
    CHECK(S_ISDIR(st.mode) && st.mtime_ns == 200000000007LL);
    /* invalid */
    struct timespec bad[2] = {{1, 1000000000}, {1, 0}};
    CHECK_ERR(benchfs_utimens(fs, "/u/f", bad, 0), EINVAL);
    struct timespec neg[2] = {{-1, 0}, {1, 0}};
    CHECK_ERR(benchfs_utimens(fs, "/u/f", neg, 0), EINVAL);
    CHECK_ERR(benchfs_utimens(fs, "/u/f", t, 0x4), EINVAL);
    CHECK_ERR(benchfs_utimens(fs, "/u/missing", t, 0), ENOENT);
    CHECK_ERR(benchfs_utimens(fs, "/", t, 0), EPERM);
    CHECK_ERR(benchfs_futimens(fs, 999, t), EBADF);
}

static void times_links(benchfs_t *fs)
{
    benchfs_stat_t st, lst;
    CHECK_OK(benchfs_symlink(fs, "f", "/u/l"));
    struct timespec t[2] = {{1000, 1}, {2000, 2}};
    CHECK_OK(benchfs_utimens(fs, "/u/l", t, BENCHFS_AT_SYMLINK_NOFOLLOW));
    CHECK_OK(benchfs_lstat(fs, "/u/l", &lst));
    CHECK(S_ISLNK(lst.mode) && lst.mtime_ns == 2000000000002LL && lst.atime_ns == 1000000000001LL);
    CHECK_OK(benchfs_stat(fs, "/u/f", &st));
    CHECK(st.mtime_ns != 2000000000002LL);
    CHECK(S_ISLNK(lst.mode) && lst.size == 1); /* the link is still a link to "f" */
    struct timespec t2[2] = {{3000, 3}, {4000, 4}};
    CHECK_OK(benchfs_utimens(fs, "/u/l", t2, 0)); /* follows */
    CHECK_OK(benchfs_stat(fs, "/u/f", &st));
    CHECK(st.mtime_ns == 4000000000004LL);
    CHECK_OK(benchfs_lstat(fs, "/u/l", &lst));
    CHECK(lst.mtime_ns == 2000000000002LL);
}

/* cp -p: write, set the times through the descriptor, close. The close publishes the size
 * but must not bring the write's mtime back. */
static void times_fd(benchfs_t *fs)
{
    benchfs_stat_t st;
    int fd = benchfs_open(fs, "/u/cp", O_CREAT | O_WRONLY, 0644);
    CHECK(fd >= 0);
    CHECK(benchfs_write(fs, fd, "copied data", 11) == 11);
    struct timespec t[2] = {{5000, 0}, {6000, 0}};
    CHECK_OK(benchfs_futimens(fs, fd, t));
    CHECK(benchfs_write(fs, fd, "", 0) == 0);
    CHECK_OK(benchfs_close(fs, fd));
    CHECK_OK(benchfs_stat(fs, "/u/cp", &st));
    CHECK(st.size == 11 && st.mtime_ns == 6000000000000LL && st.atime_ns == 5000000000000LL);
    /* a descriptor still works after another client renamed its file */
    fd = benchfs_open(fs, "/u/cp", O_RDONLY, 0);
    CHECK(fd >= 0);
    CHECK_OK(benchfs_rename(fs, "/u/cp", "/u/cp2"));
    struct timespec t2[2] = {{0, UTIME_OMIT}, {7000, 0}};
    CHECK_OK(benchfs_futimens(fs, fd, t2));
    CHECK_OK(benchfs_close(fs, fd));
    CHECK_OK(benchfs_stat(fs, "/u/cp2", &st));
    CHECK(st.mtime_ns == 7000000000000LL);
}

/* utimensat(2)'s rules, acted out by a thread identity that does not own the files. */
static void times_permissions(benchfs_t *fs)
{
    CHECK_OK(put_file(fs, "/u/ro", 1, 0644));
    CHECK_OK(put_file(fs, "/u/rw", 1, 0666));
    benchfs_cred_t other = {.uid = 4242, .gid = 4242};
    CHECK_OK(benchfs_set_thread_cred(&other));
    struct timespec t[2] = {{10, 0}, {20, 0}};
    struct timespec now[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
    struct timespec omit[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
    CHECK_ERR(benchfs_utimens(fs, "/u/rw", t, 0), EPERM);   /* explicit: owner only */
    CHECK_ERR(benchfs_utimens(fs, "/u/ro", t, 0), EPERM);
    CHECK_ERR(benchfs_utimens(fs, "/u/ro", NULL, 0), EACCES); /* now: or write permission */
    CHECK_ERR(benchfs_utimens(fs, "/u/ro", now, 0), EACCES);
    CHECK_OK(benchfs_utimens(fs, "/u/rw", NULL, 0));
    CHECK_OK(benchfs_utimens(fs, "/u/rw", now, 0));
    CHECK_OK(benchfs_utimens(fs, "/u/ro", omit, 0)); /* nothing to change, nothing checked */
    /* what this identity owns, it may set as it likes */
    CHECK_OK(put_file(fs, "/u/mine", 1, 0444));
    CHECK_OK(benchfs_utimens(fs, "/u/mine", t, 0));
    CHECK_OK(benchfs_utimens(fs, "/u/mine", NULL, 0));
    CHECK_OK(benchfs_set_thread_cred(NULL));
    benchfs_stat_t st;
    CHECK_OK(benchfs_stat(fs, "/u/mine", &st));
    CHECK(st.uid == 4242 && st.gid == 4242);
    if (geteuid() == 0) /* root sets any time on anything */
        CHECK_OK(benchfs_utimens(fs, "/u/ro", t, 0));
}

static long counter(benchfs_t *fs, const char *name) { return cluster_counter(fs, nsrv, name); }

static void readdirplus(benchfs_t *fs)
{
    CHECK_OK(benchfs_mkdir(fs, "/r", 0755));
    char p[64];
    for (int i = 0; i < NPLUS; i++) {
        snprintf(p, sizeof p, "/r/e%04d", i);
        if (i % 50 == 1)
            CHECK_OK(benchfs_mkdir(fs, p, 0700));
        else if (i % 50 == 2)
            CHECK_OK(benchfs_symlink(fs, "e0000", p));
        else
            CHECK_OK(put_file(fs, p, (size_t)(i % 300), 0600 + (i % 8)));
    }
    long rdp0 = counter(fs, "readdirplus.count"), rd0 = counter(fs, "readdir.count");
    long lk0 = counter(fs, "lookup.count");
    benchfs_dir_t *d = benchfs_opendir(fs, "/r");
    CHECK(d != NULL);
    static benchfs_dirent_t ents[NPLUS + 1];
    static benchfs_stat_t sts[NPLUS + 1];
    int n = 0;
    const benchfs_dirent_t *e;
    while (d && n <= NPLUS && (e = benchfs_readdirplus(d, &sts[n])) != NULL)
        ents[n++] = *e;
    long rdp = counter(fs, "readdirplus.count") - rdp0, rd = counter(fs, "readdir.count") - rd0;
    long lk = counter(fs, "lookup.count") - lk0;
    printf("readdirplus: %d entries over %d servers: %ld READDIRPLUS, %ld READDIR, %ld LOOKUP\n",
           n, nsrv, rdp, rd, lk);
    CHECK(n == NPLUS);
    /* one call per server and page (1024 entries), the directory's own LOOKUP, nothing else */
    CHECK(rdp >= nsrv && rdp <= nsrv + (NPLUS + 1023) / 1024);
    CHECK(rd == 0);
    CHECK(lk == 1);
    if (d)
        CHECK_OK(benchfs_closedir(d));
    int links = 0, dirs = 0, mismatches = 0;
    for (int i = 0; i < n; i++) {
        benchfs_stat_t st;
        snprintf(p, sizeof p, "/r/%s", ents[i].name);
        CHECK_OK(benchfs_lstat(fs, p, &st));
        links += S_ISLNK(st.mode);
        dirs += S_ISDIR(st.mode);
        if (memcmp(&st, &sts[i], sizeof st) != 0 || ents[i].ino != st.ino ||
            ents[i].mode != st.mode)
            mismatches++;
    }
    CHECK(mismatches == 0);
    CHECK(links == NPLUS / 50 && dirs == NPLUS / 50);
    /* readdir and readdirplus (with st NULL) share one stream */
    d = benchfs_opendir(fs, "/r");
    CHECK(d != NULL);
    if (d) {
        benchfs_stat_t st;
        const benchfs_dirent_t *a = benchfs_readdir(d);
        const benchfs_dirent_t *b = benchfs_readdirplus(d, NULL);
        const benchfs_dirent_t *c = benchfs_readdirplus(d, &st);
        CHECK(a && b && c && strcmp(a->name, "e0000") == 0 && strcmp(b->name, "e0001") == 0);
        CHECK(c && strcmp(c->name, "e0002") == 0 && S_ISLNK(st.mode) && st.size == 5);
        CHECK_OK(benchfs_closedir(d));
    }
    CHECK(benchfs_readdirplus(NULL, NULL) == NULL && errno == EBADF);
    /* an empty directory */
    CHECK_OK(benchfs_mkdir(fs, "/r0", 0755));
    d = benchfs_opendir(fs, "/r0");
    CHECK(d && benchfs_readdirplus(d, NULL) == NULL);
    if (d)
        benchfs_closedir(d);
}

int main(int argc, char **argv)
{
    nsrv = argc > 1 ? atoi(argv[1]) : 2;
    struct cluster c;
    cluster_start(&c, nsrv, NULL);
    benchfs_t *fs = cluster_client(&c, 5000);
    times_basic(fs);
    times_links(fs);
    times_fd(fs);
    times_permissions(fs);
    readdirplus(fs);
    CHECK_OK(benchfs_term(fs));
    cluster_stop(&c);
    return test_finish("test_attrs");
}
