/* SPDX-License-Identifier: BSD-3-Clause */
/* handlers.c — one function per RPC. Each validates its arguments completely (the frame
 * header was checked in loop.c), does the work against the metadata store or the chunk store,
 * and answers with server_reply(). Chunk reads, writes and fsyncs go through io_uring and
 * answer from their completion callbacks. */
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

/* Read a path argument and insist it is already normalised: the client placed the request
 * by hashing exactly this string, so any other spelling would be a different file. */
static int get_path(struct bfs_rbuf *r, char *path)
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

static void reply_empty(struct srv_req *req, int err) { server_reply(req, -err, NULL, 0, NULL, 0); }

static int64_t now(void) { return bfs_now_ns(); }

/* ---- metadata ---- */

static void op_mkdir_create(struct srv_req *req, struct bfs_rbuf *r, int is_create)
{
    struct server *s = req->srv;
    char path[BFS_PATH_MAX];
    int err = get_path(r, path);
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
    int err = get_path(r, path);
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

/* A link's target travels as the reply payload, so following a link costs no second call. */
static void op_lookup(struct srv_req *req, struct bfs_rbuf *r)
{
    char path[BFS_PATH_MAX];
    int err = get_path(r, path);
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
            reply_empty(req, -ENOMEM);
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
    int err = get_path(r, path);
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
    int err = get_path(r, path);
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
    int err = get_path(r, path);
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
    int err = get_path(r, path);
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
    int err = get_path(r, dir);
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
        reply_empty(req, err);
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

/* ---- chunks ---- */

static int check_chunk_args(uint64_t index, uint64_t off, uint64_t len, uint32_t chunk_size)
{
    return bfs_chunk_range_check(index, off, len, chunk_size);
}

static void write_done(struct srv_req *req, int res);

static void submit_write(struct srv_req *req)
{
    struct io_uring_sqe *sqe = server_sqe(req->srv, req);
    if (!sqe) {
        write_done(req, -EBUSY);
        return;
    }
    io_uring_prep_write(sqe, req->cf->fd, (char *)req->data + req->io_done_bytes,
                        (unsigned)(req->io_len - req->io_done_bytes),
                        req->io_off + req->io_done_bytes);
}

/* Write-behind: start writeback of what was just written (without waiting for it), so the
 * fsync a writer ends with (IOR -e, a checkpoint) finds most data on disk already instead of
 * all of it dirty; the kernel alone would wait for its dirty thresholds or 30 s. */
static void start_writeback(struct srv_req *req)
{
    struct server *s = req->srv;
    if (!s->cfg.write_behind)
        return;
    struct io_uring_sqe *sqe = server_sqe(s, NULL); /* no request waits for it */
    if (sqe)
        io_uring_prep_sync_file_range(sqe, req->cf->fd, (unsigned)req->io_len, req->io_off,
                                      SYNC_FILE_RANGE_WRITE);
}

static void write_done(struct srv_req *req, int res)
{
    if (res > 0) {
        req->io_done_bytes += (size_t)res;
        if (req->io_done_bytes < req->io_len) {
            submit_write(req); /* short write: continue where it stopped */
            return;
        }
        start_writeback(req);
    }
    /* Normally the reserve allocated the range already; without fallocate (or for ext4's
     * extent blocks) the write itself may have: count what the file occupies now. */
    chunk_account(req->srv->chunks, req->cf);
    chunk_put(req->srv->chunks, req->cf);
    if (res < 0) {
        if (res != -EBUSY)
            LOG_WARN("chunk write: %s", strerror(-res));
        reply_empty(req, res);
        return;
    }
    if (res == 0 && req->io_done_bytes < req->io_len) {
        reply_empty(req, -EIO);
        return;
    }
    uint8_t args[8];
    struct bfs_wbuf w;
    bfs_wb_init(&w, args, sizeof args);
    bfs_wb_u64(&w, req->io_done_bytes);
    server_reply(req, 0, args, w.len, NULL, 0);
}

static void op_chunk_write(struct srv_req *req, struct bfs_rbuf *r)
{
    struct server *s = req->srv;
    uint64_t fileid = bfs_rb_u64(r), index = bfs_rb_u64(r), off = bfs_rb_u64(r);
    uint32_t chunk_size = bfs_rb_u32(r);
    int err = bfs_rb_done(r) ? 0 : -EPROTO;
    if (!err)
        err = check_chunk_args(index, off, req->data_len, chunk_size);
    if (!err && req->data_len == 0) {
        uint8_t args[8] = {0};
        server_reply(req, 0, args, 8, NULL, 0);
        return;
    }
    if (!err)
        err = chunk_get(s->chunks, fileid, index, 1, &req->cf);
    if (!err) {
        /* Allocate (and count) the range before writing it: ENOSPC leaves nothing written.
         * EOPNOTSUPP: no fallocate here; the capacity was checked, the write allocates. */
        err = chunk_reserve(s->chunks, req->cf, off, req->data_len);
        if (err == -EOPNOTSUPP)
            err = 0;
        if (err)
            chunk_put(s->chunks, req->cf);
    }
    if (err) {
        reply_empty(req, err);
        return;
    }
    req->bytes_in = req->data_len;
    req->io_off = off;
    req->io_len = req->data_len;
    req->io_done = write_done;
    submit_write(req);
}

/* CHUNK_READ and CHUNK_RESERVE name a byte range of one chunk the same way. */
struct chunk_range {
    uint64_t fileid, index, off, len;
    uint32_t chunk_size;
};

static int get_chunk_range(struct bfs_rbuf *r, struct chunk_range *a)
{
    a->fileid = bfs_rb_u64(r);
    a->index = bfs_rb_u64(r);
    a->off = bfs_rb_u64(r);
    a->len = bfs_rb_u64(r);
    a->chunk_size = bfs_rb_u32(r);
    if (!bfs_rb_done(r))
        return -EPROTO;
    return check_chunk_args(a->index, a->off, a->len, a->chunk_size);
}

/* A same-host client writes the range of the chunk file itself (client/local_write.c), and a
 * write over several servers reserves all its pieces before writing any (client/file.c):
 * allocate the range in the chunk file (fallocate) and count it against the
 * capacity, as a CHUNK_WRITE would. The reservation is disk allocation, not bookkeeping: a
 * client that dies before writing leaves allocated zeros, freed (and uncounted) with the
 * file's truncate or removal. At most the rest of one chunk per request (get_chunk_range). */
static void op_chunk_reserve(struct srv_req *req, struct bfs_rbuf *r)
{
    struct server *s = req->srv;
    struct chunk_range a;
    int err = get_chunk_range(r, &a);
    struct chunk_file *cf = NULL;
    if (!err && a.len == 0) {
        reply_empty(req, 0);
        return;
    }
    if (!err)
        err = chunk_get(s->chunks, a.fileid, a.index, 1, &cf);
    if (!err) {
        err = chunk_reserve(s->chunks, cf, a.off, a.len);
        chunk_put(s->chunks, cf);
    }
    reply_empty(req, err);
}

/* A write whose reserve failed on another server gives back what this one allocated for it
 * (what is allocated but unwritten in the range: earlier data stays). */
static void op_chunk_release(struct srv_req *req, struct bfs_rbuf *r)
{
    struct chunk_range a;
    int err = get_chunk_range(r, &a);
    if (!err && a.len)
        err = chunk_release(req->srv->chunks, a.fileid, a.index, a.off, a.len);
    reply_empty(req, err);
}

static void read_done(struct srv_req *req, int res)
{
    chunk_put(req->srv->chunks, req->cf);
    if (res < 0) {
        LOG_WARN("chunk read: %s", strerror(-res));
        reply_empty(req, res);
        return;
    }
    /* A short read means the chunk ends here: the client fills the rest with zeros. */
    server_reply(req, 0, NULL, 0, req->io_buf, (size_t)res);
}

static void op_chunk_read(struct srv_req *req, struct bfs_rbuf *r)
{
    struct server *s = req->srv;
    struct chunk_range a;
    int err = get_chunk_range(r, &a);
    if (!err && a.len == 0) {
        server_reply(req, 0, NULL, 0, NULL, 0);
        return;
    }
    if (!err) {
        err = chunk_get(s->chunks, a.fileid, a.index, 0, &req->cf);
        if (err == -ENOENT) { /* never written: a hole */
            server_reply(req, 0, NULL, 0, NULL, 0);
            return;
        }
    }
    if (!err && !(req->io_buf = buf_pool_get(&s->bufs, a.len, &req->io_buf_cap))) {
        chunk_put(s->chunks, req->cf);
        err = -ENOMEM;
    }
    if (err) {
        reply_empty(req, err);
        return;
    }
    req->io_done = read_done;
    struct io_uring_sqe *sqe = server_sqe(s, req);
    if (!sqe) {
        read_done(req, -EBUSY);
        return;
    }
    io_uring_prep_read(sqe, req->cf->fd, req->io_buf, (unsigned)a.len, a.off);
}

/* A sequential reader is about to reach this chunk: start reading it from the device now
 * (page cache read-ahead, answered at once), so its first read does not wait for the disk. */
static void op_chunk_prefetch(struct srv_req *req, struct bfs_rbuf *r)
{
    struct server *s = req->srv;
    uint64_t fileid = bfs_rb_u64(r), index = bfs_rb_u64(r);
    uint32_t chunk_size = bfs_rb_u32(r);
    int err = bfs_rb_done(r) ? 0 : -EPROTO;
    if (!err)
        err = check_chunk_args(index, 0, chunk_size, chunk_size);
    if (err) { /* a malformed request is answered, so its sender learns why */
        reply_empty(req, err);
        return;
    }
    struct chunk_file *cf = NULL;
    err = chunk_get(s->chunks, fileid, index, 0, &cf);
    if (err) {
        server_done_silently(req, err == -ENOENT ? 0 : -err); /* never written: no read */
        return;
    }
    struct io_uring_sqe *sqe = server_sqe(s, NULL); /* only a hint: no request waits */
    if (sqe)
        io_uring_prep_fadvise(sqe, cf->fd, 0, (off_t)chunk_size, POSIX_FADV_WILLNEED);
    chunk_put(s->chunks, cf);
    server_done_silently(req, 0);
}

/* Where our chunk files are, and the nonce that proves it (client/local_read.c). */
static void op_chunk_dir(struct srv_req *req, struct bfs_rbuf *r)
{
    struct server *s = req->srv;
    if (!bfs_rb_done(r)) {
        reply_empty(req, -EPROTO);
        return;
    }
    server_reply(req, 0, s->instance, sizeof s->instance, s->data_abs, strlen(s->data_abs));
}

/* FSYNC of one file: every chunk file held here, then their directory, then the metadata.
 * The chunk files are synced a batch at a time (chunk_batch_max, through the descriptor
 * cache, never more open than --max-open-chunks allows), each batch released before the next
 * is pinned. A chunk file that cannot be opened (EMFILE, ...) fails the call with that errno:
 * success means every chunk was synced. State between batches: io_buf holds the file id then
 * the chunk indices (uint64_t[1 + io_len]), io_off is the position of the next one to sync
 * (io_len: the directory's turn, past it: done), cfs/ncfs the batch pinned now. */
static void fsync_batch(struct srv_req *req);

static void fsync_done(struct srv_req *req, int res)
{
    if (res < 0 && !req->first_err)
        req->first_err = res;
    if (--req->pending > 0)
        return;
    for (size_t i = 0; i < req->ncfs; i++)
        chunk_put(req->srv->chunks, req->cfs[i]);
    req->ncfs = 0;
    if (req->dirfd >= 0) {
        close(req->dirfd);
        req->dirfd = -1;
    }
    if (!req->first_err && req->io_off <= req->io_len) {
        fsync_batch(req);
        return;
    }
    int err = req->first_err;
    if (err && req->io_buf)
        LOG_WARN("fsync of file %016llx: %s (not every chunk file synced)",
                 (unsigned long long)((const uint64_t *)(void *)req->io_buf)[0], strerror(-err));
    free(req->cfs);
    req->cfs = NULL;
    free(req->io_buf);
    req->io_buf = NULL;
    if (!err)
        err = meta_sync(req->srv->meta);
    reply_empty(req, err);
}

static void fsync_batch(struct srv_req *req)
{
    struct server *s = req->srv;
    const uint64_t *ids = (const uint64_t *)(void *)req->io_buf;
    uint64_t fileid = ids[0];
    const uint64_t *idx = ids + 1;
    size_t n = req->io_len, max = chunk_batch_max(s->chunks);
    req->pending = 1; /* held until the batch is queued */
    if (req->io_off < n) {
        while (req->io_off < n && req->ncfs < max) {
            struct chunk_file *cf;
            int err = chunk_get_bounded(s->chunks, fileid, idx[req->io_off], &cf);
            if (err == -EAGAIN && req->ncfs == 0) /* all pinned by others: one, to go on */
                err = chunk_get(s->chunks, fileid, idx[req->io_off], 0, &cf);
            if (err == -EAGAIN)
                break;
            if (err == -ENOENT) { /* removed since it was listed: nothing left to sync */
                req->io_off++;
                continue;
            }
            if (err) {
                req->first_err = err;
                break;
            }
            req->cfs[req->ncfs++] = cf;
            req->io_off++;
            struct io_uring_sqe *sqe = server_sqe(s, req);
            if (!sqe) {
                req->first_err = -EBUSY;
                break;
            }
            io_uring_prep_fsync(sqe, cf->fd, 0);
            req->pending++;
        }
    } else if (req->io_off == n) {
        req->io_off++;
        int fd = n ? chunk_dir_open(s->chunks, fileid) : -ENOENT;
        if (fd >= 0) {
            req->dirfd = fd;
            struct io_uring_sqe *sqe = server_sqe(s, req);
            if (sqe) {
                io_uring_prep_fsync(sqe, fd, 0);
                req->pending++;
            } else {
                req->first_err = -EBUSY;
            }
        } else if (fd != -ENOENT) {
            req->first_err = fd;
        }
    }
    fsync_done(req, 0);
}

static void op_fsync(struct srv_req *req, struct bfs_rbuf *r)
{
    struct server *s = req->srv;
    uint64_t fileid = bfs_rb_u64(r);
    int err = bfs_rb_done(r) ? 0 : -EPROTO;
    uint64_t *idx = NULL;
    size_t n = 0;
    if (!err && fileid)
        err = chunk_list(s->chunks, fileid, &idx, &n);
    uint64_t *ids = NULL;
    if (!err) {
        ids = malloc((n + 1) * sizeof *ids);
        req->cfs = malloc(chunk_batch_max(s->chunks) * sizeof *req->cfs);
        if (!ids || !req->cfs)
            err = -ENOMEM;
    }
    if (err) {
        free(idx);
        free(ids);
        free(req->cfs);
        req->cfs = NULL;
        reply_empty(req, err);
        return;
    }
    ids[0] = fileid;
    if (n)
        memcpy(ids + 1, idx, n * sizeof *idx);
    free(idx);
    req->io_buf = (char *)(void *)ids; /* freed by fsync_done (or with the request) */
    req->io_buf_cap = 0;
    req->io_len = n;
    req->io_off = 0;
    req->ncfs = 0;
    req->io_done = fsync_done;
    fsync_batch(req);
}

static void op_chunk_truncate(struct srv_req *req, struct bfs_rbuf *r)
{
    uint64_t fileid = bfs_rb_u64(r), size = bfs_rb_u64(r);
    uint32_t chunk_size = bfs_rb_u32(r);
    int err = bfs_rb_done(r) ? 0 : -EPROTO;
    if (!err && !bfs_chunk_size_valid(chunk_size))
        err = -EINVAL;
    if (!err && size > BFS_FILE_SIZE_MAX)
        err = -EFBIG;
    if (!err)
        err = chunk_truncate(req->srv->chunks, fileid, size, chunk_size);
    reply_empty(req, err);
}

static void op_chunk_remove(struct srv_req *req, struct bfs_rbuf *r)
{
    uint64_t fileid = bfs_rb_u64(r);
    int err = bfs_rb_done(r) ? 0 : -EPROTO;
    if (!err)
        err = chunk_remove(req->srv->chunks, fileid);
    reply_empty(req, err);
}

/* ---- cluster ---- */

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
        reply_empty(req, -ENOMEM);
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
        reply_empty(req, -req->recv_status);
        return;
    }
    struct bfs_rbuf r;
    bfs_rb_init(&r, req->args, req->frame.args_len);
    int op = req->frame.opcode;
    /* Only writes carry a payload; anything else with one is malformed. */
    if (req->data_len && op != BFS_OP_CHUNK_WRITE && op != BFS_OP_INLINE_WRITE) {
        req->srv->stats.rejected_frames++;
        reply_empty(req, -EPROTO);
        return;
    }
    if (req->srv->stopping) {
        reply_empty(req, -ESHUTDOWN);
        return;
    }
    /* The argument-less ops validate their (empty) arguments too. */
    if (req->frame.args_len && (op == BFS_OP_PING || op == BFS_OP_STATFS || op == BFS_OP_STATS ||
                                op == BFS_OP_HELLO)) {
        reply_empty(req, -EPROTO);
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
    case BFS_OP_HELLO: reply_empty(req, 0); break; /* nothing to set up: see proto.h */
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
    default: reply_empty(req, -EBADMSG); break;
    }
}
