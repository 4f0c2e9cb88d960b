/* SPDX-License-Identifier: BSD-3-Clause */
/* loop.c — the single-threaded event loop of benchfsd.
 *
 * One epoll set watches the UCX worker's wake-up fd, an eventfd that io_uring signals on each
 * completion, a signalfd for SIGTERM/SIGINT, the local socket and each local client's
 * connection (conns.c). The loop drains UCX, runs queued requests, reaps io_uring completions
 * and submits new I/O in one batch, and only then sleeps, so an idle server costs no CPU
 * (servers share cores with the application). */
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

/* ---- requests ---- */

void server_req_free(struct srv_req *req)
{
    struct server *s = req->srv;
    if (req->conn && !s->conns_gone) {
        req->conn->nreqs--;
        conn_put(req->conn);
    }
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

void server_enqueue(struct srv_req *req)
{
    struct server *s = req->srv;
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
    server_enqueue(req);
}

static struct bfs_log_limit g_key_log = BFS_LOG_LIMIT("frames with a wrong key", 10);

/* Reply to a frame we refuse before it becomes a request (bad header, unknown endpoint): on
 * its connection if it has one, else (UCX) on the reply endpoint, inside the AM callback. */
static void reject(struct server *s, struct srv_conn *c, ucp_ep_h ep, const struct bfs_frame *in,
                   int err)
{
    struct srv_req *req = calloc(1, sizeof *req);
    if (!req)
        return;
    s->reqs_live++;
    req->srv = s;
    req->frame = *in;
    req->reply_ep = ep;
    req->t0 = bfs_mono_ns();
    req->dirfd = -1;
    if (c) {
        c->refs++;
        c->nreqs++;
        req->conn = c;
    }
    server_reply(req, err, NULL, 0, NULL, 0);
}

struct srv_req *server_req_new(struct server *s, struct srv_conn *c, const struct bfs_frame *f,
                               const uint8_t *args)
{
    if (memcmp(f->key, s->key, BFS_KEY_LEN) != 0) {
        s->stats.rejected_key++;
        bfs_log_limited(&g_key_log, BFS_LOG_WARN, "rejected a %s request with a wrong cluster key",
                        bfs_op_name(f->opcode));
        reject(s, c, NULL, f, EACCES);
        return NULL;
    }
    struct srv_req *req = calloc(1, sizeof *req);
    if (!req)
        return NULL; /* the client times out; we stay up */
    s->reqs_live++;
    req->srv = s;
    req->frame = *f;
    req->t0 = bfs_mono_ns();
    req->dirfd = -1;
    c->refs++;
    c->nreqs++;
    req->conn = c;
    req->data_len = f->data_len;
    if (f->args_len) {
        req->args = malloc(f->args_len);
        if (!req->args) {
            server_reply(req, ENOMEM, NULL, 0, NULL, 0);
            return NULL;
        }
        memcpy(req->args, args, f->args_len);
    }
    return req;
}

static ucs_status_t am_request(struct server *s, const void *header, size_t header_length,
                               void *data, size_t length, const ucp_am_recv_param_t *param)
{
    struct bfs_frame f;
    int has_ep = (param->recv_attr & UCP_AM_RECV_ATTR_FIELD_REPLY_EP) != 0;
    int err = bfs_frame_decode(header, header_length, length, BFS_OP__COUNT, &f);
    if (err) {
        s->stats.rejected_frames++;
        bfs_log_limited(&s->reject_log, BFS_LOG_WARN,
                        "rejected a malformed request (%zu header bytes, %zu data bytes): %s",
                        header_length, length, strerror(-err));
        /* Answer only when the header itself was sound enough to name a request. */
        if (has_ep && header_length >= BFS_HDR_LEN && f.magic == BFS_MAGIC)
            reject(s, NULL, param->reply_ep, &f, -err);
        return UCS_OK;
    }
    /* Only connections accepted from our listener are served: their endpoints are ours, so a
     * reply sent later never uses an endpoint UCX may have destroyed meanwhile. */
    struct srv_conn *cn = has_ep ? conn_lookup(s, param->reply_ep) : NULL;
    if (!cn || cn->failed) {
        s->stats.rejected_frames++;
        bfs_log_limited(&s->reject_log, BFS_LOG_WARN,
                        "rejected a %s request from a peer that did not connect to the listener",
                        bfs_op_name(f.opcode));
        if (has_ep)
            reject(s, NULL, param->reply_ep, &f, EPROTO);
        return UCS_OK;
    }
    struct srv_req *req = server_req_new(s, cn, &f, (const uint8_t *)header + BFS_HDR_LEN);
    if (!req)
        return UCS_OK;
    ucs_status_t ret = UCS_OK;
    if (length == 0) {
        server_enqueue(req);
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
            server_enqueue(req);
        } else if (UCS_PTR_IS_ERR(r)) {
            req->recv_status = bfs_ucs_errno(UCS_PTR_STATUS(r));
            server_enqueue(req);
        } /* else: rndv_recv_done enqueues it */
    } else if (param->recv_attr & UCP_AM_RECV_ATTR_FLAG_DATA) {
        req->data = data; /* keep UCX's buffer until the write is done: no copy */
        req->data_kind = DATA_UCX;
        ret = UCS_INPROGRESS;
        server_enqueue(req);
    } else {
        req->data = malloc(length);
        if (!req->data) {
            server_reply(req, ENOMEM, NULL, 0, NULL, 0);
            return UCS_OK;
        }
        memcpy(req->data, data, length);
        req->data_kind = DATA_HEAP;
        server_enqueue(req);
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
    server_req_free(req);
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
        if (cn->failed) {
            LOG_DEBUG("dropping the reply to %s request %llu: its client is gone",
                      bfs_op_name(req->frame.opcode), (unsigned long long)req->frame.reqid);
            server_req_free(req);
            return;
        }
        if (cn->kind == CONN_LOCAL) {
            if (conn_local_send(cn, req, BFS_HDR_LEN + args_len, data, data_len) != 0)
                server_req_free(req);
            return;
        }
        ep = cn->ep;
    } else if (!cn && !s->in_am_cb) {
        server_req_free(req); /* a reject whose reply endpoint is no longer ours to use */
        return;
    }
    void *r = ucp_am_send_nbx(ep, BFS_AM_REPLY, req->reply_hdr,
                              BFS_HDR_LEN + args_len, data, data_len, &p);
    if (r == NULL) {
        server_req_free(req);
    } else if (UCS_PTR_IS_ERR(r)) {
        LOG_INFO("reply send failed: %s", ucs_status_string(UCS_PTR_STATUS(r)));
        server_req_free(req);
    }
}

void server_done_silently(struct srv_req *req, int status)
{
    stats_record(&req->srv->stats, req->frame.opcode, status, req->bytes_in, 0,
                 bfs_mono_ns() - req->t0);
    server_req_free(req);
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

static struct srv_poll g_poll_ucx = {.kind = POLL_UCX}, g_poll_ring = {.kind = POLL_RING},
                      g_poll_sig = {.kind = POLL_SIGNAL};

static void poll_ready(struct server *s, const struct srv_poll *p, uint32_t events)
{
    switch (p->kind) {
    case POLL_RING: drain_fd(s->ring_efd); break;
    case POLL_SIGNAL: {
        struct signalfd_siginfo si;
        if (read(s->sig_fd, &si, sizeof si) == (ssize_t)sizeof si) {
            LOG_INFO("signal %u: shutting down", si.ssi_signo);
            s->stopping = 1;
        }
        break;
    }
    case POLL_LISTEN_LOCAL: conns_accept_local(s); break;
    case POLL_CONN: conn_local_ready(p->conn, events); break;
    case POLL_UCX: break; /* the loop progresses the worker */
    }
}

/* Handle what one of the two epoll sets (setup_epoll) has ready, waiting up to timeout ms. */
static void poll_set(struct server *s, int epfd, int timeout)
{
    struct epoll_event evs[64];
    int n = epoll_wait(epfd, evs, 64, timeout);
    for (int i = 0; i < n; i++)
        poll_ready(s, evs[i].data.ptr, evs[i].events);
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

/* Two epoll sets: epfd_top holds every descriptor the loop sleeps on, UCX's included, so one
 * epoll_wait says what is ready; epfd holds the same but UCX's. While UCX stays busy its fd
 * stays readable, and the loop can then still sleep on epfd (signals, io_uring, the local
 * socket and its clients) without spinning. */
int server_watch(struct server *s, int op, int fd, uint32_t events, struct srv_poll *tag)
{
    struct epoll_event ev = {.events = events, .data.ptr = tag};
    int a = epoll_ctl(s->epfd, op, fd, &ev), b = epoll_ctl(s->epfd_top, op, fd, &ev);
    return a == 0 && b == 0 ? 0 : -errno;
}

static int setup_epoll(struct server *s)
{
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    s->lsock_poll.kind = POLL_LISTEN_LOCAL;
    s->sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    s->epfd_top = epoll_create1(EPOLL_CLOEXEC);
    if (s->sig_fd < 0 || s->epfd < 0 || s->epfd_top < 0)
        return -errno;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &g_poll_ucx};
    if (epoll_ctl(s->epfd_top, EPOLL_CTL_ADD, s->tp.efd, &ev) != 0 ||
        server_watch(s, EPOLL_CTL_ADD, s->ring_efd, EPOLLIN, &g_poll_ring) != 0 ||
        server_watch(s, EPOLL_CTL_ADD, s->sig_fd, EPOLLIN, &g_poll_sig) != 0 ||
        server_watch(s, EPOLL_CTL_ADD, s->lsock_fd, EPOLLIN, &s->lsock_poll) != 0)
        return -errno;
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
    int64_t stop_deadline = 0;
    unsigned arm_busy = 0; /* ucp_worker_arm said BUSY this many times in a row */
    unsigned busy_rounds = 0; /* rounds in a row that found work */
    int64_t last_work_ns = 0;
    for (;;) {
        int work = 0;
        for (int i = 0; i < 64 && ucp_worker_progress(s->tp.worker); i++)
            work = 1;
        if (s->pending_conns && conns_accept_pending(s))
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
        if (s->conns_dead && conns_reap(s))
            work = 1;
        if (s->conns_reread && conns_reread(s))
            work = 1;
        if (s->lsock_paused_until && conns_listen_resume(s, 0))
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
        if (s->cfg.spin_us) {
            /* Just served something: the same client's next request usually follows within
             * microseconds; polling a little longer saves both sides a sleep and a wake-up. */
            int64_t now = bfs_mono_ns();
            if (work) {
                last_work_ns = now;
            } else if (now - last_work_ns < (int64_t)s->cfg.spin_us * 1000) {
                poll_set(s, s->epfd_top, 0);
                continue;
            }
        }
        if (work || s->cfg.busy_poll) {
            arm_busy = 0;
            /* While UCX keeps the loop busy, still look at the local clients now and then. */
            if (++busy_rounds % 16 == 0)
                poll_set(s, s->epfd, 0);
            continue;
        }
        busy_rounds = 0;
        int timeout = s->stopping ? 10 : -1;
        if (s->lsock_paused_until) /* wake to watch the listener again */
            timeout = (int)(s->lsock_paused_until > bfs_mono_ms()
                                ? s->lsock_paused_until - bfs_mono_ms() + 1 : 0);
        if (ucp_worker_arm(s->tp.worker) == UCS_ERR_BUSY) {
            /* UCX holds sends it cannot start yet (a remote client that does not read its
             * replies). Retrying in a tight loop would take a core from the job: after a few
             * tries, sleep 1 ms between them on everything but UCX's fd (which stays readable
             * in this state), so signals, io_uring and local clients are still served. */
            poll_set(s, s->epfd, ++arm_busy < 64 ? 0 : 1);
            continue;
        }
        arm_busy = 0;
        if (io_uring_cq_ready(&s->ring))
            continue;
        poll_set(s, s->epfd_top, timeout);
    }
    return 0;
}
