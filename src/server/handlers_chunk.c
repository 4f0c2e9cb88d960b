/* SPDX-License-Identifier: BSD-3-Clause */
/* handlers_chunk.c — the chunk RPCs: write, reserve, release, read, prefetch, fsync, truncate,
 * remove and the data directory for direct access. Reads, writes and fsyncs go through
 * io_uring and answer from their completion callbacks; everything else answers at once.
 * Argument layouts: common/proto.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "server.h"

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
        handler_reply_empty(req, res);
        return;
    }
    if (res == 0 && req->io_done_bytes < req->io_len) {
        handler_reply_empty(req, -EIO);
        return;
    }
    uint8_t args[8];
    struct bfs_wbuf w;
    bfs_wb_init(&w, args, sizeof args);
    bfs_wb_u64(&w, req->io_done_bytes);
    server_reply(req, 0, args, w.len, NULL, 0);
}

void op_chunk_write(struct srv_req *req, struct bfs_rbuf *r)
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
        handler_reply_empty(req, err);
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
void op_chunk_reserve(struct srv_req *req, struct bfs_rbuf *r)
{
    struct server *s = req->srv;
    struct chunk_range a;
    int err = get_chunk_range(r, &a);
    struct chunk_file *cf = NULL;
    if (!err && a.len == 0) {
        handler_reply_empty(req, 0);
        return;
    }
    if (!err)
        err = chunk_get(s->chunks, a.fileid, a.index, 1, &cf);
    if (!err) {
        err = chunk_reserve(s->chunks, cf, a.off, a.len);
        chunk_put(s->chunks, cf);
    }
    handler_reply_empty(req, err);
}

/* A write whose reserve failed on another server gives back what this one allocated for it
 * (what is allocated but unwritten in the range: earlier data stays). */
void op_chunk_release(struct srv_req *req, struct bfs_rbuf *r)
{
    struct chunk_range a;
    int err = get_chunk_range(r, &a);
    if (!err && a.len)
        err = chunk_release(req->srv->chunks, a.fileid, a.index, a.off, a.len);
    handler_reply_empty(req, err);
}

static void read_done(struct srv_req *req, int res)
{
    chunk_put(req->srv->chunks, req->cf);
    if (res < 0) {
        LOG_WARN("chunk read: %s", strerror(-res));
        handler_reply_empty(req, res);
        return;
    }
    /* A short read means the chunk ends here: the client fills the rest with zeros. */
    server_reply(req, 0, NULL, 0, req->io_buf, (size_t)res);
}

void op_chunk_read(struct srv_req *req, struct bfs_rbuf *r)
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
        handler_reply_empty(req, err);
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
void op_chunk_prefetch(struct srv_req *req, struct bfs_rbuf *r)
{
    struct server *s = req->srv;
    uint64_t fileid = bfs_rb_u64(r), index = bfs_rb_u64(r);
    uint32_t chunk_size = bfs_rb_u32(r);
    int err = bfs_rb_done(r) ? 0 : -EPROTO;
    if (!err)
        err = check_chunk_args(index, 0, chunk_size, chunk_size);
    if (err) { /* a malformed request is answered, so its sender learns why */
        handler_reply_empty(req, err);
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
void op_chunk_dir(struct srv_req *req, struct bfs_rbuf *r)
{
    struct server *s = req->srv;
    if (!bfs_rb_done(r)) {
        handler_reply_empty(req, -EPROTO);
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
    handler_reply_empty(req, err);
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

void op_fsync(struct srv_req *req, struct bfs_rbuf *r)
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
        handler_reply_empty(req, err);
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

void op_chunk_truncate(struct srv_req *req, struct bfs_rbuf *r)
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
    handler_reply_empty(req, err);
}

void op_chunk_remove(struct srv_req *req, struct bfs_rbuf *r)
{
    uint64_t fileid = bfs_rb_u64(r);
    int err = bfs_rb_done(r) ? 0 : -EPROTO;
    if (!err)
        err = chunk_remove(req->srv->chunks, fileid);
    handler_reply_empty(req, err);
}

