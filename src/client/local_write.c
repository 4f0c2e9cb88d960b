/* SPDX-License-Identifier: BSD-3-Clause */
/* local_write.c — chunk writes to same-host servers without sending the bytes.
 *
 * Why: a CHUNK_WRITE moves the payload twice on the server's one thread (a CMA pull into a
 * buffer, then the io_uring write into the page cache). A pwrite() of the chunk file by the
 * client is one copy, on the client's own core, as for a local file.
 *
 * The server still decides: CHUNK_RESERVE creates the chunk file and allocates the range in
 * it (fallocate), counted against --capacity (ENOSPC as for a CHUNK_WRITE), and only after
 * its answer does the client write. A client that dies in between leaves allocated zeros,
 * which the file's truncate or removal frees like any other bytes of it.
 *
 * A write of several pieces is all or nothing with respect to ENOSPC: every piece is reserved
 * first (on remote servers too), and only when all reserves succeeded is anything written;
 * otherwise the reserves that did succeed are given back (CHUNK_RELEASE) and the call fails
 * having written nothing. A single piece needs no such step: a CHUNK_WRITE reserves and
 * writes in one request. The write returns once the bytes are in the page cache, where any reader (direct or
 * through the server) finds them: close-to-open holds as before, and FSYNC on the server
 * flushes them (it syncs the file, whoever wrote it). The conditions are those of direct
 * reads (local_read.c). A piece that cannot be written here (its file vanished under a
 * concurrent truncate, an I/O error) is sent as a normal CHUNK_WRITE, so the server's answer
 * is the final word. $BENCHFS_LOCAL_WRITES=0 turns this off.
 *
 * Reserving ahead: a descriptor whose writes come back to a chunk reserves more than the write
 * (as much as it has reserved in that chunk so far, at most RESERVE_AHEAD_MAX, never past the
 * chunk's end), and writes that fall inside what it holds need no CHUNK_RESERVE at all. Small
 * and strided writes (io500's ior-hard: 47008 bytes, interleaved) then cost a round trip per
 * megabyte instead of one per write; the first write into a chunk reserves exactly what it
 * writes, so a small file allocates no more than its bytes, and what is allocated ahead is at
 * most the bytes already reserved in that chunk. Fallocate mode 0 leaves bytes already
 * written (by anyone) as they are. A window that cannot be had (ENOSPC near the capacity)
 * falls back to the write's own range; a truncate through this context forgets the windows.
 *
 * Write-behind, as the server does for its own writes: sync_file_range(SYNC_FILE_RANGE_WRITE)
 * starts writeback of each piece at once, so a closing fsync finds little left to write
 * (measured here, 256 MiB + fsync: 1.5 GiB/s with it, 0.8-1.2 without; a job that never
 * fsyncs writes faster without it: $BENCHFS_WRITE_BEHIND=0). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define RESERVE_AHEAD_MAX (1u << 20)

/* The window of f in chunk index, or NULL. */
static struct reserved_window *window_of(struct bfs_file *f, uint64_t index)
{
    for (unsigned i = 0; i < RESERVED_WINDOWS; i++)
        if (f->rw[i].hi && f->rw[i].index == index)
            return &f->rw[i];
    return NULL;
}

/* Does f hold [off, off+len) of chunk index already? */
static int held(struct bfs_file *f, uint64_t index, uint64_t off, size_t len)
{
    struct reserved_window *w = window_of(f, index);
    return w && off >= w->lo && off + len <= w->hi;
}

/* How much to reserve for a write of len at off in chunk index: the write, or ahead of it. */
static uint64_t ahead_len(const struct bfs_file *f, struct reserved_window *w, uint64_t off,
                          size_t len)
{
    if (!w || !w->total)
        return len; /* the first write into this chunk: exactly what it writes */
    uint64_t want = w->total < RESERVE_AHEAD_MAX ? w->total : RESERVE_AHEAD_MAX;
    if (want < len)
        want = len;
    uint64_t room = f->ino.chunk_size > off ? f->ino.chunk_size - off : len;
    return want < room ? want : (room > len ? room : len);
}

static void remember(struct bfs_file *f, uint64_t index, uint64_t off, uint64_t len)
{
    struct reserved_window *w = window_of(f, index);
    if (!w) {
        w = &f->rw[f->next_rw++ % RESERVED_WINDOWS];
        *w = (struct reserved_window){.index = index};
    }
    w->lo = off;
    w->hi = off + len;
    w->total += len;
}

/* What a CHUNK_WRITE call carried, kept while it runs as a CHUNK_RESERVE. */
struct piece {
    const void *data;
    size_t len;
    const void *write_args;
    size_t write_args_len;
    int reserved; /* the call ran as a CHUNK_RESERVE */
    int direct;   /* ... and its server's chunk files are ours to write */
};

static int write_here(benchfs_t *fs, struct bfs_file *f, uint32_t server, const struct piece *p,
                      const struct chunk_piece *at)
{
    if (!local_io_usable(fs, server)) /* again: the reserve may have reconnected (a restart) */
        return 0;
    int transient;
    int fd = local_chunk_fd(fs, f, server, at->index, &transient);
    if (fd < 0)
        return 0;
    size_t done = 0;
    int ok = 1;
    while (done < p->len) {
        ssize_t w = pwrite(fd, (const char *)p->data + done, p->len - done,
                           (off_t)(at->offset + done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            ok = 0;
            break;
        }
        done += (size_t)w;
    }
    if (ok && fs->write_behind)
        sync_file_range(fd, (off_t)at->offset, (off_t)p->len, SYNC_FILE_RANGE_WRITE);
    if (transient)
        close(fd);
    return ok;
}

/* Turn call c back into the CHUNK_WRITE it was. */
static void back_to_write(struct rpc *c, const struct piece *p)
{
    rpc_release(c);
    c->op = BFS_OP_CHUNK_WRITE;
    c->args = p->write_args;
    c->args_len = p->write_args_len;
    c->data = p->data;
    c->data_len = p->len;
    c->status = 0;
}

/* A reserve failed: give back the others' (best effort: a server that cannot be reached
 * keeps allocated zeros until the file is truncated or removed). */
static void release_reserved(benchfs_t *fs, struct rpc *calls, const struct piece *p, size_t n)
{
    struct rpc *rel = calloc(n, sizeof *rel);
    if (!rel)
        return;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (p[i].reserved && calls[i].status == 0)
            rel[m++] = (struct rpc){.server = calls[i].server, .op = BFS_OP_CHUNK_RELEASE,
                                    .args = calls[i].args, .args_len = calls[i].args_len};
    rpc_run(fs, rel, m);
    for (size_t i = 0; i < m; i++)
        rpc_release(&rel[i]);
    free(rel);
}

void local_write_run(benchfs_t *fs, struct bfs_file *f, struct rpc *calls,
                     const struct chunk_piece *pieces, size_t n)
{
    /* One piece through its server: the CHUNK_WRITE alone is all or nothing already. */
    if (n == 1 && !(fs->local_writes && local_io_usable(fs, calls[0].server))) {
        rpc_run(fs, calls, n);
        return;
    }
    /* One piece inside what this descriptor holds: no reserve to ask for. */
    if (n == 1 && held(f, pieces[0].index, pieces[0].offset, calls[0].data_len)) {
        struct piece p1 = {calls[0].data, calls[0].data_len, calls[0].args, calls[0].args_len,
                           0, 1};
        if (write_here(fs, f, calls[0].server, &p1, &pieces[0])) {
            calls[0].status = 0;
            return;
        }
        memset(f->rw, 0, sizeof f->rw); /* the file changed under us: ask again */
    }
    struct piece *p = calloc(n, sizeof *p);
    uint8_t *rargs = p ? malloc(n * CHUNK_ARGS_LEN) : NULL;
    if (!rargs) {
        free(p);
        for (size_t i = 0; i < n; i++)
            calls[i].status = ENOMEM;
        return;
    }
    /* 1. Reserve every piece (concurrently). */
    uint64_t ahead = 0; /* n == 1, direct: the length reserved */
    for (size_t i = 0; i < n; i++) {
        struct rpc *c = &calls[i];
        p[i] = (struct piece){c->data, c->data_len, c->args, c->args_len, 1,
                              fs->local_writes && local_io_usable(fs, c->server)};
        c->op = BFS_OP_CHUNK_RESERVE;
        c->args = rargs + i * CHUNK_ARGS_LEN;
        uint64_t rlen = n == 1 && p[i].direct
                            ? ahead_len(f, window_of(f, pieces[i].index), pieces[i].offset,
                                        c->data_len)
                            : c->data_len;
        c->args_len = chunk_args(rargs + i * CHUNK_ARGS_LEN, BFS_OP_CHUNK_RESERVE, f,
                                 &pieces[i], rlen);
        c->data = NULL;
        c->data_len = 0;
        ahead = rlen;
    }
    rpc_run(fs, calls, n);
    if (n == 1 && p[0].direct) {
        if (calls[0].status == ENOSPC && ahead > p[0].len) { /* no room ahead: the write's own */
            rpc_release(&calls[0]);
            ahead = p[0].len;
            calls[0].args_len = chunk_args(rargs, BFS_OP_CHUNK_RESERVE, f, &pieces[0], ahead);
            calls[0].status = 0;
            rpc_run(fs, calls, 1);
        }
        if (calls[0].status == 0)
            remember(f, pieces[0].index, pieces[0].offset, ahead);
    }
    int failed = 0;
    for (size_t i = 0; i < n && !failed; i++)
        failed = calls[i].status != 0 && calls[i].status != EOPNOTSUPP;
    if (failed) {
        /* Nothing written: give back what the others allocated for it. The failed calls'
         * statuses are the answer. */
        release_reserved(fs, calls, p, n);
        for (size_t i = 0; i < n; i++)
            rpc_release(&calls[i]);
        free(p);
        free(rargs);
        return;
    }
    /* 2. Write: what is ours here, the rest (and what could not be written here, and what
     * a server without fallocate could not reserve) through the servers. */
    size_t nsend = 0;
    for (size_t i = 0; i < n; i++) {
        struct rpc *c = &calls[i];
        if (c->status == 0 && p[i].direct &&
            write_here(fs, f, c->server, &p[i], &pieces[i])) {
            rpc_release(c);
            continue;
        }
        back_to_write(c, &p[i]);
        nsend++;
    }
    if (nsend) {
        struct rpc *send = calloc(nsend, sizeof *send);
        size_t *from = calloc(nsend, sizeof *from);
        if (!send || !from) {
            for (size_t i = 0; i < n; i++)
                if (calls[i].op == BFS_OP_CHUNK_WRITE)
                    calls[i].status = ENOMEM;
        } else {
            size_t m = 0;
            for (size_t i = 0; i < n; i++)
                if (calls[i].op == BFS_OP_CHUNK_WRITE) {
                    send[m] = calls[i];
                    from[m++] = i;
                }
            rpc_run(fs, send, m);
            for (size_t k = 0; k < m; k++)
                calls[from[k]] = send[k];
        }
        free(send);
        free(from);
    }
    free(p);
    free(rargs);
}
