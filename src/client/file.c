/* SPDX-License-Identifier: BSD-3-Clause */
/* file.c — open files and their I/O. A read or write is cut at chunk boundaries and every
 * piece goes to the server owning ring(hash(file id, chunk index)); the pieces run
 * concurrently. Writes make the data visible on the servers before they return; the file
 * size is published to the metadata owner on close and fsync (close-to-open consistency). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "internal.h"

static int fd_alloc(benchfs_t *fs, struct bfs_file *f)
{
    for (int i = 0; i < fs->nfiles; i++) {
        if (!fs->files[i]) {
            fs->files[i] = f;
            return i;
        }
    }
    int n = fs->nfiles ? 2 * fs->nfiles : 16;
    struct bfs_file **g = realloc(fs->files, (size_t)n * sizeof *g);
    if (!g)
        return -1;
    memset(g + fs->nfiles, 0, (size_t)(n - fs->nfiles) * sizeof *g);
    fs->files = g;
    int fd = fs->nfiles;
    fs->nfiles = n;
    fs->files[fd] = f;
    return fd;
}

static struct bfs_file *fd_get(benchfs_t *fs, int fd)
{
    if (fd < 0 || fd >= fs->nfiles || !fs->files[fd]) {
        bfs_fail(EBADF, "file descriptor %d is not open", fd);
        return NULL;
    }
    return fs->files[fd];
}

struct bfs_file *file_get(benchfs_t *fs, int fd) { return fd_get(fs, fd); }

static int readable(const struct bfs_file *f) { return (f->flags & O_ACCMODE) != O_WRONLY; }
static int writable(const struct bfs_file *f) { return (f->flags & O_ACCMODE) != O_RDONLY; }

/* Resolve (and with O_CREAT create) the file to open; checks permissions. out: its path. */
static int open_inode(benchfs_t *fs, const char *in, int flags, mode_t mode,
                      struct bfs_inode *ino, char *out)
{
    int acc = flags & O_ACCMODE;
    int created = 0, err;
    if (flags & O_CREAT) {
        if (file_open_create(fs, in, flags, mode, ino, &created, out))
            return -1;
    } else {
        struct ns_res *r = malloc(sizeof *r);
        if (!r)
            return bfs_fail(ENOMEM, "open");
        /* with an inline file's data: small_open takes it */
        err = ns_resolve_open(fs, in, !(flags & O_NOFOLLOW), r);
        if (!err) {
            strcpy(out, r->path);
            *ino = r->ino;
        }
        free(r);
        if (err)
            return ns_fail_path(err, "open", in);
        if (S_ISLNK(ino->mode))
            return bfs_fail(ELOOP, "open %s: a symbolic link (O_NOFOLLOW)", out);
    }
    const char *p = out;
    if (S_ISDIR(ino->mode) && acc != O_RDONLY)
        return bfs_fail(EISDIR, "open %s for writing", p);
    if (bfs_mode_is_special(ino->mode)) {
        int want = (acc == O_RDONLY ? R_OK : acc == O_WRONLY ? W_OK : R_OK | W_OK);
        if (ns_permitted(fs, ino, want))
            return bfs_fail(EACCES, "open %s", p);
        return bfs_fail(ENXIO, "open %s: a FIFO, socket or device node, which BenchFS keeps as "
                        "a name only (no pipe, socket or driver behind it)", p);
    }
    if (!created) {
        int want = (acc == O_RDONLY ? R_OK : acc == O_WRONLY ? W_OK : R_OK | W_OK);
        if (ns_permitted(fs, ino, want))
            return bfs_fail(EACCES, "open %s", p);
        if ((flags & O_TRUNC) && acc != O_RDONLY && ino->size > 0) {
            err = ns_truncate_inode(fs, p, ino, 0);
            if (err)
                return bfs_fail(-err, "open %s: truncate", p);
        }
    }
    return 0;
}

BFS_API int benchfs_open(benchfs_t *fs, const char *path, int flags, mode_t mode)
{
    ENTER(fs);
    if (ns_check_user_path(path))
        LEAVE(fs, -1);
    if ((flags & O_ACCMODE) == O_ACCMODE)
        LEAVE(fs, bfs_fail(EINVAL, "open %.200s: bad access mode", path));
    struct bfs_file *f = calloc(1, sizeof *f);
    if (!f)
        LEAVE(fs, bfs_fail(ENOMEM, "open %.200s", path));
    local_read_init(f);
    if (open_inode(fs, path, flags, mode, &f->ino, f->path) != 0) {
        free(f);
        LEAVE(fs, -1);
    }
    f->flags = flags;
    small_open(fs, f);
    int fd = fd_alloc(fs, f);
    if (fd < 0) {
        small_close(f);
        free(f);
        LEAVE(fs, bfs_fail(ENOMEM, "open %.200s", path));
    }
    LEAVE(fs, fd);
}

BFS_API int benchfs_create(benchfs_t *fs, const char *path, mode_t mode)
{
    return benchfs_open(fs, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

/* SIZE_UPDATE of f's file (how: BFS_SIZE_*). If another client renamed it since f learned its
 * path, it is found by file id (a scan of every server: the slow path) and updated there.
 * -ENOENT: unlinked. */
static int update_inode(benchfs_t *fs, struct bfs_file *f, uint64_t size, uint32_t how,
                        struct bfs_inode *out)
{
    int err = ns_set_size(fs, f->path, f->ino.fileid, size, how, f->mtime_ns, out);
    if (err == -ENOENT || err == -ESTALE) {
        /* Chunks are keyed by file id, so the data is already in the renamed file. */
        char now_at[BFS_PATH_MAX];
        err = ns_find_fileid(fs, f->ino.fileid, now_at);
        if (err == 0) {
            strcpy(f->path, now_at);
            err = ns_set_size(fs, f->path, f->ino.fileid, size, how, f->mtime_ns, out);
        }
        if (err == -ESTALE)
            err = -ENOENT;
    }
    if (!err && out->extent > f->ino.extent)
        f->ino.extent = out->extent;
    return err;
}

/* Publish the size this descriptor wrote to the metadata owner; with sync (BFS_SIZE_SYNC),
 * durably, also when there is nothing to publish. *out: the inode as the owner has it now, or
 * what f knows if the file was unlinked. */
static int flush_size(benchfs_t *fs, struct bfs_file *f, uint32_t sync, struct bfs_inode *out)
{
    *out = f->ino;
    if (!f->dirty && !sync)
        return 0;
    uint32_t how = (f->dirty ? BFS_SIZE_EXTEND : BFS_SIZE_QUERY) | sync;
    int err = update_inode(fs, f, f->ino.size, how, out);
    if (err == -ENOENT) {
        *out = f->ino;
        err = 0; /* unlinked: nobody can see this size any more */
    }
    if (!err)
        f->dirty = 0;
    return err;
}

/* Before f first writes chunks past its file's extent, the metadata owner raises the extent
 * (to at least twice the chunks it covered: O(log size) of these per file), so unlink,
 * truncate and fsync find every chunk even if this writer never publishes its size. */
static int raise_extent(benchfs_t *fs, struct bfs_file *f, uint64_t end)
{
    uint64_t cs = f->ino.chunk_size, have = bfs_inode_chunk_span(&f->ino);
    uint64_t need = end / cs + (end % cs != 0);
    if (need <= have)
        return 0;
    uint64_t want = need > 2 * have ? need : 2 * have;
    uint64_t bytes = want > BFS_FILE_SIZE_MAX / cs ? BFS_FILE_SIZE_MAX : want * cs;
    struct bfs_inode out;
    int err = update_inode(fs, f, bytes, BFS_SIZE_RESERVE, &out);
    /* Unlinked while open: its chunks were freed already, as those of any write after. */
    return err == -ENOENT ? 0 : err;
}

BFS_API int benchfs_close(benchfs_t *fs, int fd)
{
    ENTER(fs);
    struct bfs_file *f = fd_get(fs, fd);
    if (!f)
        LEAVE(fs, -1);
    struct bfs_inode ino;
    int err = flush_size(fs, f, 0, &ino);
    fs->files[fd] = NULL;
    if (err)
        bfs_fail(-err, "close %s: publishing the size", f->path);
    local_read_close(fs, f);
    small_close(f);
    free(f);
    LEAVE(fs, err ? -1 : 0);
}

int file_flush_fileid(benchfs_t *fs, uint64_t fileid)
{
    int err = 0;
    for (int i = 0; i < fs->nfiles && !err; i++) {
        struct bfs_file *f = fs->files[i];
        struct bfs_inode ino;
        if (f && f->ino.fileid == fileid)
            err = flush_size(fs, f, 0, &ino);
    }
    return err;
}

int file_close_all(benchfs_t *fs)
{
    int rc = 0;
    for (int i = 0; i < fs->nfiles; i++) {
        if (!fs->files[i])
            continue;
        struct bfs_inode ino;
        if (flush_size(fs, fs->files[i], 0, &ino) != 0)
            rc = -1;
        local_read_close(fs, fs->files[i]);
        small_close(fs->files[i]);
        free(fs->files[i]);
        fs->files[i] = NULL;
    }
    return rc;
}

void file_truncated(benchfs_t *fs, uint64_t fileid, uint64_t length)
{
    for (int i = 0; i < fs->nfiles; i++) {
        struct bfs_file *f = fs->files[i];
        if (f && f->ino.fileid == fileid) {
            f->ino.size = length;
            f->dirty = 0;
            memset(f->rw, 0, sizeof f->rw); /* what was allocated past length is gone */
            small_stale(f); /* an inline file's data: asked again */
        }
    }
}

void file_renamed(benchfs_t *fs, const char *from, const char *to)
{
    size_t flen = strlen(from);
    for (int i = 0; i < fs->nfiles; i++) {
        struct bfs_file *f = fs->files[i];
        if (!f || !bfs_path_is_within(f->path, from))
            continue;
        char np[BFS_PATH_MAX];
        if (strlen(to) + strlen(f->path) - flen < BFS_PATH_MAX) {
            strcpy(np, to);
            strcat(np, f->path + flen);
            strcpy(f->path, np);
        }
    }
}

size_t chunk_args(uint8_t *out, uint16_t op, const struct bfs_file *f,
                  const struct chunk_piece *p, uint64_t len)
{
    struct bfs_wbuf w;
    bfs_wb_init(&w, out, CHUNK_ARGS_LEN);
    bfs_wb_u64(&w, f->ino.fileid);
    bfs_wb_u64(&w, p->index);
    bfs_wb_u64(&w, p->offset);
    if (op != BFS_OP_CHUNK_WRITE) /* its length is its payload's */
        bfs_wb_u64(&w, len);
    bfs_wb_u32(&w, f->ino.chunk_size);
    return w.len;
}

/* Build the per-chunk calls for [off, off+len), and where each piece lies (*pieces_out).
 * Returns the count, or -ENOMEM. */
static long split(const struct bfs_file *f, uint16_t op, const void *wbuf, void *rbuf,
                  size_t len, uint64_t off, struct rpc **calls_out, uint8_t **args_out,
                  struct chunk_piece **pieces_out, benchfs_t *fs)
{
    uint64_t cs = f->ino.chunk_size;
    if (!bfs_chunk_size_valid(cs)) /* checked when the inode arrived; never divide by 0 */
        return -EIO;
    size_t n = (size_t)((off + len - 1) / cs - off / cs + 1);
    struct rpc *calls = calloc(n, sizeof *calls);
    uint8_t *args = malloc(n * CHUNK_ARGS_LEN);
    struct chunk_piece *pieces = malloc(n * sizeof *pieces);
    if (!calls || !args || !pieces) {
        free(calls);
        free(args);
        free(pieces);
        return -ENOMEM;
    }
    size_t done = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t pos = off + done;
        pieces[i] = (struct chunk_piece){pos / cs, pos % cs};
        size_t piece = (size_t)(cs - pieces[i].offset) < len - done
                           ? (size_t)(cs - pieces[i].offset)
                           : len - done;
        calls[i] = (struct rpc){
            .server = bfs_ring_lookup(&fs->ring, bfs_hash_chunk(f->ino.fileid, pieces[i].index)),
            .op = op,
            .args = args + i * CHUNK_ARGS_LEN,
            .args_len = chunk_args(args + i * CHUNK_ARGS_LEN, op, f, &pieces[i], piece),
        };
        if (wbuf) {
            calls[i].data = (const uint8_t *)wbuf + done;
            calls[i].data_len = piece;
        } else {
            calls[i].rbuf = (uint8_t *)rbuf + done;
            calls[i].rcap = piece;
        }
        done += piece;
    }
    *calls_out = calls;
    *args_out = args;
    *pieces_out = pieces;
    return (long)n;
}

/* A write by someone else than root takes the set-id bits away (special.c), as on Linux;
 * best effort: a file renamed or replaced meanwhile is left as it is. */
static void drop_setid(benchfs_t *fs, struct bfs_file *f)
{
    struct bfs_inode now;
    uint32_t mode = ns_setid_cleared(fs, &f->ino, 0);
    if (mode != (f->ino.mode & 07777) && ns_lookup_link(fs, f->path, &now, NULL) == 0 &&
        now.fileid == f->ino.fileid) {
        mode = ns_setid_cleared(fs, &now, 0);
        if (mode != (now.mode & 07777))
            ns_setattr(fs, f->path, BFS_SETATTR_MODE, mode, 0, 0, 0, 0);
    }
    f->ino.mode = (f->ino.mode & S_IFMT) | mode;
}

static ssize_t do_pwrite(benchfs_t *fs, struct bfs_file *f, const void *buf, size_t len,
                         uint64_t off)
{
    if (!writable(f))
        return bfs_fail(EBADF, "write %s: not open for writing", f->path);
    if (len == 0)
        return 0;
    if (!buf)
        return bfs_fail(EFAULT, "write %s: NULL buffer", f->path);
    if (off > (uint64_t)INT64_MAX - len)
        return bfs_fail(EFBIG, "write %s: past the largest file size", f->path);
    if ((f->ino.mode & (S_ISUID | S_ISGID)) && fs->uid != 0)
        drop_setid(fs, f);
    if (f->ino.flags) { /* inline data: small_file.c */
        ssize_t r = small_pwrite(fs, f, buf, len, off);
        if (r != SMALL_CHUNKS)
            return r;
    }
    if (!bfs_chunk_size_valid(f->ino.chunk_size)) /* checked when the inode arrived */
        return bfs_fail(EIO, "write %s", f->path);
    int rerr = raise_extent(fs, f, off + len);
    if (rerr)
        return bfs_fail(-rerr, "write %s: reserving the chunk extent", f->path);
    struct rpc *calls;
    uint8_t *args;
    struct chunk_piece *pieces;
    long n = split(f, BFS_OP_CHUNK_WRITE, buf, NULL, len, off, &calls, &args, &pieces, fs);
    if (n < 0)
        return bfs_fail((int)-n, "write %s", f->path);
    /* Same-host chunks written here, the others sent. */
    local_write_run(fs, f, calls, pieces, (size_t)n);
    int err = 0;
    for (long i = 0; i < n && !err; i++)
        err = calls[i].status;
    free(calls);
    free(args);
    free(pieces);
    if (err)
        return bfs_fail(err, "write %s (%zu bytes at %llu)", f->path, len,
                        (unsigned long long)off);
    if (off + len > f->ino.size)
        f->ino.size = off + len;
    f->dirty = 1;
    f->mtime_ns = bfs_now_ns();
    return (ssize_t)len;
}

/* The size as the metadata owner knows it, merged with what this descriptor wrote. */
static int refresh_size(benchfs_t *fs, struct bfs_file *f)
{
    struct bfs_inode ino;
    int err = ns_lookup_link(fs, f->path, &ino, NULL);
    if (err && err != -ENOENT)
        return err;
    /* On ENOENT (unlinked while open) keep reading what we know. */
    if (!err && ino.fileid == f->ino.fileid && (ino.size > f->ino.size || !f->dirty))
        f->ino.size = ino.size;
    /* Unpublished writes through other descriptors of this context count too (appends
     * through two descriptors must not overwrite each other). */
    for (int i = 0; i < fs->nfiles; i++) {
        struct bfs_file *g = fs->files[i];
        if (g && g != f && g->dirty && g->ino.fileid == f->ino.fileid &&
            g->ino.size > f->ino.size)
            f->ino.size = g->ino.size;
    }
    return 0;
}

/* A read that enters chunk k at its start is taken for a sequential reader: chunk k+1's
 * server is asked to read that chunk from its device now (a hint, not awaited), so the reader
 * does not wait for the disk each time it crosses into a chunk on another server. */
static void prefetch_next_chunk(benchfs_t *fs, struct bfs_file *f, size_t len, uint64_t off)
{
    if (!bfs_chunk_size_valid(f->ino.chunk_size))
        return; /* the read itself fails with EIO */
    uint64_t cs = f->ino.chunk_size, k = (off + len - 1) / cs;
    if (off > k * cs || (k + 1) * cs >= f->ino.size)
        return;
    uint32_t server = bfs_ring_lookup(&fs->ring, bfs_hash_chunk(f->ino.fileid, k + 1));
    /* A chunk we will read ourselves is read ahead here (FADV_WILLNEED on its file): a hint
     * would wake the server, which costs more than the call. */
    if (local_read_ready(fs, server)) {
        local_read_ahead(fs, f, k);
        return;
    }
    uint8_t args[20];
    struct bfs_wbuf w;
    bfs_wb_init(&w, args, sizeof args);
    bfs_wb_u64(&w, f->ino.fileid);
    bfs_wb_u64(&w, k + 1);
    bfs_wb_u32(&w, (uint32_t)cs);
    rpc_hint(fs, server, BFS_OP_CHUNK_PREFETCH, args, w.len);
}

/* A chunk shorter than asked (or absent) is a hole: zeros. */
static void finish_read_piece(struct rpc *c)
{
    if (!c->status && c->rdata_len < c->rcap)
        memset((uint8_t *)c->rbuf + c->rdata_len, 0, c->rcap - c->rdata_len);
}

static ssize_t do_pread(benchfs_t *fs, struct bfs_file *f, void *buf, size_t len, uint64_t off)
{
    if (!readable(f))
        return bfs_fail(EBADF, "read %s: not open for reading", f->path);
    if (S_ISDIR(f->ino.mode))
        return bfs_fail(EISDIR, "read %s", f->path);
    if (len == 0)
        return 0;
    if (!buf)
        return bfs_fail(EFAULT, "read %s: NULL buffer", f->path);
    if (f->ino.flags) { /* inline data: small_file.c */
        ssize_t r = small_pread(fs, f, buf, len, off);
        if (r != SMALL_CHUNKS)
            return r;
    }
    if (off >= f->ino.size || len > f->ino.size - off) {
        /* Another client may have written and closed since we opened. */
        int err = refresh_size(fs, f);
        if (err)
            return bfs_fail(-err, "read %s: size", f->path);
    }
    if (off >= f->ino.size)
        return 0;
    if (len > f->ino.size - off)
        len = (size_t)(f->ino.size - off);
    prefetch_next_chunk(fs, f, len, off);
    struct rpc *calls;
    uint8_t *args;
    struct chunk_piece *pieces;
    long n = split(f, BFS_OP_CHUNK_READ, NULL, buf, len, off, &calls, &args, &pieces, fs);
    if (n < 0)
        return bfs_fail((int)-n, "read %s", f->path);
    /* Chunks of same-host servers are read here (local_read.c); the rest, moved to the
     * front of calls[], go to their servers. Each call is whole in itself (its rbuf points
     * into buf), so their order does not matter. */
    long nrpc = 0;
    for (long i = 0; i < n; i++) {
        if (local_read_chunk(fs, f, &calls[i], &pieces[i]))
            finish_read_piece(&calls[i]);
        else
            calls[nrpc++] = calls[i];
    }
    rpc_run(fs, calls, (size_t)nrpc);
    int err = 0;
    for (long i = 0; i < nrpc; i++) {
        if (calls[i].status && !err)
            err = calls[i].status;
        finish_read_piece(&calls[i]);
    }
    free(calls);
    free(args);
    free(pieces);
    if (err)
        return bfs_fail(err, "read %s (%zu bytes at %llu)", f->path, len,
                        (unsigned long long)off);
    return (ssize_t)len;
}

#define ENTER_FD(fs, fd, f)                                                                      \
    ENTER(fs);                                                                                   \
    struct bfs_file *f = fd_get(fs, fd);                                                         \
    if (!f)                                                                                      \
        LEAVE(fs, -1)

BFS_API ssize_t benchfs_pwrite(benchfs_t *fs, int fd, const void *buf, size_t count, off_t offset)
{
    ENTER_FD(fs, fd, f);
    if (offset < 0)
        LEAVE(fs, bfs_fail(EINVAL, "pwrite: negative offset"));
    ssize_t n = do_pwrite(fs, f, buf, count, (uint64_t)offset);
    UNLOCK(fs);
    return n;
}

BFS_API ssize_t benchfs_pread(benchfs_t *fs, int fd, void *buf, size_t count, off_t offset)
{
    ENTER_FD(fs, fd, f);
    if (offset < 0)
        LEAVE(fs, bfs_fail(EINVAL, "pread: negative offset"));
    ssize_t n = do_pread(fs, f, buf, count, (uint64_t)offset);
    UNLOCK(fs);
    return n;
}

BFS_API ssize_t benchfs_write(benchfs_t *fs, int fd, const void *buf, size_t count)
{
    ENTER_FD(fs, fd, f);
    if ((f->flags & O_APPEND) && writable(f)) {
        /* Append goes after the end as the metadata owner knows it (not atomic across
         * clients: see docs/DESIGN.md). */
        int err = refresh_size(fs, f);
        if (err)
            LEAVE(fs, bfs_fail(-err, "write %s: size", f->path));
        f->pos = f->ino.size;
    }
    ssize_t n = do_pwrite(fs, f, buf, count, f->pos);
    if (n > 0)
        f->pos += (uint64_t)n;
    UNLOCK(fs);
    return n;
}

BFS_API ssize_t benchfs_read(benchfs_t *fs, int fd, void *buf, size_t count)
{
    ENTER_FD(fs, fd, f);
    ssize_t n = do_pread(fs, f, buf, count, f->pos);
    if (n > 0)
        f->pos += (uint64_t)n;
    UNLOCK(fs);
    return n;
}

BFS_API off_t benchfs_lseek(benchfs_t *fs, int fd, off_t offset, int whence)
{
    ENTER_FD(fs, fd, f);
    int64_t base;
    switch (whence) {
    case SEEK_SET: base = 0; break;
    case SEEK_CUR: base = (int64_t)f->pos; break;
    case SEEK_END: {
        int err = refresh_size(fs, f);
        if (err)
            LEAVE(fs, bfs_fail(-err, "lseek %s: size", f->path));
        base = (int64_t)f->ino.size;
        break;
    }
    default: LEAVE(fs, bfs_fail(EINVAL, "lseek: bad whence %d", whence));
    }
    if (offset > 0 && base > INT64_MAX - offset) /* POSIX: not representable in off_t */
        LEAVE(fs, bfs_fail(EOVERFLOW, "lseek %s: resulting offset overflows", f->path));
    if (base + offset < 0)
        LEAVE(fs, bfs_fail(EINVAL, "lseek %s: resulting offset is negative", f->path));
    f->pos = (uint64_t)(base + offset);
    off_t r = (off_t)f->pos;
    UNLOCK(fs);
    return r;
}

BFS_API int benchfs_fsync(benchfs_t *fs, int fd)
{
    ENTER_FD(fs, fd, f);
    if (f->ino.flags) { /* inline data: its metadata server alone (small_file.c) */
        int err = small_fsync(fs, f);
        LEAVE(fs, err ? bfs_fail(-err, "fsync %s", f->path) : 0);
    }
    /* The size is published (or looked up) and the metadata owner's store made durable in
     * one call; its answer says which chunks can exist, and only their servers sync. */
    struct bfs_inode ino;
    int err = flush_size(fs, f, BFS_SIZE_SYNC, &ino);
    if (!err && S_ISREG(ino.mode))
        err = ns_chunks_op(fs, BFS_OP_FSYNC, &ino, 0);
    LEAVE(fs, err ? bfs_fail(-err, "fsync %s", f->path) : 0);
}

BFS_API int benchfs_syncfs(benchfs_t *fs)
{
    ENTER(fs);
    /* What this context's open files wrote is published first, then every server syncs. */
    int err = 0;
    for (int i = 0; i < fs->nfiles; i++) {
        struct bfs_file *f = fs->files[i];
        struct bfs_inode ino;
        int e = f && !f->ino.flags ? flush_size(fs, f, 0, &ino) : 0;
        if (e && e != -ENOENT && !err)
            err = e;
    }
    struct rpc *calls = rpc_run_all(fs, BFS_OP_SYNCFS);
    if (!calls)
        LEAVE(fs, bfs_fail(ENOMEM, "syncfs"));
    uint32_t failed = 0;
    for (uint32_t s = 0; s < fs->nservers; s++) {
        if (calls[s].status) {
            err = err ? err : -calls[s].status;
            failed++;
        }
        rpc_release(&calls[s]);
    }
    free(calls);
    LEAVE(fs, err ? bfs_fail(-err, "syncfs: %u of %u servers failed", failed, fs->nservers)
                  : 0);
}

BFS_API int benchfs_fstat(benchfs_t *fs, int fd, benchfs_stat_t *st)
{
    if (!st)
        return bfs_fail(EINVAL, "fstat buffer is NULL");
    ENTER_FD(fs, fd, f);
    struct bfs_inode ino;
    int err = ns_lookup_link(fs, f->path, &ino, NULL);
    if (err == -ENOENT || (!err && ino.fileid != f->ino.fileid)) {
        ino = f->ino; /* unlinked or replaced while open: what we know is all there is */
    } else if (err) {
        LEAVE(fs, bfs_fail(-err, "fstat %s", f->path));
    } else {
        if (f->dirty && f->ino.size > ino.size)
            ino.size = f->ino.size;
        f->ino.size = ino.size > f->ino.size || !f->dirty ? ino.size : f->ino.size;
    }
    ns_fill_stat(&ino, st);
    LEAVE(fs, 0);
}

BFS_API int benchfs_ftruncate(benchfs_t *fs, int fd, off_t length)
{
    ENTER_FD(fs, fd, f);
    if (length < 0)
        LEAVE(fs, bfs_fail(EINVAL, "ftruncate %s: negative length", f->path));
    if (!writable(f))
        LEAVE(fs, bfs_fail(EINVAL, "ftruncate %s: not open for writing", f->path));
    struct bfs_inode ino = f->ino;
    int err = ns_truncate_inode(fs, f->path, &ino, (uint64_t)length);
    if (err)
        LEAVE(fs, bfs_fail(-err, "ftruncate %s", f->path));
    f->ino.size = (uint64_t)length;
    f->dirty = 0;
    LEAVE(fs, 0);
}

ssize_t file_pwrite_chunks(benchfs_t *fs, struct bfs_file *f, const void *buf, size_t len,
                           uint64_t off)
{
    return do_pwrite(fs, f, buf, len, off);
}
