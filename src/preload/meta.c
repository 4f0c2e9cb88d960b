/* SPDX-License-Identifier: BSD-3-Clause */
/* meta.c — attributes of BenchFS files in libbenchfs-preload.so: the stat family under all
 * its names (stat/stat64, the *at forms, statx, and the __xstat names of binaries built
 * before glibc 2.33), access, chmod, chown, the time setters, truncate and statfs/statvfs.
 * Every BenchFS file reports one device number (PL_DEV) and its file id as inode number, so
 * tools that compare (st_dev, st_ino) see one file system with stable identities. */
#include "preload.h"

#include <errno.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <unistd.h>
#include <utime.h>

/* Old binaries' names; glibc 2.33+ no longer declares them. */
int __xstat(int ver, const char *path, struct stat *st);
int __xstat64(int ver, const char *path, struct stat64 *st);
int __lxstat(int ver, const char *path, struct stat *st);
int __lxstat64(int ver, const char *path, struct stat64 *st);
int __fxstat(int ver, int fd, struct stat *st);
int __fxstat64(int ver, int fd, struct stat64 *st);
int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags);
int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st, int flags);

_Static_assert(sizeof(struct stat) == sizeof(struct stat64), "stat64 is stat on LP64");
_Static_assert(sizeof(struct statfs) == sizeof(struct statfs64), "statfs64 is statfs");
_Static_assert(sizeof(struct statvfs) == sizeof(struct statvfs64), "statvfs64 is statvfs");

void pl_to_stat(const benchfs_stat_t *b, struct stat *st)
{
    memset(st, 0, sizeof *st);
    st->st_dev = PL_DEV;
    st->st_ino = b->ino;
    st->st_mode = b->mode;
    st->st_nlink = b->nlink;
    st->st_uid = b->uid;
    st->st_gid = b->gid;
    st->st_size = (off_t)b->size;
    st->st_blksize = b->blksize;
    st->st_blocks = (blkcnt_t)b->blocks;
    st->st_atim.tv_sec = b->atime_ns / 1000000000;
    st->st_atim.tv_nsec = b->atime_ns % 1000000000;
    st->st_mtim.tv_sec = b->mtime_ns / 1000000000;
    st->st_mtim.tv_nsec = b->mtime_ns % 1000000000;
    st->st_ctim.tv_sec = b->ctime_ns / 1000000000;
    st->st_ctim.tv_nsec = b->ctime_ns % 1000000000;
    st->st_rdev = (dev_t)b->rdev;
}

/* BenchFS attributes of a path (nofollow: of a link itself) or a descriptor of ours. */
static int bfs_stat_path(const char *bfs, int nofollow, struct stat *st)
{
    benchfs_t *fs = pl_fs();
    benchfs_stat_t b;
    if (!fs || (nofollow ? benchfs_lstat(fs, bfs, &b) : benchfs_stat(fs, bfs, &b)) != 0) {
        char real[PATH_MAX];
        if (fs && pl_outside(bfs, real))
            return nofollow ? REAL(lstat)(real, st) : REAL(stat)(real, st);
        return -1;
    }
    pl_to_stat(&b, st);
    return 0;
}

static int bfs_fstat(struct pl_file *f, struct stat *st)
{
    if (f->bfd < 0)
        return bfs_stat_path(f->path, (f->flags & O_NOFOLLOW) != 0, st);
    benchfs_t *fs = pl_fs();
    benchfs_stat_t b;
    if (!fs || benchfs_fstat(fs, f->bfd, &b) != 0)
        return -1;
    pl_to_stat(&b, st);
    return 0;
}

static int do_stat(const char *path, struct stat *st)
{
    struct pl_path pp;
    PL_PATH(path, &pp, REAL(stat)(path, st));
    return bfs_stat_path(pp.bfs, 0, st);
}
static int do_lstat(const char *path, struct stat *st)
{
    struct pl_path pp;
    PL_PATH(path, &pp, REAL(lstat)(path, st));
    return bfs_stat_path(pp.bfs, 1, st);
}
static int do_fstat(int fd, struct stat *st)
{
    struct pl_file *f = pl_file(fd);
    return f ? bfs_fstat(f, st) : REAL(fstat)(fd, st);
}
static int do_fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
    if (path && path[0] == '\0' && (flags & AT_EMPTY_PATH)) {
        if (dirfd == AT_FDCWD)
            return do_stat(".", st);
        return do_fstat(dirfd, st);
    }
    struct pl_path pp;
    PL_PATH_AT(dirfd, path, &pp, REAL(fstatat)(dirfd, path, st, flags));
    return bfs_stat_path(pp.bfs, (flags & AT_SYMLINK_NOFOLLOW) != 0, st);
}

PL_API int stat(const char *path, struct stat *st) { return do_stat(path, st); }
PL_API int lstat(const char *path, struct stat *st) { return do_lstat(path, st); }
PL_API int fstat(int fd, struct stat *st) { return do_fstat(fd, st); }
PL_API int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
    return do_fstatat(dirfd, path, st, flags);
}
PL_API int stat64(const char *path, struct stat64 *st) { return do_stat(path, (struct stat *)st); }
PL_API int lstat64(const char *path, struct stat64 *st)
{
    return do_lstat(path, (struct stat *)st);
}
PL_API int fstat64(int fd, struct stat64 *st) { return do_fstat(fd, (struct stat *)st); }
PL_API int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags)
{
    return do_fstatat(dirfd, path, (struct stat *)st, flags);
}
/* The version argument of the old names is 1 (_STAT_VER_LINUX) on x86-64: struct stat. */
PL_API int __xstat(int ver, const char *path, struct stat *st)
{
    (void)ver;
    return do_stat(path, st);
}
PL_API int __xstat64(int ver, const char *path, struct stat64 *st)
{
    (void)ver;
    return do_stat(path, (struct stat *)st);
}
PL_API int __lxstat(int ver, const char *path, struct stat *st)
{
    (void)ver;
    return do_lstat(path, st);
}
PL_API int __lxstat64(int ver, const char *path, struct stat64 *st)
{
    (void)ver;
    return do_lstat(path, (struct stat *)st);
}
PL_API int __fxstat(int ver, int fd, struct stat *st)
{
    (void)ver;
    return do_fstat(fd, st);
}
PL_API int __fxstat64(int ver, int fd, struct stat64 *st)
{
    (void)ver;
    return do_fstat(fd, (struct stat *)st);
}
PL_API int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags)
{
    (void)ver;
    return do_fstatat(dirfd, path, st, flags);
}
PL_API int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st, int flags)
{
    (void)ver;
    return do_fstatat(dirfd, path, (struct stat *)st, flags);
}

static void to_statx(const struct stat *st, struct statx *x)
{
    memset(x, 0, sizeof *x);
    x->stx_mask = STATX_BASIC_STATS;
    x->stx_blksize = (uint32_t)st->st_blksize;
    x->stx_nlink = (uint32_t)st->st_nlink;
    x->stx_uid = st->st_uid;
    x->stx_gid = st->st_gid;
    x->stx_mode = (uint16_t)st->st_mode;
    x->stx_ino = st->st_ino;
    x->stx_size = (uint64_t)st->st_size;
    x->stx_blocks = (uint64_t)st->st_blocks;
    x->stx_atime.tv_sec = st->st_atim.tv_sec;
    x->stx_atime.tv_nsec = (uint32_t)st->st_atim.tv_nsec;
    x->stx_mtime.tv_sec = st->st_mtim.tv_sec;
    x->stx_mtime.tv_nsec = (uint32_t)st->st_mtim.tv_nsec;
    x->stx_ctime.tv_sec = st->st_ctim.tv_sec;
    x->stx_ctime.tv_nsec = (uint32_t)st->st_ctim.tv_nsec;
    x->stx_dev_major = major(st->st_dev);
    x->stx_dev_minor = minor(st->st_dev);
    x->stx_rdev_major = major(st->st_rdev);
    x->stx_rdev_minor = minor(st->st_rdev);
}

PL_API int statx(int dirfd, const char *path, int flags, unsigned mask, struct statx *x)
{
    struct stat st;
    if (path && path[0] == '\0' && (flags & AT_EMPTY_PATH)) {
        struct pl_file *f = dirfd == AT_FDCWD ? NULL : pl_file(dirfd);
        if (!f && !(dirfd == AT_FDCWD && atomic_load(&pl_vcwd_on)))
            return REAL(statx)(dirfd, path, flags, mask, x);
        if ((f ? bfs_fstat(f, &st) : do_stat(".", &st)) != 0)
            return -1;
        to_statx(&st, x);
        return 0;
    }
    struct pl_path pp;
    PL_PATH_AT(dirfd, path, &pp, REAL(statx)(dirfd, path, flags, mask, x));
    if (bfs_stat_path(pp.bfs, (flags & AT_SYMLINK_NOFOLLOW) != 0, &st) != 0)
        return -1;
    to_statx(&st, x);
    return 0;
}

/* ---- access ---- */

static int bfs_access(const char *bfs, int mode)
{
    benchfs_t *fs = pl_fs();
    if (!fs)
        return -1;
    if (benchfs_access(fs, bfs, mode) == 0)
        return 0;
    char real[PATH_MAX];
    return pl_outside(bfs, real) ? REAL(access)(real, mode) : -1;
}

PL_API int access(const char *path, int mode)
{
    struct pl_path pp;
    PL_PATH(path, &pp, REAL(access)(path, mode));
    return bfs_access(pp.bfs, mode);
}
PL_API int faccessat(int dirfd, const char *path, int mode, int flags)
{
    struct pl_path pp;
    PL_PATH_AT(dirfd, path, &pp, REAL(faccessat)(dirfd, path, mode, flags));
    return bfs_access(pp.bfs, mode);
}
PL_API int euidaccess(const char *path, int mode)
{
    struct pl_path pp;
    PL_PATH(path, &pp, REAL(euidaccess)(path, mode));
    return bfs_access(pp.bfs, mode); /* BenchFS checks with the effective identity */
}
PL_API int eaccess(const char *path, int mode) { return euidaccess(path, mode); }

/* ---- mode and owner ---- */

static int is_link(const char *bfs)
{
    struct stat st;
    return bfs_stat_path(bfs, 1, &st) == 0 && S_ISLNK(st.st_mode);
}

static int bfs_chmod(const char *bfs, mode_t mode, int nofollow)
{
    benchfs_t *fs = pl_fs();
    if (!fs)
        return -1;
    if (nofollow && is_link(bfs))
        return pl_err(EOPNOTSUPP); /* as Linux: a link's mode cannot be changed */
    return benchfs_chmod(fs, bfs, mode);
}

/* chown of a link itself: BenchFS links take their owner from their creator; asking for
 * what they already have succeeds (cp -a, rsync -a, tar as root), anything else is EPERM. */
static int bfs_chown(const char *bfs, uid_t uid, gid_t gid, int nofollow)
{
    benchfs_t *fs = pl_fs();
    if (!fs)
        return -1;
    if (nofollow) {
        benchfs_stat_t b;
        if (benchfs_lstat(fs, bfs, &b) != 0)
            return -1;
        if (S_ISLNK(b.mode)) {
            if ((uid == (uid_t)-1 || uid == b.uid) && (gid == (gid_t)-1 || gid == b.gid))
                return 0;
            return pl_err(EPERM);
        }
    }
    return benchfs_chown(fs, bfs, uid, gid);
}

PL_API int chmod(const char *path, mode_t mode)
{
    struct pl_path pp;
    PL_PATH(path, &pp, REAL(chmod)(path, mode));
    return bfs_chmod(pp.bfs, mode, 0);
}
PL_API int lchmod(const char *path, mode_t mode) /* glibc calls its own fchmodat from it */
{
    struct pl_path pp;
    PL_PATH(path, &pp, REAL(lchmod)(path, mode));
    return bfs_chmod(pp.bfs, mode, 1);
}
PL_API int fchmod(int fd, mode_t mode)
{
    struct pl_file *f = pl_file(fd);
    return f ? bfs_chmod(f->path, mode, 0) : REAL(fchmod)(fd, mode);
}
PL_API int fchmodat(int dirfd, const char *path, mode_t mode, int flags)
{
    struct pl_path pp;
    PL_PATH_AT(dirfd, path, &pp, REAL(fchmodat)(dirfd, path, mode, flags));
    return bfs_chmod(pp.bfs, mode, (flags & AT_SYMLINK_NOFOLLOW) != 0);
}
PL_API int chown(const char *path, uid_t uid, gid_t gid)
{
    struct pl_path pp;
    PL_PATH(path, &pp, REAL(chown)(path, uid, gid));
    return bfs_chown(pp.bfs, uid, gid, 0);
}
PL_API int lchown(const char *path, uid_t uid, gid_t gid)
{
    struct pl_path pp;
    PL_PATH(path, &pp, REAL(lchown)(path, uid, gid));
    return bfs_chown(pp.bfs, uid, gid, 1);
}
PL_API int fchown(int fd, uid_t uid, gid_t gid)
{
    struct pl_file *f = pl_file(fd);
    return f ? bfs_chown(f->path, uid, gid, 0) : REAL(fchown)(fd, uid, gid);
}
PL_API int fchownat(int dirfd, const char *path, uid_t uid, gid_t gid, int flags)
{
    if (path && path[0] == '\0' && (flags & AT_EMPTY_PATH) && pl_file(dirfd))
        return fchown(dirfd, uid, gid);
    struct pl_path pp;
    PL_PATH_AT(dirfd, path, &pp, REAL(fchownat)(dirfd, path, uid, gid, flags));
    return bfs_chown(pp.bfs, uid, gid, (flags & AT_SYMLINK_NOFOLLOW) != 0);
}

/* ---- times ---- */

static int bfs_futimens(struct pl_file *f, const struct timespec ts[2])
{
    benchfs_t *fs = pl_fs();
    if (!fs)
        return -1;
    if (f->bfd >= 0)
        return benchfs_futimens(fs, f->bfd, ts);
    return benchfs_utimens(fs, f->path, ts, 0);
}

PL_API int futimens(int fd, const struct timespec ts[2])
{
    struct pl_file *f = pl_file(fd);
    return f ? bfs_futimens(f, ts) : REAL(futimens)(fd, ts);
}

PL_API int utimensat(int dirfd, const char *path, const struct timespec ts[2], int flags)
{
    if (!path) /* Linux: the descriptor itself */
        return futimens(dirfd, ts);
    struct pl_path pp;
    PL_PATH_AT(dirfd, path, &pp, REAL(utimensat)(dirfd, path, ts, flags));
    benchfs_t *fs = pl_fs();
    if (!fs)
        return -1;
    return benchfs_utimens(fs, pp.bfs, ts,
                           (flags & AT_SYMLINK_NOFOLLOW) ? BENCHFS_AT_SYMLINK_NOFOLLOW : 0);
}

/* timeval pairs (NULL: now) as timespec pairs. */
static const struct timespec *tv_to_ts(const struct timeval tv[2], struct timespec ts[2])
{
    if (!tv)
        return NULL;
    for (int i = 0; i < 2; i++) {
        ts[i].tv_sec = tv[i].tv_sec;
        ts[i].tv_nsec = tv[i].tv_usec * 1000;
    }
    return ts;
}

PL_API int utimes(const char *path, const struct timeval tv[2])
{
    struct pl_path pp;
    PL_PATH(path, &pp, REAL(utimes)(path, tv));
    struct timespec ts[2];
    return utimensat(AT_FDCWD, path, tv_to_ts(tv, ts), 0);
}
PL_API int lutimes(const char *path, const struct timeval tv[2])
{
    struct pl_path pp;
    PL_PATH(path, &pp, REAL(lutimes)(path, tv));
    struct timespec ts[2];
    return utimensat(AT_FDCWD, path, tv_to_ts(tv, ts), AT_SYMLINK_NOFOLLOW);
}
PL_API int futimes(int fd, const struct timeval tv[2])
{
    struct pl_file *f = pl_file(fd);
    struct timespec ts[2];
    return f ? bfs_futimens(f, tv_to_ts(tv, ts)) : REAL(futimes)(fd, tv);
}
PL_API int futimesat(int dirfd, const char *path, const struct timeval tv[2])
{
    struct pl_path pp;
    PL_PATH_AT(dirfd, path, &pp, REAL(futimesat)(dirfd, path, tv));
    struct timespec ts[2];
    return utimensat(AT_FDCWD, path, tv_to_ts(tv, ts), 0);
}
PL_API int utime(const char *path, const struct utimbuf *u)
{
    struct pl_path pp;
    PL_PATH(path, &pp, REAL(utime)(path, u));
    struct timespec ts[2] = {{u ? u->actime : 0, 0}, {u ? u->modtime : 0, 0}};
    return utimensat(AT_FDCWD, path, u ? ts : NULL, 0);
}

/* ---- size ---- */

PL_API int truncate(const char *path, off_t len)
{
    struct pl_path pp;
    PL_PATH(path, &pp, REAL(truncate)(path, len));
    benchfs_t *fs = pl_fs();
    return fs ? benchfs_truncate(fs, pp.bfs, len) : -1;
}
PL_API int truncate64(const char *path, off64_t len) { return truncate(path, len); }

/* ---- file system ---- */

static int bfs_statfs(struct statfs *s, struct statvfs *v)
{
    benchfs_t *fs = pl_fs();
    benchfs_statfs_t b;
    if (!fs || benchfs_statfs(fs, &b) != 0)
        return -1;
    const unsigned long bs = 4096;
    if (s) {
        memset(s, 0, sizeof *s);
        s->f_type = PL_FS_MAGIC;
        s->f_bsize = (long)bs;
        s->f_frsize = (long)bs;
        s->f_blocks = b.total_bytes / bs;
        s->f_bfree = b.free_bytes / bs;
        s->f_bavail = b.free_bytes / bs;
        s->f_namelen = 255;
        s->f_fsid.__val[0] = (int)PL_DEV;
    }
    if (v) {
        memset(v, 0, sizeof *v);
        v->f_bsize = bs;
        v->f_frsize = bs;
        v->f_blocks = b.total_bytes / bs;
        v->f_bfree = b.free_bytes / bs;
        v->f_bavail = b.free_bytes / bs;
        v->f_fsid = PL_DEV;
        v->f_namemax = 255;
    }
    return 0;
}

/* A path's file system: it must exist, as for the kernel. */
static int bfs_statfs_path(const char *bfs, struct statfs *s, struct statvfs *v)
{
    struct stat st;
    if (bfs_stat_path(bfs, 0, &st) != 0)
        return -1;
    return bfs_statfs(s, v);
}

PL_API int statfs(const char *path, struct statfs *s)
{
    struct pl_path pp;
    PL_PATH(path, &pp, REAL(statfs)(path, s));
    return bfs_statfs_path(pp.bfs, s, NULL);
}
PL_API int statfs64(const char *path, struct statfs64 *s)
{
    return statfs(path, (struct statfs *)s);
}
PL_API int fstatfs(int fd, struct statfs *s)
{
    return pl_file(fd) ? bfs_statfs(s, NULL) : REAL(fstatfs)(fd, s);
}
PL_API int fstatfs64(int fd, struct statfs64 *s) { return fstatfs(fd, (struct statfs *)s); }
PL_API int statvfs(const char *path, struct statvfs *v)
{
    struct pl_path pp;
    PL_PATH(path, &pp, REAL(statvfs)(path, v));
    return bfs_statfs_path(pp.bfs, NULL, v);
}
PL_API int statvfs64(const char *path, struct statvfs64 *v)
{
    return statvfs(path, (struct statvfs *)v);
}
PL_API int fstatvfs(int fd, struct statvfs *v)
{
    return pl_file(fd) ? bfs_statfs(NULL, v) : REAL(fstatvfs)(fd, v);
}
PL_API int fstatvfs64(int fd, struct statvfs64 *v) { return fstatvfs(fd, (struct statvfs *)v); }
