/* SPDX-License-Identifier: BSD-3-Clause */
/* file.c — opening, reading and writing BenchFS files in libbenchfs-preload.so: the open
 * family (with the 64-bit, fortified and *at names), read/write and their vector and
 * positioned forms, lseek, fsync, truncate, fallocate, fadvise, and the copy calls that
 * would otherwise reach the kernel with one of our descriptors (sendfile, copy_file_range:
 * done here with read and write). mmap of a BenchFS file is a private copy when nothing
 * written to the mapping could be expected in the file; a shared writable one is ENODEV. */
#include "preload.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <unistd.h>

/* ---- umask ---- */

static atomic_int cur_umask = -1;

mode_t pl_umask(void)
{
    int m = atomic_load(&cur_umask);
    if (m < 0) {
        mode_t old = REAL(umask)(022);
        REAL(umask)(old);
        m = (int)old;
        atomic_store(&cur_umask, m);
    }
    return (mode_t)m;
}

PL_API mode_t umask(mode_t mask)
{
    mode_t old = REAL(umask)(mask);
    atomic_store(&cur_umask, (int)(mask & 0777));
    return old;
}

/* ---- open ---- */

int pl_is_dir(struct pl_file *f)
{
    if (f->is_dir >= 0)
        return f->is_dir;
    benchfs_t *fs = pl_fs();
    benchfs_stat_t st;
    if (!fs || f->bfd < 0 || benchfs_fstat(fs, f->bfd, &st) != 0)
        return -1;
    f->is_dir = S_ISDIR(st.mode) ? 1 : 0;
    return f->is_dir;
}

static int bfs_open(const char *bfs, int flags, mode_t mode)
{
    benchfs_t *fs = pl_fs();
    if (!fs)
        return -1;
    if (flags & O_DIRECT)
        return pl_err(EINVAL); /* no direct I/O path to the servers' devices (documented) */
    if ((flags & O_TMPFILE) == O_TMPFILE)
        return pl_err(EOPNOTSUPP);
    int acc = flags & O_ACCMODE;
    int shown = flags & (O_ACCMODE | O_APPEND | O_NONBLOCK | O_NOATIME | O_PATH | O_DSYNC |
                         O_SYNC | O_ASYNC);
    if (flags & O_PATH)
        shown |= flags & O_NOFOLLOW; /* fstat of it then describes the link itself */
    struct pl_file *f = pl_file_new(bfs, shown | O_LARGEFILE);
    if (!f)
        return -1;
    if ((flags & (O_PATH | O_DIRECTORY)) && !(flags & O_CREAT)) {
        benchfs_stat_t st;
        int r = (flags & O_NOFOLLOW) ? benchfs_lstat(fs, bfs, &st) : benchfs_stat(fs, bfs, &st);
        if (r != 0)
            goto fail;
        f->is_dir = S_ISDIR(st.mode);
        if ((flags & O_DIRECTORY) && !f->is_dir) {
            errno = ENOTDIR;
            goto fail;
        }
        if (!(flags & O_PATH) && f->is_dir && acc != O_RDONLY) {
            errno = EISDIR;
            goto fail;
        }
        if (!(flags & O_PATH) && benchfs_access(fs, bfs, R_OK) != 0)
            goto fail;
        if (S_ISLNK(st.mode) && !(flags & O_PATH)) {
            errno = ELOOP;
            goto fail;
        }
    } else {
        if (flags & O_DIRECTORY) { /* with O_CREAT: Linux gives EINVAL */
            errno = EINVAL;
            goto fail;
        }
        int pass = flags & (O_ACCMODE | O_CREAT | O_EXCL | O_TRUNC | O_APPEND | O_NOFOLLOW);
        f->bfd = benchfs_open(fs, bfs, pass, mode & ~pl_umask() & 07777);
        if (f->bfd < 0)
            goto fail;
        f->is_dir = (flags & O_CREAT) || acc != O_RDONLY ? 0 : -1;
    }
    int fd = pl_fd_install(f, flags & O_CLOEXEC);
    if (fd < 0)
        goto fail;
    return fd;
fail:;
    int e = errno;
    if (f->bfd >= 0)
        benchfs_close(fs, f->bfd);
    free(f);
    char real[PATH_MAX];
    if (pl_outside(bfs, real))
        return REAL(open)(real, flags, mode);
    return pl_err(e);
}

static mode_t mode_arg(int flags, va_list ap)
{
    return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? (mode_t)va_arg(ap, int) : 0;
}

/* A real open: directories that are ancestors of the prefix are remembered (pl_anc). */
static int noted(int fd, const char *path, int flags)
{
    if (fd >= 0 && (flags & (O_DIRECTORY | O_PATH)))
        pl_note_dir(fd, path, flags);
    return fd;
}

#define OPEN_BODY(realfn)                                                                      \
    va_list ap;                                                                                \
    va_start(ap, flags);                                                                       \
    mode_t mode = mode_arg(flags, ap);                                                         \
    va_end(ap);                                                                                \
    struct pl_path pp;                                                                         \
    PL_PATH(path, &pp, noted(REAL(realfn)(path, flags, mode), path, flags));                   \
    return bfs_open(pp.bfs, flags, mode)

#define OPENAT_BODY(realfn)                                                                    \
    va_list ap;                                                                                \
    va_start(ap, flags);                                                                       \
    mode_t mode = mode_arg(flags, ap);                                                         \
    va_end(ap);                                                                                \
    struct pl_path pp;                                                                         \
    PL_PATH_AT(dirfd, path, &pp,                                                               \
               noted(REAL(realfn)(dirfd, path, flags, mode), dirfd == AT_FDCWD ? path : "",    \
                     flags));                                                                  \
    return bfs_open(pp.bfs, flags, mode)

PL_API int open(const char *path, int flags, ...) { OPEN_BODY(open); }
PL_API int open64(const char *path, int flags, ...) { OPEN_BODY(open64); }
PL_API int openat(int dirfd, const char *path, int flags, ...) { OPENAT_BODY(openat); }
PL_API int openat64(int dirfd, const char *path, int flags, ...) { OPENAT_BODY(openat64); }

/* The fortified names (-D_FORTIFY_SOURCE) for opens without O_CREAT. */
PL_API int __open_2(const char *path, int flags) { return open(path, flags); }
PL_API int __open64_2(const char *path, int flags) { return open64(path, flags); }
PL_API int __openat_2(int dirfd, const char *path, int flags)
{
    return openat(dirfd, path, flags);
}
PL_API int __openat64_2(int dirfd, const char *path, int flags)
{
    return openat64(dirfd, path, flags);
}
PL_API int creat(const char *path, mode_t mode)
{
    return open(path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}
PL_API int creat64(const char *path, mode_t mode)
{
    return open64(path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

/* ---- read and write ---- */

/* The BenchFS descriptor of f for data calls, or -1 with errno as the kernel's. */
static int data_fd(struct pl_file *f)
{
    if (f->bfd >= 0)
        return f->bfd;
    return pl_err(f->is_dir == 1 && !(f->flags & O_PATH) ? EISDIR : EBADF);
}

#define DATA_CALL(fd, realcall, bfscall)                                                       \
    struct pl_file *f = pl_file(fd);                                                           \
    if (!f)                                                                                    \
        return realcall;                                                                       \
    int bfd = data_fd(f);                                                                      \
    if (bfd < 0)                                                                               \
        return -1;                                                                             \
    benchfs_t *fs = pl_fs();                                                                   \
    if (!fs)                                                                                   \
        return -1;                                                                             \
    return bfscall

PL_API ssize_t read(int fd, void *buf, size_t n)
{
    DATA_CALL(fd, REAL(read)(fd, buf, n), benchfs_read(fs, bfd, buf, n));
}
PL_API ssize_t write(int fd, const void *buf, size_t n)
{
    DATA_CALL(fd, REAL(write)(fd, buf, n), benchfs_write(fs, bfd, buf, n));
}
PL_API ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
    DATA_CALL(fd, REAL(pread)(fd, buf, n, off), benchfs_pread(fs, bfd, buf, n, off));
}
PL_API ssize_t pread64(int fd, void *buf, size_t n, off64_t off)
{
    DATA_CALL(fd, REAL(pread64)(fd, buf, n, off), benchfs_pread(fs, bfd, buf, n, off));
}
PL_API ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    DATA_CALL(fd, REAL(pwrite)(fd, buf, n, off), benchfs_pwrite(fs, bfd, buf, n, off));
}
PL_API ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
    DATA_CALL(fd, REAL(pwrite64)(fd, buf, n, off), benchfs_pwrite(fs, bfd, buf, n, off));
}

PL_API ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
    if (n > buflen)
        abort(); /* as glibc's __chk_fail */
    return read(fd, buf, n);
}
PL_API ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen)
{
    if (n > buflen)
        abort();
    return pread(fd, buf, n, off);
}
PL_API ssize_t __pread64_chk(int fd, void *buf, size_t n, off64_t off, size_t buflen)
{
    if (n > buflen)
        abort();
    return pread64(fd, buf, n, off);
}

/* readv/writev and the positioned forms: one call per buffer, stopping at a short one.
 * off < 0: at the file offset. */
static ssize_t vec_io(benchfs_t *fs, int bfd, const struct iovec *iov, int cnt, off_t off,
                      int wr)
{
    if (cnt < 0 || cnt > IOV_MAX)
        return pl_err(EINVAL);
    ssize_t total = 0;
    for (int i = 0; i < cnt; i++) {
        if (iov[i].iov_len == 0)
            continue;
        ssize_t r;
        if (off < 0)
            r = wr ? benchfs_write(fs, bfd, iov[i].iov_base, iov[i].iov_len)
                   : benchfs_read(fs, bfd, iov[i].iov_base, iov[i].iov_len);
        else
            r = wr ? benchfs_pwrite(fs, bfd, iov[i].iov_base, iov[i].iov_len, off + total)
                   : benchfs_pread(fs, bfd, iov[i].iov_base, iov[i].iov_len, off + total);
        if (r < 0)
            return total > 0 ? total : -1;
        total += r;
        if ((size_t)r < iov[i].iov_len)
            break;
    }
    return total;
}

PL_API ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
    DATA_CALL(fd, REAL(readv)(fd, iov, cnt), vec_io(fs, bfd, iov, cnt, -1, 0));
}
PL_API ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    DATA_CALL(fd, REAL(writev)(fd, iov, cnt), vec_io(fs, bfd, iov, cnt, -1, 1));
}
PL_API ssize_t preadv(int fd, const struct iovec *iov, int cnt, off_t off)
{
    DATA_CALL(fd, REAL(preadv)(fd, iov, cnt, off),
              off < 0 ? pl_err(EINVAL) : vec_io(fs, bfd, iov, cnt, off, 0));
}
PL_API ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
    DATA_CALL(fd, REAL(pwritev)(fd, iov, cnt, off),
              off < 0 ? pl_err(EINVAL) : vec_io(fs, bfd, iov, cnt, off, 1));
}
PL_API ssize_t preadv64(int fd, const struct iovec *iov, int cnt, off64_t off)
{
    DATA_CALL(fd, REAL(preadv64)(fd, iov, cnt, off),
              off < 0 ? pl_err(EINVAL) : vec_io(fs, bfd, iov, cnt, off, 0));
}
PL_API ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off64_t off)
{
    DATA_CALL(fd, REAL(pwritev64)(fd, iov, cnt, off),
              off < 0 ? pl_err(EINVAL) : vec_io(fs, bfd, iov, cnt, off, 1));
}
/* preadv2/pwritev2: flags (RWF_*) are hints BenchFS has no use for; off -1 is the offset. */
PL_API ssize_t preadv2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
    DATA_CALL(fd, REAL(preadv2)(fd, iov, cnt, off, flags),
              off < -1 ? pl_err(EINVAL) : vec_io(fs, bfd, iov, cnt, off, 0));
}
PL_API ssize_t pwritev2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
    DATA_CALL(fd, REAL(pwritev2)(fd, iov, cnt, off, flags),
              off < -1 ? pl_err(EINVAL) : vec_io(fs, bfd, iov, cnt, off, 1));
}

/* ---- offset, sync, size ---- */

static off_t bfs_lseek(int fd, struct pl_file *f, off_t off, int whence)
{
    benchfs_t *fs = pl_fs();
    if (!fs)
        return -1;
    if (f->bfd < 0) { /* a directory opened with O_DIRECTORY: only a rewind means anything */
        if (f->flags & O_PATH)
            return pl_err(EBADF);
        if (off != 0 || whence != SEEK_SET)
            return pl_err(EINVAL);
        if (f->dir) {
            pl_dir_free(f->dir);
            f->dir = NULL;
        }
        return 0;
    }
    if (whence == SEEK_DATA || whence == SEEK_HOLE) {
        /* No holes are reported: data up to the size, the one hole at the end. */
        benchfs_stat_t st;
        if (benchfs_fstat(fs, f->bfd, &st) != 0)
            return -1;
        if (off < 0 || (uint64_t)off >= st.size)
            return pl_err(ENXIO);
        return benchfs_lseek(fs, f->bfd, whence == SEEK_DATA ? off : (off_t)st.size, SEEK_SET);
    }
    (void)fd;
    return benchfs_lseek(fs, f->bfd, off, whence);
}

PL_API off_t lseek(int fd, off_t off, int whence)
{
    struct pl_file *f = pl_file(fd);
    return f ? bfs_lseek(fd, f, off, whence) : REAL(lseek)(fd, off, whence);
}
PL_API off64_t lseek64(int fd, off64_t off, int whence)
{
    struct pl_file *f = pl_file(fd);
    return f ? bfs_lseek(fd, f, off, whence) : REAL(lseek64)(fd, off, whence);
}

static int bfs_fsync(struct pl_file *f)
{
    if (f->bfd < 0)
        return f->flags & O_PATH ? pl_err(EBADF) : 0; /* directories: nothing to sync */
    benchfs_t *fs = pl_fs();
    return fs ? benchfs_fsync(fs, f->bfd) : -1;
}

PL_API int fsync(int fd)
{
    struct pl_file *f = pl_file(fd);
    return f ? bfs_fsync(f) : REAL(fsync)(fd);
}
PL_API int fdatasync(int fd)
{
    struct pl_file *f = pl_file(fd);
    return f ? bfs_fsync(f) : REAL(fdatasync)(fd);
}
PL_API int syncfs(int fd)
{
    if (!pl_file(fd))
        return REAL(syncfs)(fd);
    benchfs_t *fs = pl_fs();
    return fs ? benchfs_syncfs(fs) : -1; /* the whole cluster, as syncfs(2) its file system */
}

PL_API int ftruncate(int fd, off_t len)
{
    DATA_CALL(fd, REAL(ftruncate)(fd, len), benchfs_ftruncate(fs, bfd, len));
}
PL_API int ftruncate64(int fd, off64_t len)
{
    DATA_CALL(fd, REAL(ftruncate64)(fd, len), benchfs_ftruncate(fs, bfd, len));
}

/* fallocate mode 0 grows the file (BenchFS allocates when it writes); the other modes
 * (keep size, punch, zero, collapse) are not offered. Returns an errno value. */
static int bfs_fallocate(struct pl_file *f, int mode, off_t off, off_t len)
{
    int bfd = data_fd(f);
    benchfs_t *fs = pl_fs();
    if (bfd < 0 || !fs)
        return errno;
    if (mode != 0)
        return EOPNOTSUPP;
    if (off < 0 || len <= 0)
        return EINVAL;
    benchfs_stat_t st;
    if (benchfs_fstat(fs, bfd, &st) != 0)
        return errno;
    if ((uint64_t)off + (uint64_t)len > st.size && benchfs_ftruncate(fs, bfd, off + len) != 0)
        return errno;
    return 0;
}

PL_API int fallocate(int fd, int mode, off_t off, off_t len)
{
    struct pl_file *f = pl_file(fd);
    if (!f)
        return REAL(fallocate)(fd, mode, off, len);
    int e = bfs_fallocate(f, mode, off, len);
    return e ? pl_err(e) : 0;
}
PL_API int fallocate64(int fd, int mode, off64_t off, off64_t len)
{
    struct pl_file *f = pl_file(fd);
    if (!f)
        return REAL(fallocate64)(fd, mode, off, len);
    int e = bfs_fallocate(f, mode, off, len);
    return e ? pl_err(e) : 0;
}
PL_API int posix_fallocate(int fd, off_t off, off_t len)
{
    struct pl_file *f = pl_file(fd);
    return f ? bfs_fallocate(f, 0, off, len) : REAL(posix_fallocate)(fd, off, len);
}
PL_API int posix_fallocate64(int fd, off64_t off, off64_t len)
{
    struct pl_file *f = pl_file(fd);
    return f ? bfs_fallocate(f, 0, off, len) : REAL(posix_fallocate64)(fd, off, len);
}

/* Advice is accepted and has no effect on BenchFS. */
PL_API int posix_fadvise(int fd, off_t off, off_t len, int advice)
{
    return pl_file(fd) ? 0 : REAL(posix_fadvise)(fd, off, len, advice);
}
PL_API int posix_fadvise64(int fd, off64_t off, off64_t len, int advice)
{
    return pl_file(fd) ? 0 : REAL(posix_fadvise64)(fd, off, len, advice);
}
PL_API ssize_t readahead(int fd, off64_t off, size_t count)
{
    return pl_file(fd) ? 0 : REAL(readahead)(fd, off, count);
}

/* ---- copies between descriptors ---- */

/* Copy up to len bytes from in to out through a buffer, with the calls above (either side
 * may be BenchFS or not). inoff/outoff NULL: at the file offsets, else moved. */
static ssize_t copy_fds(int in, off64_t *inoff, int out, off64_t *outoff, size_t len)
{
    size_t cap = len < (1u << 20) ? len : (1u << 20);
    if (cap == 0)
        return 0;
    char *buf = malloc(cap);
    if (!buf)
        return -1;
    ssize_t total = 0;
    while ((size_t)total < len) {
        size_t want = len - (size_t)total < cap ? len - (size_t)total : cap;
        ssize_t r = inoff ? pread64(in, buf, want, *inoff) : read(in, buf, want);
        if (r <= 0) {
            if (r < 0 && total == 0)
                total = -1;
            break;
        }
        ssize_t w = outoff ? pwrite64(out, buf, (size_t)r, *outoff) : write(out, buf, (size_t)r);
        if (w < 0) {
            if (total == 0)
                total = -1;
            break;
        }
        if (inoff)
            *inoff += w;
        if (outoff)
            *outoff += w;
        total += w;
        if (w < r) { /* the rest of what was read is not consumed */
            if (!inoff)
                lseek64(in, (off64_t)w - r, SEEK_CUR);
            break;
        }
    }
    int e = errno;
    free(buf);
    errno = e;
    return total;
}

PL_API ssize_t sendfile(int out, int in, off_t *off, size_t count)
{
    if (!pl_file(in) && !pl_file(out))
        return REAL(sendfile)(out, in, off, count);
    off64_t o = off ? *off : 0;
    ssize_t r = copy_fds(in, off ? &o : NULL, out, NULL, count);
    if (off)
        *off = (off_t)o;
    return r;
}
PL_API ssize_t sendfile64(int out, int in, off64_t *off, size_t count)
{
    if (!pl_file(in) && !pl_file(out))
        return REAL(sendfile64)(out, in, off, count);
    return copy_fds(in, off, out, NULL, count);
}
PL_API ssize_t copy_file_range(int in, off64_t *inoff, int out, off64_t *outoff, size_t len,
                               unsigned flags)
{
    if (!pl_file(in) && !pl_file(out))
        return REAL(copy_file_range)(in, inoff, out, outoff, len, flags);
    if (flags)
        return pl_err(EINVAL);
    return copy_fds(in, inoff, out, outoff, len);
}

/* ---- what the kernel would have to do with the file itself ---- */

static void *bfs_mmap(void *addr, size_t len, int prot, int flags, struct pl_file *f, off_t off)
{
    int type = flags & MAP_TYPE;
    if (type != MAP_PRIVATE && (prot & PROT_WRITE)) {
        errno = ENODEV; /* a shared writable mapping would need the kernel to write back */
        return MAP_FAILED;
    }
    int bfd = data_fd(f);
    benchfs_t *fs = pl_fs();
    if (bfd < 0 || !fs)
        return MAP_FAILED;
    if (off < 0 || (off & (sysconf(_SC_PAGESIZE) - 1))) {
        errno = EINVAL;
        return MAP_FAILED;
    }
    void *p = REAL(mmap)(addr, len, prot | PROT_WRITE,
                         (flags & ~(MAP_TYPE | MAP_DENYWRITE | MAP_EXECUTABLE)) | MAP_PRIVATE |
                             MAP_ANONYMOUS,
                         -1, 0);
    if (p == MAP_FAILED)
        return p;
    size_t done = 0;
    while (done < len) {
        ssize_t r = benchfs_pread(fs, bfd, (char *)p + done, len - done, off + (off_t)done);
        if (r < 0) {
            int e = errno;
            munmap(p, len);
            errno = e;
            return MAP_FAILED;
        }
        if (r == 0)
            break; /* past the end: zeros, as a mapping shows them */
        done += (size_t)r;
    }
    if (!(prot & PROT_WRITE))
        mprotect(p, len, prot);
    return p;
}

PL_API void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    struct pl_file *f = (flags & MAP_ANONYMOUS) ? NULL : pl_file(fd);
    if (!f)
        return REAL(mmap)(addr, len, prot, flags, fd, off);
    return bfs_mmap(addr, len, prot, flags, f, off);
}
PL_API void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off)
{
    struct pl_file *f = (flags & MAP_ANONYMOUS) ? NULL : pl_file(fd);
    if (!f)
        return REAL(mmap64)(addr, len, prot, flags, fd, off);
    return bfs_mmap(addr, len, prot, flags, f, off);
}

PL_API int ioctl(int fd, unsigned long req, ...)
{
    va_list ap;
    va_start(ap, req);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    if (!pl_file(fd))
        return REAL(ioctl)(fd, req, arg);
    return pl_err(ENOTTY); /* no terminal, no FICLONE, no FIEMAP */
}

PL_API int isatty(int fd)
{
    if (!pl_file(fd))
        return REAL(isatty)(fd);
    errno = ENOTTY;
    return 0;
}

/* ---- temporary files: glibc's mkstemp opens internally, out of our reach ---- */

/* The last 6 + suffixlen characters of tmpl before the suffix must be "XXXXXX". */
static int bfs_mkstemp(char *tmpl, int suffixlen, int flags)
{
    size_t n = strlen(tmpl);
    if (suffixlen < 0 || n < 6 + (size_t)suffixlen ||
        strncmp(tmpl + n - suffixlen - 6, "XXXXXX", 6) != 0)
        return pl_err(EINVAL);
    char *x = tmpl + n - suffixlen - 6;
    static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    static _Atomic unsigned long counter;
    for (int attempt = 0; attempt < 1000; attempt++) {
        unsigned long v = (unsigned long)getpid() * 2654435761u ^
                          atomic_fetch_add(&counter, 7919) ^ (unsigned long)random();
        for (int i = 0; i < 6; i++, v /= 62)
            x[i] = chars[v % 62];
        int fd = open(tmpl, (flags & ~O_ACCMODE) | O_RDWR | O_CREAT | O_EXCL, 0600);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    return pl_err(EEXIST);
}

#define MKSTEMP(name, params, realargs, tmpl, suffixlen, flags)                                \
    PL_API int name params                                                                     \
    {                                                                                          \
        if (!pl_maybe(AT_FDCWD, tmpl))                                                         \
            return REAL(name) realargs;                                                        \
        struct pl_path pp;                                                                     \
        enum pl_where w = pl_map(AT_FDCWD, tmpl, &pp);                                         \
        if (w == PL_ERROR)                                                                     \
            return -1;                                                                         \
        if (w == PL_LIBC)                                                                      \
            return REAL(name) realargs;                                                        \
        return bfs_mkstemp(tmpl, suffixlen, flags);                                            \
    }

MKSTEMP(mkstemp, (char *t), (t), t, 0, 0)
MKSTEMP(mkstemp64, (char *t), (t), t, 0, 0)
MKSTEMP(mkostemp, (char *t, int fl), (t, fl), t, 0, fl)
MKSTEMP(mkostemp64, (char *t, int fl), (t, fl), t, 0, fl)
MKSTEMP(mkstemps, (char *t, int sl), (t, sl), t, sl, 0)
MKSTEMP(mkstemps64, (char *t, int sl), (t, sl), t, sl, 0)
MKSTEMP(mkostemps, (char *t, int sl, int fl), (t, sl, fl), t, sl, fl)
MKSTEMP(mkostemps64, (char *t, int sl, int fl), (t, sl, fl), t, sl, fl)
