/* SPDX-License-Identifier: BSD-3-Clause */
/* rpc_local.c — calls to a server on this host, over its local socket (net/local_sock.h).
 *
 * The same frames as over UCX. A request is queued whole (its payload is the caller's buffer,
 * which stays valid until the call returns; a call given up at its deadline takes its frame
 * back, or leaves a copy of the unsent rest: lconn_abandon). A reply's payload is read
 * straight into the caller's buffer; the reply of a call given up is read and dropped. The
 * server's death is end of file on the socket, seen as soon as we look. A server that lives
 * but does not answer (stopped) keeps its connection: its chunk files can still be read
 * directly, and its late replies are dropped by request id. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "internal.h"

int lconn_open(benchfs_t *fs, struct conn *cn, const char *name)
{
    (void)fs;
    int fd = bfs_lsock_connect(name);
    if (fd < 0)
        return fd;
    cn->fd = fd;
    memset(&cn->in, 0, sizeof cn->in);
    memset(&cn->out, 0, sizeof cn->out);
    return 0;
}

void lconn_close(struct conn *cn, int err)
{
    if (cn->fd < 0)
        return;
    /* In a forked child the socket is the parent's too: only our copy goes. */
    close(cn->fd);
    cn->fd = -1;
    bfs_lsock_fail(&cn->out, err);
    bfs_lsock_in_free(&cn->in);
    if (!cn->failed) {
        cn->failed = 1;
        cn->fail_status = err;
    }
}

int lconn_send(struct conn *cn, const void *owner, const uint8_t *hdr, size_t hlen,
               const void *data, size_t data_len)
{
    int err = bfs_lsock_queue(&cn->out, hdr, hlen, data, data_len, NULL, (void *)owner);
    if (err)
        return err;
    int rc = bfs_lsock_flush(cn->fd, &cn->out);
    if (rc < 0) {
        lconn_close(cn, EHOSTDOWN);
        return -EHOSTDOWN;
    }
    return 0;
}

/* A reply's header arrived: find its call (it stays in the table until the payload is in). */
static void *reply_begin(void *arg, const struct bfs_frame *f, const uint8_t *args, void **cookie,
                         int *err)
{
    (void)err;
    benchfs_t *fs = arg;
    struct rpc *c = rpc_table_find(fs, f->reqid);
    if (!c || c->reply_done)
        return NULL; /* nobody waits (a hint's error reply): skip the payload */
    *cookie = c;
    if (f->opcode != c->op || f->args_len > RPC_REPLY_ARGS_MAX ||
        (c->rbuf && f->data_len > c->rcap)) {
        c->status = EPROTO;
        return NULL;
    }
    c->status = f->status > 0 && f->status < 4096 ? f->status : (f->status ? EIO : 0);
    c->rargs_len = f->args_len;
    memcpy(c->rargs, args, f->args_len);
    c->rdata_len = f->data_len;
    if (!f->data_len)
        return NULL;
    if (c->rbuf) {
        c->rdata = c->rbuf;
        return c->rbuf;
    }
    c->rdata = malloc(f->data_len);
    if (!c->rdata) {
        c->status = ENOMEM;
        return NULL;
    }
    c->rdata_owned = 1;
    return c->rdata;
}

static void reply_end(void *arg, const struct bfs_frame *f, const uint8_t *args, void *cookie)
{
    (void)args;
    benchfs_t *fs = arg;
    struct rpc *c = cookie;
    if (!c)
        return;
    rpc_table_take(fs, f->reqid);
    /* A server may answer before it read the whole request (a refusal): what is left of it
     * must not be sent from the caller's buffer once the call has returned. */
    struct conn *cn = &fs->conns[c->server];
    if (cn->out.head && bfs_lsock_forget(&cn->out, c) != 0)
        cn->close_after_read = ENOMEM; /* not inside the reader: lconn_progress closes */
    c->reply_done = 1;
}

static const struct bfs_lsock_handler reply_handler = {.begin = reply_begin, .end = reply_end};

int lconn_progress(benchfs_t *fs, struct conn *cn)
{
    if (cn->fd < 0)
        return 0;
    if (cn->out.head && bfs_lsock_flush(cn->fd, &cn->out) < 0) {
        LOG_INFO("local server connection lost (write)");
        lconn_close(cn, EHOSTDOWN);
        return 1;
    }
    int n = bfs_lsock_read(cn->fd, &cn->in, BFS_OP__COUNT, 256, &reply_handler, fs);
    if (cn->close_after_read) { /* the answers read stand; the next call reconnects */
        lconn_close(cn, cn->close_after_read);
        cn->close_after_read = 0;
        return 1;
    }
    if (n < 0) {
        if (n == -EPROTO)
            LOG_WARN("malformed reply from a local server: closing the connection");
        else
            LOG_INFO("local server connection lost: %s", strerror(-n));
        /* A reply half read into a caller's buffer is abandoned with the connection. */
        lconn_close(cn, n == -EPROTO ? EPROTO : EHOSTDOWN);
        return 1;
    }
    return n > 0;
}

void lconn_abandon(struct conn *cn, const struct rpc *c)
{
    if (cn->fd < 0)
        return;
    if (bfs_lsock_forget(&cn->out, c) != 0) {
        lconn_close(cn, ENOMEM);
        return;
    }
    if (cn->in.in_frame && cn->in.cookie == c) { /* its reply is arriving: read on, drop it */
        cn->in.cookie = NULL;
        cn->in.dst = NULL;
    }
}
