/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * benchfs.h — the public client API of BenchFS, an ad-hoc distributed file system.
 *
 * The API is POSIX-shaped: every call that can fail returns -1 (or NULL) and sets errno to a
 * POSIX error code (ENOENT, EEXIST, ENOTDIR, EISDIR, ENOTEMPTY, EACCES, EPERM, EBADF, EINVAL,
 * ENOSPC, ENAMETOOLONG, EIO, ETIMEDOUT, EHOSTDOWN, ...). benchfs_strerror() additionally gives
 * the last error of the calling thread in words, with context (which server, which path).
 *
 * Paths are absolute inside BenchFS ("/dir/file"); "//" and "." are normalised, ".." goes up
 * from what the path before it names (after a symbolic link: from its target, as POSIX says);
 * an empty path is ENOENT, as POSIX says.
 * Consistency is close-to-open: when write() returns the data is on its servers; after close()
 * or fsync() returns, size and data are visible to every client; fsync() makes them durable.
 *
 * All functions are thread-safe. Calls on one benchfs_t are serialised internally (one UCX
 * worker per context); use one context per thread if threads must issue I/O in parallel.
 */
#ifndef BENCHFS_H
#define BENCHFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

/* BENCHFS_VERSION_MAJOR, _MINOR, _PATCH and BENCHFS_VERSION_STRING ("M.m.p"), generated
 * from the build's project version; benchfs_version() gives the library's at run time. */
#include "benchfs_version.h"

/* An open connection to one BenchFS cluster. */
typedef struct benchfs benchfs_t;
/* An open directory stream (see benchfs_opendir). */
typedef struct benchfs_dir benchfs_dir_t;

/* Options for benchfs_init_opts(). Zero means "use the default (or the environment)". */
typedef struct benchfs_options {
    const char *registry;     /* registry directory; default: $BENCHFS_REGISTRY */
    int nservers;             /* servers to wait for; default: as the registry announces */
    int wait_ms;              /* how long to wait for the registry; default $BENCHFS_WAIT_MS or 30000 */
    int rpc_timeout_ms;       /* per-RPC timeout; default $BENCHFS_RPC_TIMEOUT_MS or 30000 */
    uint32_t chunk_size;      /* chunk size of files this client creates; default
                                 $BENCHFS_CHUNK_SIZE or BENCHFS_DEFAULT_CHUNK_SIZE */
    size_t eager_threshold;   /* payloads below this go eager, others rendezvous; default
                                 $BENCHFS_EAGER_THRESHOLD or 32 KiB */
    const char *mount_prefix; /* where programs see BenchFS (the preload prefix or the FUSE
                                 mount point): an absolute symlink target under it names a
                                 BenchFS path; default $BENCHFS_MOUNT or none */
} benchfs_options_t;

#define BENCHFS_DEFAULT_CHUNK_SIZE (4u << 20)
#define BENCHFS_MIN_CHUNK_SIZE 4096u
#define BENCHFS_MAX_CHUNK_SIZE (64u << 20)

/* File attributes, as stat(2) but with BenchFS extras. */
typedef struct benchfs_stat {
    uint64_t ino;        /* the file id: stable across rename */
    uint32_t mode;       /* file type and permission bits (S_IFREG/S_IFDIR/S_IFLNK, or a
                            special file's S_IFIFO/S_IFSOCK/S_IFCHR/S_IFBLK | 07777) */
    uint32_t nlink;
    uint32_t uid, gid;
    uint64_t size;       /* bytes */
    uint64_t blocks;     /* 512-byte blocks, estimated from size */
    uint32_t blksize;    /* preferred I/O size: the chunk size */
    uint32_t chunk_size; /* the file's chunk size, fixed at create */
    int64_t atime_ns, mtime_ns, ctime_ns; /* nanoseconds since the epoch */
    uint64_t rdev;       /* a device node's device number (st_rdev); 0 for anything else */
} benchfs_stat_t;

/* Aggregate capacity of the cluster: the sum over all servers. */
typedef struct benchfs_statfs {
    uint64_t total_bytes;
    uint64_t free_bytes;
    uint64_t used_bytes;
    uint32_t nservers;
    uint32_t nservers_up;
} benchfs_statfs_t;

/* One directory entry. */
typedef struct benchfs_dirent {
    uint64_t ino;
    uint32_t mode;       /* the file type (as benchfs_stat_t's) plus permission bits */
    char name[256];
} benchfs_dirent_t;

/* ---- lifecycle ---- */

/* Connect to the cluster whose registry is `registry` (NULL: $BENCHFS_REGISTRY). Waits
 * (bounded) for all servers to be registered. Returns NULL and sets errno on failure. */
benchfs_t *benchfs_init(const char *registry);
/* As benchfs_init with explicit options (opts may be NULL). */
benchfs_t *benchfs_init_opts(const benchfs_options_t *opts);
/* Close every open file (flushing sizes) and disconnect. Returns 0, or -1 if a flush failed. */
int benchfs_term(benchfs_t *fs);

/* "MAJOR.MINOR.PATCH" of the library. */
const char *benchfs_version(void);
/* The calling thread's last error in words (never NULL). */
const char *benchfs_strerror(void);

/* ---- files ---- */

/* open(2): flags O_RDONLY/O_WRONLY/O_RDWR | O_CREAT | O_EXCL | O_TRUNC | O_APPEND |
 * O_NOFOLLOW. Returns a file descriptor (>= 0, local to this context). Creating in a missing
 * directory is ENOENT. */
int benchfs_open(benchfs_t *fs, const char *path, int flags, mode_t mode);
/* creat(2): open(path, O_CREAT|O_WRONLY|O_TRUNC, mode). */
int benchfs_create(benchfs_t *fs, const char *path, mode_t mode);
/* close(2): publishes the size written through this descriptor to the metadata server. */
int benchfs_close(benchfs_t *fs, int fd);

ssize_t benchfs_read(benchfs_t *fs, int fd, void *buf, size_t count);
ssize_t benchfs_write(benchfs_t *fs, int fd, const void *buf, size_t count);
/* pread/pwrite do not move the file offset. Reads past EOF return 0; holes read as zeros. */
ssize_t benchfs_pread(benchfs_t *fs, int fd, void *buf, size_t count, off_t offset);
ssize_t benchfs_pwrite(benchfs_t *fs, int fd, const void *buf, size_t count, off_t offset);
/* lseek(2): SEEK_SET, SEEK_CUR, SEEK_END. */
off_t benchfs_lseek(benchfs_t *fs, int fd, off_t offset, int whence);
/* fsync(2): data and metadata of the file become durable on every server. */
int benchfs_fsync(benchfs_t *fs, int fd);
/* syncfs(2) of the whole cluster: everything written to BenchFS so far (by any client, through
 * closed or published files) becomes durable on every server; sizes of this context's open
 * files are published first. One call per server, whatever the number of files. */
int benchfs_syncfs(benchfs_t *fs);
int benchfs_fstat(benchfs_t *fs, int fd, benchfs_stat_t *st);
int benchfs_ftruncate(benchfs_t *fs, int fd, off_t length);

/* ---- namespace ---- */

int benchfs_stat(benchfs_t *fs, const char *path, benchfs_stat_t *st);
int benchfs_unlink(benchfs_t *fs, const char *path);
int benchfs_mkdir(benchfs_t *fs, const char *path, mode_t mode);
/* rmdir(2): ENOTEMPTY if any server still holds an entry below the directory. */
int benchfs_rmdir(benchfs_t *fs, const char *path);
/* rename(2) of a file or of a whole directory tree (a directory moves entry by entry). */
int benchfs_rename(benchfs_t *fs, const char *oldpath, const char *newpath);
int benchfs_truncate(benchfs_t *fs, const char *path, off_t length);
/* access(2): mode is F_OK or a mask of R_OK, W_OK, X_OK. */
int benchfs_access(benchfs_t *fs, const char *path, int mode);
int benchfs_chmod(benchfs_t *fs, const char *path, mode_t mode);
/* chown(2); (uid_t)-1 / (gid_t)-1 leave a field unchanged. */
int benchfs_chown(benchfs_t *fs, const char *path, uid_t uid, gid_t gid);
/* mknod(2) of a special file: mode is S_IFIFO, S_IFSOCK, S_IFCHR or S_IFBLK | permission bits
 * (anything else: EINVAL); dev, the device number of a S_IFCHR or S_IFBLK node (at most 32
 * bits, as Linux's), is ignored for the others. Only root makes device nodes (EPERM). A
 * special file is metadata alone: stat, lstat, readdir, chmod, chown, utimens, rename and
 * unlink work on it, benchfs_open of it is ENXIO (BenchFS holds no pipe, socket or driver:
 * through a FUSE mount the kernel opens FIFOs and sockets itself), truncate is EINVAL.
 *
 * Mode-bit rules, as Linux's: in a directory with S_ISVTX (sticky) only root, the
 * directory's owner or the entry's owner may unlink, rmdir, rename away or rename over an
 * entry (EPERM). chown/lchown that change the owner or group clear S_ISUID, and S_ISGID when
 * the group may execute, on everything but directories; so does a truncate, or the first
 * write through a descriptor, by someone else than root; chmod by someone else than root who is not in the
 * file's group drops S_ISGID. */
int benchfs_mknod(benchfs_t *fs, const char *path, mode_t mode, dev_t dev);
int benchfs_statfs(benchfs_t *fs, benchfs_statfs_t *st);

/* ---- directories ---- */

/* Snapshot the entries of a directory from every server ("." and ".." are not listed). */
benchfs_dir_t *benchfs_opendir(benchfs_t *fs, const char *path);
/* Next entry, or NULL at the end (errno unchanged) . The entry lives until closedir. */
const benchfs_dirent_t *benchfs_readdir(benchfs_dir_t *dir);
int benchfs_closedir(benchfs_dir_t *dir);
/* Callback form: calls fn for every entry; a non-zero return stops the walk early. */
int benchfs_readdir_cb(benchfs_t *fs, const char *path,
                       int (*fn)(const benchfs_dirent_t *ent, void *arg), void *arg);

/* ---- symbolic links and times ----
 *
 * Every call that takes a path follows symbolic links in all its components, as the kernel
 * does, except where noted: lstat, readlink, symlink, unlink, rename and utimens with
 * BENCHFS_AT_SYMLINK_NOFOLLOW act on the link itself. A relative target resolves against the
 * link's directory; an absolute target is a BenchFS path once the mount prefix (options) is
 * stripped from it. A link whose target leaves BenchFS (absolute, outside the prefix) cannot be
 * followed by the library: EXDEV, and benchfs_readlink tells where it points. More than 40
 * links in one resolution: ELOOP. A path ending in "/" follows a link in its last component
 * whatever the call; open with O_NOFOLLOW (ELOOP) or O_CREAT|O_EXCL (EEXIST) does not follow
 * it, open with O_CREAT through a dangling link creates the target. Hard links are not
 * supported (callers answer EPERM). */

/* symlink(2): create linkpath pointing at target (stored verbatim, 1..4095 bytes). */
int benchfs_symlink(benchfs_t *fs, const char *target, const char *linkpath);
/* readlink(2): the target, not NUL-terminated, truncated to size; its length or -1. */
ssize_t benchfs_readlink(benchfs_t *fs, const char *path, char *buf, size_t size);
/* lstat(2): as benchfs_stat, but a symbolic link in the last component is not followed
 * (st->size is the target's length). */
int benchfs_lstat(benchfs_t *fs, const char *path, benchfs_stat_t *st);
/* lchown(2): as benchfs_chown, but a symbolic link in the last component is changed itself. */
int benchfs_lchown(benchfs_t *fs, const char *path, uid_t uid, gid_t gid);

#define BENCHFS_AT_SYMLINK_NOFOLLOW 0x100
/* utimensat(2): times[0] atime, times[1] mtime; times NULL: both now; tv_nsec UTIME_NOW or
 * UTIME_OMIT as in POSIX. Needs ownership (or write permission when setting both to now;
 * both UTIME_OMIT: nothing is checked or changed). ctime becomes now; "/" is EPERM. */
int benchfs_utimens(benchfs_t *fs, const char *path, const struct timespec times[2], int flags);
/* futimens(3) on an open descriptor. */
int benchfs_futimens(benchfs_t *fs, int fd, const struct timespec times[2]);

/* ---- directories with attributes ---- */

/* As benchfs_readdir, and the entry's attributes into st (lstat's, from the same listing
 * pages: no round trip per entry). */
const benchfs_dirent_t *benchfs_readdirplus(benchfs_dir_t *dir, benchfs_stat_t *st);

/* ---- identity ----
 *
 * Permission checks and the owner of what is created use an identity. By default it is the
 * calling process's effective uid, gid and supplementary groups as they are at each call (a
 * process that changes its euid acts with the new one). A thread may instead act for someone
 * else (a FUSE daemon serving several users): the identity set here holds for every call the
 * calling thread makes, on any context, until it is set again; cred NULL goes back to the
 * default. ngroups is at most BENCHFS_MAX_GROUPS (EINVAL beyond); the groups are copied. */
#define BENCHFS_MAX_GROUPS 64
typedef struct benchfs_cred {
    uid_t uid;
    gid_t gid;
    int ngroups;
    const gid_t *groups;
} benchfs_cred_t;
int benchfs_set_thread_cred(const benchfs_cred_t *cred);

/* ---- cluster ---- */

/* Number of servers in the cluster. */
int benchfs_nservers(benchfs_t *fs);
/* Text counters of one server ("key value" lines) into buf; returns the length or -1. */
ssize_t benchfs_server_stats(benchfs_t *fs, int server, char *buf, size_t size);

/* ---- find ----
 *
 * A parallel find(1) without a directory walk: the namespace is spread over the servers by
 * the hash of each path, so every server scans its own share and returns only the entries
 * at or below `dir` (`dir` itself included) that pass every test of the spec, a page at a
 * time; a find costs one round of RPCs per page, on all servers at once. Each call reads a
 * bounded number of records on the server, so a long find never stalls other clients.
 * Entries are reported in no particular order; "/" itself (never stored) is not reported.
 * As a scan on the servers, it does not check read or search permission on the directories
 * below `dir` (only that `dir` exists). */
#define BENCHFS_FIND_NAME 1u  /* name: glob on the last component (fnmatch(3), no flags;
                                 a leading '.' is matched by wildcards, as GNU find does) */
#define BENCHFS_FIND_NEWER 2u /* modified strictly after newer_ns, as -newer FILE */
#define BENCHFS_FIND_SIZE 4u  /* as -size [+-]N[ckMG]: size in units, rounded up */
#define BENCHFS_FIND_TYPE 8u  /* type in `types` */
#define BENCHFS_FIND_FILE 1u  /* types: regular files */
#define BENCHFS_FIND_DIR 2u   /* directories */
#define BENCHFS_FIND_LINK 4u  /* symbolic links */
typedef struct benchfs_find_spec {
    unsigned flags;      /* which tests apply (all must hold); 0: everything matches */
    const char *name;    /* BENCHFS_FIND_NAME: the pattern (1..1023 bytes) */
    int64_t newer_ns;    /* BENCHFS_FIND_NEWER: mtime in ns since the epoch */
    uint64_t size;       /* BENCHFS_FIND_SIZE: N, in units of size_unit bytes */
    uint64_t size_unit;  /*   > 0: 1 for 'c', 512 for find's default 'b', 1024 for 'k' */
    int size_cmp;        /*   0: exactly N units, > 0: more than N, < 0: fewer than N */
    unsigned types;      /* BENCHFS_FIND_TYPE: mask of BENCHFS_FIND_FILE/DIR/LINK */
    uint32_t page;       /* matches per reply at most; 0: the servers' maximum (4096) */
    uint32_t scan;       /* records a server reads per call at most; 0: its maximum (16384) */
} benchfs_find_spec_t;

/* What a find did, summed over the servers it asked. */
typedef struct benchfs_find_stats {
    uint64_t scanned;  /* records the servers read (their whole share, not only dir's) */
    uint64_t examined; /* entries at or below dir that were tested: find's "total files" */
    uint64_t matched;  /* entries that passed (and were given to fn) */
    uint64_t rpcs;     /* FIND calls made */
} benchfs_find_stats_t;

/* Call fn(path, st, arg) for every match (path absolute in BenchFS, st its lstat-like
 * attributes); a non-zero return stops the find early (and the call returns 0). Only servers
 * server_lo <= s < server_hi are asked (0 and benchfs_nservers(fs): all; lo == hi: none), so
 * the ranks of a parallel job can each take a share: every match lives on exactly one
 * server. stats, if not NULL, is filled (also when the call fails part way). Returns 0, or
 * -1 with errno: ENOENT/ENOTDIR (dir does not exist), EINVAL (a spec that means nothing, a bad
 * server range), or the error of a server that could not be asked (EHOSTDOWN, ETIMEDOUT, ...;
 * the other servers' matches have still been reported). */
int benchfs_find(benchfs_t *fs, const char *dir, const benchfs_find_spec_t *spec,
                 int server_lo, int server_hi,
                 int (*fn)(const char *path, const benchfs_stat_t *st, void *arg), void *arg,
                 benchfs_find_stats_t *stats);

#ifdef __cplusplus
}
#endif
#endif /* BENCHFS_H */
