/* SPDX-License-Identifier: BSD-3-Clause */
/* small_file.c — files whose data is kept in their metadata record on their metadata server
 * (server/meta_inline.c), until they grow past the client's threshold ($BENCHFS_INLINE_MAX).
 * A small file then costs no chunk file anywhere: create + write + close is CREATE plus one
 * INLINE_WRITE, open + read + close one LOOKUP_DATA, unlink one REMOVE. Writes go to the
 * server at once (as chunk writes do), so size and data are published together and close
 * sends nothing. A descriptor keeps the data it read (its view) and serves reads from it
 * while they stay inside it; a read past it asks again, as a chunked file's read asks for the
 * size. A write that would pass the threshold moves the file to chunks first (small_move:
 * MOVE_BEGIN, the bytes written to chunk 0 and fsync'd, MOVE_END); the metadata server lets
 * one mover at a time do it, and everyone who finds the file MOVING or chunked goes through
 * small_move too, which waits for (or takes over) the move and then leaves them the chunks. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "internal.h"

struct small_view {
    uint64_t fileid;
    int valid;    /* data is the file as last seen here; else ask before reading */
    size_t len;   /* bytes in data: the file's size when seen */
    uint8_t data[BFS_INLINE_MAX];
};

/* How long a writer waits for another client's move before giving up (the server hands a
 * stalled move over after its --move-lease-ms). */
#define MOVE_WAIT_MS 120000

static struct small_view *view_new(uint64_t fileid)
{
    struct small_view *v = malloc(sizeof *v);
    if (v) {
        v->fileid = fileid;
        v->valid = 0;
        v->len = 0;
    }
    return v;
}

/* Decode [u8 flag], inode and the inline bytes of a reply; the bytes go to v (if any). A
 * link's target (LOOKUP_DATA) is checked as LOOKUP's and goes to target (if any). */
static int decode_reply(const struct rpc *c, int with_flag, int *flag, struct bfs_inode *ino,
                        struct small_view *v, char *target)
{
    struct bfs_rbuf r;
    bfs_rb_init(&r, c->rargs, c->rargs_len);
    if (with_flag)
        *flag = bfs_rb_u8(&r);
    bfs_inode_get(&r, ino);
    if (!bfs_rb_done(&r))
        return -EPROTO;
    if (bfs_inode_check(ino))
        return -EIO;
    if (S_ISLNK(ino->mode))
        return with_flag ? -EPROTO : ns_lookup_decode(c, ino, target);
    size_t want = ino->flags ? (size_t)ino->size : 0;
    if (v && (with_flag ? *flag != 0 : 1) && c->rdata_len != want)
        return -EPROTO;
    if (v && want) {
        memcpy(v->data, c->rdata, want);
        v->len = want;
    }
    return 0;
}

/* LOOKUP_DATA of path: the inode, the data into v when the file is inline, a link's target
 * into target (if any). */
static int lookup_data(benchfs_t *fs, const char *path, struct bfs_inode *ino, char *target,
                       struct small_view *v)
{
    uint8_t args[BFS_PATH_MAX + 8];
    struct bfs_wbuf w;
    bfs_wb_init(&w, args, sizeof args);
    bfs_wb_str(&w, path);
    struct rpc c = {.server = (uint32_t)meta_owner(fs, path), .op = BFS_OP_LOOKUP_DATA,
                    .args = args, .args_len = w.len};
    if (w.err)
        return -ENAMETOOLONG;
    int err = rpc_call(fs, &c);
    if (!err)
        err = decode_reply(&c, 0, NULL, ino, v, target);
    if (!err && v) {
        v->fileid = ino->fileid;
        v->len = ino->flags ? (size_t)ino->size : 0;
        v->valid = ino->flags != 0;
    }
    rpc_release(&c);
    return err;
}

int small_lookup(benchfs_t *fs, const char *path, struct bfs_inode *ino, char *target)
{
    if (strcmp(path, "/") == 0)
        return ns_lookup_link(fs, path, ino, target);
    if (!fs->small_stash && !(fs->small_stash = view_new(0)))
        return -ENOMEM;
    fs->small_stash->valid = 0;
    /* ENOENT: ns_resolve_open looks at the prefixes, as after LOOKUP */
    return lookup_data(fs, path, ino, target, fs->small_stash);
}

void small_open(benchfs_t *fs, struct bfs_file *f)
{
    struct small_view *st = fs->small_stash;
    /* The stash is this open's only when its lookup ran (no O_CREAT) and nothing changed the
     * file since (O_TRUNC). */
    int have = st && st->valid && st->fileid == f->ino.fileid && st->len == f->ino.size &&
               !(f->flags & (O_CREAT | O_TRUNC));
    if (st)
        st->valid = 0;
    if (!f->ino.flags)
        return;
    f->small = view_new(f->ino.fileid);
    if (!f->small)
        return; /* reads ask the server each time */
    if (have) {
        memcpy(f->small->data, st->data, st->len);
        f->small->len = st->len;
        f->small->valid = 1;
    } else if (f->ino.size == 0) {
        f->small->valid = 1; /* created (or truncated) here: empty */
    }
}

void small_close(struct bfs_file *f)
{
    free(f->small);
    f->small = NULL;
}

void small_stale(struct bfs_file *f)
{
    if (f->small)
        f->small->valid = 0;
}

/* The file is in chunks now: f continues as a chunked descriptor. */
static void to_chunks(struct bfs_file *f, const struct bfs_inode *ino)
{
    uint64_t size = f->ino.size;
    f->ino = *ino;
    if (size > f->ino.size && f->dirty)
        f->ino.size = size;
    small_close(f);
}

/* Other descriptors of this context saw the file before this change: they ask again. */
static void others_stale(benchfs_t *fs, const struct bfs_file *f, uint64_t fileid)
{
    for (int i = 0; i < fs->nfiles; i++) {
        struct bfs_file *g = fs->files[i];
        if (g && g != f && g->small && g->ino.fileid == fileid)
            g->small->valid = 0;
    }
}

ssize_t small_pread(benchfs_t *fs, struct bfs_file *f, void *buf, size_t len, uint64_t off)
{
    struct small_view *v = f->small;
    if (!v && !(v = f->small = view_new(f->ino.fileid)))
        return bfs_fail(ENOMEM, "read %s", f->path);
    if (!v->valid || off >= v->len || len > v->len - off) {
        /* Not seen yet, or a read past what was: another client may have written since. */
        struct small_view *nv = view_new(f->ino.fileid);
        if (!nv)
            return bfs_fail(ENOMEM, "read %s", f->path);
        struct bfs_inode ino;
        int err = lookup_data(fs, f->path, &ino, NULL, nv);
        if (err == -ENOENT || (!err && ino.fileid != f->ino.fileid)) {
            /* Unlinked or replaced while open: what this descriptor saw is all there is. */
            free(nv);
            if (!v->valid)
                v->len = 0;
            v->valid = 1;
        } else if (err) {
            free(nv);
            return bfs_fail(-err, "read %s", f->path);
        } else if (!ino.flags) {
            free(nv);
            to_chunks(f, &ino);
            return SMALL_CHUNKS;
        } else {
            free(v);
            f->small = v = nv;
            f->ino.size = ino.size;
        }
    }
    if (off >= v->len)
        return 0;
    size_t n = len < v->len - off ? len : (size_t)(v->len - off);
    memcpy(buf, v->data + off, n);
    return (ssize_t)n;
}

static int inline_write(benchfs_t *fs, struct bfs_file *f, const void *buf, size_t len,
                        uint64_t off, struct bfs_inode *ino)
{
    uint8_t args[BFS_PATH_MAX + 32];
    struct bfs_wbuf w;
    bfs_wb_init(&w, args, sizeof args);
    bfs_wb_str(&w, f->path);
    bfs_wb_u64(&w, f->ino.fileid);
    bfs_wb_u64(&w, off);
    bfs_wb_u64(&w, 0); /* mtime: the server's clock */
    struct rpc c = {.server = (uint32_t)meta_owner(fs, f->path), .op = BFS_OP_INLINE_WRITE,
                    .args = args, .args_len = w.len, .data = buf, .data_len = len};
    int err = rpc_call(fs, &c);
    if (!err)
        err = decode_reply(&c, 0, NULL, ino, NULL, NULL);
    rpc_release(&c);
    return err;
}

/* Where the file of f is now, after ENOENT/ESTALE at its path (renamed by another client):
 * 0 and f->path updated, or -ENOENT (unlinked). */
static int find_again(benchfs_t *fs, char *path, uint64_t fileid)
{
    char now_at[BFS_PATH_MAX];
    int err = ns_find_fileid(fs, fileid, now_at);
    if (!err) {
        if (strcmp(now_at, path) == 0)
            return -ENOENT; /* no progress: do not loop */
        strcpy(path, now_at);
    }
    return err;
}

ssize_t small_pwrite(benchfs_t *fs, struct bfs_file *f, const void *buf, size_t len,
                     uint64_t off)
{
    int err = -EXDEV;
    if (off <= fs->inline_max && len <= fs->inline_max - off) {
        struct bfs_inode ino;
        err = inline_write(fs, f, buf, len, off, &ino);
        if ((err == -ENOENT || err == -ESTALE) && find_again(fs, f->path, f->ino.fileid) == 0)
            err = inline_write(fs, f, buf, len, off, &ino);
        struct small_view *v = f->small;
        if (err == -ENOENT || err == -ESTALE) {
            /* Unlinked while open: nobody else can see it; this descriptor still does. */
            if (v && v->valid) {
                if (off > v->len)
                    memset(v->data + v->len, 0, (size_t)off - v->len);
                memcpy(v->data + off, buf, len);
                if (off + len > v->len)
                    v->len = (size_t)(off + len);
                f->ino.size = v->len;
            }
            return (ssize_t)len;
        }
        if (!err) {
            others_stale(fs, f, f->ino.fileid);
            /* Keep the view if it was the whole file and still is with these bytes. */
            if (v && v->valid && off <= v->len && ino.size == (off + len > v->len ? off + len
                                                                                : v->len)) {
                memcpy(v->data + off, buf, len);
                v->len = (size_t)ino.size;
            } else if (v) {
                v->valid = 0;
            }
            f->ino = ino;
            return (ssize_t)len;
        }
        if (err != -EXDEV && err != -EAGAIN)
            return bfs_fail(-err, "write %s", f->path);
    }
    /* Too big for inline data, being moved, or moved: to chunks, then the chunk path. */
    struct bfs_inode ino = f->ino;
    err = small_move(fs, f->path, &ino);
    if (err)
        return bfs_fail(-err, "write %s: moving the data to chunks", f->path);
    to_chunks(f, &ino);
    return SMALL_CHUNKS;
}

int small_fsync(benchfs_t *fs, struct bfs_file *f)
{
    /* Inline data is in the metadata server's store, and a move fsyncs chunk 0 before it
     * ends: that store's sync is all this file needs, whatever happened since. */
    uint8_t args[8];
    struct bfs_wbuf w;
    bfs_wb_init(&w, args, sizeof args);
    bfs_wb_u64(&w, 0);
    struct rpc c = {.server = (uint32_t)meta_owner(fs, f->path), .op = BFS_OP_FSYNC,
                    .args = args, .args_len = w.len};
    return rpc_call(fs, &c);
}

static void back_off(int *ms)
{
    struct timespec ts = {.tv_sec = *ms / 1000, .tv_nsec = (long)(*ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
    if (*ms < 64)
        *ms *= 2;
}

int small_set_size(benchfs_t *fs, const char *path, struct bfs_inode *ino, uint64_t length)
{
    const char *p = path;
    int err;
    if (ino->flags && length > fs->inline_max && (err = small_move(fs, p, ino)) != 0)
        return err;
    for (int tries = 0;; tries++) {
        err = ns_set_size(fs, p, ino->fileid, length, BFS_SIZE_SET, bfs_now_ns(), ino);
        if ((err != -EXDEV && err != -EAGAIN) || tries >= 2)
            break;
        /* Inline on the server but too long for it, or being moved: chunks first. */
        if ((err = small_move(fs, p, ino)) != 0)
            break;
    }
    return err;
}

/* MOVE_BEGIN / MOVE_END; *copy and v only for BEGIN. */
static int move_rpc(benchfs_t *fs, const char *path, uint64_t fileid, uint64_t mover, int begin,
                    struct bfs_inode *ino, int *copy, struct small_view *v)
{
    uint8_t args[BFS_PATH_MAX + 24];
    struct bfs_wbuf w;
    bfs_wb_init(&w, args, sizeof args);
    bfs_wb_str(&w, path);
    bfs_wb_u64(&w, fileid);
    bfs_wb_u64(&w, mover);
    struct rpc c = {.server = (uint32_t)meta_owner(fs, path),
                    .op = begin ? BFS_OP_MOVE_BEGIN : BFS_OP_MOVE_END, .args = args,
                    .args_len = w.len};
    int err = rpc_call(fs, &c);
    if (!err && begin) {
        v->len = 0;
        err = decode_reply(&c, 1, copy, ino, v, NULL);
        /* MOVING with its bytes: the reply's inode says MOVING, and the bytes are its size */
    } else if (!err) {
        err = decode_reply(&c, 0, NULL, ino, NULL, NULL);
    }
    rpc_release(&c);
    return err;
}

/* Copy the bytes to chunk 0 and make them durable there before the move ends: data an
 * fsync made durable inline stays so. */
static int copy_to_chunks(benchfs_t *fs, const char *path, const struct bfs_inode *ino,
                          const struct small_view *v)
{
    struct bfs_file tmp;
    memset(&tmp, 0, sizeof tmp);
    strcpy(tmp.path, path);
    tmp.ino = *ino;
    tmp.ino.flags = 0;
    tmp.flags = O_WRONLY;
    local_read_init(&tmp);
    ssize_t n = file_pwrite_chunks(fs, &tmp, v->data, v->len, 0);
    int err = n < 0 ? -errno : 0;
    local_read_close(fs, &tmp);
    if (err)
        return err;
    /* The servers of the chunks written: chunk 0's alone unless the copy spans more chunks
     * (a chunk size below the threshold), whose write raised tmp's extent to cover them. */
    return ns_chunks_op(fs, BFS_OP_FSYNC, &tmp.ino, 0);
}

int small_move(benchfs_t *fs, const char *at, struct bfs_inode *ino)
{
    char path[BFS_PATH_MAX]; /* where the file is: another client may rename it meanwhile */
    strcpy(path, at);
    uint64_t mover = 0;
    while (mover == 0)
        if (getrandom(&mover, sizeof mover, 0) != sizeof mover)
            mover = (uint64_t)bfs_now_ns() ^ ((uint64_t)getpid() << 32);
    struct small_view *v = view_new(ino->fileid);
    if (!v)
        return -ENOMEM;
    int64_t deadline = bfs_mono_ns() + (int64_t)MOVE_WAIT_MS * 1000000;
    int err, sleep_ms = 1, renames = 0;
    for (int round = 0;; round++) {
        int copy = 0;
        struct bfs_inode now;
        err = move_rpc(fs, path, ino->fileid, mover, 1, &now, &copy, v);
        if ((err == -ENOENT || err == -ESTALE) && renames++ < 4 &&
            find_again(fs, path, ino->fileid) == 0)
            continue; /* renamed by another client meanwhile */
        if (!err && !copy) {
            *ino = now; /* chunked (already, or at once: it was empty) */
            break;
        }
        if (!err) {
            err = copy_to_chunks(fs, path, &now, v);
            if (!err)
                err = move_rpc(fs, path, ino->fileid, mover, 0, &now, NULL, NULL);
            if (!err) {
                *ino = now;
                break;
            }
        }
        if (err != -EAGAIN)
            break;
        /* Another client is moving it (or took our stalled move over): wait, then look. */
        if (bfs_mono_ns() > deadline || round > 100000) {
            err = -ETIMEDOUT;
            break;
        }
        back_off(&sleep_ms);
    }
    free(v);
    return err;
}
