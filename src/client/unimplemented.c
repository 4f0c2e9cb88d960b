/* SPDX-License-Identifier: BSD-3-Clause */
/* unimplemented.c — the calls benchfs.h declares for the preload library and the FUSE mount
 * (issue 9) before they are built: ENOSYS each. Removed as each is implemented. */
#include <errno.h>

#include "internal.h"

int benchfs_symlink(benchfs_t *fs, const char *target, const char *linkpath)
{
    (void)fs, (void)target, (void)linkpath;
    errno = ENOSYS;
    return -1;
}

ssize_t benchfs_readlink(benchfs_t *fs, const char *path, char *buf, size_t size)
{
    (void)fs, (void)path, (void)buf, (void)size;
    errno = ENOSYS;
    return -1;
}

int benchfs_lstat(benchfs_t *fs, const char *path, benchfs_stat_t *st)
{
    return benchfs_stat(fs, path, st);
}

int benchfs_utimens(benchfs_t *fs, const char *path, const struct timespec times[2], int flags)
{
    (void)fs, (void)path, (void)times, (void)flags;
    errno = ENOSYS;
    return -1;
}

int benchfs_futimens(benchfs_t *fs, int fd, const struct timespec times[2])
{
    (void)fs, (void)fd, (void)times;
    errno = ENOSYS;
    return -1;
}

const benchfs_dirent_t *benchfs_readdirplus(benchfs_dir_t *dir, benchfs_stat_t *st)
{
    (void)st;
    errno = ENOSYS;
    return benchfs_readdir(dir) ? NULL : NULL;
}

int benchfs_set_thread_cred(const benchfs_cred_t *cred)
{
    (void)cred;
    errno = ENOSYS;
    return -1;
}
