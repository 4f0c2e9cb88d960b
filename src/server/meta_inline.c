/* SPDX-License-Identifier: BSD-3-Clause */
/* meta_inline.c — small files' data in the metadata store. A file created inline keeps its
 * bytes in the "inline" LMDB database under its inode's key, written in the same transaction
 * as the inode, so data and size always agree, a rename or remove of the record takes the
 * data with it, and a commit survives the server's kill -9 as the inode does (meta_store.h).
 * Record: u64 file id, u64 mover, u64 move start (ns), then the bytes. A missing record, or
 * one of another file id, or bytes short of inode.size, read as zeros. The move to chunks is
 * serialised here: INLINE -> MOVING (by one mover, with its start time, so a mover that died
 * is taken over) -> chunked (flags 0, record dropped). */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "common/wire.h"
#include "meta_store_txn.h"

#define REC_HDR 24

struct rec {
    uint64_t fileid, mover;
    int64_t since;
    const uint8_t *data;
    size_t len;
};

/* The record of t's key for file `fileid`; absent or another file's: empty. */
static int rec_get(struct meta_store *m, struct wtxn *t, uint64_t fileid, struct rec *r)
{
    memset(r, 0, sizeof *r);
    MDB_val v;
    int rc = mdb_get(t->txn, m->idbi, &t->k, &v);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return lmdb_errno(rc);
    if (v.mv_size < REC_HDR)
        return -EIO;
    struct bfs_rbuf b;
    bfs_rb_init(&b, v.mv_data, REC_HDR);
    uint64_t id = bfs_rb_u64(&b);
    if (id != fileid)
        return 0;
    r->fileid = id;
    r->mover = bfs_rb_u64(&b);
    r->since = (int64_t)bfs_rb_u64(&b);
    r->data = (const uint8_t *)v.mv_data + REC_HDR;
    r->len = v.mv_size - REC_HDR;
    return 0;
}

/* Store a record whose bytes are `len` bytes of `data`, or (data NULL) reserved zeros: the
 * caller fills them through *dst before the transaction ends. */
static int rec_put(struct meta_store *m, struct wtxn *t, uint64_t fileid, uint64_t mover,
                   int64_t since, const uint8_t *data, size_t len, uint8_t **dst)
{
    MDB_val v = {.mv_size = REC_HDR + len, .mv_data = NULL};
    int rc = mdb_put(t->txn, m->idbi, &t->k, &v, MDB_RESERVE);
    if (rc)
        return lmdb_errno(rc);
    struct bfs_wbuf w;
    bfs_wb_init(&w, v.mv_data, REC_HDR);
    bfs_wb_u64(&w, fileid);
    bfs_wb_u64(&w, mover);
    bfs_wb_u64(&w, (uint64_t)since);
    uint8_t *p = (uint8_t *)v.mv_data + REC_HDR;
    if (data)
        memmove(p, data, len);
    else
        memset(p, 0, len);
    if (dst)
        *dst = p;
    return 0;
}

/* inode.size bytes of the file: the record's, then zeros. */
static size_t copy_out(const struct bfs_inode *ino, const struct rec *r, uint8_t *data)
{
    size_t n = (size_t)ino->size, have = r->len < n ? r->len : n;
    if (have)
        memcpy(data, r->data, have);
    memset(data + have, 0, n - have);
    return n;
}

int inline_drop(struct meta_store *m, struct wtxn *t)
{
    int rc = mdb_del(t->txn, m->idbi, &t->k, NULL);
    return rc == MDB_NOTFOUND ? 0 : lmdb_errno(rc);
}

int inline_resize(struct meta_store *m, struct wtxn *t, const struct bfs_inode *ino,
                  uint64_t size)
{
    if (ino->flags & BFS_INO_MOVING)
        return -EAGAIN;
    if (size > BFS_INLINE_MAX)
        return -EXDEV;
    struct rec r;
    int err = rec_get(m, t, ino->fileid, &r);
    if (err || r.len <= size)
        return err; /* what lies past the kept bytes reads as zeros already */
    /* Cut: bytes past the new size must not come back if the file grows again. The source
     * is LMDB's page, which the put may free: copy it first. */
    uint8_t keep[BFS_INLINE_MAX];
    memcpy(keep, r.data, (size_t)size);
    return rec_put(m, t, r.fileid, r.mover, r.since, keep, (size_t)size, NULL);
}

int meta_get_data(struct meta_store *m, const char *path, struct bfs_inode *ino, char *target,
                  uint8_t *data, size_t *len)
{
    struct wtxn t;
    int err = wtxn_begin(m, &t, path, 0);
    if (err)
        return err;
    *len = 0;
    err = txn_get(m, &t, ino, target);
    struct rec r;
    if (!err && ino->flags && !(err = rec_get(m, &t, ino->fileid, &r)))
        *len = copy_out(ino, &r, data);
    mdb_txn_abort(t.txn);
    return err;
}

/* A file's inode for an inline operation: it exists, is this file, is a regular file. */
static int get_file(struct meta_store *m, struct wtxn *t, uint64_t fileid,
                    struct bfs_inode *ino)
{
    int err = txn_get(m, t, ino, NULL);
    if (!err && S_ISDIR(ino->mode))
        err = -EISDIR;
    if (!err && !S_ISREG(ino->mode))
        err = -EINVAL; /* a link has no data (clients write what it points at), nor has a
                          special file */
    if (!err && ino->fileid != fileid)
        err = -ESTALE;
    return err;
}

int meta_inline_write(struct meta_store *m, const char *path, uint64_t fileid, uint64_t off,
                      const void *buf, size_t len, int64_t mtime, struct bfs_inode *out)
{
    struct wtxn t;
    int err = wtxn_begin(m, &t, path, 1);
    if (err)
        return err;
    err = get_file(m, &t, fileid, out);
    if (!err && !out->flags)
        err = -EXDEV;
    if (!err && (out->flags & BFS_INO_MOVING))
        err = -EAGAIN;
    if (!err && (off > BFS_INLINE_MAX || len > BFS_INLINE_MAX - off))
        err = -EXDEV;
    struct rec r;
    if (!err)
        err = rec_get(m, &t, fileid, &r);
    if (!err) {
        /* The new record: the old bytes (up to the size; beyond it they were cut), zeros up
         * to off, the written bytes. LMDB may free the old page on put: copy it first. */
        uint64_t end = off + len;
        size_t keep = r.len < out->size ? r.len : (size_t)out->size;
        size_t n = (size_t)(end > keep ? end : keep);
        uint8_t tmp[BFS_INLINE_MAX];
        if (keep)
            memcpy(tmp, r.data, keep);
        memset(tmp + keep, 0, n - keep);
        if (len)
            memcpy(tmp + off, buf, len);
        err = rec_put(m, &t, fileid, 0, 0, tmp, n, NULL);
        if (end > out->size)
            out->size = end;
        if (mtime > out->mtime_ns)
            out->mtime_ns = mtime;
        out->ctime_ns = out->mtime_ns;
    }
    if (!err)
        err = txn_put(m, &t, path, out, NULL);
    return wtxn_end(&t, err);
}

int meta_move_begin(struct meta_store *m, const char *path, uint64_t fileid, uint64_t mover,
                    int64_t now, int64_t stale_before, struct bfs_inode *out, uint8_t *data,
                    size_t *len, int *copy)
{
    struct wtxn t;
    int err = wtxn_begin(m, &t, path, 1);
    if (err)
        return err;
    *copy = 0;
    *len = 0;
    err = get_file(m, &t, fileid, out);
    if (err || !out->flags)
        return wtxn_end(&t, err); /* chunked already: nothing to copy */
    struct rec r;
    err = rec_get(m, &t, fileid, &r);
    if (!err && (out->flags & BFS_INO_MOVING) && r.mover != mover && r.since >= stale_before)
        err = -EAGAIN;
    if (err)
        return wtxn_end(&t, err);
    if (out->size == 0) { /* nothing to copy: chunked at once */
        out->flags = 0;
        err = inline_drop(m, &t);
    } else {
        *len = copy_out(out, &r, data);
        *copy = 1;
        out->flags = BFS_INO_MOVING;
        err = rec_put(m, &t, fileid, mover, now, data, *len, NULL);
    }
    if (!err)
        err = txn_put(m, &t, path, out, NULL);
    return wtxn_end(&t, err);
}

int meta_move_end(struct meta_store *m, const char *path, uint64_t fileid, uint64_t mover,
                  struct bfs_inode *out)
{
    struct wtxn t;
    int err = wtxn_begin(m, &t, path, 1);
    if (err)
        return err;
    err = get_file(m, &t, fileid, out);
    if (err || !out->flags)
        return wtxn_end(&t, err);
    struct rec r;
    err = rec_get(m, &t, fileid, &r);
    if (!err && (!(out->flags & BFS_INO_MOVING) || r.mover != mover))
        err = -EAGAIN; /* taken over (and maybe finished) by another mover */
    if (!err) {
        out->flags = 0;
        err = inline_drop(m, &t);
    }
    if (!err)
        err = txn_put(m, &t, path, out, NULL);
    return wtxn_end(&t, err);
}
