/* SPDX-License-Identifier: BSD-3-Clause */
/* test_symlinks — symbolic links through the library against real servers: relative,
 * absolute (with and without a mount prefix, and leaving BenchFS: EXDEV), dangling, loops
 * (40 links resolve, 41 are ELOOP), links in middle components (and ".." after one), the
 * calls that do not follow the last component, rename of a directory holding links, links
 * whose entry and target live on different servers, and the cost of the common case (a path
 * without links takes one LOOKUP, counted on the servers). Also: every call on an empty path
 * is ENOENT.
 *
 * usage: test_symlinks NSERVERS */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster.h"
#include "listing.h"

static int nsrv;

static int put_file(benchfs_t *fs, const char *path, const char *text)
{
    int fd = benchfs_open(fs, path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    ssize_t n = benchfs_write(fs, fd, text, strlen(text));
    return benchfs_close(fs, fd) == 0 && n == (ssize_t)strlen(text) ? 0 : -1;
}

/* The file's content as a string ("" on error). */
static const char *get_file(benchfs_t *fs, const char *path)
{
    static char buf[256];
    buf[0] = '\0';
    int fd = benchfs_open(fs, path, O_RDONLY, 0);
    if (fd < 0)
        return buf;
    ssize_t n = benchfs_read(fs, fd, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = '\0';
    benchfs_close(fs, fd);
    return buf;
}

static int link_is(benchfs_t *fs, const char *path, const char *want)
{
    char buf[4200];
    ssize_t n = benchfs_readlink(fs, path, buf, sizeof buf);
    return n == (ssize_t)strlen(want) && memcmp(buf, want, (size_t)n) == 0;
}

static void basics(benchfs_t *fs)
{
    benchfs_stat_t st, ls, fst;
    CHECK_OK(benchfs_mkdir(fs, "/s", 0755));
    CHECK_OK(benchfs_mkdir(fs, "/s/d", 0755));
    CHECK_OK(put_file(fs, "/s/d/f", "hello"));
    CHECK_OK(benchfs_stat(fs, "/s/d/f", &fst));

    /* relative */
    CHECK_OK(benchfs_symlink(fs, "d/f", "/s/rel"));
    CHECK_OK(benchfs_stat(fs, "/s/rel", &st));
    CHECK(st.ino == fst.ino && S_ISREG(st.mode) && st.size == 5);
    CHECK_OK(benchfs_lstat(fs, "/s/rel", &ls));
    CHECK(S_ISLNK(ls.mode) && ls.size == 3 && ls.ino != fst.ino && ls.nlink == 1);
    CHECK(ls.uid == geteuid() && ls.gid == getegid());
    CHECK(link_is(fs, "/s/rel", "d/f"));
    char two[2];
    CHECK(benchfs_readlink(fs, "/s/rel", two, 2) == 2 && memcmp(two, "d/", 2) == 0);
    CHECK(strcmp(get_file(fs, "/s/rel"), "hello") == 0);
    /* writing through a link writes the target */
    int fd = benchfs_open(fs, "/s/rel", O_WRONLY | O_APPEND, 0);
    CHECK(fd >= 0);
    CHECK(benchfs_pwrite(fs, fd, "!", 1, 5) == 1);
    CHECK_OK(benchfs_close(fs, fd));
    CHECK(strcmp(get_file(fs, "/s/d/f"), "hello!") == 0);
    CHECK_ERR(benchfs_open(fs, "/s/rel", O_RDONLY | O_NOFOLLOW, 0), ELOOP);
    CHECK_OK(benchfs_access(fs, "/s/rel", R_OK));

    /* absolute, no mount prefix: a BenchFS path as written */
    CHECK_OK(benchfs_symlink(fs, "/s/d/f", "/s/abs"));
    CHECK_OK(benchfs_stat(fs, "/s/abs", &st));
    CHECK(st.ino == fst.ino);

    /* dangling; O_CREAT through it creates the target, O_EXCL does not follow */
    CHECK_OK(benchfs_symlink(fs, "nowhere", "/s/dang"));
    CHECK_ERR(benchfs_stat(fs, "/s/dang", &st), ENOENT);
    CHECK_OK(benchfs_lstat(fs, "/s/dang", &ls));
    CHECK(S_ISLNK(ls.mode) && ls.size == 7);
    CHECK(link_is(fs, "/s/dang", "nowhere"));
    CHECK_ERR(benchfs_open(fs, "/s/dang", O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST);
    CHECK_ERR(benchfs_stat(fs, "/s/nowhere", &st), ENOENT);
    CHECK_OK(put_file(fs, "/s/dang", "made"));
    CHECK(strcmp(get_file(fs, "/s/nowhere"), "made") == 0);
    CHECK_OK(benchfs_lstat(fs, "/s/dang", &ls));
    CHECK(S_ISLNK(ls.mode));

    /* errors of symlink and readlink */
    CHECK_ERR(benchfs_symlink(fs, "x", "/s/rel"), EEXIST);
    CHECK_ERR(benchfs_symlink(fs, "x", "/s/d"), EEXIST);
    CHECK_ERR(benchfs_symlink(fs, "x", "/s/missing/l"), ENOENT);
    CHECK_ERR(benchfs_symlink(fs, "x", "/s/d/f/l"), ENOTDIR);
    CHECK_ERR(benchfs_symlink(fs, "", "/s/empty"), ENOENT);
    char big[5000];
    memset(big, 'b', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK_ERR(benchfs_symlink(fs, big, "/s/big"), ENAMETOOLONG);
    big[4095] = '\0';
    CHECK_OK(benchfs_symlink(fs, big, "/s/big"));
    CHECK(link_is(fs, "/s/big", big));
    CHECK_OK(benchfs_lstat(fs, "/s/big", &ls));
    CHECK(ls.size == 4095);
    CHECK_ERR(benchfs_readlink(fs, "/s/d/f", two, 2), EINVAL);
    CHECK_ERR(benchfs_readlink(fs, "/s/d", two, 2), EINVAL);
    CHECK_ERR(benchfs_readlink(fs, "/s/none", two, 2), ENOENT);
    CHECK_ERR(benchfs_mkdir(fs, "/s/rel", 0755), EEXIST);
    CHECK_ERR(benchfs_stat(fs, "/s/rel/x", &st), ENOTDIR);
    CHECK_ERR(benchfs_rmdir(fs, "/s/rel"), ENOTDIR);
}

static void loops(benchfs_t *fs)
{
    benchfs_stat_t st;
    CHECK_OK(benchfs_mkdir(fs, "/s/loop", 0755));
    CHECK_OK(benchfs_symlink(fs, "b", "/s/loop/a"));
    CHECK_OK(benchfs_symlink(fs, "a", "/s/loop/b"));
    CHECK_OK(benchfs_symlink(fs, "/s/loop/self", "/s/loop/self"));
    CHECK_ERR(benchfs_stat(fs, "/s/loop/a", &st), ELOOP);
    CHECK_ERR(benchfs_stat(fs, "/s/loop/self", &st), ELOOP);
    CHECK_ERR(benchfs_stat(fs, "/s/loop/a/x", &st), ELOOP);
    CHECK_ERR(benchfs_open(fs, "/s/loop/a", O_RDONLY, 0), ELOOP);
    CHECK_ERR(benchfs_open(fs, "/s/loop/a", O_CREAT | O_WRONLY, 0644), ELOOP);
    CHECK_OK(benchfs_lstat(fs, "/s/loop/a", &st)); /* the link itself is fine */
    /* A chain: c0 -> ../d/f, c<i> -> c<i-1>. Resolving c<k> follows k+1 links. */
    char name[64], target[64];
    CHECK_OK(benchfs_symlink(fs, "../d/f", "/s/loop/c0"));
    for (int i = 1; i <= 40; i++) {
        snprintf(name, sizeof name, "/s/loop/c%d", i);
        snprintf(target, sizeof target, "c%d", i - 1);
        CHECK_OK(benchfs_symlink(fs, target, name));
    }
    CHECK_OK(benchfs_stat(fs, "/s/loop/c39", &st)); /* 40 links */
    CHECK(S_ISREG(st.mode) && st.size == 6);
    CHECK_ERR(benchfs_stat(fs, "/s/loop/c40", &st), ELOOP); /* 41 */
}

static void middle(benchfs_t *fs)
{
    benchfs_stat_t st, fst;
    CHECK_OK(benchfs_stat(fs, "/s/d/f", &fst));
    CHECK_OK(benchfs_symlink(fs, "d", "/s/dl"));
    CHECK_OK(benchfs_symlink(fs, "dl", "/s/dl2"));
    CHECK_OK(benchfs_stat(fs, "/s/dl/f", &st));
    CHECK(st.ino == fst.ino);
    CHECK_OK(benchfs_stat(fs, "/s/dl2/f", &st));
    CHECK(st.ino == fst.ino);
    CHECK_OK(benchfs_stat(fs, "/s/dl", &st));
    CHECK(S_ISDIR(st.mode));
    /* creating through a link in the parent creates in the target directory */
    CHECK_OK(put_file(fs, "/s/dl/g", "g"));
    CHECK_OK(benchfs_stat(fs, "/s/d/g", &st));
    CHECK_OK(benchfs_mkdir(fs, "/s/dl2/sub", 0755));
    CHECK_OK(benchfs_stat(fs, "/s/d/sub", &st));
    CHECK(S_ISDIR(st.mode));
    CHECK_OK(benchfs_symlink(fs, "../f", "/s/dl/sub/up"));
    CHECK_OK(benchfs_lstat(fs, "/s/d/sub/up", &st));
    CHECK(S_ISLNK(st.mode));
    CHECK_OK(benchfs_stat(fs, "/s/dl/sub/up", &st));
    CHECK(st.ino == fst.ino);
    struct name_list l;
    CHECK_OK(list_dir(fs, "/s/dl", &l));
    CHECK(find_name(&l, "f") && find_name(&l, "g") && find_name(&l, "sub"));
    free(l.v);
    /* ".." after a link leaves the link's target, not the link's directory */
    CHECK_OK(benchfs_symlink(fs, "/s/d/sub", "/s/deep"));
    CHECK_OK(benchfs_stat(fs, "/s/deep/../f", &st)); /* /s/d/f; lexically /s/f */
    CHECK(st.ino == fst.ino);
    CHECK_ERR(benchfs_stat(fs, "/s/f", &st), ENOENT);
    /* a trailing slash follows even for lstat */
    CHECK_OK(benchfs_lstat(fs, "/s/dl/", &st));
    CHECK(S_ISDIR(st.mode));
    /* unlink, rename, lstat act on the link; rmdir of a link to a directory is ENOTDIR */
    CHECK_ERR(benchfs_rmdir(fs, "/s/dl2"), ENOTDIR);
    CHECK_OK(benchfs_unlink(fs, "/s/dl2"));
    CHECK_ERR(benchfs_lstat(fs, "/s/dl2", &st), ENOENT);
    CHECK_OK(benchfs_stat(fs, "/s/dl", &st));
    CHECK_OK(benchfs_rename(fs, "/s/abs", "/s/abs2"));
    CHECK(link_is(fs, "/s/abs2", "/s/d/f"));
    CHECK_OK(benchfs_stat(fs, "/s/d/f", &st));
    CHECK(st.ino == fst.ino);
    /* a link renamed over a file replaces it; a file renamed over a link too */
    CHECK_OK(put_file(fs, "/s/victim", "v"));
    CHECK_OK(benchfs_rename(fs, "/s/abs2", "/s/victim"));
    CHECK_OK(benchfs_lstat(fs, "/s/victim", &st));
    CHECK(S_ISLNK(st.mode));
    CHECK(strcmp(get_file(fs, "/s/victim"), "hello!") == 0);
    CHECK_OK(put_file(fs, "/s/plain", "p"));
    CHECK_OK(benchfs_rename(fs, "/s/plain", "/s/victim"));
    CHECK_OK(benchfs_lstat(fs, "/s/victim", &st));
    CHECK(S_ISREG(st.mode));
    CHECK(strcmp(get_file(fs, "/s/d/f"), "hello!") == 0); /* the old link's target stays */
    CHECK_ERR(benchfs_rename(fs, "/s/dl", "/s/d/sub"), EISDIR);
}

/* A directory moved entry by entry carries its links, targets and all. */
static void rename_tree(benchfs_t *fs)
{
    benchfs_stat_t st, fst;
    CHECK_OK(benchfs_stat(fs, "/s/d/f", &fst));
    CHECK_OK(benchfs_mkdir(fs, "/s/t", 0755));
    CHECK_OK(benchfs_mkdir(fs, "/s/t/sub", 0755));
    CHECK_OK(put_file(fs, "/s/t/x", "x"));
    CHECK_OK(benchfs_symlink(fs, "../../d/f", "/s/t/sub/up"));
    CHECK_OK(benchfs_symlink(fs, "x", "/s/t/ln"));
    CHECK_OK(benchfs_symlink(fs, "sub", "/s/t/subln"));
    CHECK_OK(benchfs_rename(fs, "/s/t", "/s/t2"));
    CHECK_ERR(benchfs_lstat(fs, "/s/t/ln", &st), ENOENT);
    CHECK(link_is(fs, "/s/t2/sub/up", "../../d/f"));
    CHECK(link_is(fs, "/s/t2/ln", "x"));
    CHECK_OK(benchfs_stat(fs, "/s/t2/sub/up", &st));
    CHECK(st.ino == fst.ino);
    CHECK(strcmp(get_file(fs, "/s/t2/ln"), "x") == 0);
    CHECK_OK(benchfs_stat(fs, "/s/t2/subln/up", &st));
    CHECK(st.ino == fst.ino);
}

/* 24 links and targets: with several servers most links live on another server than their
 * targets, and the SYMLINK calls spread over the servers. */
static void across_servers(benchfs_t *fs)
{
    CHECK_OK(benchfs_mkdir(fs, "/s/x", 0755));
    long before = cluster_counter(fs, nsrv, "symlink.count");
    char p[64], t[64];
    for (int i = 0; i < 24; i++) {
        snprintf(p, sizeof p, "/s/x/f%d", i);
        snprintf(t, sizeof t, "content %d", i);
        CHECK_OK(put_file(fs, p, t));
        snprintf(p, sizeof p, "/s/x/l%d", i);
        snprintf(t, sizeof t, "/s/x/f%d", i);
        CHECK_OK(benchfs_symlink(fs, t, p));
    }
    CHECK(cluster_counter(fs, nsrv, "symlink.count") - before == 24);
    int servers_with_links = 0;
    for (int s = 0; s < nsrv; s++)
        servers_with_links += cluster_counter_one(fs, s, "symlink.count") > 0;
    CHECK(servers_with_links == nsrv || nsrv > 4);
    for (int i = 0; i < 24; i++) {
        snprintf(p, sizeof p, "/s/x/l%d", i);
        snprintf(t, sizeof t, "content %d", i);
        CHECK(strcmp(get_file(fs, p), t) == 0);
    }
    /* unlink of a link frees no chunks anywhere; its target keeps its data */
    long removes = cluster_counter(fs, nsrv, "chunk_remove.count");
    CHECK_OK(benchfs_unlink(fs, "/s/x/l0"));
    CHECK(cluster_counter(fs, nsrv, "chunk_remove.count") == removes);
    CHECK(strcmp(get_file(fs, "/s/x/f0"), "content 0") == 0);
}

/* A path with no link costs one LOOKUP, as before links existed. */
static void common_case_cost(benchfs_t *fs)
{
    benchfs_stat_t st;
    long before = cluster_counter(fs, nsrv, "lookup.count");
    for (int i = 0; i < 50; i++)
        CHECK_OK(benchfs_stat(fs, "/s/d/sub", &st));
    CHECK(cluster_counter(fs, nsrv, "lookup.count") - before == 50);
    /* A link in the middle costs more: the miss, the prefixes, the target. */
    before = cluster_counter(fs, nsrv, "lookup.count");
    CHECK_OK(benchfs_stat(fs, "/s/dl/sub", &st));
    CHECK(cluster_counter(fs, nsrv, "lookup.count") - before > 1);
}

/* With a mount prefix, absolute targets under it are BenchFS paths; others leave (EXDEV). */
static void mount_prefix(struct cluster *c, benchfs_t *plain)
{
    benchfs_options_t o = {.registry = c->registry, .nservers = c->n, .wait_ms = 20000,
                           .rpc_timeout_ms = 5000, .mount_prefix = "/mnt/bfs/"};
    benchfs_t *fs = benchfs_init_opts(&o);
    CHECK(fs != NULL);
    if (!fs)
        return;
    benchfs_stat_t st, fst;
    CHECK_OK(benchfs_stat(fs, "/s/d/f", &fst));
    CHECK_OK(benchfs_symlink(fs, "/mnt/bfs/s/d/f", "/s/m1"));
    CHECK_OK(benchfs_stat(fs, "/s/m1", &st));
    CHECK(st.ino == fst.ino);
    CHECK_OK(benchfs_symlink(fs, "/mnt/bfs", "/s/mroot"));
    CHECK_OK(benchfs_stat(fs, "/s/mroot/s/d/f", &st));
    CHECK(st.ino == fst.ino);
    CHECK_OK(benchfs_symlink(fs, "/etc/passwd", "/s/out"));
    CHECK_ERR(benchfs_stat(fs, "/s/out", &st), EXDEV);
    CHECK_ERR(benchfs_open(fs, "/s/out", O_RDONLY, 0), EXDEV);
    CHECK_OK(benchfs_lstat(fs, "/s/out", &st));
    CHECK(link_is(fs, "/s/out", "/etc/passwd"));
    CHECK_OK(benchfs_symlink(fs, "/mnt/bfsX/f", "/s/out2")); /* a prefix of a name is no prefix */
    CHECK_ERR(benchfs_stat(fs, "/s/out2", &st), EXDEV);
    /* the context without a prefix reads the same target as a BenchFS path */
    CHECK_ERR(benchfs_stat(plain, "/s/m1", &st), ENOENT);
    CHECK_OK(benchfs_term(fs));
    o.mount_prefix = "relative/mnt";
    CHECK(benchfs_init_opts(&o) == NULL && errno == EINVAL);
}

static void empty_paths(benchfs_t *fs)
{
    benchfs_stat_t st;
    char buf[8];
    struct timespec ts[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
    CHECK_ERR(benchfs_open(fs, "", O_RDONLY, 0), ENOENT);
    CHECK_ERR(benchfs_open(fs, "", O_CREAT | O_WRONLY, 0644), ENOENT);
    CHECK_ERR(benchfs_stat(fs, "", &st), ENOENT);
    CHECK_ERR(benchfs_lstat(fs, "", &st), ENOENT);
    CHECK_ERR(benchfs_readlink(fs, "", buf, sizeof buf), ENOENT);
    CHECK_ERR(benchfs_symlink(fs, "x", ""), ENOENT);
    CHECK_ERR(benchfs_utimens(fs, "", ts, 0), ENOENT);
    CHECK_ERR(benchfs_mkdir(fs, "", 0755), ENOENT);
    CHECK_ERR(benchfs_unlink(fs, ""), ENOENT);
    CHECK_ERR(benchfs_rename(fs, "", "/s/zz"), ENOENT);
    CHECK(benchfs_opendir(fs, "") == NULL && errno == ENOENT);
}

int main(int argc, char **argv)
{
    nsrv = argc > 1 ? atoi(argv[1]) : 2;
    struct cluster c;
    cluster_start(&c, nsrv, NULL);
    benchfs_t *fs = cluster_client(&c, 5000);
    basics(fs);
    loops(fs);
    middle(fs);
    rename_tree(fs);
    across_servers(fs);
    common_case_cost(fs);
    mount_prefix(&c, fs);
    empty_paths(fs);
    CHECK_OK(benchfs_term(fs));
    cluster_stop(&c);
    return test_finish("test_symlinks");
}
