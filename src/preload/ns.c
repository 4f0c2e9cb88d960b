/* SPDX-License-Identifier: BSD-3-Clause */
/* ns.c — the namespace calls of libbenchfs-preload.so: unlink, mkdir, rmdir, rename (with
 * renameat2's RENAME_NOREPLACE), symbolic links, hard links (refused: BenchFS has none),
 * special files, and extended attributes (not supported: ENOTSUP, which copying tools take
 * as "nothing to copy"). A call whose two paths lie on both sides of the prefix is EXDEV, as
 * between two mounts. */
#include "preload.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

static benchfs_t *fs_or_fail(void) { return pl_fs(); }

PL_API int unlink(const char *path)
{
    struct pl_path pp;
    PL_PATH(path, &pp, REAL(unlink)(path));
    benchfs_t *fs = fs_or_fail();
    return fs ? benchfs_unlink(fs, pp.bfs) : -1;
}
PL_API int rmdir(const char *path)
{
    struct pl_path pp;
    PL_PATH(path, &pp, REAL(rmdir)(path));
    benchfs_t *fs = fs_or_fail();
    return fs ? benchfs_rmdir(fs, pp.bfs) : -1;
}
PL_API int unlinkat(int dirfd, const char *path, int flags)
{
    struct pl_path pp;
    PL_PATH_AT(dirfd, path, &pp, REAL(unlinkat)(dirfd, path, flags));
    benchfs_t *fs = fs_or_fail();
    if (!fs)
        return -1;
    if (flags & ~AT_REMOVEDIR)
        return pl_err(EINVAL);
    return flags & AT_REMOVEDIR ? benchfs_rmdir(fs, pp.bfs) : benchfs_unlink(fs, pp.bfs);
}
PL_API int remove(const char *path)
{
    struct pl_path pp;
    PL_PATH(path, &pp, REAL(remove)(path));
    benchfs_t *fs = fs_or_fail();
    if (!fs)
        return -1;
    if (benchfs_unlink(fs, pp.bfs) == 0)
        return 0;
    return errno == EISDIR || errno == EPERM ? benchfs_rmdir(fs, pp.bfs) : -1;
}

PL_API int mkdir(const char *path, mode_t mode)
{
    struct pl_path pp;
    PL_PATH(path, &pp, REAL(mkdir)(path, mode));
    benchfs_t *fs = fs_or_fail();
    return fs ? benchfs_mkdir(fs, pp.bfs, mode & ~pl_umask() & 07777) : -1;
}
PL_API int mkdirat(int dirfd, const char *path, mode_t mode)
{
    struct pl_path pp;
    PL_PATH_AT(dirfd, path, &pp, REAL(mkdirat)(dirfd, path, mode));
    benchfs_t *fs = fs_or_fail();
    return fs ? benchfs_mkdir(fs, pp.bfs, mode & ~pl_umask() & 07777) : -1;
}

/* ---- two paths ---- */

/* Map both paths of a two-path call. Returns PL_BENCHFS (both ours), PL_LIBC (neither: a and
 * b's real paths set, each dirfd made AT_FDCWD where a path was made absolute), or PL_ERROR
 * (errno: EXDEV when they straddle the prefix). */
static enum pl_where map2(int *d1, const char *p1, struct pl_path *a, int *d2, const char *p2,
                          struct pl_path *b)
{
    enum pl_where w1 = PL_LIBC, w2 = PL_LIBC;
    a->real = p1;
    b->real = p2;
    if (pl_maybe(*d1, p1) && (w1 = pl_map(*d1, p1, a)) == PL_ERROR)
        return PL_ERROR;
    if (pl_maybe(*d2, p2) && (w2 = pl_map(*d2, p2, b)) == PL_ERROR)
        return PL_ERROR;
    if (w1 != w2) {
        errno = EXDEV;
        return PL_ERROR;
    }
    if (a->real == a->realbuf)
        *d1 = AT_FDCWD;
    if (b->real == b->realbuf)
        *d2 = AT_FDCWD;
    return w1;
}

static int bfs_rename(const char *from, const char *to, unsigned flags)
{
    benchfs_t *fs = fs_or_fail();
    if (!fs)
        return -1;
    if (flags & ~(unsigned)RENAME_NOREPLACE)
        return pl_err(EINVAL); /* RENAME_EXCHANGE, RENAME_WHITEOUT: not offered */
    if (flags & RENAME_NOREPLACE) {
        /* Checked, then renamed: not atomic against another client (documented). */
        benchfs_stat_t st;
        if (benchfs_lstat(fs, to, &st) == 0)
            return pl_err(EEXIST);
        if (errno != ENOENT)
            return -1;
    }
    return benchfs_rename(fs, from, to);
}

PL_API int rename(const char *from, const char *to)
{
    if (!pl_maybe(AT_FDCWD, from) && !pl_maybe(AT_FDCWD, to))
        return REAL(rename)(from, to);
    struct pl_path a, b;
    int d1 = AT_FDCWD, d2 = AT_FDCWD;
    enum pl_where w = map2(&d1, from, &a, &d2, to, &b);
    if (w == PL_ERROR)
        return -1;
    return w == PL_LIBC ? REAL(rename)(a.real, b.real) : bfs_rename(a.bfs, b.bfs, 0);
}
PL_API int renameat(int d1, const char *from, int d2, const char *to)
{
    if (!pl_maybe(d1, from) && !pl_maybe(d2, to))
        return REAL(renameat)(d1, from, d2, to);
    struct pl_path a, b;
    enum pl_where w = map2(&d1, from, &a, &d2, to, &b);
    if (w == PL_ERROR)
        return -1;
    return w == PL_LIBC ? REAL(renameat)(d1, a.real, d2, b.real) : bfs_rename(a.bfs, b.bfs, 0);
}
PL_API int renameat2(int d1, const char *from, int d2, const char *to, unsigned flags)
{
    if (!pl_maybe(d1, from) && !pl_maybe(d2, to))
        return REAL(renameat2)(d1, from, d2, to, flags);
    struct pl_path a, b;
    enum pl_where w = map2(&d1, from, &a, &d2, to, &b);
    if (w == PL_ERROR)
        return -1;
    return w == PL_LIBC ? REAL(renameat2)(d1, a.real, d2, b.real, flags)
                        : bfs_rename(a.bfs, b.bfs, flags);
}

PL_API int link(const char *from, const char *to)
{
    if (!pl_maybe(AT_FDCWD, from) && !pl_maybe(AT_FDCWD, to))
        return REAL(link)(from, to);
    struct pl_path a, b;
    int d1 = AT_FDCWD, d2 = AT_FDCWD;
    enum pl_where w = map2(&d1, from, &a, &d2, to, &b);
    if (w == PL_ERROR)
        return -1;
    return w == PL_LIBC ? REAL(link)(a.real, b.real) : pl_err(EPERM); /* no hard links */
}
PL_API int linkat(int d1, const char *from, int d2, const char *to, int flags)
{
    if (!pl_maybe(d1, from) && !pl_maybe(d2, to))
        return REAL(linkat)(d1, from, d2, to, flags);
    struct pl_path a, b;
    enum pl_where w = map2(&d1, from, &a, &d2, to, &b);
    if (w == PL_ERROR)
        return -1;
    return w == PL_LIBC ? REAL(linkat)(d1, a.real, d2, b.real, flags) : pl_err(EPERM);
}

/* ---- symbolic links ---- */

PL_API int symlink(const char *target, const char *path)
{
    struct pl_path pp;
    PL_PATH(path, &pp, REAL(symlink)(target, path));
    benchfs_t *fs = fs_or_fail();
    return fs ? benchfs_symlink(fs, target, pp.bfs) : -1;
}
PL_API int symlinkat(const char *target, int dirfd, const char *path)
{
    struct pl_path pp;
    PL_PATH_AT(dirfd, path, &pp, REAL(symlinkat)(target, dirfd, path));
    benchfs_t *fs = fs_or_fail();
    return fs ? benchfs_symlink(fs, target, pp.bfs) : -1;
}
PL_API ssize_t readlink(const char *path, char *buf, size_t size)
{
    struct pl_path pp;
    PL_PATH(path, &pp, REAL(readlink)(path, buf, size));
    benchfs_t *fs = fs_or_fail();
    return fs ? benchfs_readlink(fs, pp.bfs, buf, size) : -1;
}
PL_API ssize_t readlinkat(int dirfd, const char *path, char *buf, size_t size)
{
    struct pl_path pp;
    PL_PATH_AT(dirfd, path, &pp, REAL(readlinkat)(dirfd, path, buf, size));
    benchfs_t *fs = fs_or_fail();
    return fs ? benchfs_readlink(fs, pp.bfs, buf, size) : -1;
}
PL_API ssize_t __readlink_chk(const char *path, char *buf, size_t size, size_t buflen)
{
    if (size > buflen)
        abort(); /* as glibc's __chk_fail */
    return readlink(path, buf, size);
}
PL_API ssize_t __readlinkat_chk(int dirfd, const char *path, char *buf, size_t size,
                                size_t buflen)
{
    if (size > buflen)
        abort();
    return readlinkat(dirfd, path, buf, size);
}

/* ---- special files: names with attributes (no pipe, socket or driver behind them: an open
 * of one is ENXIO, as benchfs_open's) ---- */

static int bfs_mknod(const char *bfs, mode_t mode, dev_t dev)
{
    benchfs_t *fs = fs_or_fail();
    if (!fs)
        return -1;
    mode_t type = mode & S_IFMT, bits = mode & ~pl_umask() & 07777;
    if (type != S_IFREG && type != 0)
        return benchfs_mknod(fs, bfs, type | bits, dev);
    int fd = benchfs_open(fs, bfs, O_CREAT | O_EXCL | O_WRONLY, bits);
    return fd < 0 ? -1 : benchfs_close(fs, fd);
}
PL_API int mknod(const char *path, mode_t mode, dev_t dev)
{
    struct pl_path pp;
    PL_PATH(path, &pp, REAL(mknod)(path, mode, dev));
    return bfs_mknod(pp.bfs, mode, dev);
}
PL_API int mknodat(int dirfd, const char *path, mode_t mode, dev_t dev)
{
    struct pl_path pp;
    PL_PATH_AT(dirfd, path, &pp, REAL(mknodat)(dirfd, path, mode, dev));
    return bfs_mknod(pp.bfs, mode, dev);
}
PL_API int mkfifo(const char *path, mode_t mode)
{
    struct pl_path pp;
    PL_PATH(path, &pp, REAL(mkfifo)(path, mode));
    return bfs_mknod(pp.bfs, S_IFIFO | (mode & 07777), 0);
}
PL_API int mkfifoat(int dirfd, const char *path, mode_t mode)
{
    struct pl_path pp;
    PL_PATH_AT(dirfd, path, &pp, REAL(mkfifoat)(dirfd, path, mode));
    return bfs_mknod(pp.bfs, S_IFIFO | (mode & 07777), 0);
}

/* ---- extended attributes: not supported on BenchFS ---- */

#define XATTR_PATH(fn, rtype, params, args)                                                    \
    PL_API rtype fn params                                                                     \
    {                                                                                          \
        struct pl_path pp;                                                                     \
        PL_PATH(path, &pp, REAL(fn) args);                                                     \
        return pl_err(ENOTSUP);                                                                \
    }
#define XATTR_FD(fn, rtype, params, args)                                                      \
    PL_API rtype fn params                                                                     \
    {                                                                                          \
        return pl_file(fd) ? pl_err(ENOTSUP) : REAL(fn) args;                                  \
    }

XATTR_PATH(getxattr, ssize_t, (const char *path, const char *name, void *v, size_t n),
           (path, name, v, n))
XATTR_PATH(lgetxattr, ssize_t, (const char *path, const char *name, void *v, size_t n),
           (path, name, v, n))
XATTR_PATH(setxattr, int,
           (const char *path, const char *name, const void *v, size_t n, int fl),
           (path, name, v, n, fl))
XATTR_PATH(lsetxattr, int,
           (const char *path, const char *name, const void *v, size_t n, int fl),
           (path, name, v, n, fl))
XATTR_PATH(listxattr, ssize_t, (const char *path, char *list, size_t n), (path, list, n))
XATTR_PATH(llistxattr, ssize_t, (const char *path, char *list, size_t n), (path, list, n))
XATTR_PATH(removexattr, int, (const char *path, const char *name), (path, name))
XATTR_PATH(lremovexattr, int, (const char *path, const char *name), (path, name))
XATTR_FD(fgetxattr, ssize_t, (int fd, const char *name, void *v, size_t n), (fd, name, v, n))
XATTR_FD(fsetxattr, int, (int fd, const char *name, const void *v, size_t n, int fl),
         (fd, name, v, n, fl))
XATTR_FD(flistxattr, ssize_t, (int fd, char *list, size_t n), (fd, list, n))
XATTR_FD(fremovexattr, int, (int fd, const char *name), (fd, name))
