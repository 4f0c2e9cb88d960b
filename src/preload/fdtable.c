/* SPDX-License-Identifier: BSD-3-Clause */
/* fdtable.c — descriptor numbers for BenchFS files in libbenchfs-preload.so. Each open
 * BenchFS file holds a real kernel descriptor (an O_PATH descriptor of /dev/null), so its
 * number is never handed out by the kernel to anything else and passes through dup2,
 * F_DUPFD, fork and close_range as the kernel's own do; the table maps the number to the
 * shared description (struct pl_file). A number that reaches a program without the table
 * (after exec, or a direct system call) is an O_PATH descriptor: read and write fail EBADF. */
#include "preload.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

struct pl_file *_Atomic pl_fds[PL_MAX_FDS];
static atomic_int nfds; /* entries in the table: close_range and exit skip an empty one */
static pthread_mutex_t tab_lock = PTHREAD_MUTEX_INITIALIZER;

static void lock(void) { pthread_mutex_lock(&tab_lock); }
static void unlock(void) { pthread_mutex_unlock(&tab_lock); }

__attribute__((constructor)) static void fdtable_init(void)
{
    /* A fork while another thread holds the lock must not leave the child's copy held. */
    pthread_atfork(lock, unlock, unlock);
}

struct pl_file *pl_file_new(const char *bfs_path, int flags)
{
    struct pl_file *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    atomic_init(&f->refs, 1);
    f->bfd = -1;
    f->flags = flags;
    snprintf(f->path, sizeof f->path, "%s", bfs_path);
    return f;
}

/* Replace the table entry of fd (kernel side already done); returns the previous one. */
static struct pl_file *swap_entry(int fd, struct pl_file *f)
{
    lock();
    struct pl_file *prev = atomic_load(&pl_fds[fd]);
    atomic_store_explicit(&pl_fds[fd], f, memory_order_release);
    atomic_fetch_add(&nfds, (f != NULL) - (prev != NULL));
    unlock();
    return prev;
}

int pl_fd_install(struct pl_file *f, int cloexec)
{
    int fd = REAL(open)("/dev/null", O_PATH | (cloexec ? O_CLOEXEC : 0));
    if (fd < 0)
        return -1;
    if (fd >= PL_MAX_FDS) {
        REAL(close)(fd);
        return pl_err(EMFILE);
    }
    struct pl_file *prev = swap_entry(fd, f);
    if (prev) /* a number the kernel gave us is free, so no entry can be left on it */
        pl_file_put(prev);
    return fd;
}

void pl_fd_adopt(int fd, struct pl_file *f)
{
    pl_file_put(swap_entry(fd, f));
}

int pl_fd_count(void)
{
    return atomic_load(&nfds);
}

int pl_file_put(struct pl_file *f)
{
    if (!f || atomic_fetch_sub(&f->refs, 1) != 1)
        return 0;
    int r = 0;
    if (f->dir)
        pl_dir_free(f->dir);
    if (f->bfd >= 0) {
        benchfs_t *fs = pl_fs();
        r = fs ? benchfs_close(fs, f->bfd) : -1;
    }
    free(f);
    return r;
}

int pl_fd_close(int fd)
{
    struct pl_file *f = swap_entry(fd, NULL);
    REAL(close)(fd);
    return pl_file_put(f);
}

void pl_fd_close_all(void)
{
    for (int fd = 0; fd < PL_MAX_FDS && atomic_load(&nfds) > 0; fd++)
        if (atomic_load(&pl_fds[fd]))
            pl_file_put(swap_entry(fd, NULL));
}

/* Forget the entries of fds the kernel closed behind our back (close_range, closefrom). */
static void forget_range(unsigned first, unsigned last)
{
    for (unsigned fd = first; fd <= last && fd < PL_MAX_FDS && atomic_load(&nfds) > 0; fd++)
        if (atomic_load(&pl_fds[fd]) && fcntl(fd, F_GETFD) < 0 && errno == EBADF)
            pl_file_put(swap_entry((int)fd, NULL));
}

/* A real descriptor number that is closed or replaced is no longer an ancestor's. */
static void forget_anc(int fd)
{
    if (fd >= 0 && fd < PL_MAX_FDS && atomic_load_explicit(&pl_anc[fd], memory_order_relaxed))
        atomic_store(&pl_anc[fd], 0);
}

PL_API int close(int fd)
{
    forget_anc(fd);
    if (!pl_file(fd))
        return REAL(close)(fd);
    return pl_fd_close(fd);
}

PL_API int close_range(unsigned first, unsigned last, int flags)
{
    int r = REAL(close_range)(first, last, flags);
    if (r == 0 && atomic_load(&nfds) > 0)
        forget_range(first, last);
    return r;
}

PL_API void closefrom(int lowfd)
{
    REAL(closefrom)(lowfd);
    if (lowfd >= 0 && atomic_load(&nfds) > 0)
        forget_range((unsigned)lowfd, PL_MAX_FDS - 1);
}

/* newfd (a kernel number just made a copy of oldfd's) now shares f. */
static int adopt(int newfd, struct pl_file *f)
{
    if (newfd < 0)
        return newfd;
    if (newfd >= PL_MAX_FDS) {
        REAL(close)(newfd);
        return pl_err(EMFILE);
    }
    if (f)
        atomic_fetch_add(&f->refs, 1);
    pl_file_put(swap_entry(newfd, f));
    return newfd;
}

PL_API int dup(int fd)
{
    struct pl_file *f = pl_file(fd);
    if (!f)
        return REAL(dup)(fd);
    return adopt(REAL(dup)(fd), f);
}

PL_API int dup2(int oldfd, int newfd)
{
    if (oldfd != newfd)
        forget_anc(newfd);
    struct pl_file *f = pl_file(oldfd);
    if (!f && !pl_file(newfd))
        return REAL(dup2)(oldfd, newfd);
    if (oldfd == newfd)
        return newfd;
    return adopt(REAL(dup2)(oldfd, newfd), f);
}

PL_API int dup3(int oldfd, int newfd, int flags)
{
    forget_anc(newfd);
    struct pl_file *f = pl_file(oldfd);
    if (!f && !pl_file(newfd))
        return REAL(dup3)(oldfd, newfd, flags);
    return adopt(REAL(dup3)(oldfd, newfd, flags), f);
}

static int file_fcntl(int fd, struct pl_file *f, int cmd, void *arg)
{
    switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
        return adopt(REAL(fcntl)(fd, cmd, arg), f);
    case F_GETFD:
    case F_SETFD: /* FD_CLOEXEC lives on the reserved descriptor itself */
        return REAL(fcntl)(fd, cmd, arg);
    case F_GETFL:
        return f->flags;
    case F_SETFL: {
        int want = (int)(intptr_t)arg;
        if ((want ^ f->flags) & O_APPEND)
            return pl_err(EINVAL); /* the BenchFS descriptor's append mode is set at open */
        if (want & O_DIRECT)
            return pl_err(EINVAL);
        int settable = O_NONBLOCK | O_ASYNC | O_NOATIME;
        f->flags = (f->flags & ~settable) | (want & settable);
        return 0;
    }
    case F_GETLK:
    case F_OFD_GETLK: {
        /* Locks are accepted and not enforced (documented): nothing ever conflicts. */
        struct flock *l = arg;
        if (!l)
            return pl_err(EFAULT);
        l->l_type = F_UNLCK;
        return 0;
    }
    case F_SETLK:
    case F_SETLKW:
    case F_OFD_SETLK:
    case F_OFD_SETLKW:
        return arg ? 0 : pl_err(EFAULT);
    default:
        return pl_err(EINVAL);
    }
}

/* fcntl and fcntl64 (glibc's two names of one call): ours, or the real one's. */
static int fcntl_or(int (*real)(int, int, ...), int fd, int cmd, void *arg)
{
    struct pl_file *f = pl_file(fd);
    return f ? file_fcntl(fd, f, cmd, arg) : real(fd, cmd, arg);
}

PL_API int fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return fcntl_or(REAL(fcntl), fd, cmd, arg);
}

PL_API int fcntl64(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return fcntl_or(REAL(fcntl64), fd, cmd, arg);
}

PL_API int flock(int fd, int op)
{
    if (!pl_file(fd))
        return REAL(flock)(fd, op);
    return 0; /* accepted, not enforced */
}
