/* SPDX-License-Identifier: BSD-3-Clause */
/* test_special — special files and Linux's mode-bit rules, as pjdfstest checks them through a
 * mount. FIFOs, sockets and device nodes: made (devices by root only), stat'ed with their type
 * and device number, listed, chmod/chown/utimens'ed, renamed (alone and inside a renamed
 * directory) and unlinked; open is ENXIO, truncate EINVAL, a bad type EINVAL. Sticky
 * directories: only root, the directory's owner or the entry's owner unlinks, rmdirs,
 * renames away or renames over an entry. Set-id bits: cleared by chown, by a write or a
 * truncate from someone else than root, and S_ISGID by a chmod from a non-member. Every identity is set
 * with benchfs_set_thread_cred, so the test means the same run as root or not.
 *
 * usage: test_special NSERVERS */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cluster.h"

static benchfs_t *g_fs;

/* Act as uid (gid the same, plus up to one more group); uid 0 is root. */
static void as(uid_t uid, gid_t extra)
{
    gid_t groups[2] = {(gid_t)uid, extra};
    benchfs_cred_t c = {.uid = uid, .gid = (gid_t)uid, .ngroups = extra ? 2 : 1,
                        .groups = groups};
    CHECK_OK(benchfs_set_thread_cred(&c));
}

static uint32_t mode_of(const char *path)
{
    benchfs_stat_t st;
    if (benchfs_lstat(g_fs, path, &st) != 0)
        return 0xffffffffu;
    return st.mode;
}

static void put_file(const char *path, mode_t mode)
{
    int fd = benchfs_open(g_fs, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
    CHECK(fd >= 0);
    CHECK(benchfs_write(g_fs, fd, "x", 1) == 1);
    CHECK_OK(benchfs_close(g_fs, fd));
}

struct seen {
    uint32_t fifo_mode, chr_mode;
};
static int note(const benchfs_dirent_t *e, void *arg)
{
    struct seen *s = arg;
    if (strcmp(e->name, "fifo") == 0)
        s->fifo_mode = e->mode;
    if (strcmp(e->name, "chr") == 0)
        s->chr_mode = e->mode;
    return 0;
}

static void special_files(void)
{
    benchfs_t *fs = g_fs;
    benchfs_stat_t st;
    as(0, 0);
    CHECK_OK(benchfs_mkdir(fs, "/sp", 0777));
    CHECK_OK(benchfs_mknod(fs, "/sp/fifo", S_IFIFO | 0640, 0));
    CHECK_OK(benchfs_mknod(fs, "/sp/sock", S_IFSOCK | 0755, 0));
    CHECK_OK(benchfs_mknod(fs, "/sp/chr", S_IFCHR | 0620, makedev(1, 3)));
    CHECK_OK(benchfs_mknod(fs, "/sp/blk", S_IFBLK | 0600, makedev(8, 17)));
    CHECK_OK(benchfs_stat(fs, "/sp/fifo", &st));
    CHECK(S_ISFIFO(st.mode) && (st.mode & 07777) == 0640 && st.size == 0 && st.rdev == 0);
    CHECK(st.nlink == 1 && st.uid == 0);
    CHECK(S_ISSOCK(mode_of("/sp/sock")) && (mode_of("/sp/sock") & 07777) == 0755);
    CHECK_OK(benchfs_lstat(fs, "/sp/chr", &st));
    CHECK(S_ISCHR(st.mode) && st.rdev == makedev(1, 3));
    CHECK(major(st.rdev) == 1 && minor(st.rdev) == 3);
    CHECK_OK(benchfs_stat(fs, "/sp/blk", &st));
    CHECK(S_ISBLK(st.mode) && st.rdev == makedev(8, 17));
    /* A FIFO's device number is not kept (there is none). */
    CHECK_OK(benchfs_mknod(fs, "/sp/fifo-dev", S_IFIFO | 0600, makedev(4, 4)));
    CHECK_OK(benchfs_stat(fs, "/sp/fifo-dev", &st));
    CHECK(st.rdev == 0);

    /* What mknod refuses. */
    CHECK_ERR(benchfs_mknod(fs, "/sp/reg", S_IFREG | 0644, 0), EINVAL);
    CHECK_ERR(benchfs_mknod(fs, "/sp/dir", S_IFDIR | 0755, 0), EINVAL);
    CHECK_ERR(benchfs_mknod(fs, "/sp/none", 0644, 0), EINVAL);
    CHECK_ERR(benchfs_mknod(fs, "/sp/fifo", S_IFIFO | 0600, 0), EEXIST);
    CHECK_ERR(benchfs_mknod(fs, "/nowhere/fifo", S_IFIFO | 0600, 0), ENOENT);
    CHECK_ERR(benchfs_mknod(fs, "/sp/fifo/x", S_IFIFO | 0600, 0), ENOTDIR);
    CHECK_ERR(benchfs_mknod(fs, "/", S_IFIFO | 0600, 0), EEXIST);
    CHECK_ERR(benchfs_mkdir(fs, "/sp/fifo", 0755), EEXIST);
    as(1001, 0);
    CHECK_ERR(benchfs_mknod(fs, "/sp/chr2", S_IFCHR | 0600, makedev(1, 3)), EPERM);
    CHECK_ERR(benchfs_mknod(fs, "/sp/blk2", S_IFBLK | 0600, makedev(1, 3)), EPERM);
    CHECK_OK(benchfs_mknod(fs, "/sp/fifo1001", S_IFIFO | 0600, 0));
    CHECK_OK(benchfs_stat(fs, "/sp/fifo1001", &st));
    CHECK(st.uid == 1001 && st.gid == 1001);
    as(0, 0);

    /* No data: open, truncate. */
    CHECK_ERR(benchfs_open(fs, "/sp/fifo", O_RDONLY, 0), ENXIO);
    CHECK_ERR(benchfs_open(fs, "/sp/chr", O_RDWR, 0), ENXIO);
    CHECK_ERR(benchfs_open(fs, "/sp/sock", O_WRONLY | O_CREAT, 0644), ENXIO);
    CHECK_ERR(benchfs_open(fs, "/sp/fifo", O_WRONLY | O_CREAT | O_EXCL, 0644), EEXIST);
    CHECK_ERR(benchfs_truncate(fs, "/sp/fifo", 0), EINVAL);
    as(1002, 0); /* no permission: EACCES comes first, as for any open */
    CHECK_ERR(benchfs_open(fs, "/sp/blk", O_RDONLY, 0), EACCES);
    as(0, 0);

    /* Attributes. */
    CHECK_OK(benchfs_chmod(fs, "/sp/fifo", 0604));
    CHECK(mode_of("/sp/fifo") == (S_IFIFO | 0604));
    CHECK_OK(benchfs_chown(fs, "/sp/chr", 1001, 1002));
    CHECK_OK(benchfs_stat(fs, "/sp/chr", &st));
    CHECK(st.uid == 1001 && st.gid == 1002 && st.rdev == makedev(1, 3) && S_ISCHR(st.mode));
    struct timespec ts[2] = {{.tv_sec = 1900000000}, {.tv_sec = 1950000000}};
    CHECK_OK(benchfs_utimens(fs, "/sp/sock", ts, 0));
    CHECK_OK(benchfs_stat(fs, "/sp/sock", &st));
    CHECK(st.atime_ns == 1900000000ll * 1000000000 && st.mtime_ns == 1950000000ll * 1000000000);

    /* Listings say the type. */
    struct seen s = {0};
    CHECK_OK(benchfs_readdir_cb(fs, "/sp", note, &s));
    CHECK(S_ISFIFO(s.fifo_mode) && S_ISCHR(s.chr_mode));
    benchfs_dir_t *d = benchfs_opendir(fs, "/sp");
    CHECK(d != NULL);
    int devs = 0;
    for (int i = 0; d && i < 64; i++) {
        const benchfs_dirent_t *e = benchfs_readdirplus(d, &st);
        if (!e)
            break;
        if (strcmp(e->name, "blk") == 0)
            devs += S_ISBLK(st.mode) && st.rdev == makedev(8, 17);
    }
    if (d)
        CHECK_OK(benchfs_closedir(d));
    CHECK(devs == 1);

    /* Rename: alone, over a file, over by a file, and inside a renamed directory. */
    CHECK_OK(benchfs_rename(fs, "/sp/chr", "/sp/chr-moved"));
    CHECK_OK(benchfs_stat(fs, "/sp/chr-moved", &st));
    CHECK(S_ISCHR(st.mode) && st.rdev == makedev(1, 3));
    CHECK_ERR(benchfs_stat(fs, "/sp/chr", &st), ENOENT);
    put_file("/sp/file", 0644);
    CHECK_OK(benchfs_rename(fs, "/sp/fifo-dev", "/sp/file"));
    CHECK(S_ISFIFO(mode_of("/sp/file")));
    put_file("/sp/file2", 0644);
    CHECK_OK(benchfs_rename(fs, "/sp/file2", "/sp/file"));
    CHECK(S_ISREG(mode_of("/sp/file")));
    CHECK_OK(benchfs_rename(fs, "/sp", "/sp2"));
    CHECK_OK(benchfs_stat(fs, "/sp2/blk", &st));
    CHECK(S_ISBLK(st.mode) && st.rdev == makedev(8, 17));
    CHECK(S_ISSOCK(mode_of("/sp2/sock")));

    /* Unlink; rmdir of one is ENOTDIR. */
    CHECK_ERR(benchfs_rmdir(fs, "/sp2/fifo"), ENOTDIR);
    const char *names[] = {"fifo", "sock", "chr-moved", "blk", "fifo1001", "file"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char p[64];
        snprintf(p, sizeof p, "/sp2/%s", names[i]);
        CHECK_OK(benchfs_unlink(fs, p));
        CHECK_ERR(benchfs_lstat(fs, p, &st), ENOENT);
    }
    CHECK_OK(benchfs_rmdir(fs, "/sp2"));
}

static void sticky(void)
{
    benchfs_t *fs = g_fs;
    as(0, 0);
    CHECK_OK(benchfs_mkdir(fs, "/st", 0777));
    CHECK_OK(benchfs_chmod(fs, "/st", 01777));
    CHECK_OK(benchfs_mkdir(fs, "/open", 0777));
    as(1001, 0);
    put_file("/st/a", 0666);
    CHECK_OK(benchfs_mkdir(fs, "/st/ad", 0777));
    CHECK_OK(benchfs_mknod(fs, "/st/p", S_IFIFO | 0666, 0));
    put_file("/open/a", 0666);
    as(1002, 0);
    /* Someone else's entries in a sticky directory stay. */
    CHECK_ERR(benchfs_unlink(fs, "/st/a"), EPERM);
    CHECK_ERR(benchfs_unlink(fs, "/st/p"), EPERM);
    CHECK_ERR(benchfs_rmdir(fs, "/st/ad"), EPERM);
    CHECK_ERR(benchfs_rename(fs, "/st/a", "/st/b"), EPERM);
    CHECK_ERR(benchfs_rename(fs, "/st/ad", "/st/bd"), EPERM);
    put_file("/st/mine", 0644);
    CHECK_ERR(benchfs_rename(fs, "/st/mine", "/st/a"), EPERM); /* over someone else's */
    CHECK(S_ISREG(mode_of("/st/a")) && S_ISREG(mode_of("/st/mine")));
    /* One's own may go; a non-sticky directory is the usual rule. */
    CHECK_OK(benchfs_rename(fs, "/st/mine", "/st/mine2"));
    CHECK_OK(benchfs_unlink(fs, "/st/mine2"));
    CHECK_OK(benchfs_unlink(fs, "/open/a"));
    /* The entry's owner may. */
    as(1001, 0);
    CHECK_OK(benchfs_rename(fs, "/st/a", "/st/b"));
    CHECK_OK(benchfs_unlink(fs, "/st/b"));
    /* So may the directory's owner and root. */
    as(0, 0);
    CHECK_OK(benchfs_chown(fs, "/st", 1003, 1003));
    as(1003, 0);
    CHECK_OK(benchfs_rmdir(fs, "/st/ad"));
    as(0, 0);
    CHECK_OK(benchfs_unlink(fs, "/st/p"));
    CHECK_OK(benchfs_rmdir(fs, "/st"));
    CHECK_OK(benchfs_rmdir(fs, "/open"));
}

static void setid(void)
{
    benchfs_t *fs = g_fs;
    as(0, 0);
    CHECK_OK(benchfs_mkdir(fs, "/sid", 0777));
    /* chgrp by the owner (to a group it is in): set-uid falls, set-gid with group x too. */
    as(1001, 1005);
    put_file("/sid/f", 0755);
    CHECK_OK(benchfs_chmod(fs, "/sid/f", 06755));
    CHECK((mode_of("/sid/f") & 07777) == 06755);
    CHECK_OK(benchfs_chown(fs, "/sid/f", (uid_t)-1, 1005));
    CHECK((mode_of("/sid/f") & 07777) == 0755);
    /* Without group x, set-gid stays (it means locking then, not privilege). */
    put_file("/sid/g", 0745);
    CHECK_OK(benchfs_chmod(fs, "/sid/g", 06745));
    CHECK_OK(benchfs_chown(fs, "/sid/g", (uid_t)-1, 1005));
    CHECK((mode_of("/sid/g") & 07777) == 02745);
    /* Nothing changed, nothing cleared. */
    CHECK_OK(benchfs_chmod(fs, "/sid/g", 06745));
    CHECK_OK(benchfs_chown(fs, "/sid/g", (uid_t)-1, (gid_t)-1));
    CHECK((mode_of("/sid/g") & 07777) == 06745);
    /* Root's chown clears them too (Linux); a directory keeps them. */
    as(0, 0);
    CHECK_OK(benchfs_chown(fs, "/sid/g", 1002, (gid_t)-1));
    CHECK((mode_of("/sid/g") & 07777) == 02745);
    CHECK_OK(benchfs_mkdir(fs, "/sid/d", 0755));
    CHECK_OK(benchfs_chmod(fs, "/sid/d", 06755));
    CHECK_OK(benchfs_chown(fs, "/sid/d", 1001, 1001));
    CHECK((mode_of("/sid/d") & 07777) == 06755);

    /* A write by someone else than root clears them; root's does not. */
    put_file("/sid/w", 06777);
    CHECK_OK(benchfs_chmod(fs, "/sid/w", 06777));
    int fd = benchfs_open(fs, "/sid/w", O_WRONLY, 0);
    CHECK(fd >= 0);
    CHECK(benchfs_write(fs, fd, "y", 1) == 1);
    CHECK_OK(benchfs_close(fs, fd));
    CHECK((mode_of("/sid/w") & 07777) == 06777);
    as(1002, 0);
    fd = benchfs_open(fs, "/sid/w", O_RDWR, 0);
    CHECK(fd >= 0);
    CHECK(benchfs_write(fs, fd, "z", 1) == 1);
    benchfs_stat_t st;
    CHECK_OK(benchfs_fstat(fs, fd, &st));
    CHECK((st.mode & 07777) == 0777);
    CHECK_OK(benchfs_close(fs, fd));
    CHECK((mode_of("/sid/w") & 07777) == 0777);
    /* So does a truncate (root's again does not). */
    as(0, 0);
    CHECK_OK(benchfs_chmod(fs, "/sid/w", 06777));
    CHECK_OK(benchfs_truncate(fs, "/sid/w", 1));
    CHECK((mode_of("/sid/w") & 07777) == 06777);
    as(1002, 0);
    CHECK_OK(benchfs_truncate(fs, "/sid/w", 0));
    CHECK((mode_of("/sid/w") & 07777) == 0777);

    /* chmod by the owner, not in the file's group: no set-gid. */
    as(0, 0);
    put_file("/sid/c", 0755);
    CHECK_OK(benchfs_chown(fs, "/sid/c", 1001, 2000));
    as(1001, 0);
    CHECK_OK(benchfs_chmod(fs, "/sid/c", 06755));
    CHECK((mode_of("/sid/c") & 07777) == 04755);
    as(0, 0);
    const char *names[] = {"/sid/f", "/sid/g", "/sid/w", "/sid/c"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        CHECK_OK(benchfs_unlink(fs, names[i]));
    CHECK_OK(benchfs_rmdir(fs, "/sid/d"));
    CHECK_OK(benchfs_rmdir(fs, "/sid"));
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2;
    struct cluster c;
    cluster_start(&c, n, NULL);
    g_fs = cluster_client(&c, 5000);
    special_files();
    sticky();
    setid();
    CHECK_OK(benchfs_set_thread_cred(NULL));
    CHECK_OK(benchfs_term(g_fs));
    cluster_stop(&c);
    return test_finish("test_special");
}
