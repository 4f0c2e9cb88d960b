/* SPDX-License-Identifier: BSD-3-Clause */
/* bfuse.h — what the files of benchfs-fuse share: the mount's settings, the pool of library
 * contexts (one per worker thread), the per-request identity, the open-file table and the
 * FUSE operations, grouped by concept (namespace, files, directories). Only the public
 * include/benchfs.h is used: the mount is a client of libbenchfs like any other program. */
#ifndef BFUSE_H
#define BFUSE_H

#define FUSE_USE_VERSION 312
#include <fuse.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>

#include "benchfs.h"

/* What every request needs: set once in main before the loop starts, read-only afterwards. */
struct bfuse_conf {
    const char *registry;   /* -o registry= or $BENCHFS_REGISTRY */
    const char *mountpoint; /* absolute: the library's mount_prefix */
    int rpc_timeout_ms;     /* -o rpc_timeout= (0: the library's default) */
    unsigned max_contexts;  /* contexts in the pool; more threads share them */
};
extern struct bfuse_conf bfuse_conf;

/* ---- contexts and identity (context.c) ---- */

/* Connect once before mounting, so a wrong registry or a cluster that is not there fails the
 * command with a message instead of a mount whose every call fails. Returns 0 or -errno. */
int bfuse_probe(void);
/* The calling thread's context (created on first use, kept when the thread ends for the next
 * thread), with the identity of the process that made the current request set for the
 * thread. NULL with *err = -errno when no context can be had or the identity not set. */
benchfs_t *bfuse_begin(int *err);
/* Act as root for what the kernel asks on its own behalf (after bfuse_begin), until the next
 * request. 0 or -errno. */
int bfuse_act_as_kernel(void);
/* Terminate every context (at unmount). */
void bfuse_contexts_term(void);
/* A library errno as the mount reports it: the transport's failures (EHOSTDOWN,
 * ECONNREFUSED, ...) are EIO, as for a local disk that stopped answering; ETIMEDOUT stays;
 * ENOSYS is EOPNOTSUPP (to the kernel ENOSYS means the operation does not exist). */
int bfuse_errno(int e);
/* -bfuse_errno(errno): what an operation returns after a failed library call. */
#define BFUSE_FAIL() (-bfuse_errno(errno))

/* benchfs_stat_t -> struct stat. */
void bfuse_fill_stat(const benchfs_stat_t *b, struct stat *st);

/* Set the kernel's read-ahead window of the mount at mountpoint (readahead.c); 0 or -errno
 * (-EACCES: not root). */
int bfuse_set_readahead(const char *mountpoint, unsigned kib);

/* ---- open files (file.c) ---- */

/* Size the mount's own unpublished writes give a file, or -1: a file being written through
 * the mount is not published until its close, and a stat through the mount must not see it
 * shrink meanwhile. */
int64_t bfuse_open_size(uint64_t ino);

/* ---- operations ---- */
/* namespace.c */
int bfuse_getattr(const char *path, struct stat *st, struct fuse_file_info *fi);
int bfuse_mkdir(const char *path, mode_t mode);
int bfuse_mknod(const char *path, mode_t mode, dev_t dev);
int bfuse_unlink(const char *path);
int bfuse_rmdir(const char *path);
int bfuse_symlink(const char *target, const char *linkpath);
int bfuse_readlink(const char *path, char *buf, size_t size);
int bfuse_rename(const char *from, const char *to, unsigned int flags);
int bfuse_link(const char *from, const char *to);
int bfuse_chmod(const char *path, mode_t mode, struct fuse_file_info *fi);
int bfuse_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi);
int bfuse_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi);
int bfuse_access(const char *path, int mask);
int bfuse_statfs(const char *path, struct statvfs *sv);
/* file.c */
int bfuse_create(const char *path, mode_t mode, struct fuse_file_info *fi);
int bfuse_open(const char *path, struct fuse_file_info *fi);
int bfuse_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi);
int bfuse_write(const char *path, const char *buf, size_t size, off_t off,
                struct fuse_file_info *fi);
int bfuse_flush(const char *path, struct fuse_file_info *fi);
int bfuse_fsync(const char *path, int datasync, struct fuse_file_info *fi);
int bfuse_release(const char *path, struct fuse_file_info *fi);
int bfuse_truncate(const char *path, off_t size, struct fuse_file_info *fi);
/* directory.c */
int bfuse_opendir(const char *path, struct fuse_file_info *fi);
int bfuse_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
                  struct fuse_file_info *fi, enum fuse_readdir_flags flags);
int bfuse_releasedir(const char *path, struct fuse_file_info *fi);
int bfuse_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi);

#endif /* BFUSE_H */
