/* SPDX-License-Identifier: BSD-3-Clause */
/* bench_io.c — the two backends of benchfs-bench: libbenchfs and plain POSIX. */
#include "bench_io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "benchfs.h"

/* ---- BenchFS ---- */

static benchfs_t *FS(struct bench_io *io) { return (benchfs_t *)io->ctx; }

static int bfs_open_(struct bench_io *io, const char *p, int flags, mode_t mode)
{
    return benchfs_open(FS(io), p, flags, mode);
}
static int bfs_close_(struct bench_io *io, int fd) { return benchfs_close(FS(io), fd); }
static ssize_t bfs_pwrite_(struct bench_io *io, int fd, const void *b, size_t n, off_t o)
{
    return benchfs_pwrite(FS(io), fd, b, n, o);
}
static ssize_t bfs_pread_(struct bench_io *io, int fd, void *b, size_t n, off_t o)
{
    return benchfs_pread(FS(io), fd, b, n, o);
}
static int bfs_fsync_(struct bench_io *io, int fd) { return benchfs_fsync(FS(io), fd); }
static int bfs_stat_(struct bench_io *io, const char *p, uint64_t *size, int *is_dir)
{
    benchfs_stat_t st;
    if (benchfs_stat(FS(io), p, &st) != 0)
        return -1;
    if (size)
        *size = st.size;
    if (is_dir)
        *is_dir = S_ISDIR(st.mode);
    return 0;
}
static int bfs_unlink_(struct bench_io *io, const char *p) { return benchfs_unlink(FS(io), p); }
static int bfs_mkdir_(struct bench_io *io, const char *p, mode_t m)
{
    return benchfs_mkdir(FS(io), p, m);
}
static int bfs_rmdir_(struct bench_io *io, const char *p) { return benchfs_rmdir(FS(io), p); }
static const char *bfs_strerror_(struct bench_io *io, int err)
{
    (void)io;
    (void)err;
    return benchfs_strerror();
}
static int bfs_fini_(struct bench_io *io)
{
    int rc = io->ctx ? benchfs_term(FS(io)) : 0;
    io->ctx = NULL;
    return rc;
}

int bench_io_benchfs(struct bench_io *io, const char *registry, uint32_t chunk_size,
                     const char *root, char *err, size_t errlen)
{
    memset(io, 0, sizeof *io);
    benchfs_options_t o = {.registry = registry, .chunk_size = chunk_size};
    benchfs_t *fs = benchfs_init_opts(&o);
    if (!fs) {
        snprintf(err, errlen, "cannot connect to BenchFS (registry %s): %s", registry,
                 benchfs_strerror());
        return -1;
    }
    io->name = "BenchFS";
    io->key = "benchfs";
    snprintf(io->root, sizeof io->root, "%s", root);
    io->ctx = fs;
    io->open = bfs_open_;
    io->close = bfs_close_;
    io->pwrite = bfs_pwrite_;
    io->pread = bfs_pread_;
    io->fsync = bfs_fsync_;
    io->stat = bfs_stat_;
    io->unlink = bfs_unlink_;
    io->mkdir = bfs_mkdir_;
    io->rmdir = bfs_rmdir_;
    io->strerror = bfs_strerror_;
    io->fini = bfs_fini_;
    return 0;
}

/* ---- POSIX ---- */

static int px_open(struct bench_io *io, const char *p, int flags, mode_t mode)
{
    (void)io;
    return open(p, flags, mode);
}
static int px_close(struct bench_io *io, int fd)
{
    (void)io;
    return close(fd);
}
static ssize_t px_pwrite(struct bench_io *io, int fd, const void *b, size_t n, off_t o)
{
    (void)io;
    return pwrite(fd, b, n, o);
}
static ssize_t px_pread(struct bench_io *io, int fd, void *b, size_t n, off_t o)
{
    (void)io;
    return pread(fd, b, n, o);
}
static int px_fsync(struct bench_io *io, int fd)
{
    (void)io;
    return fsync(fd);
}
static int px_stat(struct bench_io *io, const char *p, uint64_t *size, int *is_dir)
{
    (void)io;
    struct stat st;
    if (stat(p, &st) != 0)
        return -1;
    if (size)
        *size = (uint64_t)st.st_size;
    if (is_dir)
        *is_dir = S_ISDIR(st.st_mode);
    return 0;
}
static int px_unlink(struct bench_io *io, const char *p)
{
    (void)io;
    return unlink(p);
}
static int px_mkdir(struct bench_io *io, const char *p, mode_t m)
{
    (void)io;
    return mkdir(p, m);
}
static int px_rmdir(struct bench_io *io, const char *p)
{
    (void)io;
    return rmdir(p);
}
static const char *px_strerror(struct bench_io *io, int err)
{
    (void)io;
    return strerror(err);
}
static int px_fini(struct bench_io *io)
{
    (void)io;
    return 0;
}

int bench_io_posix(struct bench_io *io, const char *root, const char *name)
{
    memset(io, 0, sizeof *io);
    io->name = name ? name : "POSIX";
    io->key = name ? name : "posix";
    snprintf(io->root, sizeof io->root, "%s", root);
    io->open = px_open;
    io->close = px_close;
    io->pwrite = px_pwrite;
    io->pread = px_pread;
    io->fsync = px_fsync;
    io->stat = px_stat;
    io->unlink = px_unlink;
    io->mkdir = px_mkdir;
    io->rmdir = px_rmdir;
    io->strerror = px_strerror;
    io->fini = px_fini;
    return 0;
}
