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
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "server.h"

static void req_free(struct srv_req *req)
{
    struct server *s = req->srv;
    if (req->data_kind == DATA_UCX)
        ucp_am_data_release(s->tp.worker, req->data);
    else if (req->data_kind == DATA_HEAP)
        free(req->data);
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

static ucs_status_t am_request_cb(void *arg, const void *header, size_t header_length,
                                  void *data, size_t length, const ucp_am_recv_param_t *param)
{
    struct server *s = arg;
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
        if (posix_memalign(&req->data, 4096, length) != 0) {
            req->data = NULL;
            server_reply(req, ENOMEM, NULL, 0, NULL, 0);
            return UCS_OK;
        }
        req->data_kind = DATA_HEAP;
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
    void *r = ucp_am_send_nbx(req->reply_ep, BFS_AM_REPLY, req->reply_hdr,
                              BFS_HDR_LEN + args_len, data, data_len, &p);
    if (r == NULL) {
        req_free(req);
    } else if (UCS_PTR_IS_ERR(r)) {
        LOG_INFO("reply send failed: %s", ucs_status_string(UCS_PTR_STATUS(r)));
        req_free(req);
    }
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
        req->io_done(req, res);
    }
    return (int)n;
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

static void drain_fd(int fd)
{
    uint8_t buf[256];
    while (read(fd, buf, sizeof buf) > 0)
        ;
}

int server_loop_run(struct server *s)
{
    int err = setup_epoll(s);
    if (err)
        return err;
    int64_t stop_deadline = 0;
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
        if (work || s->cfg.busy_poll)
            continue;
        if (ucp_worker_arm(s->tp.worker) == UCS_ERR_BUSY)
            continue;
        if (io_uring_cq_ready(&s->ring))
            continue;
        struct epoll_event evs[4];
        int n = epoll_wait(s->epfd, evs, 4, s->stopping ? 10 : -1);
        for (int i = 0; i < n; i++) {
            if (evs[i].data.fd == s->ring_efd) {
                drain_fd(s->ring_efd);
            } else if (evs[i].data.fd == s->sig_fd) {
                struct signalfd_siginfo si;
                if (read(s->sig_fd, &si, sizeof si) == (ssize_t)sizeof si) {
                    LOG_INFO("signal %u: shutting down", si.ssi_signo);
                    s->stopping = 1;
                }
            }
        }
    }
    return 0;
}
