/* SPDX-License-Identifier: BSD-3-Clause */
/* stdio.c — stdio streams on BenchFS files in libbenchfs-preload.so. glibc's fopen opens
 * and reads through internal calls that no preload library sees, so a BenchFS path gets a
 * fopencookie stream whose read, write, seek and close are the intercepted calls on our
 * descriptor; everything else in stdio (fread, fgets, fprintf, fseek, fflush, fclose...)
 * then works on it unchanged. fileno gives the stream's descriptor number. */
#include "preload.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The cookie streams that are open: for fileno and the flush at exit. */
struct stream {
    FILE *fp;
    int fd;
};
static struct stream *streams;
static size_t nstreams, capstreams;
static atomic_int any_streams;
static pthread_mutex_t streams_lock = PTHREAD_MUTEX_INITIALIZER;

static void slock(void) { pthread_mutex_lock(&streams_lock); }
static void sunlock(void) { pthread_mutex_unlock(&streams_lock); }

__attribute__((constructor)) static void stdio_init(void)
{
    pthread_atfork(slock, sunlock, sunlock);
}

static int track(FILE *fp, int fd)
{
    slock();
    if (nstreams == capstreams) {
        size_t cap = capstreams ? capstreams * 2 : 16;
        struct stream *n = realloc(streams, cap * sizeof *n);
        if (!n) {
            sunlock();
            return -1;
        }
        streams = n;
        capstreams = cap;
    }
    streams[nstreams++] = (struct stream){fp, fd};
    atomic_store(&any_streams, 1);
    sunlock();
    return 0;
}

static void untrack(int fd)
{
    slock();
    for (size_t i = 0; i < nstreams; i++)
        if (streams[i].fd == fd) {
            streams[i] = streams[--nstreams];
            break;
        }
    atomic_store(&any_streams, nstreams > 0);
    sunlock();
}

void pl_stdio_flush_all(void)
{
    if (!atomic_load(&any_streams))
        return;
    slock();
    size_t n = nstreams;
    FILE **fps = malloc((n ? n : 1) * sizeof *fps);
    for (size_t i = 0; fps && i < n; i++)
        fps[i] = streams[i].fp;
    sunlock();
    for (size_t i = 0; fps && i < n; i++)
        fflush(fps[i]);
    free(fps);
}

/* ---- the cookie functions: our descriptor calls ---- */

static ssize_t ck_read(void *c, char *buf, size_t n) { return read((int)(intptr_t)c, buf, n); }

static ssize_t ck_write(void *c, const char *buf, size_t n)
{
    /* stdio takes a short count for an error; retry what BenchFS wrote short */
    size_t done = 0;
    while (done < n) {
        ssize_t w = write((int)(intptr_t)c, buf + done, n - done);
        if (w <= 0)
            return done > 0 ? (ssize_t)done : -1;
        done += (size_t)w;
    }
    return (ssize_t)done;
}

static int ck_seek(void *c, off64_t *off, int whence)
{
    off64_t r = lseek64((int)(intptr_t)c, *off, whence);
    if (r < 0)
        return -1;
    *off = r;
    return 0;
}

static int ck_close(void *c)
{
    int fd = (int)(intptr_t)c;
    untrack(fd);
    return close(fd);
}

static FILE *cookie_stream(int fd, const char *mode)
{
    cookie_io_functions_t io = {ck_read, ck_write, ck_seek, ck_close};
    FILE *fp = fopencookie((void *)(intptr_t)fd, mode, io);
    if (!fp)
        return NULL;
    if (track(fp, fd) != 0) {
        /* without an entry fileno and the exit flush would miss it: refuse */
        fclose(fp);
        errno = ENOMEM;
        return NULL;
    }
    return fp;
}

/* fopen's mode string as open flags; -1 (EINVAL) if it is not one. */
static int mode_flags(const char *mode)
{
    int flags;
    switch (mode[0]) {
    case 'r': flags = O_RDONLY; break;
    case 'w': flags = O_WRONLY | O_CREAT | O_TRUNC; break;
    case 'a': flags = O_WRONLY | O_CREAT | O_APPEND; break;
    default: return pl_err(EINVAL);
    }
    for (const char *p = mode + 1; *p && *p != ','; p++) {
        if (*p == '+')
            flags = (flags & ~O_ACCMODE) | O_RDWR;
        else if (*p == 'x')
            flags |= O_EXCL;
        else if (*p == 'e')
            flags |= O_CLOEXEC;
    }
    return flags;
}

static FILE *bfs_fopen(const char *path, const char *mode)
{
    int flags = mode_flags(mode);
    if (flags < 0)
        return NULL;
    int fd = open(path, flags, 0666);
    if (fd < 0)
        return NULL;
    FILE *fp = cookie_stream(fd, mode);
    if (!fp) {
        int e = errno;
        close(fd);
        errno = e;
    }
    return fp;
}

PL_API FILE *fopen(const char *path, const char *mode)
{
    if (!pl_maybe(AT_FDCWD, path))
        return REAL(fopen)(path, mode);
    struct pl_path pp;
    enum pl_where w = pl_map(AT_FDCWD, path, &pp);
    if (w == PL_ERROR)
        return NULL;
    if (w == PL_LIBC)
        return REAL(fopen)(pp.real, mode);
    return bfs_fopen(path, mode);
}

PL_API FILE *fopen64(const char *path, const char *mode)
{
    if (!pl_maybe(AT_FDCWD, path))
        return REAL(fopen64)(path, mode);
    return fopen(path, mode);
}

PL_API FILE *fdopen(int fd, const char *mode)
{
    struct pl_file *f = pl_file(fd);
    if (!f)
        return REAL(fdopen)(fd, mode);
    if (mode_flags(mode) < 0)
        return NULL;
    if (f->flags & O_PATH) {
        errno = EBADF;
        return NULL;
    }
    return cookie_stream(fd, mode);
}

/* Whether fp is one of our streams; its descriptor or -1. */
static int stream_fd(FILE *fp)
{
    if (!atomic_load_explicit(&any_streams, memory_order_relaxed))
        return -1;
    int fd = -1;
    slock();
    for (size_t i = 0; i < nstreams; i++)
        if (streams[i].fp == fp) {
            fd = streams[i].fd;
            break;
        }
    sunlock();
    return fd;
}

PL_API int fileno(FILE *fp)
{
    int fd = stream_fd(fp);
    return fd >= 0 ? fd : REAL(fileno)(fp);
}
PL_API int fileno_unlocked(FILE *fp)
{
    int fd = stream_fd(fp);
    return fd >= 0 ? fd : REAL(fileno_unlocked)(fp);
}

/* freopen cannot turn a libc stream into one of ours, nor the reverse (documented). */
static FILE *bfs_freopen(const char *path, const char *mode, FILE *fp,
                         FILE *(*real)(const char *, const char *, FILE *))
{
    int ours = stream_fd(fp) >= 0;
    int bfs = 0;
    struct pl_path pp;
    if (path && pl_maybe(AT_FDCWD, path)) {
        enum pl_where w = pl_map(AT_FDCWD, path, &pp);
        if (w == PL_ERROR)
            return NULL;
        bfs = w == PL_BENCHFS;
        if (w == PL_LIBC)
            path = pp.real;
    }
    if (!bfs && !ours)
        return real(path, mode, fp);
    errno = ENOTSUP;
    return NULL;
}

PL_API FILE *freopen(const char *path, const char *mode, FILE *fp)
{
    return bfs_freopen(path, mode, fp, REAL(freopen));
}
PL_API FILE *freopen64(const char *path, const char *mode, FILE *fp)
{
    return bfs_freopen(path, mode, fp, REAL(freopen64));
}
