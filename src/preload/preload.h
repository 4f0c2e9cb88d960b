/* SPDX-License-Identifier: BSD-3-Clause */
/* preload.h — shared state of libbenchfs-preload.so, the LD_PRELOAD library that sends the
 * file calls of unmodified programs on paths under a mount prefix ($BENCHFS_MOUNT, default
 * /benchfs) to BenchFS through the public API of benchfs.h, and every other call to libc.
 * The pieces: the lazily started context and the real libc symbols (context.c), the mapping
 * of paths and the virtual working directory (path.c), the descriptor table that gives each
 * BenchFS file a real, reserved kernel descriptor number (fdtable.c), and the intercepted
 * calls grouped by concept (file.c, meta.c, ns.c, dir.c, stdio.c). */
#ifndef BENCHFS_PRELOAD_H
#define BENCHFS_PRELOAD_H

/* The symbols defined here are the plain ones (open, stat...), never redirected to their
 * 64-bit names by the headers. */
#undef _FILE_OFFSET_BITS
#undef _FORTIFY_SOURCE

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <benchfs.h>

#define PL_API __attribute__((visibility("default")))

/* ---- real libc symbols (context.c) ----
 * REAL(fn) is libc's fn, looked up with dlsym(RTLD_NEXT) on first use: libraries loaded
 * before us (UCX, libbenchfs itself) call intercepted functions before any constructor of
 * ours has run. */
void *pl_real_sym(void *_Atomic *slot, const char *name);
#define REAL(fn)                                                                               \
    ((__typeof__(&fn))({                                                                       \
        static void *_Atomic pl_slot_;                                                         \
        pl_real_sym(&pl_slot_, #fn);                                                           \
    }))

/* ---- context (context.c) ---- */
/* The BenchFS context, started on first use; NULL with errno set if it cannot start (the
 * reason is printed once on stderr). */
benchfs_t *pl_fs(void);
/* The mount prefix without a trailing '/', and its length (0 before configuration). */
extern char pl_prefix[PATH_MAX];
extern size_t pl_prefix_len;
void pl_configure(void);
/* Set errno from a BenchFS call that failed and return -1 (errno is the library's). */
static inline int pl_err(int e)
{
    extern int *__errno_location(void);
    *__errno_location() = e;
    return -1;
}

/* The descriptor table (fdtable.c): one slot per kernel descriptor number. */
#define PL_MAX_FDS 65536
struct pl_file;
extern struct pl_file *_Atomic pl_fds[PL_MAX_FDS];
/* Real directory descriptors of the prefix's ancestors ("/" for /benchfs): the length of the
 * ancestor's path, 0 for every other descriptor. Programs that walk a path one component
 * at a time with openat (rsync) reach the prefix from these. */
extern _Atomic unsigned short pl_anc[PL_MAX_FDS];
/* A real open of a directory succeeded: remember it if it is an ancestor of the prefix. */
void pl_note_dir(int fd, const char *path, int flags);

/* ---- paths (path.c) ---- */
/* Set while the working directory is inside BenchFS: relative paths then need a look. */
extern atomic_int pl_vcwd_on;

/* Could `path` (relative to dirfd) name BenchFS? The whole cost of a libc call on another
 * path: one prefix compare (or one flag for relative paths). */
static inline int pl_maybe(int dirfd, const char *path)
{
    if (!path)
        return 0;
    if (path[0] != '/')
        return dirfd == AT_FDCWD ? atomic_load_explicit(&pl_vcwd_on, memory_order_relaxed)
                                 : dirfd >= 0 && dirfd < PL_MAX_FDS &&
                                       (atomic_load_explicit(&pl_fds[dirfd],
                                                             memory_order_relaxed) ||
                                        atomic_load_explicit(&pl_anc[dirfd],
                                                             memory_order_relaxed));
    if (!pl_prefix_len)
        pl_configure();
    if (path[1] == '/' || path[1] == '.')
        return 1; /* "//x", "/./x", "/../x": normalised first */
    return __builtin_strncmp(path, pl_prefix, pl_prefix_len) == 0 &&
           (path[pl_prefix_len] == '/' || path[pl_prefix_len] == '\0');
}

/* Where a path goes. */
enum pl_where { PL_LIBC = 0, PL_BENCHFS = 1, PL_ERROR = -1 };
struct pl_path {
    char bfs[PATH_MAX];      /* PL_BENCHFS: the BenchFS path ("/" + what follows the prefix) */
    const char *real;        /* PL_LIBC: the path to give libc (the caller's or realbuf) */
    char realbuf[PATH_MAX];
};
/* Map (dirfd, path); for PL_LIBC with a dirfd that is ours, real is absolute. PL_ERROR sets
 * errno (ENAMETOOLONG, EBADF). */
enum pl_where pl_map(int dirfd, const char *path, struct pl_path *out);
/* After a BenchFS call on bfs failed with EXDEV (a symbolic link that leaves BenchFS): 1 and
 * the real path it leads to in real (PATH_MAX bytes), for the call to go to libc; else 0
 * with errno unchanged. */
int pl_outside(const char *bfs, char *real);
/* Enter (bfs) or leave (NULL) the virtual working directory; and read it (returns whether
 * it is set). */
void pl_vcwd_set(const char *bfs);
int pl_vcwd_get(char *out, size_t size);

/* Shorthands for the calls below: map `path` (an lvalue), or return libc_call when it is not
 * ours (with `path` rewritten when the mapping moved it, e.g. out of the prefix with ".."). */
#define PL_PATH(path, pp, libc_call)                                                           \
    do {                                                                                       \
        if (!pl_maybe(AT_FDCWD, (path)))                                                       \
            return libc_call;                                                                  \
        enum pl_where w_ = pl_map(AT_FDCWD, (path), (pp));                                     \
        if (w_ == PL_ERROR)                                                                    \
            return -1;                                                                         \
        if (w_ == PL_LIBC) {                                                                   \
            path = (pp)->real;                                                                 \
            return libc_call;                                                                  \
        }                                                                                      \
    } while (0)
/* The same for *at calls: `dirfd` (an lvalue) becomes AT_FDCWD when the path was made
 * absolute from a BenchFS directory or working directory. */
#define PL_PATH_AT(dirfd, path, pp, libc_call)                                                 \
    do {                                                                                       \
        if (!pl_maybe((dirfd), (path)))                                                        \
            return libc_call;                                                                  \
        enum pl_where w_ = pl_map((dirfd), (path), (pp));                                      \
        if (w_ == PL_ERROR)                                                                    \
            return -1;                                                                         \
        if (w_ == PL_LIBC) {                                                                   \
            if ((pp)->real == (pp)->realbuf)                                                   \
                dirfd = AT_FDCWD;                                                              \
            path = (pp)->real;                                                                 \
            return libc_call;                                                                  \
        }                                                                                      \
    } while (0)

/* ---- descriptor table (fdtable.c) ----
 * An open BenchFS file or directory, shared by the descriptors dup'd from one open (as an
 * open file description is): offset, flags and the BenchFS descriptor. */
struct pl_file {
    atomic_int refs;
    int bfd;               /* BenchFS descriptor, -1 for directories and O_PATH */
    int flags;             /* open flags as F_GETFL shows them */
    int is_dir;            /* 1, 0, or -1: not known yet (see pl_is_dir) */
    struct pl_dir *dir;    /* getdents64 state, if used */
    void *stream;          /* the DIR * of fdopendir on this description, if any */
    char path[PATH_MAX];   /* BenchFS path as opened (for *at calls, fchmod, fchdir) */
};
/* The BenchFS file behind a kernel descriptor number, or NULL (the libc fast path). */
static inline struct pl_file *pl_file(int fd)
{
    if (fd < 0 || fd >= PL_MAX_FDS)
        return NULL;
    return atomic_load_explicit(&pl_fds[fd], memory_order_acquire);
}
/* Reserve a kernel descriptor number for f (O_CLOEXEC as asked) and enter it; returns the
 * number, or -1 (errno; f is not consumed). */
int pl_fd_install(struct pl_file *f, int cloexec);
/* Drop one reference (closing the BenchFS descriptor with the last); returns close's result. */
int pl_file_put(struct pl_file *f);
/* Close a descriptor of ours: the table entry, then the reserved number. */
int pl_fd_close(int fd);
/* A new description for path; bfd -1. */
struct pl_file *pl_file_new(const char *bfs_path, int flags);
/* Is f a directory? Asks BenchFS once when open() did not need to know. */
int pl_is_dir(struct pl_file *f);
/* The process's umask, followed through umask() (BenchFS does not apply one). */
mode_t pl_umask(void);
/* Enter f at the kernel number fd (a placeholder inherited through exec). */
void pl_fd_adopt(int fd, struct pl_file *f);
/* How many table entries there are. */
int pl_fd_count(void);
/* Every open BenchFS file is closed (sizes published): at exit. */
void pl_fd_close_all(void);

/* ---- exec (exec.c) ---- */
/* The working directory changed: keep the environment that children inherit in step. */
void pl_exec_cwd_changed(void);

/* ---- directories (dir.c) ---- */
/* A listing in progress (a DIR * of ours, or getdents64's state). */
struct pl_dir;
void pl_dir_free(struct pl_dir *d);

/* ---- stdio (stdio.c) ---- */
void pl_stdio_flush_all(void);

/* ---- conversions (meta.c) ---- */
void pl_to_stat(const benchfs_stat_t *b, struct stat *st);
/* The device number every BenchFS file reports. */
#define PL_DEV 0xbf5u
/* f_type of statfs on BenchFS ("BFS\0"). */
#define PL_FS_MAGIC 0x42465300

#endif /* BENCHFS_PRELOAD_H */
