/* SPDX-License-Identifier: BSD-3-Clause */
/* symlink.c — symbolic links: made with one SYMLINK call to the link's metadata owner (its
 * parent checked as for a create), read back from the LOOKUP that finds them. How paths
 * through links resolve is resolve.c's. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

BFS_API int benchfs_symlink(benchfs_t *fs, const char *target, const char *linkpath)
{
    char p[BFS_PATH_MAX];
    if (!target)
        return bfs_fail(EINVAL, "symlink: target is NULL");
    size_t tlen = strnlen(target, BFS_SYMLINK_MAX + 1);
    if (tlen == 0)
        return bfs_fail(ENOENT, "symlink: empty target");
    if (tlen > BFS_SYMLINK_MAX)
        return bfs_fail(ENAMETOOLONG, "symlink: target over %u bytes", BFS_SYMLINK_MAX);
    ENTER(fs);
    if (ns_parent_for_change(fs, linkpath, p, "symlink"))
        LEAVE(fs, -1);
    if (strcmp(p, "/") == 0)
        LEAVE(fs, bfs_fail(EEXIST, "symlink /"));
    uint8_t args[BFS_PATH_MAX + BFS_SYMLINK_MAX + 32];
    struct bfs_wbuf w;
    bfs_wb_init(&w, args, sizeof args);
    bfs_wb_str(&w, p);
    bfs_wb_u32(&w, fs->uid);
    bfs_wb_u32(&w, fs->gid);
    bfs_wb_str(&w, target);
    struct rpc c = {.server = (uint32_t)meta_owner(fs, p), .op = BFS_OP_SYMLINK, .args = args,
                    .args_len = w.len};
    int err = rpc_call(fs, &c);
    rpc_release(&c);
    LEAVE(fs, err ? bfs_fail(-err, "symlink %s -> %.200s", p, target) : 0);
}

BFS_API ssize_t benchfs_readlink(benchfs_t *fs, const char *path, char *buf, size_t size)
{
    if (!buf || size == 0)
        return bfs_fail(EINVAL, "readlink: no buffer");
    ENTER(fs);
    struct ns_res *r = malloc(sizeof *r);
    if (!r)
        LEAVE(fs, bfs_fail(ENOMEM, "readlink"));
    int err = ns_resolve(fs, path, 0, r);
    ssize_t n = -1;
    if (err) {
        ns_fail_path(err, "readlink", path);
    } else if (!S_ISLNK(r->ino.mode)) {
        bfs_fail(EINVAL, "readlink %s: not a symbolic link", r->path);
    } else {
        size_t len = strlen(r->target);
        n = (ssize_t)(len < size ? len : size);
        memcpy(buf, r->target, (size_t)n);
    }
    free(r);
    UNLOCK(fs);
    return n;
}

BFS_API int benchfs_lstat(benchfs_t *fs, const char *path, benchfs_stat_t *st)
{
    return ns_stat_path(fs, path, 0, st);
}
