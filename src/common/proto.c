/* SPDX-License-Identifier: BSD-3-Clause */
#include "proto.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

const char *bfs_op_name(int op)
{
    static const char *names[BFS_OP__COUNT] = {
        [BFS_OP_PING] = "ping",
        [BFS_OP_STATFS] = "statfs",
        [BFS_OP_STATS] = "stats",
        [BFS_OP_MKDIR] = "mkdir",
        [BFS_OP_CREATE] = "create",
        [BFS_OP_LOOKUP] = "lookup",
        [BFS_OP_SETATTR] = "setattr",
        [BFS_OP_SIZE_UPDATE] = "size_update",
        [BFS_OP_REMOVE] = "remove",
        [BFS_OP_READDIR] = "readdir",
        [BFS_OP_META_PUT] = "meta_put",
        [BFS_OP_SUBTREE] = "subtree",
        [BFS_OP_CHUNK_WRITE] = "chunk_write",
        [BFS_OP_CHUNK_READ] = "chunk_read",
        [BFS_OP_CHUNK_TRUNCATE] = "chunk_truncate",
        [BFS_OP_CHUNK_REMOVE] = "chunk_remove",
        [BFS_OP_FSYNC] = "fsync",
        [BFS_OP_HELLO] = "hello",
        [BFS_OP_CHUNK_PREFETCH] = "chunk_prefetch",
        [BFS_OP_CHUNK_DIR] = "chunk_dir",
        [BFS_OP_CHUNK_RESERVE] = "chunk_reserve",
        [BFS_OP_CHUNK_RELEASE] = "chunk_release",
        [BFS_OP_SYMLINK] = "symlink",
        [BFS_OP_READDIRPLUS] = "readdirplus",
        [BFS_OP_FIND] = "find",
        [BFS_OP_LOOKUP_DATA] = "lookup_data",
        [BFS_OP_INLINE_WRITE] = "inline_write",
        [BFS_OP_MOVE_BEGIN] = "move_begin",
        [BFS_OP_MOVE_END] = "move_end",
        [BFS_OP_SYNCFS] = "syncfs",
        [BFS_OP_MKNOD] = "mknod",
    };
    if (op <= 0 || op >= BFS_OP__COUNT)
        return "invalid";
    return names[op];
}

void bfs_inode_put(struct bfs_wbuf *w, const struct bfs_inode *ino)
{
    bfs_inode_put_base(w, ino);
    bfs_wb_u64(w, ino->extent);
    bfs_wb_u32(w, ino->flags);
}

void bfs_inode_get(struct bfs_rbuf *r, struct bfs_inode *ino)
{
    bfs_inode_get_base(r, ino);
    ino->extent = bfs_rb_u64(r);
    ino->flags = bfs_rb_u32(r);
}

int bfs_mode_is_special(uint32_t mode)
{
    uint32_t t = mode & S_IFMT;
    return t == S_IFIFO || t == S_IFSOCK || t == S_IFCHR || t == S_IFBLK;
}

uint64_t bfs_inode_chunk_span(const struct bfs_inode *ino)
{
    if (bfs_mode_is_special(ino->mode))
        return 0; /* its extent is a device number */
    if (ino->extent == BFS_EXTENT_UNKNOWN || !bfs_chunk_size_valid(ino->chunk_size))
        return UINT64_MAX;
    uint64_t n = ino->extent / ino->chunk_size + (ino->extent % ino->chunk_size != 0);
    return n ? n : 1;
}

void bfs_inode_put_base(struct bfs_wbuf *w, const struct bfs_inode *ino)
{
    bfs_wb_u64(w, ino->fileid);
    bfs_wb_u64(w, ino->size);
    bfs_wb_u32(w, ino->mode);
    bfs_wb_u32(w, ino->uid);
    bfs_wb_u32(w, ino->gid);
    bfs_wb_u32(w, ino->chunk_size);
    bfs_wb_u32(w, ino->nlink);
    bfs_wb_u64(w, (uint64_t)ino->atime_ns);
    bfs_wb_u64(w, (uint64_t)ino->mtime_ns);
    bfs_wb_u64(w, (uint64_t)ino->ctime_ns);
}

void bfs_inode_get_base(struct bfs_rbuf *r, struct bfs_inode *ino)
{
    ino->fileid = bfs_rb_u64(r);
    ino->size = bfs_rb_u64(r);
    ino->mode = bfs_rb_u32(r);
    ino->uid = bfs_rb_u32(r);
    ino->gid = bfs_rb_u32(r);
    ino->chunk_size = bfs_rb_u32(r);
    ino->nlink = bfs_rb_u32(r);
    ino->atime_ns = (int64_t)bfs_rb_u64(r);
    ino->mtime_ns = (int64_t)bfs_rb_u64(r);
    ino->ctime_ns = (int64_t)bfs_rb_u64(r);
}

int bfs_chunk_size_valid(uint64_t chunk_size)
{
    return chunk_size >= BFS_CHUNK_SIZE_MIN && chunk_size <= BFS_CHUNK_SIZE_MAX;
}

int bfs_chunk_range_check(uint64_t index, uint64_t off, uint64_t len, uint64_t chunk_size)
{
    if (!bfs_chunk_size_valid(chunk_size))
        return -EINVAL;
    if (off > chunk_size || len > chunk_size - off)
        return -EINVAL;
    /* The chunk's end must be an offset a file can have: index * chunk_size + chunk_size. */
    if (index > BFS_FILE_SIZE_MAX / chunk_size - 1)
        return -EINVAL;
    return 0;
}

/* uid/gid (uint32_t)-1 means "unchanged" to chown: never an owner. */
static int id_valid(uint32_t id) { return id != UINT32_MAX; }
static int time_valid(int64_t t) { return t >= 0; }

int bfs_inode_check(const struct bfs_inode *ino)
{
    uint32_t type = ino->mode & S_IFMT;
    if (type != S_IFREG && type != S_IFDIR && type != S_IFLNK && !bfs_mode_is_special(type))
        return -EINVAL;
    if (ino->mode & ~(uint32_t)(S_IFMT | 07777))
        return -EINVAL;
    if (bfs_mode_is_special(type)) {
        /* No data at all; the extent holds the device number. */
        if (ino->chunk_size != 0 || ino->size != 0 || ino->extent > BFS_RDEV_MAX)
            return -EINVAL;
    } else if (type == S_IFLNK) {
        /* A link holds no chunks; its size is its target's length. */
        if (ino->chunk_size != 0 || ino->size == 0 || ino->size > BFS_SYMLINK_MAX)
            return -EINVAL;
    } else if (type == S_IFREG ? !bfs_chunk_size_valid(ino->chunk_size)
                               : ino->chunk_size != 0 && !bfs_chunk_size_valid(ino->chunk_size)) {
        return -EINVAL; /* directories are made with 0 */
    }
    if (ino->fileid == 0 || ino->size > BFS_FILE_SIZE_MAX)
        return -EINVAL;
    if (ino->extent > BFS_FILE_SIZE_MAX && ino->extent != BFS_EXTENT_UNKNOWN)
        return -EINVAL;
    if (ino->nlink == 0 || ino->nlink > BFS_NLINK_MAX)
        return -EINVAL;
    if (!id_valid(ino->uid) || !id_valid(ino->gid))
        return -EINVAL;
    if (!time_valid(ino->atime_ns) || !time_valid(ino->mtime_ns) || !time_valid(ino->ctime_ns))
        return -EINVAL;
    if (ino->flags & ~BFS_INO_FLAGS_KNOWN)
        return -EINVAL;
    if (ino->flags && (type != S_IFREG || ino->size > BFS_INLINE_MAX ||
                       (ino->flags & BFS_INO_FLAGS_KNOWN) == BFS_INO_FLAGS_KNOWN))
        return -EINVAL; /* inline data: a file's, small, in one state */
    return 0;
}

int bfs_create_check(int is_create, uint32_t mode, uint32_t uid, uint32_t gid,
                     uint32_t chunk_size, uint32_t flags)
{
    if (mode & ~07777u)
        return -EINVAL;
    if (!id_valid(uid) || !id_valid(gid))
        return -EINVAL;
    if (is_create && (!bfs_chunk_size_valid(chunk_size) ||
                      (flags & ~(BFS_CREATE_EXCL | BFS_CREATE_INLINE))))
        return -EINVAL;
    return 0;
}

int bfs_setattr_check(uint32_t mask, uint32_t mode, uint32_t uid, uint32_t gid, int64_t mtime,
                      int64_t atime)
{
    if (mask & ~(BFS_SETATTR_MODE | BFS_SETATTR_UID | BFS_SETATTR_GID | BFS_SETATTR_MTIME |
                 BFS_SETATTR_ATIME))
        return -EINVAL;
    if ((mask & BFS_SETATTR_ATIME) && !time_valid(atime))
        return -EINVAL;
    if ((mask & BFS_SETATTR_MODE) && (mode & ~07777u))
        return -EINVAL;
    if (((mask & BFS_SETATTR_UID) && !id_valid(uid)) || ((mask & BFS_SETATTR_GID) && !id_valid(gid)))
        return -EINVAL;
    if ((mask & BFS_SETATTR_MTIME) && !time_valid(mtime))
        return -EINVAL;
    return 0;
}

int bfs_size_update_check(uint64_t size, uint32_t how, int64_t mtime)
{
    if ((how & ~BFS_SIZE_SYNC) > BFS_SIZE_QUERY || !time_valid(mtime))
        return -EINVAL;
    if (size > BFS_FILE_SIZE_MAX)
        return -EFBIG;
    return 0;
}

int bfs_symlink_target_check(const char *target, size_t len)
{
    if (len == 0 || memchr(target, '\0', len))
        return -EINVAL;
    return len > BFS_SYMLINK_MAX ? -ENAMETOOLONG : 0;
}
