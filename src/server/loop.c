/* loop.c — the single-threaded event loop of benchfsd.
 *
 * One epoll set watches three descriptors: the UCX worker's wake-up fd, an eventfd that
 * io_uring signals on each completion, and a signalfd for SIGTERM/SIGINT. The loop drains UCX,
 * runs queued requests, reaps io_uring completions and submits new I/O in one batch, and only
 * then sleeps, so an idle server costs no CPU (servers share cores with the application). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "server.h"

/* ---- client connections (see struct srv_conn) ---- */

static unsigned conn_bucket(uintptr_t key)
{
    return (unsigned)(((uint64_t)key * 0x9E3779B97F4A7C15ull) >> 56) % SRV_CONN_BUCKETS;
}

static struct srv_conn *conn_lookup(struct server *s, ucp_ep_h reply_ep)
{
    uintptr_t key = (uintptr_t)reply_ep;
    for (struct srv_conn *c = s->conn_table[conn_bucket(key)]; c; c = c->hnext)
        if (c->key == key)
            return c;
    return NULL;
}

/* Unmapped and unreferenced: queue it for closing by the main loop (never close an endpoint
 * from inside a UCX callback). */
static void conn_maybe_dead(struct srv_conn *c)
{
    if (!c->mapped && c->refs == 0 && !c->zombie) {
        c->zombie = 1;
        c->znext = c->srv->conns_dead;
        c->srv->conns_dead = c;
    }
}

static void conn_unmap(struct srv_conn *c)
{
    if (c->mapped) {
        struct srv_conn **pp = &c->srv->conn_table[conn_bucket(c->key)];
        while (*pp != c)
            pp = &(*pp)->hnext;
        *pp = c->hnext;
        c->hnext = NULL;
        c->mapped = 0;
    }
    conn_maybe_dead(c);
}

static void conn_fail(struct srv_conn *c)
{
    c->failed = 1;
    conn_unmap(c);
}

static void conn_put(struct srv_conn *c)
{
    c->refs--;
    conn_maybe_dead(c);
}

/* UCX error handler of our own endpoint to a client: the client is gone. Replies still to be
 * sent on this connection are dropped; the endpoint is closed once nothing refers to it. */
static void conn_failed_cb(void *arg, ucp_ep_h ep, ucs_status_t status)
{
    struct srv_conn *c = arg;
    (void)ep;
    if (c->failed)
        return;
    LOG_INFO("client connection lost: %s", ucs_status_string(status));
    conn_fail(c);
}

/* A HELLO arrived on reply_ep: a new connection, mapped under that pointer value (taking the
 * key over from an older connection whose UCX endpoint had the same address). */
static struct srv_conn *conn_hello(struct server *s, ucp_ep_h reply_ep)
{
    struct srv_conn *old = conn_lookup(s, reply_ep);
    if (old)
        conn_unmap(old);
    struct srv_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->srv = s;
    c->key = (uintptr_t)reply_ep;
    unsigned b = conn_bucket(c->key);
    c->hnext = s->conn_table[b];
    s->conn_table[b] = c;
    c->mapped = 1;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    return c;
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

static void conn_unlink(struct srv_conn *c)
{
    struct server *s = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
}

/* From the main loop: close (forced, without waiting) and free the dead connections. */
static int reap_conns(struct server *s)
{
    int n = 0;
    while (s->conns_dead) {
        struct srv_conn *c = s->conns_dead;
        s->conns_dead = c->znext;
        conn_unlink(c);
        if (c->pid)
            s->nlocal_conns--;
        void *r = conn_close_ep(c);
        if (r)
            ucp_request_free(r); /* UCX releases it when the close completes */
        free(c);
        n++;
    }
    return n;
}

#define ALIVE_CHECK_MS 500 /* how often the pids of local clients are looked at */

/* Clients on this host talk over shared memory, where UCX reports no failures: a client
 * whose process is gone has its endpoint force-closed here (safe, the peer is dead), which
 * completes the replies UCX still held for it, and with them their buffers. */
static void watch_local_clients(struct server *s)
{
    int64_t now = bfs_mono_ms();
    if (!s->nlocal_conns || now < s->next_alive_check_ms)
        return;
    s->next_alive_check_ms = now + ALIVE_CHECK_MS;
    for (struct srv_conn *c = s->conns; c; c = c->next) {
        if (!c->pid || c->failed || !bfs_process_gone(c->pid))
            continue;
        LOG_INFO("client pid %ld is gone: closing its connection", (long)c->pid);
        void *r = conn_close_ep(c);
        if (r)
            ucp_request_free(r);
        conn_fail(c);
    }
}

void server_conns_close(struct server *s)
{
    s->conns_closing = 1;
    size_t n = 0;
    for (struct srv_conn *c = s->conns; c; c = c->next)
        n++;
    void **reqs = n ? calloc(n, sizeof *reqs) : NULL;
    size_t k = 0;
    /* Close every endpoint first (completions may still run and touch the connections)... */
    for (struct srv_conn *c = s->conns; c; c = c->next) {
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

/* ---- requests ---- */

static void req_free(struct srv_req *req)
{
    struct server *s = req->srv;
    if (req->conn && !s->conns_gone)
        conn_put(req->conn);
    if (req->data_kind == DATA_UCX)
        ucp_am_data_release(s->tp.worker, req->data);
    else if (req->data_kind == DATA_HEAP)
        free(req->data);
    else if (req->data_kind == DATA_POOL)
        buf_pool_put(&s->bufs, req->data, req->data_cap);
    if (req->io_buf_cap)
        buf_pool_put(&s->bufs, req->io_buf, req->io_buf_cap);
    else
        free(req->io_buf);
    free(req->args);
    s->reqs_live--;
    free(req);
}

static void enqueue(struct server *s, struct srv_req *req)
{
    req->next = NULL;
    if (s->ready_tail)
        s->ready_tail->next = req;
    else
        s->ready_head = req;
    s->ready_tail = req;
}

static void rndv_recv_done(void *request, ucs_status_t status, size_t length, void *user_data)
{
    (void)length;
    struct srv_req *req = user_data;
    if (status != UCS_OK)
        req->recv_status = bfs_ucs_errno(status);
    ucp_request_free(request);
    enqueue(req->srv, req);
}

/* Reply to a frame we refuse before it becomes a request (bad key, bad header). */
static void reject(struct server *s, ucp_ep_h ep, const struct bfs_frame *in, int err)
{
    struct srv_req *req = calloc(1, sizeof *req);
    if (!req)
        return;
    s->reqs_live++;
    req->srv = s;
    req->frame = *in;
    req->reply_ep = ep;
    req->t0 = bfs_mono_ns();
    server_reply(req, err, NULL, 0, NULL, 0);
}

/* HELLO's arguments: none (a client that says nothing of itself: watched by UCX), or the
 * client's pid, user id and host name. Returns the pid of a client on this host running as
 * our user (shared memory and CMA need both), 0 for any other, -1 for malformed arguments. */
static long hello_local_pid(const struct server *s, const void *args, size_t args_len)
{
    if (args_len == 0)
        return 0;
    struct bfs_rbuf r;
    char host[sizeof s->host];
    bfs_rb_init(&r, args, args_len);
    uint32_t pid = bfs_rb_u32(&r), uid = bfs_rb_u32(&r);
    bfs_rb_str(&r, host, sizeof host);
    if (!bfs_rb_done(&r) || pid == 0 || pid > INT32_MAX)
        return -1;
    return strcmp(host, s->host) == 0 && uid == (uint32_t)geteuid() ? (long)pid : 0;
}

static ucs_status_t am_request(struct server *s, const void *header, size_t header_length,
                               void *data, size_t length, const ucp_am_recv_param_t *param)
{
    struct bfs_frame f;
    int has_ep = (param->recv_attr & UCP_AM_RECV_ATTR_FIELD_REPLY_EP) != 0;
    int err = bfs_frame_decode(header, header_length, length, BFS_OP__COUNT, &f);
    if (err) {
        s->stats.rejected_frames++;
        LOG_WARN("rejected a malformed request (%zu header bytes, %zu data bytes): %s",
                 header_length, length, strerror(-err));
        /* Answer only when the header itself was sound enough to name a request. */
        if (has_ep && header_length >= BFS_HDR_LEN && f.magic == BFS_MAGIC)
            reject(s, param->reply_ep, &f, -err);
        return UCS_OK;
    }
    if (memcmp(f.key, s->key, BFS_KEY_LEN) != 0) {
        s->stats.rejected_key++;
        LOG_WARN("rejected a %s request with a wrong cluster key", bfs_op_name(f.opcode));
        if (has_ep)
            reject(s, param->reply_ep, &f, EACCES);
        return UCS_OK;
    }
    if (!has_ep) {
        s->stats.rejected_frames++;
        LOG_WARN("rejected a request sent without a reply endpoint");
        return UCS_OK;
    }
    struct srv_req *req = calloc(1, sizeof *req);
    if (!req)
        return UCS_OK; /* the client times out; we stay up */
    s->reqs_live++;
    req->srv = s;
    req->frame = f;
    req->reply_ep = param->reply_ep;
    req->t0 = bfs_mono_ns();
    req->dirfd = -1;
    /* The connection this request came on, if it said HELLO (or says it now). */
    struct srv_conn *cn = NULL;
    if (f.opcode != BFS_OP_HELLO)
        cn = conn_lookup(s, param->reply_ep);
    else if (length > 0 && hello_local_pid(s, (const uint8_t *)header + BFS_HDR_LEN,
                                           f.args_len) >= 0)
        cn = conn_hello(s, param->reply_ep);
    if (cn) {
        cn->refs++;
        req->conn = cn;
    }
    if (f.args_len) {
        req->args = malloc(f.args_len);
        if (!req->args) {
            server_reply(req, ENOMEM, NULL, 0, NULL, 0);
            return UCS_OK;
        }
        memcpy(req->args, (const uint8_t *)header + BFS_HDR_LEN, f.args_len);
    }
    req->data_len = length;
    ucs_status_t ret = UCS_OK;
    if (length == 0) {
        enqueue(s, req);
    } else if (param->recv_attr & UCP_AM_RECV_ATTR_FLAG_RNDV) {
        /* Rendezvous: pull the payload straight into the buffer the write will use. */
        req->data = buf_pool_get(&s->bufs, length, &req->data_cap);
        if (!req->data) {
            server_reply(req, ENOMEM, NULL, 0, NULL, 0);
            return UCS_OK;
        }
        req->data_kind = DATA_POOL;
        ucp_request_param_t rp = {
            .op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA,
            .cb.recv_am = rndv_recv_done,
            .user_data = req,
        };
        void *r = ucp_am_recv_data_nbx(s->tp.worker, data, req->data, length, &rp);
        if (r == NULL) {
            enqueue(s, req);
        } else if (UCS_PTR_IS_ERR(r)) {
            req->recv_status = bfs_ucs_errno(UCS_PTR_STATUS(r));
            enqueue(s, req);
        } /* else: rndv_recv_done enqueues it */
    } else if (param->recv_attr & UCP_AM_RECV_ATTR_FLAG_DATA) {
        req->data = data; /* keep UCX's buffer until the write is done: no copy */
        req->data_kind = DATA_UCX;
        ret = UCS_INPROGRESS;
        enqueue(s, req);
    } else {
        req->data = malloc(length);
        if (!req->data) {
            server_reply(req, ENOMEM, NULL, 0, NULL, 0);
            return UCS_OK;
        }
        memcpy(req->data, data, length);
        req->data_kind = DATA_HEAP;
        enqueue(s, req);
    }
    return ret;
}

static ucs_status_t am_request_cb(void *arg, const void *header, size_t header_length,
                                  void *data, size_t length, const ucp_am_recv_param_t *param)
{
    struct server *s = arg;
    if (s->conns_closing)
        return UCS_OK; /* the loop has stopped: nobody would handle it */
    s->in_am_cb = 1; /* param->reply_ep is valid until we return */
    ucs_status_t st = am_request(s, header, header_length, data, length, param);
    s->in_am_cb = 0;
    return st;
}

static void reply_sent(void *request, ucs_status_t status, void *user_data)
{
    struct srv_req *req = user_data;
    if (status != UCS_OK)
        LOG_INFO("reply to %s request %llu not delivered: %s", bfs_op_name(req->frame.opcode),
                 (unsigned long long)req->frame.reqid, ucs_status_string(status));
    ucp_request_free(request);
    req_free(req);
}

void server_reply(struct srv_req *req, int status, const void *args, size_t args_len,
                  void *data, size_t data_len)
{
    struct server *s = req->srv;
    if (args_len > REPLY_ARGS_MAX) { /* a handler bug; never send garbage */
        LOG_ERR("reply args too long for %s", bfs_op_name(req->frame.opcode));
        status = EIO;
        args_len = 0;
    }
    if (status) {
        data = NULL;
        data_len = 0;
        args_len = 0;
    }
    stats_record(&s->stats, req->frame.opcode, status, req->bytes_in, data_len,
                 bfs_mono_ns() - req->t0);
    /* The request payload is no longer needed: give UCX its buffer back early. */
    if (req->data_kind == DATA_UCX) {
        ucp_am_data_release(s->tp.worker, req->data);
        req->data_kind = DATA_NONE;
    }
    struct bfs_frame f = {
        .magic = BFS_MAGIC,
        .version = BFS_WIRE_VERSION,
        .opcode = req->frame.opcode,
        .reqid = req->frame.reqid,
        .status = status,
        .args_len = (uint32_t)args_len,
        .data_len = data_len,
    };
    bfs_frame_encode(&f, req->reply_hdr);
    if (args_len)
        memcpy(req->reply_hdr + BFS_HDR_LEN, args, args_len);
    ucp_request_param_t p = {
        .op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA |
                        UCP_OP_ATTR_FIELD_FLAGS,
        .cb.send = reply_sent,
        .user_data = req,
        .flags = data_len >= s->cfg.eager_threshold ? UCP_AM_SEND_FLAG_RNDV
                                                    : UCP_AM_SEND_FLAG_EAGER,
    };
    ucp_ep_h ep = req->reply_ep;
    struct srv_conn *cn = req->conn;
    if (cn && !s->conns_gone) {
        /* No endpoint of our own when replying to the HELLO, or after it was handled: the
         * HELLO failed, and the connection with it. */
        if (!cn->ep && (req->frame.opcode == BFS_OP_HELLO || !s->in_am_cb))
            conn_fail(cn);
        if (cn->failed) {
            LOG_DEBUG("dropping the reply to %s request %llu: its client is gone",
                      bfs_op_name(req->frame.opcode), (unsigned long long)req->frame.reqid);
            req_free(req);
            return;
        }
        if (cn->ep)
            ep = cn->ep;
        /* else: still inside the AM callback, before the HELLO ran: reply_ep is valid */
    }
    void *r = ucp_am_send_nbx(ep, BFS_AM_REPLY, req->reply_hdr,
                              BFS_HDR_LEN + args_len, data, data_len, &p);
    if (r == NULL) {
        req_free(req);
    } else if (UCS_PTR_IS_ERR(r)) {
        LOG_INFO("reply send failed: %s", ucs_status_string(UCS_PTR_STATUS(r)));
        req_free(req);
    }
}

void server_hello(struct srv_req *req)
{
    struct server *s = req->srv;
    struct srv_conn *cn = req->conn;
    long pid = hello_local_pid(s, req->args, req->frame.args_len);
    if (!cn) { /* bad arguments or no address (or no memory for the connection) */
        server_reply(req, !req->data_len || pid < 0 ? EPROTO : ENOMEM, NULL, 0, NULL, 0);
        return;
    }
    /* A client on this host gets a shared-memory endpoint, and is watched by its pid
     * (UCX cannot watch such an endpoint); any other gets UCX's peer-failure handling. */
    if (pid > 0) {
        cn->pid = (pid_t)pid;
        s->nlocal_conns++;
    }
    int err = bfs_transport_connect(&s->tp, req->data, req->data_len, pid == 0, conn_failed_cb,
                                    cn, &cn->ep);
    if (err) {
        cn->ep = NULL;
        LOG_WARN("cannot connect back to a client: %s", strerror(-err));
    }
    server_reply(req, err ? -err : 0, NULL, 0, NULL, 0); /* dropped if that failed */
}

void server_done_silently(struct srv_req *req, int status)
{
    stats_record(&req->srv->stats, req->frame.opcode, status, req->bytes_in, 0,
                 bfs_mono_ns() - req->t0);
    req_free(req);
}

struct io_uring_sqe *server_sqe(struct server *s, struct srv_req *req)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&s->ring);
    if (!sqe) {
        io_uring_submit(&s->ring);
        s->sqes_unsubmitted = 0;
        sqe = io_uring_get_sqe(&s->ring);
        if (!sqe)
            return NULL;
    }
    io_uring_sqe_set_data(sqe, req);
    s->sqes_unsubmitted++;
    s->io_inflight++;
    return sqe;
}

static int reap_completions(struct server *s)
{
    struct io_uring_cqe *cqe;
    unsigned head, n = 0;
    io_uring_for_each_cqe(&s->ring, head, cqe)
    {
        struct srv_req *req = io_uring_cqe_get_data(cqe);
        int res = cqe->res;
        n++;
        s->io_inflight--;
        /* Advance first: the continuation may queue more I/O. */
        io_uring_cq_advance(&s->ring, 1);
        if (req) /* NULL: a write-behind or prefetch hint nobody waits for */
            req->io_done(req, res);
    }
    return (int)n;
}

static void drain_fd(int fd)
{
    uint8_t buf[256];
    while (read(fd, buf, sizeof buf) > 0)
        ;
}

/* One of the loop's own fds is readable: io_uring completions, or a signal. */
static void loop_fd_ready(struct server *s, int fd)
{
    if (fd == s->ring_efd) {
        drain_fd(s->ring_efd);
    } else if (fd == s->sig_fd) {
        struct signalfd_siginfo si;
        if (read(s->sig_fd, &si, sizeof si) == (ssize_t)sizeof si) {
            LOG_INFO("signal %u: shutting down", si.ssi_signo);
            s->stopping = 1;
        }
    }
}

void server_block_signals(void)
{
    /* Before any thread exists (UCX starts its own): every thread inherits the mask, so the
     * signals can only arrive through the loop's signalfd. */
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    pthread_sigmask(SIG_BLOCK, &mask, NULL);
}

int server_ring_init(struct server *s)
{
    int err = io_uring_queue_init(s->cfg.queue_depth, &s->ring, 0);
    if (err) {
        LOG_ERR("io_uring_queue_init: %s", strerror(-err));
        return err;
    }
    s->ring_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (s->ring_efd < 0 || io_uring_register_eventfd(&s->ring, s->ring_efd) != 0) {
        LOG_ERR("io_uring eventfd: %s", strerror(errno));
        return -EIO;
    }
    return 0;
}

static int setup_epoll(struct server *s)
{
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    s->sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (s->sig_fd < 0 || s->epfd < 0)
        return -errno;
    int fds[3] = {s->tp.efd, s->ring_efd, s->sig_fd};
    for (int i = 0; i < 3; i++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fds[i]};
        if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fds[i], &ev) != 0)
            return -errno;
    }
    ucp_am_handler_param_t hp = {
        .field_mask = UCP_AM_HANDLER_PARAM_FIELD_ID | UCP_AM_HANDLER_PARAM_FIELD_CB |
                      UCP_AM_HANDLER_PARAM_FIELD_ARG | UCP_AM_HANDLER_PARAM_FIELD_FLAGS,
        .id = BFS_AM_REQUEST,
        .flags = UCP_AM_FLAG_WHOLE_MSG | UCP_AM_FLAG_PERSISTENT_DATA,
        .cb = am_request_cb,
        .arg = s,
    };
    ucs_status_t st = ucp_worker_set_am_recv_handler(s->tp.worker, &hp);
    if (st != UCS_OK) {
        LOG_ERR("ucp_worker_set_am_recv_handler: %s", ucs_status_string(st));
        return -EIO;
    }
    return 0;
}

int server_loop_run(struct server *s)
{
    int err = setup_epoll(s);
    if (err)
        return err;
    gethostname(s->host, sizeof s->host - 1);
    int64_t stop_deadline = 0;
    unsigned arm_busy = 0; /* ucp_worker_arm said BUSY this many times in a row */
    for (;;) {
        int work = 0;
        for (int i = 0; i < 64 && ucp_worker_progress(s->tp.worker); i++)
            work = 1;
        while (s->ready_head) {
            struct srv_req *req = s->ready_head;
            s->ready_head = req->next;
            if (!s->ready_head)
                s->ready_tail = NULL;
            handle_request(req);
            work = 1;
        }
        if (reap_completions(s))
            work = 1;
        watch_local_clients(s);
        if (s->conns_dead && reap_conns(s))
            work = 1;
        if (s->sqes_unsubmitted) {
            io_uring_submit(&s->ring);
            s->sqes_unsubmitted = 0;
            work = 1;
        }
        if (s->stopping) {
            /* Finish what is in flight (bounded), then leave. */
            if (!stop_deadline)
                stop_deadline = bfs_mono_ms() + 5000;
            if ((s->io_inflight == 0 && !s->ready_head) || bfs_mono_ms() > stop_deadline)
                break;
        }
        if (work || s->cfg.busy_poll) {
            arm_busy = 0;
            continue;
        }
        int timeout = s->stopping ? 10 : (s->nlocal_conns ? ALIVE_CHECK_MS : -1);
        if (ucp_worker_arm(s->tp.worker) == UCS_ERR_BUSY) {
            /* UCX holds sends it cannot start yet, typically replies to a client on this host
             * that is not draining its shared-memory queue. Retrying in a tight loop would
             * take a core from the job and keep signals from being read: after a few tries,
             * sleep 1 ms between them, watching only the signal and io_uring fds (UCX's own
             * stays readable while it is in this state, so epoll would not sleep). */
            if (++arm_busy < 64)
                continue;
            struct pollfd pf[2] = {{.fd = s->sig_fd, .events = POLLIN},
                                   {.fd = s->ring_efd, .events = POLLIN}};
            if (poll(pf, 2, 1) > 0)
                for (int i = 0; i < 2; i++)
                    if (pf[i].revents & POLLIN)
                        loop_fd_ready(s, pf[i].fd);
            continue;
        }
        arm_busy = 0;
        if (io_uring_cq_ready(&s->ring))
            continue;
        struct epoll_event evs[4];
        int n = epoll_wait(s->epfd, evs, 4, timeout);
        for (int i = 0; i < n; i++)
            loop_fd_ready(s, evs[i].data.fd);
    }
    return 0;
}
