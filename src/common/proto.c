#include "proto.h"

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
    };
    if (op <= 0 || op >= BFS_OP__COUNT)
        return "invalid";
    return names[op];
}

void bfs_inode_put(struct bfs_wbuf *w, const struct bfs_inode *ino)
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

void bfs_inode_get(struct bfs_rbuf *r, struct bfs_inode *ino)
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
