/* SPDX-License-Identifier: BSD-3-Clause */
/* handlers_inline.c — the RPCs of small files whose data is kept in the metadata record
 * (meta_inline.c): LOOKUP_DATA (the inode with its data: open + read in one round trip),
 * INLINE_WRITE (data, size and mtime in one commit), MOVE_BEGIN / MOVE_END (the one client
 * that moves a growing file's data to chunks). Argument layouts: common/proto.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/path.h"
#include "common/util.h"
#include "server.h"

/* Reply: [u8 flag], inode; data: len bytes of the request's io_buf. */
static void reply(struct srv_req *req, int err, const struct bfs_inode *ino, int with_flag,
                  int flag, size_t len)
{
    uint8_t buf[REPLY_ARGS_MAX];
    struct bfs_wbuf w;
    bfs_wb_init(&w, buf, sizeof buf);
    if (!err) {
        if (with_flag)
            bfs_wb_u8(&w, (uint8_t)flag);
        bfs_inode_put(&w, ino);
    }
    server_reply(req, -err, buf, err ? 0 : w.len, err || !len ? NULL : req->io_buf,
                 err ? 0 : len);
}

/* A buffer for the data of the reply, freed with the request. */
static int data_buf(struct srv_req *req)
{
    req->io_buf = malloc(BFS_INLINE_MAX);
    return req->io_buf ? 0 : -ENOMEM;
}

void op_lookup_data(struct srv_req *req, struct bfs_rbuf *r)
{
    char path[BFS_PATH_MAX];
    int err = handler_get_path(r, path);
    if (!err && !bfs_rb_done(r))
        err = -EPROTO;
    if (!err)
        err = data_buf(req);
    struct bfs_inode ino = {0};
    size_t len = 0;
    char target[BFS_SYMLINK_MAX + 1];
    if (!err)
        err = meta_get_data(req->srv->meta, path, &ino, target, (uint8_t *)req->io_buf, &len);
    if (!err && S_ISLNK(ino.mode)) { /* as LOOKUP: the target, so the client can follow it */
        len = strlen(target);
        memcpy(req->io_buf, target, len);
    }
    reply(req, err, &ino, 0, 0, len);
}

void op_inline_write(struct srv_req *req, struct bfs_rbuf *r)
{
    char path[BFS_PATH_MAX];
    int err = handler_get_path(r, path);
    uint64_t fileid = bfs_rb_u64(r), off = bfs_rb_u64(r);
    int64_t mtime = (int64_t)bfs_rb_u64(r);
    if (!err && !bfs_rb_done(r))
        err = -EPROTO;
    if (!err && mtime < 0)
        err = -EINVAL;
    if (!err && (off > BFS_INLINE_MAX || req->data_len > BFS_INLINE_MAX - off))
        err = -EXDEV; /* too big to keep inline: the client moves the file to chunks */
    struct bfs_inode ino = {0};
    if (!err) {
        req->bytes_in = req->data_len;
        err = meta_inline_write(req->srv->meta, path, fileid, off, req->data, req->data_len,
                                mtime ? mtime : bfs_now_ns(), &ino);
    }
    reply(req, err, &ino, 0, 0, 0);
}

void op_move(struct srv_req *req, struct bfs_rbuf *r, int begin)
{
    struct server *s = req->srv;
    char path[BFS_PATH_MAX];
    int err = handler_get_path(r, path);
    uint64_t fileid = bfs_rb_u64(r), mover = bfs_rb_u64(r);
    if (!err && !bfs_rb_done(r))
        err = -EPROTO;
    if (!err && mover == 0)
        err = -EINVAL; /* 0 is "nobody" in a stored record */
    struct bfs_inode ino = {0};
    size_t len = 0;
    int copy = 0;
    if (!err && begin) {
        err = data_buf(req);
        int64_t now = bfs_now_ns();
        if (!err)
            err = meta_move_begin(s->meta, path, fileid, mover, now,
                                  now - (int64_t)s->cfg.move_lease_ms * 1000000, &ino,
                                  (uint8_t *)req->io_buf, &len, &copy);
    } else if (!err) {
        err = meta_move_end(s->meta, path, fileid, mover, &ino);
    }
    reply(req, err, &ino, begin, copy, len);
}
