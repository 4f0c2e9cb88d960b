/* SPDX-License-Identifier: BSD-3-Clause */
/* test_create — open(O_CREAT) sends the parent directory's LOOKUP beside the CREATE
 * (src/client/create.c). Checked here: the CREATE reaches the file's server while the parent's
 * server is stopped (so the two are in flight together: one round trip, not two), and every
 * way the parent check can fail afterwards (no parent, a file as parent, no write permission,
 * a link on the way) reports what the careful order reports and leaves no entry behind.
 * With $BENCHFS_DIR_CACHE_MS (src/client/dircache.c) parent checks of creates and unlinks in
 * one directory cost one LOOKUP in all; the context's own rmdir, rename and chmod are seen at
 * once, another client's chmod once the entry expires.
 *
 * usage: test_create NSERVERS (the in-flight check needs 2 or more) */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster.h"
#include "common/util.h"

static benchfs_t *g_fs;
static int g_n;

static int make(const char *path, int flags, mode_t mode)
{
    int fd = benchfs_open(g_fs, path, O_CREAT | O_WRONLY | flags, mode);
    if (fd < 0)
        return -1;
    return benchfs_close(g_fs, fd);
}

static int exists(const char *path)
{
    benchfs_stat_t st;
    return benchfs_lstat(g_fs, path, &st) == 0;
}

/* Which server the last metadata op of kind `counter` went to: the one whose count rose. */
static int owner_of(const long *before, const char *counter)
{
    for (int s = 0; s < g_n; s++)
        if (cluster_counter_one(g_fs, s, counter) != before[s])
            return s;
    return -1;
}

static void snapshot(long *out, const char *counter)
{
    for (int s = 0; s < g_n; s++)
        out[s] = cluster_counter_one(g_fs, s, counter);
}

struct bg_create {
    benchfs_t *fs;
    const char *path;
    int rc;
};

static void *bg(void *arg)
{
    struct bg_create *b = arg;
    int fd = benchfs_open(b->fs, b->path, O_CREAT | O_WRONLY | O_EXCL, 0644);
    b->rc = fd < 0 ? -1 : benchfs_close(b->fs, fd);
    return NULL;
}

/* With the parent's server stopped, the CREATE still reaches the file's server. */
static void in_flight_together(struct cluster *c)
{
    long before[CLUSTER_MAX];
    snapshot(before, "mkdir.count");
    CHECK_OK(benchfs_mkdir(g_fs, "/tog", 0755));
    int ps = owner_of(before, "mkdir.count");
    CHECK(ps >= 0);
    char path[64] = "";
    int fs_srv = -1;
    for (int i = 0; i < 64 && fs_srv < 0; i++) {
        snprintf(path, sizeof path, "/tog/f%d", i);
        snapshot(before, "create.count");
        CHECK_OK(make(path, O_EXCL, 0644));
        int s = owner_of(before, "create.count");
        CHECK_OK(benchfs_unlink(g_fs, path));
        if (s >= 0 && s != ps)
            fs_srv = s;
    }
    CHECK(fs_srv >= 0);
    if (ps < 0 || fs_srv < 0)
        return;
    benchfs_t *other = cluster_client(c, 10000);
    struct bg_create b = {.fs = other, .path = path, .rc = -2};
    benchfs_stat_t st;
    benchfs_lstat(other, "/tog", &st); /* connected to both servers before one stops */
    benchfs_lstat(other, path, &st);
    long created0 = cluster_counter_one(g_fs, fs_srv, "create.count");
    kill(c->pids[ps], SIGSTOP); /* cluster_kill would wait for it to exit */
    pthread_t t;
    CHECK(pthread_create(&t, NULL, bg, &b) == 0);
    long created = created0;
    for (int i = 0; i < 500 && created == created0; i++) { /* at most 5 s */
        usleep(10000);
        created = cluster_counter_one(g_fs, fs_srv, "create.count");
    }
    kill(c->pids[ps], SIGCONT);
    pthread_join(t, NULL);
    CHECK(created == created0 + 1); /* sent before the parent's LOOKUP was answered */
    CHECK(b.rc == 0);
    CHECK(exists(path));
    CHECK_OK(benchfs_term(other));
}

/* Each failing parent check: the same errno as before, and no entry left at the path. */
static void failures_leave_nothing(void)
{
    /* no parent: ENOENT; once the directory exists, the name is still free */
    CHECK_ERR(make("/gone/f", 0, 0644), ENOENT);
    CHECK_OK(benchfs_mkdir(g_fs, "/gone", 0755));
    CHECK(!exists("/gone/f"));
    CHECK_OK(make("/gone/f", O_EXCL, 0644));

    /* a file as parent: ENOTDIR, and nothing stored below it */
    CHECK_OK(make("/plain", 0, 0644));
    CHECK_ERR(make("/plain/f", 0, 0644), ENOTDIR);
    CHECK_OK(benchfs_unlink(g_fs, "/plain"));
    CHECK_OK(benchfs_mkdir(g_fs, "/plain", 0755));
    CHECK(!exists("/plain/f"));

    /* no write permission on the parent: EACCES for a new name, an existing file opens */
    CHECK_OK(benchfs_mkdir(g_fs, "/ro", 0755));
    CHECK_OK(make("/ro/old", 0, 0666));
    gid_t groups[1] = {4242};
    benchfs_cred_t cred = {.uid = 4242, .gid = 4242, .ngroups = 1, .groups = groups};
    CHECK_OK(benchfs_set_thread_cred(&cred));
    CHECK_ERR(make("/ro/new", 0, 0644), EACCES);
    CHECK_OK(make("/ro/old", 0, 0644));
    CHECK_ERR(make("/ro/old", O_EXCL, 0644), EEXIST);
    CHECK_OK(benchfs_set_thread_cred(NULL));
    CHECK(!exists("/ro/new"));

    /* a link as parent: the file lands at the target, nothing under the link's own path */
    CHECK_OK(benchfs_mkdir(g_fs, "/target", 0755));
    CHECK_OK(benchfs_symlink(g_fs, "/target", "/via"));
    CHECK_OK(make("/via/f", O_EXCL, 0644));
    CHECK(exists("/target/f"));
    CHECK_OK(benchfs_unlink(g_fs, "/via"));
    CHECK_OK(benchfs_mkdir(g_fs, "/via", 0755));
    CHECK(!exists("/via/f"));

    /* a link at the name: followed, its dangling target created */
    CHECK_OK(benchfs_symlink(g_fs, "/target/made", "/gone/ln"));
    CHECK_OK(make("/gone/ln", 0, 0644));
    benchfs_stat_t st;
    CHECK_OK(benchfs_lstat(g_fs, "/target/made", &st));
    CHECK(S_ISREG(st.mode));
    CHECK_OK(benchfs_lstat(g_fs, "/gone/ln", &st));
    CHECK(S_ISLNK(st.mode));
}

static long lookups(void)
{
    return cluster_counter(g_fs, g_n, "lookup.count");
}

static void dir_cache(struct cluster *c)
{
    setenv("BENCHFS_DIR_CACHE_MS", "300", 1);
    benchfs_t *fs = cluster_client(c, 10000);
    unsetenv("BENCHFS_DIR_CACHE_MS");
    CHECK_OK(benchfs_mkdir(fs, "/dc", 0777));
    long before = lookups();
    char p[64];
    for (int i = 0; i < 20; i++) {
        snprintf(p, sizeof p, "/dc/f%d", i);
        int fd = benchfs_open(fs, p, O_CREAT | O_WRONLY | O_EXCL, 0644);
        CHECK(fd >= 0 && benchfs_close(fs, fd) == 0);
    }
    for (int i = 0; i < 20; i++) {
        snprintf(p, sizeof p, "/dc/f%d", i);
        CHECK_OK(benchfs_unlink(fs, p));
    }
    long used = lookups() - before;
    CHECK(used == 1); /* the first create's check; 40 without the cache */

    /* this context's rmdir: the next create under the name finds no directory */
    CHECK_OK(benchfs_rmdir(fs, "/dc"));
    CHECK_ERR(benchfs_open(fs, "/dc/g", O_CREAT | O_WRONLY, 0644), ENOENT);
    CHECK(!exists("/dc/g"));

    /* this context's chmod: counts at once for the next check */
    CHECK_OK(benchfs_mkdir(fs, "/dm", 0777));
    int fd = benchfs_open(fs, "/dm/a", O_CREAT | O_WRONLY, 0644); /* caches /dm */
    CHECK(fd >= 0 && benchfs_close(fs, fd) == 0);
    CHECK_OK(benchfs_chmod(fs, "/dm", 0755));
    gid_t groups[1] = {4343};
    benchfs_cred_t cred = {.uid = 4343, .gid = 4343, .ngroups = 1, .groups = groups};
    CHECK_OK(benchfs_set_thread_cred(&cred));
    CHECK_ERR(benchfs_open(fs, "/dm/b", O_CREAT | O_WRONLY, 0644), EACCES);
    CHECK_ERR(benchfs_unlink(fs, "/dm/a"), EACCES);
    CHECK_OK(benchfs_set_thread_cred(NULL));

    /* another client's chmod: seen once the entry has expired */
    CHECK_OK(benchfs_chmod(fs, "/dm", 0777));
    fd = benchfs_open(fs, "/dm/c", O_CREAT | O_WRONLY, 0644); /* caches /dm as 0777 */
    CHECK(fd >= 0 && benchfs_close(fs, fd) == 0);
    CHECK_OK(benchfs_chmod(g_fs, "/dm", 0755));
    usleep(400 * 1000); /* past the 300 ms the entry lives */
    CHECK_OK(benchfs_set_thread_cred(&cred));
    CHECK_ERR(benchfs_open(fs, "/dm/d", O_CREAT | O_WRONLY, 0644), EACCES);
    CHECK_OK(benchfs_set_thread_cred(NULL));
    CHECK(!exists("/dm/d"));
    CHECK_OK(benchfs_term(fs));
}

int main(int argc, char **argv)
{
    g_n = argc > 1 ? atoi(argv[1]) : 2;
    struct cluster c;
    cluster_start(&c, g_n, NULL);
    g_fs = cluster_client(&c, 10000);
    failures_leave_nothing();
    if (g_n >= 2)
        in_flight_together(&c);
    dir_cache(&c);
    CHECK_OK(benchfs_term(g_fs));
    cluster_stop(&c);
    return test_finish("test_create");
}
