/* SPDX-License-Identifier: BSD-3-Clause */
/* times.c — utimensat(2) and futimens(3): access and modification times set to a value, to
 * now or left alone, with utimensat's permission rules: explicit times need the owner (or
 * root), "now" for both also write permission. The times travel in one SETATTR. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "internal.h"

/* One timespec as SETATTR takes it: *set 0 (omit) or 1, *ns the time. -EINVAL if invalid. */
static int one_time(const struct timespec *ts, int64_t now, int *set, int *explicit_time,
                    int64_t *ns)
{
    if (!ts || ts->tv_nsec == UTIME_NOW) {
        *set = 1;
        *ns = now;
        return 0;
    }
    if (ts->tv_nsec == UTIME_OMIT) {
        *set = 0;
        return 0;
    }
    if (ts->tv_nsec < 0 || ts->tv_nsec > 999999999)
        return -EINVAL;
    /* Stored as nanoseconds since the epoch, never negative. */
    if (ts->tv_sec < 0 || ts->tv_sec > INT64_MAX / 1000000000 - 1)
        return -EINVAL;
    *set = 1;
    *explicit_time = 1;
    *ns = (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
    return 0;
}

/* Set the times of the entry at (link-free) path p whose inode is ino. */
static int set_times(benchfs_t *fs, const char *p, const struct bfs_inode *ino,
                     const struct timespec times[2], const char *what)
{
    int64_t now = bfs_now_ns(), at = 0, mt = 0;
    int aset, mset, expl = 0;
    if (one_time(times ? &times[0] : NULL, now, &aset, &expl, &at) ||
        one_time(times ? &times[1] : NULL, now, &mset, &expl, &mt))
        return bfs_fail(EINVAL, "%s %s: invalid time", what, p);
    if (!aset && !mset)
        return 0; /* both UTIME_OMIT: nothing to change, nothing to check */
    if (strcmp(p, "/") == 0)
        return bfs_fail(EPERM, "%s /: the root is fixed", what);
    if (fs->uid != 0 && fs->uid != ino->uid) {
        if (expl)
            return bfs_fail(EPERM, "%s %s: only the owner sets explicit times", what, p);
        if (ns_permitted(fs, ino, W_OK))
            return bfs_fail(EACCES, "%s %s: neither the owner nor allowed to write", what, p);
    }
    /* Sizes and mtimes this context's descriptors have not published yet go first: their
     * close must not put an older write's mtime over the one set here. */
    int err = S_ISREG(ino->mode) ? file_flush_fileid(fs, ino->fileid) : 0;
    if (!err)
        err = ns_setattr(fs, p, (aset ? BFS_SETATTR_ATIME : 0) | (mset ? BFS_SETATTR_MTIME : 0),
                         0, 0, 0, mset ? mt : 0, aset ? at : 0);
    return err ? bfs_fail(-err, "%s %s", what, p) : 0;
}

BFS_API int benchfs_utimens(benchfs_t *fs, const char *path, const struct timespec times[2],
                            int flags)
{
    ENTER(fs);
    if (flags & ~BENCHFS_AT_SYMLINK_NOFOLLOW)
        LEAVE(fs, bfs_fail(EINVAL, "utimens: flags %#x", flags));
    struct ns_res *r = malloc(sizeof *r);
    if (!r)
        LEAVE(fs, bfs_fail(ENOMEM, "utimens"));
    int err = ns_resolve(fs, path, !(flags & BENCHFS_AT_SYMLINK_NOFOLLOW), r);
    int rc = err ? ns_fail_path(err, "utimens", path) : set_times(fs, r->path, &r->ino, times,
                                                                    "utimens");
    free(r);
    LEAVE(fs, rc);
}

BFS_API int benchfs_futimens(benchfs_t *fs, int fd, const struct timespec times[2])
{
    ENTER(fs);
    struct bfs_file *f = file_get(fs, fd);
    if (!f)
        LEAVE(fs, -1);
    /* The descriptor's path may have been renamed by another client: find the file id. */
    struct bfs_inode ino;
    int err = ns_lookup_link(fs, f->path, &ino, NULL);
    if (err == -ENOENT || (!err && ino.fileid != f->ino.fileid)) {
        char now_at[BFS_PATH_MAX];
        err = ns_find_fileid(fs, f->ino.fileid, now_at);
        if (!err) {
            strcpy(f->path, now_at);
            err = ns_lookup_link(fs, f->path, &ino, NULL);
        }
    }
    if (err)
        LEAVE(fs, bfs_fail(-err, "futimens %s", f->path));
    LEAVE(fs, set_times(fs, f->path, &ino, times, "futimens"));
}
