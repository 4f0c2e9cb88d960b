/* SPDX-License-Identifier: BSD-3-Clause */
/* bench_io.h — the I/O backend of benchfs-bench: BenchFS or POSIX behind one interface.
 *
 * Every phase of the benchmark calls these function pointers only, so the BenchFS run and the
 * --posix run execute literally the same workload code. Paths handed to a backend are full
 * paths in that backend's name space (the phase code joins the backend's root and a relative
 * name). Errors: -1 with errno set; bench_io_strerror() says more when the backend can. */
#ifndef BENCH_IO_H
#define BENCH_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct bench_io {
    const char *name;  /* "BenchFS" or "POSIX": the column heading */
    const char *key;   /* "benchfs" or "posix": the JSON key */
    char root[1024];   /* directory the workload runs in */
    void *ctx;         /* backend state (benchfs_t * for BenchFS) */

    int (*open)(struct bench_io *io, const char *path, int flags, mode_t mode);
    int (*close)(struct bench_io *io, int fd);
    ssize_t (*pwrite)(struct bench_io *io, int fd, const void *buf, size_t n, off_t off);
    ssize_t (*pread)(struct bench_io *io, int fd, void *buf, size_t n, off_t off);
    int (*fsync)(struct bench_io *io, int fd);
    /* stat: size (may be NULL) and whether it is a directory (may be NULL). */
    int (*stat)(struct bench_io *io, const char *path, uint64_t *size, int *is_dir);
    int (*unlink)(struct bench_io *io, const char *path);
    int (*mkdir)(struct bench_io *io, const char *path, mode_t mode);
    int (*rmdir)(struct bench_io *io, const char *path);
    /* The last error in words, with context where the backend has it. */
    const char *(*strerror)(struct bench_io *io, int err);
    /* Disconnect / release; returns 0 or -1. */
    int (*fini)(struct bench_io *io);
};

/* Connect to the BenchFS cluster of `registry` (chunk_size 0: the library default) and run in
 * `root` (an absolute BenchFS path). Returns 0, or -1 with a message in err. */
int bench_io_benchfs(struct bench_io *io, const char *registry, uint32_t chunk_size,
                     const char *root, char *err, size_t errlen);
/* Plain POSIX calls below the directory `root`, named "POSIX" (name NULL: the local file
 * system to compare with) or `name` (a way into BenchFS through the kernel's calls: a FUSE
 * mount, or a prefix of the preload library when the run has LD_PRELOAD). Always succeeds. */
int bench_io_posix(struct bench_io *io, const char *root, const char *name);

#endif
