/* SPDX-License-Identifier: BSD-3-Clause */
/* compat.c — the calls of benchfs.h a library may not export yet (symbolic links, lstat,
 * times, readdirplus, per-thread identity), reached through weak references: where the
 * library lacks one, the call fails with ENOSYS (lstat falls back to stat, readdirplus to a
 * listing without attributes) instead of the mount failing to load. */
#include <errno.h>

#include "bfuse.h"

#pragma weak benchfs_symlink
#pragma weak benchfs_readlink
#pragma weak benchfs_lstat
#pragma weak benchfs_utimens
#pragma weak benchfs_readdirplus
#pragma weak benchfs_set_thread_cred

#define HAVE(fn) (&fn != NULL)

int bfuse_lib_symlink(benchfs_t *fs, const char *target, const char *linkpath)
{
    if (HAVE(benchfs_symlink))
        return benchfs_symlink(fs, target, linkpath);
    errno = ENOSYS;
    return -1;
}

ssize_t bfuse_lib_readlink(benchfs_t *fs, const char *path, char *buf, size_t size)
{
    if (HAVE(benchfs_readlink))
        return benchfs_readlink(fs, path, buf, size);
    errno = ENOSYS;
    return -1;
}

int bfuse_lib_lstat(benchfs_t *fs, const char *path, benchfs_stat_t *st)
{
    return HAVE(benchfs_lstat) ? benchfs_lstat(fs, path, st) : benchfs_stat(fs, path, st);
}

int bfuse_lib_utimens(benchfs_t *fs, const char *path, const struct timespec t[2], int flags)
{
    if (HAVE(benchfs_utimens))
        return benchfs_utimens(fs, path, t, flags);
    errno = ENOSYS;
    return -1;
}

int bfuse_lib_has_readdirplus(void) { return HAVE(benchfs_readdirplus); }

const benchfs_dirent_t *bfuse_lib_readdirplus(benchfs_dir_t *dir, benchfs_stat_t *st)
{
    return benchfs_readdirplus(dir, st);
}

int bfuse_lib_set_thread_cred(const benchfs_cred_t *cred)
{
    if (HAVE(benchfs_set_thread_cred))
        return benchfs_set_thread_cred(cred);
    errno = ENOSYS;
    return -1;
}
