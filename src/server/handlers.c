/* SPDX-License-Identifier: BSD-3-Clause */
/* handlers.c — one function per RPC. Each validates its arguments completely (the frame
 * header was checked in loop.c), does the work against the metadata store, and answers with
 * server_reply(). Here: the namespace and cluster RPCs and the dispatch; the chunk RPCs are in
 * handlers_chunk.c, small files' in handlers_inline.c, FIND in find.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/path.h"
#include "common/util.h"
#include "server.h"

uint64_t server_new_fileid(struct server *s)
{
    /* splitmix64 over a randomly seeded counter: unique per server, and 64 random bits of
     * seed make two servers' sequences collide with negligible probability. */
    uint64_t z;
    do {
        z = (s->rng += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
    } while (z == 0);
    return z;
}

int handler_get_path(struct bfs_rbuf *r, char *path)
{
    bfs_rb_str(r, path, BFS_PATH_MAX);
    if (r->err)
        return -EPROTO;
    char norm[BFS_PATH_MAX];
    int err = bfs_path_normalize(path, norm);
    if (err)
        return err;
    return strcmp(norm, path) == 0 ? 0 : -EINVAL;
}

static int path_is_normal(const char *path)
{
    char norm[BFS_PATH_MAX];
    return bfs_path_normalize(path, norm) == 0 && strcmp(norm, path) == 0;
}

static void reply_inode(struct srv_req *req, int err, const struct bfs_inode *ino, int prefix_flag,
                        int flag)
{
    uint8_t buf[REPLY_ARGS_MAX];
    struct bfs_wbuf w;
    bfs_wb_init(&w, buf, sizeof buf);
    if (prefix_flag)
        bfs_wb_u8(&w, (uint8_t)flag);
    if (!err)
        bfs_inode_put(&w, ino);
    server_reply(req, -err, buf, err ? 0 : w.len, NULL, 0);
}

void handler_reply_empty(struct srv_req *req, int err) { server_reply(req, -err, NULL, 0, NULL, 0); }

static int64_t now(void) { return bfs_now_ns(); }

/* ---- metadata ---- */

static void op_mkdir_create(struct srv_req *req, struct bfs_rbuf *r, int is_create)
{
    struct server *s = req->srv;
    char path[BFS_PATH_MAX];
    int err = handler_get_path(r, path);
    struct bfs_inode ino = {0};
    uint32_t mode = bfs_rb_u32(r);
    ino.uid = bfs_rb_u32(r);
    ino.gid = bfs_rb_u32(r);
    uint32_t flags = 0;
    if (is_create) {
        ino.chunk_size = bfs_rb_u32(r);
        flags = bfs_rb_u32(r);
    }
    if (!err && !bfs_rb_done(r))
        err = -EPROTO;
    if (!err && strcmp(path, "/") == 0)
        err = -EEXIST;
    if (!err)
        err = bfs_create_check(is_create, mode, ino.uid, ino.gid, ino.chunk_size, flags);
    int created = 0;
    struct bfs_inode out = {0};
    if (!err) {
        if (flags & BFS_CREATE_INLINE)
            ino.flags = BFS_INO_INLINE; /* data in this record until it grows (meta_inline.c) */
        ino.fileid = server_new_fileid(s);
        ino.mode = (is_create ? S_IFREG : S_IFDIR) | (mode & 07777);
        ino.nlink = is_create ? 1 : 2;
        ino.atime_ns = ino.mtime_ns = ino.ctime_ns = now();
        err = meta_create(s->meta, path, &ino, NULL, is_create ? (flags & BFS_CREATE_EXCL) : 1,
                          &out, &created);
    }
    if (is_create)
        reply_inode(req, err, &out, 1, created);
    else
        reply_inode(req, err, &out, 0, 0);
}

/* SYMLINK: a new link, owned by uid/gid, mode 0777 as everywhere. */
static void op_symlink(struct srv_req *req, struct bfs_rbuf *r)
{
    struct server *s = req->srv;
    char path[BFS_PATH_MAX], target[BFS_SYMLINK_MAX + 1];
    int err = handler_get_path(r, path);
    struct bfs_inode ino = {0}, out = {0};
    ino.uid = bfs_rb_u32(r);
    ino.gid = bfs_rb_u32(r);
    size_t tlen = bfs_rb_str(r, target, sizeof target);
    if (!err && !bfs_rb_done(r))
        err = -EPROTO;
    if (!err && strcmp(path, "/") == 0)
        err = -EEXIST;
    if (!err)
        err = bfs_symlink_target_check(target, tlen);
    if (!err)
        err = bfs_create_check(0, 0777, ino.uid, ino.gid, 0, 0);
    int created = 0;
    if (!err) {
        ino.fileid = server_new_fileid(s);
        ino.mode = S_IFLNK | 0777;
        ino.nlink = 1;
        ino.size = tlen;
        ino.atime_ns = ino.mtime_ns = ino.ctime_ns = now();
        err = meta_create(s->meta, path, &ino, target, 1, &out, &created);
    }
    reply_inode(req, err, &out, 0, 0);
}

/* MKNOD: a FIFO, socket or device node, owned by uid/gid: an inode alone, no data. */
static void op_mknod(struct srv_req *req, struct bfs_rbuf *r)
{
    struct server *s = req->srv;
    char path[BFS_PATH_MAX];
    int err = handler_get_path(r, path);
    struct bfs_inode ino = {0}, out = {0};
    uint32_t mode = bfs_rb_u32(r);
    ino.uid = bfs_rb_u32(r);
    ino.gid = bfs_rb_u32(r);
    ino.extent = bfs_rb_u64(r); /* the device number (proto.h) */
    if (!err && !bfs_rb_done(r))
        err = -EPROTO;
    if (!err && strcmp(path, "/") == 0)
        err = -EEXIST;
    if (!err && (!bfs_mode_is_special(mode) || ino.extent > BFS_RDEV_MAX))
        err = -EINVAL;
    if (!err)
        err = bfs_create_check(0, mode & 07777, ino.uid, ino.gid, 0, 0);
    int created = 0;
    if (!err) {
        ino.fileid = server_new_fileid(s);
        ino.mode = mode;
        ino.nlink = 1;
        ino.atime_ns = ino.mtime_ns = ino.ctime_ns = now();
        err = meta_create(s->meta, path, &ino, NULL, 1, &out, &created);
    }
    reply_inode(req, err, &out, 0, 0);
}

/* A link's target travels as the reply payload, so following a link costs no second call. */
static void op_lookup(struct srv_req *req, struct bfs_rbuf *r)
{
    char path[BFS_PATH_MAX];
    int err = handler_get_path(r, path);
    if (!err && !bfs_rb_done(r))
        err = -EPROTO;
    struct bfs_inode ino = {0};
    char target[BFS_SYMLINK_MAX + 1];
    if (!err)
        err = meta_get(req->srv->meta, path, &ino, target);
    if (!err && S_ISLNK(ino.mode)) {
        size_t n = strlen(target);
        req->io_buf = malloc(n + 1); /* freed with the request, after the reply is out */
        if (!req->io_buf) {
            handler_reply_empty(req, -ENOMEM);
            return;
        }
        memcpy(req->io_buf, target, n + 1);
        uint8_t buf[BFS_INODE_WIRE_LEN];
        struct bfs_wbuf w;
        bfs_wb_init(&w, buf, sizeof buf);
        bfs_inode_put(&w, &ino);
        server_reply(req, 0, buf, w.len, req->io_buf, n);
        return;
    }
    reply_inode(req, err, &ino, 0, 0);
}

static void op_setattr(struct srv_req *req, struct bfs_rbuf *r)
{
    char path[BFS_PATH_MAX];
    int err = handler_get_path(r, path);
    uint32_t mask = bfs_rb_u32(r), mode = bfs_rb_u32(r), uid = bfs_rb_u32(r), gid = bfs_rb_u32(r);
    int64_t mtime = (int64_t)bfs_rb_u64(r), atime = (int64_t)bfs_rb_u64(r);
    if (!err && !bfs_rb_done(r))
        err = -EPROTO;
    if (!err)
        err = bfs_setattr_check(mask, mode, uid, gid, mtime, atime);
    struct bfs_inode ino;
    if (!err)
        err = meta_setattr(req->srv->meta, path, mask, mode, uid, gid, mtime, atime, now(), &ino);
    reply_inode(req, err, &ino, 0, 0);
}

static void op_size_update(struct srv_req *req, struct bfs_rbuf *r)
{
    char path[BFS_PATH_MAX];
    int err = handler_get_path(r, path);
    uint64_t fileid = bfs_rb_u64(r), size = bfs_rb_u64(r);
    uint32_t how = bfs_rb_u32(r);
    int64_t mtime = (int64_t)bfs_rb_u64(r);
    if (!err && (!bfs_rb_done(r) || (how & ~BFS_SIZE_SYNC) > BFS_SIZE_QUERY))
        err = -EPROTO;
    if (!err)
        err = bfs_size_update_check(size, how, mtime);
    struct bfs_inode ino;
    if (!err)
        err = meta_set_size(req->srv->meta, path, fileid, size, how & ~BFS_SIZE_SYNC,
                            mtime ? mtime : now(), &ino);
    if (!err && (how & BFS_SIZE_SYNC)) /* fsync: this and every earlier commit durable */
        err = meta_sync(req->srv->meta);
    reply_inode(req, err, &ino, 0, 0);
}

static void op_remove(struct srv_req *req, struct bfs_rbuf *r)
{
    char path[BFS_PATH_MAX];
    int err = handler_get_path(r, path);
    uint32_t kind = bfs_rb_u32(r);
    uint64_t fileid = bfs_rb_u64(r);
    if (!err && (!bfs_rb_done(r) || kind > BFS_REMOVE_DIR))
        err = -EPROTO;
    if (!err && strcmp(path, "/") == 0)
        err = -EBUSY;
    struct bfs_inode ino;
    if (!err)
        err = meta_remove(req->srv->meta, path, kind, fileid, &ino);
    reply_inode(req, err, &ino, 0, 0);
}

static void op_meta_put(struct srv_req *req, struct bfs_rbuf *r)
{
    char path[BFS_PATH_MAX];
    int err = handler_get_path(r, path);
    struct bfs_inode ino, old;
    bfs_inode_get(r, &ino);
    uint32_t flags = bfs_rb_u32(r);
    char target[BFS_SYMLINK_MAX + 1] = "";
    size_t tlen = 0;
    int bad_inode = bfs_inode_check(&ino); /* stored as sent: every field must be sane */
    if (S_ISLNK(ino.mode) && !bad_inode) /* a link moves with its target (a rename) */
        tlen = bfs_rb_str(r, target, sizeof target);
    if (!err && !bfs_rb_done(r))
        err = -EPROTO;
    if (!err && strcmp(path, "/") == 0)
        err = -EBUSY;
    if (!err)
        err = bad_inode;
    if (!err && S_ISLNK(ino.mode) && (bfs_symlink_target_check(target, tlen) || tlen != ino.size))
        err = -EINVAL;
    int replaced = 0;
    if (!err)
        err = meta_put(req->srv->meta, path, &ino, target, flags & BFS_PUT_NOREPLACE, &old,
                       &replaced);
    uint8_t buf[REPLY_ARGS_MAX];
    struct bfs_wbuf w;
    bfs_wb_init(&w, buf, sizeof buf);
    bfs_wb_u8(&w, (uint8_t)replaced);
    if (replaced)
        bfs_inode_put(&w, &old);
    server_reply(req, -err, buf, w.len, NULL, 0);
}

/* Listing pages: entries accumulate in a heap buffer sent as the reply payload. */
enum listing_kind { LIST_NAMES, LIST_PLUS, LIST_SUBTREE };
struct listing {
    struct bfs_wbuf w;
    enum listing_kind kind;
};

static int emit_entry(void *arg, const char *path, const char *name, const struct bfs_inode *ino,
                      const char *target)
{
    struct listing *l = arg;
    if (l->kind == LIST_SUBTREE) {
        bfs_wb_str(&l->w, path);
        bfs_inode_put(&l->w, ino);
        if (S_ISLNK(ino->mode))
            bfs_wb_str(&l->w, target);
    } else if (l->kind == LIST_PLUS) {
        bfs_wb_str(&l->w, name);
        bfs_inode_put(&l->w, ino);
    } else {
        bfs_wb_u64(&l->w, ino->fileid);
        bfs_wb_u32(&l->w, ino->mode);
        bfs_wb_str(&l->w, name);
    }
    return l->w.err ? -1 : 0;
}

static void op_listing(struct srv_req *req, struct bfs_rbuf *r, enum listing_kind kind)
{
    int subtree = kind == LIST_SUBTREE;
    char dir[BFS_PATH_MAX], after[BFS_PATH_MAX];
    int err = handler_get_path(r, dir);
    uint32_t max = bfs_rb_u32(r);
    bfs_rb_str(r, after, subtree ? BFS_PATH_MAX : BFS_NAME_MAX + 1);
    if (!err && !bfs_rb_done(r))
        err = -EPROTO;
    if (!err && subtree && after[0] &&
        (!path_is_normal(after) || !bfs_path_is_within(after, dir)))
        err = -EINVAL;
    if (!err && !subtree && strchr(after, '/'))
        err = -EINVAL;
    /* Bound a page so its worst case fits the buffer. */
    uint32_t cap_entries = subtree ? 256 : 4096;
    if (max == 0 || max > cap_entries)
        max = cap_entries;
    size_t cap = subtree ? (size_t)max * (2 + BFS_PATH_MAX + BFS_INODE_WIRE_LEN + 2 +
                                          BFS_SYMLINK_MAX)
                 : kind == LIST_PLUS ? (size_t)max * (2 + BFS_NAME_MAX + BFS_INODE_WIRE_LEN)
                                     : (size_t)max * (8 + 4 + 2 + BFS_NAME_MAX);
    struct listing l = {.kind = kind};
    char *buf = NULL;
    int count = 0, more = 0;
    if (!err) {
        buf = malloc(cap);
        if (!buf)
            err = -ENOMEM;
    }
    if (!err) {
        bfs_wb_init(&l.w, buf, cap);
        count = subtree ? meta_subtree(req->srv->meta, dir, after, max, emit_entry, &l, &more)
                        : meta_readdir(req->srv->meta, dir, after, max, emit_entry, &l, &more);
        if (count < 0)
            err = count;
    }
    if (err) {
        free(buf);
        handler_reply_empty(req, err);
        return;
    }
    req->io_buf = buf; /* freed with the request, after the reply is out */
    uint8_t args[8];
    struct bfs_wbuf w;
    bfs_wb_init(&w, args, sizeof args);
    bfs_wb_u32(&w, (uint32_t)count);
    bfs_wb_u8(&w, (uint8_t)more);
    server_reply(req, 0, args, w.len, buf, l.w.len);
}

/* ---- cluster ---- */

/* SYNCFS: everything stored here durable, as syncfs(2) (mdtest -Y, io500): the metadata store,
 * then the chunk files. One call instead of an fsync per file written; like syncfs(2) it waits
 * for the disk, and this loop with it (as the metadata store's sync of FSYNC does). */
static void op_syncfs(struct srv_req *req, struct bfs_rbuf *r)
{
    int err = bfs_rb_done(r) ? 0 : -EPROTO;
    if (!err)
        err = meta_sync(req->srv->meta);
    if (!err)
        err = chunk_syncfs(req->srv->chunks);
    handler_reply_empty(req, err);
}

static void op_statfs(struct srv_req *req)
{
    uint64_t total, avail;
    chunk_statfs(req->srv->chunks, &total, &avail);
    uint8_t args[24];
    struct bfs_wbuf w;
    bfs_wb_init(&w, args, sizeof args);
    bfs_wb_u64(&w, total);
    bfs_wb_u64(&w, avail);
    bfs_wb_u64(&w, chunk_used(req->srv->chunks));
    server_reply(req, 0, args, w.len, NULL, 0);
}

static void op_stats(struct srv_req *req)
{
    struct server *s = req->srv;
    size_t cap = 16384;
    req->io_buf = malloc(cap);
    if (!req->io_buf) {
        handler_reply_empty(req, -ENOMEM);
        return;
    }
    uint64_t total, avail;
    chunk_statfs(s->chunks, &total, &avail);
    size_t n = stats_format(&s->stats, chunk_used(s->chunks), total, meta_count(s->meta),
                            req->io_buf, cap);
    server_reply(req, 0, NULL, 0, req->io_buf, n);
}

static void op_ping(struct srv_req *req)
{
    uint8_t args[4];
    struct bfs_wbuf w;
    bfs_wb_init(&w, args, sizeof args);
    bfs_wb_u32(&w, req->srv->cfg.id);
    server_reply(req, 0, args, w.len, NULL, 0);
}

void handle_request(struct srv_req *req)
{
    if (req->recv_status) {
        handler_reply_empty(req, -req->recv_status);
        return;
    }
    struct bfs_rbuf r;
    bfs_rb_init(&r, req->args, req->frame.args_len);
    int op = req->frame.opcode;
    /* Only writes carry a payload; anything else with one is malformed. */
    if (req->data_len && op != BFS_OP_CHUNK_WRITE && op != BFS_OP_INLINE_WRITE) {
        req->srv->stats.rejected_frames++;
        handler_reply_empty(req, -EPROTO);
        return;
    }
    if (req->srv->stopping) {
        handler_reply_empty(req, -ESHUTDOWN);
        return;
    }
    /* The argument-less ops validate their (empty) arguments too. */
    if (req->frame.args_len && (op == BFS_OP_PING || op == BFS_OP_STATFS || op == BFS_OP_STATS ||
                                op == BFS_OP_HELLO)) {
        handler_reply_empty(req, -EPROTO);
        return;
    }
    switch (op) {
    case BFS_OP_PING: op_ping(req); break;
    case BFS_OP_STATFS: op_statfs(req); break;
    case BFS_OP_STATS: op_stats(req); break;
    case BFS_OP_MKDIR: op_mkdir_create(req, &r, 0); break;
    case BFS_OP_CREATE: op_mkdir_create(req, &r, 1); break;
    case BFS_OP_LOOKUP: op_lookup(req, &r); break;
    case BFS_OP_SETATTR: op_setattr(req, &r); break;
    case BFS_OP_SIZE_UPDATE: op_size_update(req, &r); break;
    case BFS_OP_REMOVE: op_remove(req, &r); break;
    case BFS_OP_READDIR: op_listing(req, &r, LIST_NAMES); break;
    case BFS_OP_META_PUT: op_meta_put(req, &r); break;
    case BFS_OP_SUBTREE: op_listing(req, &r, LIST_SUBTREE); break;
    case BFS_OP_CHUNK_WRITE: op_chunk_write(req, &r); break;
    case BFS_OP_CHUNK_READ: op_chunk_read(req, &r); break;
    case BFS_OP_CHUNK_TRUNCATE: op_chunk_truncate(req, &r); break;
    case BFS_OP_CHUNK_REMOVE: op_chunk_remove(req, &r); break;
    case BFS_OP_FSYNC: op_fsync(req, &r); break;
    case BFS_OP_HELLO: handler_reply_empty(req, 0); break; /* nothing to set up: see proto.h */
    case BFS_OP_CHUNK_PREFETCH: op_chunk_prefetch(req, &r); break;
    case BFS_OP_CHUNK_DIR: op_chunk_dir(req, &r); break;
    case BFS_OP_CHUNK_RESERVE: op_chunk_reserve(req, &r); break;
    case BFS_OP_CHUNK_RELEASE: op_chunk_release(req, &r); break;
    case BFS_OP_SYMLINK: op_symlink(req, &r); break;
    case BFS_OP_READDIRPLUS: op_listing(req, &r, LIST_PLUS); break;
    case BFS_OP_FIND: op_find(req, &r); break;
    case BFS_OP_LOOKUP_DATA: op_lookup_data(req, &r); break;
    case BFS_OP_INLINE_WRITE: op_inline_write(req, &r); break;
    case BFS_OP_MOVE_BEGIN: op_move(req, &r, 1); break;
    case BFS_OP_MOVE_END: op_move(req, &r, 0); break;
    case BFS_OP_SYNCFS: op_syncfs(req, &r); break;
    case BFS_OP_MKNOD: op_mknod(req, &r); break;
    default: handler_reply_empty(req, -EBADMSG); break;
    }
}
