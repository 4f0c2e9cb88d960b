/* SPDX-License-Identifier: BSD-3-Clause */
/* test_identity — who a call acts as. Two threads on one context, each with its own identity
 * (benchfs_set_thread_cred), at the same time: each gets exactly its own permission results
 * and owns what it creates. Without a thread identity the process's effective ids count as
 * they are at each call: a forked child running as root that switches its euid is refused
 * what the new euid may not do and owns what it creates under it (root only: skipped
 * otherwise).
 *
 * usage: test_identity NSERVERS */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cluster.h"
#include "common/util.h"

#define ROUNDS 150
#define RUN_MS_MAX 60000

static benchfs_t *g_fs;

static int put_file(benchfs_t *fs, const char *path, mode_t mode)
{
    int fd = benchfs_open(fs, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
    if (fd < 0)
        return -1;
    ssize_t n = benchfs_write(fs, fd, "x", 1);
    return benchfs_close(fs, fd) == 0 && n == 1 ? 0 : -1;
}

/* errno of open(O_RDONLY), 0 if it opened. */
static int open_errno(const char *path)
{
    int fd = benchfs_open(g_fs, path, O_RDONLY, 0);
    if (fd < 0)
        return errno;
    benchfs_close(g_fs, fd);
    return 0;
}

struct worker {
    benchfs_cred_t cred;
    gid_t groups[2];
    const char *mine;      /* readable by this identity only */
    const char *theirs;    /* readable by the other only */
    const char *made;      /* created by this thread */
    int wrong;             /* results that were the other identity's */
    int rounds;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    w->cred.groups = w->groups;
    if (benchfs_set_thread_cred(&w->cred) != 0) {
        w->wrong = -1;
        return NULL;
    }
    int64_t end = bfs_mono_ms() + RUN_MS_MAX;
    for (int i = 0; i < ROUNDS && bfs_mono_ms() < end; i++, w->rounds++) {
        if (open_errno(w->mine) != 0)
            w->wrong++;
        if (open_errno(w->theirs) != EACCES)
            w->wrong++;
        if (benchfs_access(g_fs, w->theirs, R_OK) == 0)
            w->wrong++;
    }
    if (put_file(g_fs, w->made, 0600) != 0)
        w->wrong++;
    return NULL;
}

static void two_threads(void)
{
    benchfs_t *fs = g_fs;
    CHECK_OK(benchfs_mkdir(fs, "/id", 0777));
    /* a: owner 1001, mode 0600. g: group 2000, mode 0040: readable through the group only. */
    CHECK_OK(put_file(fs, "/id/a", 0600));
    CHECK_OK(benchfs_chown(fs, "/id/a", 1001, 1001));
    CHECK_OK(put_file(fs, "/id/g", 0040));
    CHECK_OK(benchfs_chown(fs, "/id/g", 0, 2000));
    struct worker a = {.cred = {.uid = 1001, .gid = 1001, .ngroups = 0},
                       .mine = "/id/a", .theirs = "/id/g", .made = "/id/by-a"};
    struct worker b = {.cred = {.uid = 1002, .gid = 1002, .ngroups = 2},
                       .groups = {3000, 2000},
                       .mine = "/id/g", .theirs = "/id/a", .made = "/id/by-b"};
    pthread_t ta, tb;
    CHECK(pthread_create(&ta, NULL, work, &a) == 0);
    CHECK(pthread_create(&tb, NULL, work, &b) == 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    printf("identity: %d + %d rounds, %d + %d wrong results\n", a.rounds, b.rounds, a.wrong,
           b.wrong);
    CHECK(a.wrong == 0 && b.wrong == 0);
    CHECK(a.rounds == ROUNDS && b.rounds == ROUNDS);
    benchfs_stat_t st;
    CHECK_OK(benchfs_stat(fs, "/id/by-a", &st));
    CHECK(st.uid == 1001 && st.gid == 1001);
    CHECK_OK(benchfs_stat(fs, "/id/by-b", &st));
    CHECK(st.uid == 1002 && st.gid == 1002);
    /* this thread never set one: the process's identity */
    CHECK_OK(put_file(fs, "/id/by-main", 0600));
    CHECK_OK(benchfs_stat(fs, "/id/by-main", &st));
    CHECK(st.uid == geteuid() && st.gid == getegid());

    /* mkdir and symlink take the identity as owner too; chown follows POSIX for it */
    benchfs_cred_t c = {.uid = 1003, .gid = 1003};
    CHECK_OK(benchfs_set_thread_cred(&c));
    CHECK_OK(benchfs_mkdir(fs, "/id/d3", 0755));
    CHECK_OK(benchfs_symlink(fs, "d3", "/id/l3"));
    CHECK_ERR(benchfs_chown(fs, "/id/d3", 1004, (gid_t)-1), EPERM);
    CHECK_ERR(benchfs_chmod(fs, "/id/a", 0644), EPERM);
    CHECK_ERR(benchfs_mkdir(fs, "/id/a/x", 0755), ENOTDIR);
    CHECK_OK(benchfs_set_thread_cred(NULL));
    CHECK_OK(benchfs_stat(fs, "/id/d3", &st));
    CHECK(st.uid == 1003 && st.gid == 1003 && S_ISDIR(st.mode));
    CHECK_OK(benchfs_lstat(fs, "/id/l3", &st));
    CHECK(st.uid == 1003 && st.gid == 1003 && S_ISLNK(st.mode));

    /* bad identities */
    gid_t many[BENCHFS_MAX_GROUPS + 1] = {0};
    benchfs_cred_t bad = {.uid = 1, .gid = 1, .ngroups = BENCHFS_MAX_GROUPS + 1, .groups = many};
    CHECK_ERR(benchfs_set_thread_cred(&bad), EINVAL);
    bad.ngroups = -1;
    CHECK_ERR(benchfs_set_thread_cred(&bad), EINVAL);
    bad.ngroups = 2;
    bad.groups = NULL;
    CHECK_ERR(benchfs_set_thread_cred(&bad), EINVAL);
    bad.ngroups = BENCHFS_MAX_GROUPS;
    bad.groups = many;
    CHECK_OK(benchfs_set_thread_cred(&bad));
    CHECK_OK(benchfs_set_thread_cred(NULL));
}

/* Root's child switches its euid: what it may do follows at once, with no new context. */
static int child_seteuid(void)
{
    benchfs_t *fs = g_fs;
    int bad = 0;
    benchfs_statfs_t sf;
    if (benchfs_statfs(fs, &sf) != 0) /* connected to every server, as root */
        return 100;
    if (open_errno("/id/root600") != 0)
        bad++;
    if (setegid(5000) != 0 || seteuid(5000) != 0)
        return 101;
    if (open_errno("/id/root600") != EACCES)
        bad++;
    if (benchfs_mkdir(fs, "/id/by-5000", 0755) != 0)
        bad++;
    benchfs_stat_t st;
    if (benchfs_stat(fs, "/id/by-5000", &st) != 0 || st.uid != 5000 || st.gid != 5000)
        bad++;
    if (benchfs_mkdir(fs, "/id/closed/x", 0755) != -1 || errno != EACCES)
        bad++;
    if (seteuid(0) != 0 || setegid(0) != 0)
        return 102;
    if (open_errno("/id/root600") != 0)
        bad++;
    if (benchfs_mkdir(fs, "/id/closed/x", 0755) != 0)
        bad++;
    return bad;
}

static void forked_seteuid(void)
{
    if (geteuid() != 0) {
        printf("identity: not root, seteuid part skipped\n");
        return;
    }
    CHECK_OK(put_file(g_fs, "/id/root600", 0600));
    CHECK_OK(benchfs_mkdir(g_fs, "/id/closed", 0755));
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        _exit(child_seteuid());
    CHECK(pid > 0);
    int ws = 0;
    CHECK(waitpid(pid, &ws, 0) == pid);
    CHECK(WIFEXITED(ws));
    printf("identity: seteuid child: %d wrong results (100+: setup failed)\n", WEXITSTATUS(ws));
    CHECK(WEXITSTATUS(ws) == 0);
    benchfs_stat_t st;
    CHECK_OK(benchfs_stat(g_fs, "/id/by-5000", &st));
    CHECK(st.uid == 5000);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2;
    struct cluster c;
    cluster_start(&c, n, NULL);
    g_fs = cluster_client(&c, 5000);
    two_threads();
    forked_seteuid();
    CHECK_OK(benchfs_term(g_fs));
    cluster_stop(&c);
    return test_finish("test_identity");
}
