/* SPDX-License-Identifier: BSD-3-Clause */
/* namespace.c — benchfs-fuse operations on names and attributes: getattr, mkdir, mknod,
 * unlink, rmdir, symlink, readlink, rename, link, chmod, chown, utimens, access, statfs.
 * Each is one library call made as the requesting process; the kernel has already walked
 * the path (and followed symbolic links in it), so every call here acts on the last
 * component itself: lstat, not stat, and times set without following a link. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h> /* RENAME_NOREPLACE */
#include <string.h>
#include <sys/statvfs.h>

#include "bfuse.h"

#define BEGIN(fs)                                                                                \
    int err_;                                                                                    \
    benchfs_t *fs = bfuse_begin(&err_);                                                          \
    if (!fs)                                                                                     \
    return err_

#define CALL(expr) ((expr) == 0 ? 0 : BFUSE_FAIL())

int bfuse_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
    (void)fi; /* by path: the library's fstat would need the handle's context and lock */
    BEGIN(fs);
    benchfs_stat_t b;
    if (benchfs_lstat(fs, path, &b) != 0)
        return BFUSE_FAIL();
    bfuse_fill_stat(&b, st);
    if (S_ISREG(b.mode)) {
        int64_t mine = bfuse_open_size(b.ino);
        if (mine > st->st_size)
            st->st_size = mine;
    }
    return 0;
}

int bfuse_mkdir(const char *path, mode_t mode)
{
    BEGIN(fs);
    return CALL(benchfs_mkdir(fs, path, mode & 07777));
}

/* FIFOs, sockets and device nodes are names with attributes in BenchFS; the kernel itself
 * makes the pipe of an opened FIFO and the socket a bind(2) listens on, and opens no
 * device of a mount with nodev. */
int bfuse_mknod(const char *path, mode_t mode, dev_t dev)
{
    if (!S_ISREG(mode)) {
        BEGIN(fs);
        return CALL(benchfs_mknod(fs, path, mode, dev));
    }
    BEGIN(fs);
    int fd = benchfs_open(fs, path, O_CREAT | O_EXCL | O_WRONLY, mode & 07777);
    if (fd < 0)
        return BFUSE_FAIL();
    return CALL(benchfs_close(fs, fd));
}

int bfuse_unlink(const char *path)
{
    BEGIN(fs);
    return CALL(benchfs_unlink(fs, path));
}

int bfuse_rmdir(const char *path)
{
    BEGIN(fs);
    return CALL(benchfs_rmdir(fs, path));
}

int bfuse_symlink(const char *target, const char *linkpath)
{
    BEGIN(fs);
    return CALL(benchfs_symlink(fs, target, linkpath));
}

int bfuse_readlink(const char *path, char *buf, size_t size)
{
    if (size == 0)
        return -EINVAL;
    BEGIN(fs);
    ssize_t n = benchfs_readlink(fs, path, buf, size - 1);
    if (n < 0)
        return BFUSE_FAIL();
    buf[n] = '\0';
    return 0;
}

int bfuse_rename(const char *from, const char *to, unsigned int flags)
{
    if (flags & ~(unsigned)RENAME_NOREPLACE)
        return -EINVAL; /* RENAME_EXCHANGE, RENAME_WHITEOUT: not supported */
    BEGIN(fs);
    if (flags & RENAME_NOREPLACE) {
        /* Checked, then renamed: not atomic against another client creating `to`. */
        benchfs_stat_t b;
        if (benchfs_lstat(fs, to, &b) == 0)
            return -EEXIST;
        if (errno != ENOENT)
            return BFUSE_FAIL();
    }
    return CALL(benchfs_rename(fs, from, to));
}

int bfuse_link(const char *from, const char *to)
{
    (void)from, (void)to;
    return -EPERM; /* no hard links in BenchFS */
}

int bfuse_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    (void)fi;
    BEGIN(fs);
    if (benchfs_chmod(fs, path, mode & 07777) == 0)
        return 0;
    int e = errno;
    /* The kernel checks a chmod's owner itself (default_permissions), so one from someone
     * else can only be the kernel taking the set-id bits away after that user's write or
     * truncate (it does so when the file system does not take FUSE_CAP_HANDLE_KILLPRIV, which
     * libfuse's high-level API does not pass on): done for the kernel. */
    benchfs_stat_t b;
    uint32_t want = (uint32_t)mode & 07777;
    if (e != EPERM || benchfs_lstat(fs, path, &b) != 0)
        return -bfuse_errno(e);
    uint32_t had = b.mode & 07777, dropped = had & ~want;
    if (had == want || (want & ~had) || (dropped & ~(uint32_t)(S_ISUID | S_ISGID)))
        return -bfuse_errno(e);
    int err = bfuse_act_as_kernel();
    return err ? err : CALL(benchfs_chmod(fs, path, want));
}

int bfuse_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
    (void)fi;
    BEGIN(fs);
    /* The kernel has resolved every link already: a chown here is of the entry itself. */
    return CALL(benchfs_lchown(fs, path, uid, gid));
}

int bfuse_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
    (void)fi;
    BEGIN(fs);
    return CALL(benchfs_utimens(fs, path, tv, BENCHFS_AT_SYMLINK_NOFOLLOW));
}

int bfuse_access(const char *path, int mask)
{
    BEGIN(fs);
    return CALL(benchfs_access(fs, path, mask));
}

int bfuse_statfs(const char *path, struct statvfs *sv)
{
    (void)path;
    BEGIN(fs);
    benchfs_statfs_t s;
    if (benchfs_statfs(fs, &s) != 0)
        return BFUSE_FAIL();
    memset(sv, 0, sizeof *sv);
    sv->f_bsize = sv->f_frsize = 4096;
    sv->f_blocks = s.total_bytes / 4096;
    sv->f_bfree = sv->f_bavail = s.free_bytes / 4096;
    /* No inode table: entries are limited by space only. */
    sv->f_files = UINT32_MAX;
    sv->f_ffree = sv->f_favail = UINT32_MAX - 1;
    sv->f_namemax = 255;
    return 0;
}
