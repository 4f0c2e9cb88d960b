/* SPDX-License-Identifier: BSD-3-Clause */
/* conns.c — the server's client connections: UCX endpoints accepted from its listener (clients
 * on other hosts) and local-socket connections (clients on this host).
 *
 * Whatever a client does — dies, never says goodbye, stops reading — what the server holds for
 * it is bounded and released: a connection is a UCX endpoint the server created itself (with
 * peer-failure handling) or a socket (whose end of file the kernel reports at once), plus the
 * requests in progress on it. A request holds a reference to its connection; a failed
 * connection drops its replies, and is closed and freed from the main loop once no request
 * refers to it. A local client that does not read its replies stops being read from (at most
 * CONN_MAX_INFLIGHT requests or CONN_MAX_OUT_BYTES of replies each), so it cannot make the
 * server queue without bound, nor spin. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "server.h"

#define CONN_MAX 8192                    /* connections at once; more are refused */
#define CONN_MAX_INFLIGHT 64             /* requests in progress per local connection */
#define CONN_MAX_OUT_BYTES (64u << 20)   /* replies queued per local connection */
#define LOCAL_FRAMES_PER_WAKE 64         /* fairness between local clients */

static struct bfs_log_limit g_conn_log = BFS_LOG_LIMIT("connection messages", 20);

/* ---- the table of UCX connections, keyed by our endpoint ---- */

static unsigned conn_bucket(uintptr_t key)
{
    return (unsigned)(((uint64_t)key * 0x9E3779B97F4A7C15ull) >> 56) % SRV_CONN_BUCKETS;
}

struct srv_conn *conn_lookup(struct server *s, ucp_ep_h ep)
{
    uintptr_t key = (uintptr_t)ep;
    for (struct srv_conn *c = s->conn_table[conn_bucket(key)]; c; c = c->hnext)
        if (c->key == key)
            return c;
    return NULL;
}

/* Failed and unreferenced: queue it for closing by the main loop (never close an endpoint
 * from inside a UCX callback). */
static void conn_maybe_dead(struct srv_conn *c)
{
    if (c->failed && c->refs == 0 && !c->zombie) {
        c->zombie = 1;
        c->znext = c->srv->conns_dead;
        c->srv->conns_dead = c;
    }
}

static void conn_unmap(struct srv_conn *c)
{
    if (!c->mapped)
        return;
    struct srv_conn **pp = &c->srv->conn_table[conn_bucket(c->key)];
    while (*pp != c)
        pp = &(*pp)->hnext;
    *pp = c->hnext;
    c->hnext = NULL;
    c->mapped = 0;
}

static void local_set_events(struct srv_conn *c);

/* Read c again from the loop (conns_reread), even without an epoll event. */
static void conn_reread(struct srv_conn *c)
{
    if (c->reread_queued)
        return;
    c->reread_queued = 1;
    c->refs++;
    c->rnext = c->srv->conns_reread;
    c->srv->conns_reread = c;
}

int conns_reread(struct server *s)
{
    int n = 0;
    struct srv_conn *list = s->conns_reread;
    s->conns_reread = NULL;
    while (list) {
        struct srv_conn *c = list;
        list = c->rnext;
        c->reread_queued = 0;
        conn_local_ready(c, EPOLLIN);
        conn_put(c);
        n++;
    }
    return n;
}

void conn_fail(struct srv_conn *c)
{
    if (c->failed)
        return;
    if (c->reading) { /* not under the reader's feet: conn_local_ready fails it after */
        c->fail_after_read = 1;
        return;
    }
    c->failed = 1;
    conn_unmap(c);
    if (c->kind == CONN_LOCAL && c->fd >= 0) {
        /* Closing the socket ends everything the kernel held for it; what we queued is
         * dropped (each reply frees its request: hold a reference meanwhile). */
        server_watch(c->srv, EPOLL_CTL_DEL, c->fd, 0, NULL);
        close(c->fd);
        c->fd = -1;
        c->refs++;
        bfs_lsock_fail(&c->out, ECONNRESET);
        if (c->in.in_frame && c->in.cookie) /* a request whose payload was still arriving */
            server_req_free(c->in.cookie);
        c->in.cookie = NULL;
        bfs_lsock_in_free(&c->in);
        c->refs--;
    }
    conn_maybe_dead(c);
}

void conn_put(struct srv_conn *c)
{
    c->refs--;
    if (c->kind == CONN_LOCAL && !c->failed && !(c->events & EPOLLIN))
        local_set_events(c); /* not read from: below the limits again? read on */
    conn_maybe_dead(c);
}

static struct srv_conn *conn_new(struct server *s, int kind)
{
    if (s->nconns >= CONN_MAX) {
        bfs_log_limited(&g_conn_log, BFS_LOG_WARN, "refusing a client: %u connections already",
                        s->nconns);
        return NULL;
    }
    struct srv_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->srv = s;
    c->kind = kind;
    c->fd = -1;
    c->poll.kind = POLL_CONN;
    c->poll.conn = c;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->nconns++;
    return c;
}

static void conn_unlink(struct srv_conn *c)
{
    struct server *s = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->nconns--;
}

static void *conn_close_ep(struct srv_conn *c)
{
    if (!c->ep)
        return NULL;
    ucp_request_param_t p = {
        .op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS,
        .flags = UCP_EP_CLOSE_FLAG_FORCE,
    };
    void *r = ucp_ep_close_nbx(c->ep, &p);
    c->ep = NULL;
    return r != NULL && !UCS_PTR_IS_ERR(r) ? r : NULL;
}

/* From the main loop: close (forced, without waiting) and free the dead connections. */
int conns_reap(struct server *s)
{
    int n = 0;
    while (s->conns_dead) {
        struct srv_conn *c = s->conns_dead;
        s->conns_dead = c->znext;
        conn_unlink(c);
        void *r = conn_close_ep(c);
        if (r)
            ucp_request_free(r); /* UCX releases it when the close completes */
        free(c);
        n++;
    }
    if (n)
        conns_listen_resume(s, 1); /* descriptors were freed */
    return n;
}

/* ---- UCX: connection requests on the listener ---- */

/* Our endpoint to a client failed (the client died, or the network did): its replies are
 * dropped; the endpoint is closed once nothing refers to it. */
static void ucx_conn_failed(void *arg, ucp_ep_h ep, ucs_status_t status)
{
    struct srv_conn *c = arg;
    (void)ep;
    if (c->failed)
        return;
    bfs_log_limited(&g_conn_log, BFS_LOG_INFO, "client connection lost: %s",
                    ucs_status_string(status));
    conn_fail(c);
}

/* Called from ucp_worker_progress: only note the request; the loop accepts it. */
void conns_listener_cb(ucp_conn_request_h req, void *arg)
{
    struct server *s = arg;
    struct pending_conn *p = malloc(sizeof *p);
    if (!p || s->conns_closing || s->npending_conns >= 1024) {
        free(p);
        ucp_listener_reject(s->tp.listener, req);
        return;
    }
    p->req = req;
    p->next = s->pending_conns;
    s->pending_conns = p;
    s->npending_conns++;
}

int conns_accept_pending(struct server *s)
{
    int n = 0;
    while (s->pending_conns) {
        struct pending_conn *p = s->pending_conns;
        s->pending_conns = p->next;
        s->npending_conns--;
        struct srv_conn *c = conn_new(s, CONN_UCX);
        if (!c) {
            ucp_listener_reject(s->tp.listener, p->req);
        } else if (bfs_transport_accept(&s->tp, p->req, ucx_conn_failed, c, &c->ep) != 0) {
            c->ep = NULL;
            c->failed = 1;
            conn_maybe_dead(c);
        } else {
            c->key = (uintptr_t)c->ep;
            unsigned b = conn_bucket(c->key);
            c->hnext = s->conn_table[b];
            s->conn_table[b] = c;
            c->mapped = 1;
        }
        free(p);
        n++;
    }
    return n;
}

/* ---- local sockets ---- */

#define LISTEN_PAUSE_MS 100

void conns_listen_pause(struct server *s)
{
    if (s->lsock_paused_until)
        return;
    server_watch(s, EPOLL_CTL_DEL, s->lsock_fd, 0, NULL);
    s->lsock_paused_until = bfs_mono_ms() + LISTEN_PAUSE_MS;
}

int conns_listen_resume(struct server *s, int force)
{
    if (!s->lsock_paused_until || (!force && bfs_mono_ms() < s->lsock_paused_until))
        return 0;
    s->lsock_paused_until = 0;
    server_watch(s, EPOLL_CTL_ADD, s->lsock_fd, EPOLLIN, &s->lsock_poll);
    return 1;
}

static int local_over_limits(const struct srv_conn *c)
{
    return c->nreqs >= CONN_MAX_INFLIGHT || c->out.bytes >= CONN_MAX_OUT_BYTES;
}

/* Read while the client stays within its limits; write while replies are queued. */
static void local_set_events(struct srv_conn *c)
{
    int paused = local_over_limits(c);
    uint32_t ev = (paused ? 0 : EPOLLIN) | (c->out.head ? EPOLLOUT : 0) | EPOLLRDHUP;
    /* Frames left in the staging buffer by a capped read raise no epoll event: read them
     * from the loop. (Not for a partial frame: the rest arrives with an event.) */
    if (!paused && !c->reading && c->staged_more)
        conn_reread(c);
    if (ev == c->events)
        return;
    c->events = ev;
    server_watch(c->srv, EPOLL_CTL_MOD, c->fd, ev, &c->poll);
}

int conns_accept_local(struct server *s)
{
    int n = 0;
    for (; n < 64; n++) {
        pid_t pid;
        uid_t uid;
        int fd = bfs_lsock_accept(s->lsock_fd, &pid, &uid);
        if (fd == -EAGAIN)
            break;
        if (fd < 0) {
            /* Out of descriptors (EMFILE, ENFILE...): the listening socket stays readable, so
             * stop watching it for a while rather than spin; waiting clients stay in the
             * backlog until then (or until a connection is freed). */
            bfs_log_limited(&g_conn_log, BFS_LOG_WARN, "local accept: %s", strerror(-fd));
            if (fd != -ECONNABORTED && fd != -EINTR)
                conns_listen_pause(s);
            break;
        }
        struct srv_conn *c = conn_new(s, CONN_LOCAL);
        if (!c) {
            close(fd);
            continue;
        }
        c->fd = fd;
        c->pid = pid;
        c->uid = uid;
        c->events = EPOLLIN | EPOLLRDHUP;
        if (server_watch(s, EPOLL_CTL_ADD, fd, c->events, &c->poll) != 0)
            conn_fail(c);
    }
    return n;
}

static void local_reply_written(void *arg, int err)
{
    (void)err; /* dropped with its connection: nobody is left to tell */
    server_req_free(arg);
}

/* Write what the socket takes now; a broken socket fails the connection. */
static void local_flush(struct srv_conn *c)
{
    int rc = bfs_lsock_flush(c->fd, &c->out);
    if (rc < 0)
        conn_fail(c);
    else
        local_set_events(c);
}

int conn_local_send(struct srv_conn *c, struct srv_req *req, size_t hlen, const void *data,
                    size_t data_len)
{
    if (bfs_lsock_queue(&c->out, req->reply_hdr, hlen, data, data_len, local_reply_written,
                        req) != 0)
        return -ENOMEM;
    if (c->reading) /* a refusal from inside the reader: written once it returns */
        return 0;
    c->refs++; /* local_flush may fail the connection, which frees req: keep c alive */
    local_flush(c);
    conn_put(c);
    return 0;
}

static void *local_begin(void *arg, const struct bfs_frame *f, const uint8_t *args,
                         void **cookie, int *err)
{
    struct srv_conn *c = arg;
    struct srv_req *req = server_req_new(c->srv, c, f, args);
    if (!req)
        return NULL; /* refused (a reply says why) or no memory: the payload is skipped */
    *cookie = req;
    if (!f->data_len)
        return NULL;
    req->data = buf_pool_get(&c->srv->bufs, f->data_len, &req->data_cap);
    if (!req->data) {
        *err = -ENOMEM; /* the stream cannot be skipped safely without reading it: close */
        server_req_free(req);
        *cookie = NULL;
        return NULL;
    }
    req->data_kind = DATA_POOL;
    return req->data;
}

static void local_end(void *arg, const struct bfs_frame *f, const uint8_t *args, void *cookie)
{
    (void)arg;
    (void)f;
    (void)args;
    if (cookie)
        server_enqueue(cookie);
}

static const struct bfs_lsock_handler local_handler = {.begin = local_begin, .end = local_end};

void conn_local_ready(struct srv_conn *c, uint32_t events)
{
    if (c->failed)
        return;
    c->refs++;
    if (events & EPOLLOUT)
        local_flush(c);
    if (!c->failed && (events & (EPOLLHUP | EPOLLRDHUP | EPOLLERR))) {
        /* The client closed or died: nobody will read the replies (and epoll would report
         * this again and again while we do not read). */
        conn_fail(c);
    } else if (!c->failed && (events & EPOLLIN) && !local_over_limits(c)) {
        /* Never more requests in progress than the limit, whatever is already staged. */
        int room = CONN_MAX_INFLIGHT - c->nreqs;
        int max = room < LOCAL_FRAMES_PER_WAKE ? room : LOCAL_FRAMES_PER_WAKE;
        int rc = 0;
        if (max > 0) {
            c->reading = 1;
            rc = bfs_lsock_read(c->fd, &c->in, BFS_OP__COUNT, max, &local_handler, c);
            c->reading = 0;
            c->staged_more = rc >= max; /* stopped by the cap, not by an empty socket */
        }
        if (c->fail_after_read)
            rc = rc < 0 ? rc : -ECONNRESET;
        if (rc < 0) {
            if (rc == -EPROTO) {
                c->srv->stats.rejected_frames++;
                bfs_log_limited(&c->srv->reject_log, BFS_LOG_WARN,
                                "closing local client pid %ld uid %lu: malformed frame",
                                (long)c->pid, (unsigned long)c->uid);
            }
            conn_fail(c);
        } else if (!c->failed) {
            local_flush(c); /* replies queued meanwhile (refusals); then sets the events */
        }
    }
    conn_put(c);
}

/* ---- shutdown ---- */

void server_conns_close(struct server *s)
{
    s->conns_closing = 1;
    while (s->pending_conns) {
        struct pending_conn *p = s->pending_conns;
        s->pending_conns = p->next;
        ucp_listener_reject(s->tp.listener, p->req);
        free(p);
    }
    size_t n = 0;
    for (struct srv_conn *c = s->conns; c; c = c->next)
        n++;
    void **reqs = n ? calloc(n, sizeof *reqs) : NULL;
    size_t k = 0;
    /* Close every endpoint first (completions may still run and touch the connections)... */
    for (struct srv_conn *c = s->conns; c; c = c->next) {
        if (c->kind == CONN_LOCAL) {
            conn_fail(c);
            continue;
        }
        void *r = conn_close_ep(c);
        if (r && reqs)
            reqs[k++] = r;
        else if (r)
            ucp_request_free(r);
    }
    int64_t deadline = bfs_mono_ms() + 1000;
    for (;;) {
        int busy = 0;
        for (size_t i = 0; i < k; i++)
            busy |= ucp_request_check_status(reqs[i]) == UCS_INPROGRESS;
        if (!busy || bfs_mono_ms() > deadline)
            break;
        bfs_transport_wait(&s->tp, 10);
    }
    for (size_t i = 0; i < k; i++)
        ucp_request_free(reqs[i]);
    free(reqs);
    /* ...then forget them: requests still alive no longer refer to them. */
    s->conns_gone = 1;
    while (s->conns) {
        struct srv_conn *c = s->conns;
        s->conns = c->next;
        free(c);
    }
    s->conns_dead = NULL;
    memset(s->conn_table, 0, sizeof s->conn_table);
}
