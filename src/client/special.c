/* SPDX-License-Identifier: BSD-3-Clause */
/* special.c — special files and the mode-bit rules Linux adds to POSIX permissions. A FIFO,
 * socket or device node is an inode alone (one MKNOD call to its metadata owner, its parent
 * checked as for a create): no data, no chunks, its device number kept in the inode. The
 * rules: a sticky directory lets only the owner of an entry (or of the directory, or root)
 * remove or replace it, and the set-user-ID and set-group-ID bits fall on a change of owner or
 * on a write by someone else than root, so a program cannot keep privileges its content lost. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

BFS_API int benchfs_mknod(benchfs_t *fs, const char *path, mode_t mode, dev_t dev)
{
    char p[BFS_PATH_MAX];
    uint32_t type = (uint32_t)mode & S_IFMT;
    if (!bfs_mode_is_special(type))
        return bfs_fail(EINVAL, "mknod %.200s: mode %#o is not a FIFO, socket or device "
                        "(regular files: benchfs_open, directories: benchfs_mkdir)",
                        path ? path : "(null)", (unsigned)mode);
    uint64_t rdev = type == S_IFCHR || type == S_IFBLK ? (uint64_t)dev : 0;
    if (rdev > BFS_RDEV_MAX)
        return bfs_fail(EINVAL, "mknod %.200s: device number %#llx out of range",
                        path ? path : "(null)", (unsigned long long)dev);
    ENTER(fs);
    if (ns_parent_for_change(fs, path, p, "mknod"))
        LEAVE(fs, -1);
    if (strcmp(p, "/") == 0)
        LEAVE(fs, bfs_fail(EEXIST, "mknod /"));
    if ((type == S_IFCHR || type == S_IFBLK) && fs->uid != 0)
        LEAVE(fs, bfs_fail(EPERM, "mknod %s: only root makes device nodes", p));
    uint8_t args[BFS_PATH_MAX + 32];
    struct bfs_wbuf w;
    bfs_wb_init(&w, args, sizeof args);
    bfs_wb_str(&w, p);
    bfs_wb_u32(&w, type | ((uint32_t)mode & 07777));
    bfs_wb_u32(&w, fs->uid);
    bfs_wb_u32(&w, fs->gid);
    bfs_wb_u64(&w, rdev);
    struct rpc c = {.server = (uint32_t)meta_owner(fs, p), .op = BFS_OP_MKNOD, .args = args,
                    .args_len = w.len};
    int err = w.err ? -EINVAL : rpc_call(fs, &c);
    rpc_release(&c);
    LEAVE(fs, err ? bfs_fail(-err, "mknod %s", p) : 0);
}

int ns_sticky_permits(benchfs_t *fs, const struct bfs_inode *dir, const struct bfs_inode *entry,
                      const char *what, const char *path)
{
    if (!(dir->mode & S_ISVTX) || fs->uid == 0 || fs->uid == entry->uid || fs->uid == dir->uid)
        return 0;
    return bfs_fail(EPERM, "%s %s: the directory is sticky and the caller owns neither it nor "
                    "the entry", what, path);
}

uint32_t ns_setid_cleared(benchfs_t *fs, const struct bfs_inode *ino, int chown)
{
    uint32_t mode = ino->mode & 07777;
    if (S_ISDIR(ino->mode) || (!chown && fs->uid == 0))
        return mode;
    mode &= ~(uint32_t)S_ISUID;
    /* Without group execute, set-group-ID marks mandatory locking, not a privilege. */
    if ((mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP))
        mode &= ~(uint32_t)S_ISGID;
    return mode;
}
