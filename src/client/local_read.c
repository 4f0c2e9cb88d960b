/* SPDX-License-Identifier: BSD-3-Clause */
/* local_read.c — chunk reads served from a same-host server's own files, without an RPC.
 *
 * Why: through the server, a chunk read costs a round trip and two copies on the server's one
 * thread (page cache into a buffer, then the buffer into the client by CMA). A pread() of the
 * chunk file by the client is one copy, on the client's own core: what a local POSIX read
 * costs. HDFS gives clients on a DataNode's host the same "short-circuit" reads.
 *
 * When it is safe:
 *  - the server runs on this host as our user (rpc.c's shared-memory test), so its files are
 *    ours to read and it is watched by pid;
 *  - it told us its data directory and nonce (CHUNK_DIR), and <data>/instance holds that
 *    nonce: we see the very directory it serves, not a same-named one in another container;
 *  - it is alive (looked at every 100 ms, as for RPCs): a dead server's chunks fail as before.
 * Truncates and removes go through the server, and writes through it or, after its
 * CHUNK_RESERVE, straight into the file (local_write.c); all are finished before they return,
 * so a read here sees everything a CHUNK_READ would: close-to-open consistency holds.
 * A missing chunk file is a hole (zeros), as on the server; any other surprise falls back to
 * the RPC, which reports errors the usual way. $BENCHFS_LOCAL_READS=0 turns this off.
 *
 * The machinery both directions share lives here too: discovery (CHUNK_DIR and the nonce
 * check, once per connection) and each descriptor's cache of open chunk files. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/chunk_layout.h"
#include "common/log.h"
#include "common/util.h"
#include "internal.h"

void local_read_forget(struct conn *cn)
{
    free(cn->chunk_root);
    cn->chunk_root = NULL;
    cn->direct = 0;
    cn->local_epoch++;
}

void local_read_init(struct bfs_file *f)
{
    for (int i = 0; i < LOCAL_FDS; i++)
        f->lfds[i].fd = -1;
}

void local_read_close(benchfs_t *fs, struct bfs_file *f)
{
    for (int i = 0; i < LOCAL_FDS; i++) {
        if (f->lfds[i].fd >= 0) {
            close(f->lfds[i].fd);
            fs->local_fds--;
        }
        f->lfds[i].fd = -1;
    }
}

/* The chunk file, from the descriptor's cache or opened now; -1 with errno if not.
 * A cached file that was unlinked since (the chunk was removed by a truncate or an unlink,
 * and may exist anew) is reopened: its link count says so, for one fstat instead of a
 * path walk and an open. The application's descriptors come first: a context keeps at most
 * LOCAL_FDS_MAX chunk files open in all; past that, *transient says to close after use. */
int local_chunk_fd(benchfs_t *fs, struct bfs_file *f, uint32_t server, uint64_t index,
                   int *transient)
{
    struct conn *cn = &fs->conns[server];
    *transient = 0;
    if (cn->direct != 1) {
        errno = EAGAIN; /* not known (any more) where its chunk files are */
        return -1;
    }
    struct local_fd *hit = NULL;
    for (int i = 0; i < LOCAL_FDS && !hit; i++) {
        struct local_fd *l = &f->lfds[i];
        if (l->fd >= 0 && l->server == server && l->index == index)
            hit = l;
    }
    if (hit) {
        struct stat st;
        if (hit->epoch == cn->local_epoch && fstat(hit->fd, &st) == 0 && st.st_nlink > 0)
            return hit->fd;
        close(hit->fd);
        hit->fd = -1;
        fs->local_fds--;
    }
    char path[BFS_PATH_MAX + 64];
    if (bfs_chunk_path(path, sizeof path, cn->chunk_root, f->ino.fileid, index) < 0) {
        errno = ENAMETOOLONG;
        return -1;
    }
    /* A descriptor open for writing may write directly too (local_write.c). */
    int fd = open(path, ((f->flags & O_ACCMODE) == O_RDONLY ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct local_fd *l = hit ? hit : &f->lfds[f->next_lfd++ % LOCAL_FDS];
    if (l->fd >= 0) {
        close(l->fd);
    } else if (fs->local_fds >= LOCAL_FDS_MAX) {
        *transient = 1;
        return fd;
    } else {
        fs->local_fds++;
    }
    *l = (struct local_fd){.fd = fd, .server = server, .epoch = cn->local_epoch, .index = index};
    return fd;
}

/* Does <dir>/instance hold this nonce? */
static int instance_matches(const char *dir, const uint8_t *nonce)
{
    char path[BFS_PATH_MAX + 32], text[2 * BFS_INSTANCE_LEN + 8];
    uint8_t found[BFS_INSTANCE_LEN];
    snprintf(path, sizeof path, "%s/" BFS_INSTANCE_FILE, dir);
    return bfs_read_small(path, text, sizeof text) >= 2 * BFS_INSTANCE_LEN &&
           bfs_hex_decode(text, 2 * BFS_INSTANCE_LEN, found) == 0 &&
           memcmp(found, nonce, BFS_INSTANCE_LEN) == 0;
}

/* Ask the server where its chunks are and check that we see the same place. */
static void discover(benchfs_t *fs, uint32_t server, struct conn *cn)
{
    struct rpc call = {.server = server, .op = BFS_OP_CHUNK_DIR};
    cn->direct = -1;
    int err = rpc_call(fs, &call);
    if (err || call.rargs_len != BFS_INSTANCE_LEN || call.rdata_len == 0 ||
        call.rdata_len >= BFS_PATH_MAX || memchr(call.rdata, '\0', call.rdata_len)) {
        LOG_DEBUG("server %u: no local reads (chunk_dir: %s)", server,
                  err ? strerror(-err) : "malformed reply");
        rpc_release(&call);
        return;
    }
    char dir[BFS_PATH_MAX];
    memcpy(dir, call.rdata, call.rdata_len);
    dir[call.rdata_len] = '\0';
    rpc_release(&call);
    if (!instance_matches(dir, call.rargs)) {
        LOG_INFO("server %u: %s is not the directory it serves from here; reading through it",
                 server, dir);
        return;
    }
    size_t cap = call.rdata_len + sizeof "/" BFS_CHUNK_SUBDIR;
    cn->chunk_root = malloc(cap); /* <data>/chunks, as chunk_layout.h names it */
    if (!cn->chunk_root)
        return;
    snprintf(cn->chunk_root, cap, "%s/" BFS_CHUNK_SUBDIR, dir);
    cn->direct = 1;
}

/* pread until `len` bytes or end of file; the byte count, or -1. The first try asks only
 * for what the page cache holds (RWF_NOWAIT): if the device had to be read, *cold is set,
 * and the descriptor starts reading ahead (local_read_ahead). */
static ssize_t read_full(int fd, void *buf, size_t len, uint64_t off, int *cold)
{
    size_t got = 0;
    if (!*cold) {
        struct iovec v = {.iov_base = buf, .iov_len = len};
        ssize_t r = preadv2(fd, &v, 1, (off_t)off, RWF_NOWAIT);
        if (r == (ssize_t)len)
            return r;
        if (r > 0)
            got = (size_t)r; /* the rest below: more of it means some was not cached */
        else if (r < 0)
            *cold = 1; /* EAGAIN, or RWF_NOWAIT unsupported: read ahead as if cold */
    }
    while (got < len) {
        ssize_t r = pread(fd, (char *)buf + got, len - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (size_t)r;
        *cold = 1;
    }
    return (ssize_t)got;
}

int local_read_ready(benchfs_t *fs, uint32_t server)
{
    if (!fs->local_reads || server >= fs->nservers)
        return 0;
    const struct conn *cn = &fs->conns[server];
    return cn->fd >= 0 && !cn->failed && cn->local && cn->direct == 1;
}

int local_io_usable(benchfs_t *fs, uint32_t server)
{
    if (server >= fs->nservers)
        return 0;
    struct conn *cn = &fs->conns[server];
    if (cn->fd >= 0 && !cn->failed)
        rpc_check_alive(fs, server); /* gone? then reconnect: it may have been restarted */
    if ((cn->fd < 0 || cn->failed) && rpc_connect(fs, server) != 0) {
        bfs_clear_error(); /* the RPC will fail and tell */
        return 0;
    }
    if (!cn->local)
        return 0;
    if (cn->direct == 0)
        discover(fs, server, cn);
    return cn->direct == 1;
}

int local_read_chunk(benchfs_t *fs, struct bfs_file *f, struct rpc *c,
                     const struct chunk_piece *p)
{
    if (!fs->local_reads || !local_io_usable(fs, c->server))
        return 0;
    int transient;
    int fd = local_chunk_fd(fs, f, c->server, p->index, &transient);
    if (fd < 0) {
        if (errno != ENOENT)
            return 0;
        c->rdata_len = 0; /* never written: a hole */
    } else {
        int was_cold = f->ra_cold;
        ssize_t n = read_full(fd, c->rbuf, c->rcap, p->offset, &f->ra_cold);
        if (transient)
            close(fd);
        if (n < 0)
            return 0;
        c->rdata_len = (size_t)n;
        if (!was_cold && f->ra_cold)
            local_read_ahead(fs, f, p->index); /* found the device: start on the next chunks */
    }
    c->status = 0;
    return 1;
}

void local_read_ahead(benchfs_t *fs, struct bfs_file *f, uint64_t k)
{
    if (!f->ra_cold)
        return; /* everything so far came from the page cache: nothing to start */
    /* The kernel reads ahead read_ahead_kb (commonly 8 MiB) in one big file; chunk files are
     * smaller, so keep about as much in flight: the next `w` chunks, each asked for once. */
    uint64_t cs = f->ino.chunk_size, w = (LOCAL_READ_AHEAD + cs - 1) / cs;
    if (w > LOCAL_FDS - 1)
        w = LOCAL_FDS - 1; /* they stay open in f's cache until read */
    if (f->ra_next <= k || f->ra_next > k + w + 1)
        f->ra_next = k + 1; /* first time, or the reader jumped */
    for (; f->ra_next <= k + w && f->ra_next * cs < f->ino.size; f->ra_next++) {
        uint64_t j = f->ra_next;
        uint32_t server = bfs_ring_lookup(&fs->ring, bfs_hash_chunk(f->ino.fileid, j));
        if (!local_read_ready(fs, server))
            continue;
        int transient;
        int fd = local_chunk_fd(fs, f, server, j, &transient);
        if (fd < 0)
            continue; /* a hole, or no matter: the read will tell */
        posix_fadvise(fd, 0, (off_t)cs, POSIX_FADV_WILLNEED);
        if (transient)
            close(fd);
    }
}
