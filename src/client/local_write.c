/* local_write.c — chunk writes to same-host servers without sending the bytes.
 *
 * Why: a CHUNK_WRITE moves the payload twice on the server's one thread (a CMA pull into a
 * buffer, then the io_uring write into the page cache). A pwrite() of the chunk file by the
 * client is one copy, on the client's own core, as for a local file.
 *
 * The server still decides: CHUNK_RESERVE creates the chunk file and counts the bytes
 * against --capacity (ENOSPC as for a CHUNK_WRITE), and only after its answer does the client
 * write. The write returns once the bytes are in the page cache, where any reader (direct or
 * through the server) finds them: close-to-open holds as before, and FSYNC on the server
 * flushes them (it syncs the file, whoever wrote it). The conditions are those of direct
 * reads (local_read.c). A piece that cannot be written here (its file vanished under a
 * concurrent truncate, an I/O error) is sent as a normal CHUNK_WRITE, so the server's answer
 * is the final word. $BENCHFS_LOCAL_WRITES=0 turns this off.
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

/* What a CHUNK_WRITE call carried, kept while it runs as a CHUNK_RESERVE. */
struct piece {
    const void *data; /* NULL: the call was not turned into a reserve */
    size_t len;
    const void *write_args;
    size_t write_args_len;
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

void local_write_run(benchfs_t *fs, struct bfs_file *f, struct rpc *calls,
                     const struct chunk_piece *pieces, size_t n)
{
    struct piece *p = fs->local_writes ? calloc(n, sizeof *p) : NULL;
    uint8_t *rargs = p ? malloc(n * CHUNK_ARGS_LEN) : NULL;
    if (!rargs) { /* off, or no memory: all through the servers */
        free(p);
        rpc_run(fs, calls, n);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        struct rpc *c = &calls[i];
        if (!local_io_usable(fs, c->server))
            continue;
        p[i] = (struct piece){c->data, c->data_len, c->args, c->args_len};
        c->op = BFS_OP_CHUNK_RESERVE;
        c->args = rargs + i * CHUNK_ARGS_LEN;
        c->args_len = chunk_args(rargs + i * CHUNK_ARGS_LEN, BFS_OP_CHUNK_RESERVE, f,
                                 &pieces[i], c->data_len);
        c->data = NULL;
        c->data_len = 0;
    }
    rpc_run(fs, calls, n); /* the reserves and the other servers' writes, all at once */
    /* Write what was reserved; a piece that cannot be written here goes to its server after
     * all (a failed reserve is already the answer: ENOSPC, a dead server...). */
    for (size_t i = 0; i < n; i++) {
        struct rpc *c = &calls[i];
        if (!p[i].data || c->status != 0 || write_here(fs, f, c->server, &p[i], &pieces[i]))
            continue;
        rpc_release(c);
        c->op = BFS_OP_CHUNK_WRITE;
        c->args = p[i].write_args;
        c->args_len = p[i].write_args_len;
        c->data = p[i].data;
        c->data_len = p[i].len;
        rpc_run(fs, c, 1); /* rare: one at a time */
    }
    free(p);
    free(rargs);
}
