/* SPDX-License-Identifier: BSD-3-Clause */
/* rpc.c — client requests: to a server on this host over its local socket (rpc_local.c), to
 * any other over UCX Active Messages.
 *
 * Over UCX a call is one AM (header + args, payload as AM data: eager below the threshold,
 * rendezvous above), sent on an endpoint made through the server's listener. Replies arrive
 * in reply_cb, are matched by request id, and their payload is received straight into the
 * caller's buffer (for reads: the user's buffer). Waiting never spins: client_wait sleeps on
 * the worker's event fd and the local sockets. Every call has a deadline; a dead peer (UCX
 * reports it; a local socket reads end of file) fails its calls with EHOSTDOWN at once and is
 * reconnected on next use. UCX is started only when a server on another host is first
 * called: a process that talks to its own host only never pays for it. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "internal.h"
#include "net/registry.h"

/* What UCX's completion callbacks point at, instead of the call itself. A call given up at
 * its deadline while UCX still holds its request (a hung server on a shared-memory endpoint,
 * which cannot be force-closed safely while the server lives) detaches from its tickets; the
 * late callback then only frees the ticket, and the reply buffer it was left with. */
struct rpc_ticket {
    struct rpc *call; /* NULL once the call was abandoned */
    benchfs_t *fs;
    void *orphan;     /* an abandoned reply buffer UCX may still fill: freed with the ticket */
    uint8_t hdr[];    /* send tickets: the frame header and arguments UCX sends from */
};

#define ALIVE_CHECK_MS 100 /* how often direct chunk access looks at its server's socket */

static struct rpc **slot(benchfs_t *fs, uint64_t reqid)
{
    return &fs->table[reqid % RPC_TABLE_SLOTS];
}

static void table_add(benchfs_t *fs, struct rpc *c)
{
    struct rpc **s = slot(fs, c->reqid);
    c->hnext = *s;
    *s = c;
}

struct rpc *rpc_table_find(benchfs_t *fs, uint64_t reqid)
{
    for (struct rpc *c = *slot(fs, reqid); c; c = c->hnext)
        if (c->reqid == reqid)
            return c;
    return NULL;
}

struct rpc *rpc_table_take(benchfs_t *fs, uint64_t reqid)
{
    for (struct rpc **pp = slot(fs, reqid); *pp; pp = &(*pp)->hnext) {
        if ((*pp)->reqid == reqid) {
            struct rpc *c = *pp;
            *pp = c->hnext;
            c->hnext = NULL;
            return c;
        }
    }
    return NULL;
}

static void recv_done(void *request, ucs_status_t status, size_t length, void *user_data)
{
    struct rpc_ticket *t = user_data;
    struct rpc *c = t->call;
    if (c) {
        if (status != UCS_OK && !c->status)
            c->status = bfs_ucs_errno(status);
        c->rdata_len = length;
        c->recv_pending = 0;
        c->reply_done = 1;
        c->rticket = NULL;
    }
    free(t->orphan);
    free(t);
    ucp_request_free(request);
}

static ucs_status_t reply_cb(void *arg, const void *header, size_t header_length, void *data,
                             size_t length, const ucp_am_recv_param_t *param)
{
    benchfs_t *fs = arg;
    struct bfs_frame f;
    int err = bfs_frame_decode(header, header_length, length, BFS_OP__COUNT, &f);
    if (err) {
        LOG_WARN("dropping a malformed reply: %s", strerror(-err));
        return UCS_OK;
    }
    struct rpc *c = rpc_table_take(fs, f.reqid);
    if (!c)
        return UCS_OK; /* the call timed out already */
    if (f.opcode != c->op || f.args_len > RPC_REPLY_ARGS_MAX) {
        c->status = EPROTO;
        c->reply_done = 1;
        return UCS_OK;
    }
    c->status = f.status > 0 && f.status < 4096 ? f.status : (f.status ? EIO : 0);
    c->rargs_len = f.args_len;
    memcpy(c->rargs, (const uint8_t *)header + BFS_HDR_LEN, f.args_len);
    if (length == 0) {
        c->reply_done = 1;
        return UCS_OK;
    }
    void *dst = c->rbuf;
    if (dst && length > c->rcap) {
        c->status = EPROTO;
        c->reply_done = 1;
        return UCS_OK;
    }
    if (!dst) {
        dst = malloc(length);
        if (!dst) {
            c->status = ENOMEM;
            c->reply_done = 1;
            return UCS_OK;
        }
        c->rdata = dst;
        c->rdata_owned = 1;
    } else {
        c->rdata = dst;
    }
    c->rdata_len = length;
    if (param->recv_attr & UCP_AM_RECV_ATTR_FLAG_RNDV) {
        struct rpc_ticket *t = calloc(1, sizeof *t);
        if (!t) {
            c->status = ENOMEM;
            c->reply_done = 1;
            return UCS_OK;
        }
        t->call = c;
        t->fs = fs;
        ucp_request_param_t p = {
            .op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA,
            .cb.recv_am = recv_done,
            .user_data = t,
        };
        void *r = ucp_am_recv_data_nbx(fs->tp.worker, data, dst, length, &p);
        if (r == NULL || UCS_PTR_IS_ERR(r)) { /* done (or failed) at once: no callback */
            if (r != NULL)
                c->status = bfs_ucs_errno(UCS_PTR_STATUS(r));
            c->reply_done = 1;
            free(t);
        } else {
            c->recv_pending = 1;
            c->rticket = t;
        }
    } else {
        memcpy(dst, data, length);
        c->reply_done = 1;
    }
    return UCS_OK;
}

static void send_done(void *request, ucs_status_t status, void *user_data)
{
    struct rpc_ticket *t = user_data;
    struct rpc *c = t->call;
    if (c) {
        if (status != UCS_OK) {
            /* No reply will come: the call leaves the table now (it may return and be gone
             * before a reply with its id could be looked up). A send cancelled by closing a
             * failed endpoint reports why the endpoint failed. */
            struct conn *cn = &t->fs->conns[c->server];
            if (!c->status)
                c->status = status == UCS_ERR_CANCELED && cn->fail_status ? cn->fail_status
                                                                         : bfs_ucs_errno(status);
            if (!c->reply_done)
                rpc_table_take(t->fs, c->reqid);
            c->reply_done = 1;
        }
        c->send_done = 1;
        c->sticket = NULL;
    }
    free(t);
    ucp_request_free(request);
}

/* Give a call up: it no longer waits for UCX, whose callbacks find detached tickets. */
static void abandon(struct rpc *c)
{
    if (c->sticket) {
        c->sticket->call = NULL;
        c->sticket = NULL;
    }
    if (c->rticket) {
        c->rticket->call = NULL;
        if (c->rdata_owned) { /* UCX may still write there: the ticket frees it */
            c->rticket->orphan = c->rdata;
            c->rdata = NULL;
            c->rdata_owned = 0;
        }
        c->rticket = NULL;
    }
    c->send_done = c->reply_done = 1;
    c->recv_pending = 0;
}

static void ep_failed(void *arg, ucp_ep_h ep, ucs_status_t status)
{
    struct conn *cn = arg;
    (void)ep;
    LOG_INFO("connection failed: %s", ucs_status_string(status));
    cn->failed = 1;
    /* However UCX words it (reset, unreachable, an I/O error on connect), the server is not
     * there for us: EHOSTDOWN, as for a dead local server. */
    cn->fail_status = status == UCS_ERR_TIMED_OUT || status == UCS_ERR_ENDPOINT_TIMEOUT
                          ? ETIMEDOUT
                          : EHOSTDOWN;
}

int rpc_setup(benchfs_t *fs)
{
    ucp_am_handler_param_t hp = {
        .field_mask = UCP_AM_HANDLER_PARAM_FIELD_ID | UCP_AM_HANDLER_PARAM_FIELD_CB |
                      UCP_AM_HANDLER_PARAM_FIELD_ARG | UCP_AM_HANDLER_PARAM_FIELD_FLAGS,
        .id = BFS_AM_REPLY,
        .flags = UCP_AM_FLAG_WHOLE_MSG,
        .cb = reply_cb,
        .arg = fs,
    };
    return ucp_worker_set_am_recv_handler(fs->tp.worker, &hp) == UCS_OK ? 0 : -EIO;
}

/* UCX, started on first need (a server on another host). */
static int ucx_ready(benchfs_t *fs)
{
    if (fs->tp.worker)
        return 0;
    if (bfs_transport_init(&fs->tp) != 0 || rpc_setup(fs) != 0) {
        bfs_transport_fini(&fs->tp);
        return -EIO;
    }
    return 0;
}

/* Bumped in every child fork(2) makes (pthread_atfork), so a call notices a fork with one
 * load instead of a getpid system call per request. */
static atomic_uint fork_gen;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

static void child_after_fork(void) { atomic_fetch_add(&fork_gen, 1); }
static void watch_forks(void) { pthread_atfork(NULL, NULL, child_after_fork); }

void rpc_fork_watch(benchfs_t *fs)
{
    pthread_once(&fork_once, watch_forks);
    fs->fork_gen = atomic_load(&fork_gen);
}

/* In a forked child the local sockets are the parent's too: reading or writing them would
 * steal the parent's replies or break its frames. Let go of them without any I/O; the next
 * call reconnects. */
static void drop_inherited(benchfs_t *fs)
{
    unsigned gen = atomic_load_explicit(&fork_gen, memory_order_relaxed);
    if (gen == fs->fork_gen)
        return;
    fs->fork_gen = gen;
    pid_t me = getpid();
    if (me == fs->pid)
        return;
    fs->pid = me;
    for (uint32_t s = 0; s < fs->nservers; s++)
        lconn_close(&fs->conns[s], EHOSTDOWN);
}

static void conn_drop(benchfs_t *fs, struct conn *cn)
{
    if (cn->ep) {
        bfs_transport_close_ep(&fs->tp, cn->ep, 1);
        cn->ep = NULL;
    }
    lconn_close(cn, EHOSTDOWN);
}

int rpc_connect(benchfs_t *fs, uint32_t server)
{
    struct conn *cn = &fs->conns[server];
    drop_inherited(fs);
    if ((cn->ep || cn->fd >= 0) && !cn->failed)
        return 0;
    conn_drop(fs, cn);
    struct bfs_registry_entry e;
    int err = bfs_registry_read(fs->registry, server, &e);
    if (err)
        return bfs_fail(EHOSTDOWN, "server %u is not in the registry %s", server, fs->registry);
    local_read_forget(cn); /* a new incarnation may keep its chunks elsewhere */
    cn->failed = 0;
    cn->fail_status = 0;
    cn->gen++; /* calls still waiting on the previous connection are dead (expire) */
    cn->addr_hash = bfs_registry_incarnation(&e);
    cn->alive_check_ms = bfs_mono_ms() + ALIVE_CHECK_MS;
    /* Its local socket if it is in our network namespace (then it is on this host). */
    cn->local = 0;
    if (fs->same_host && e.local[0]) {
        err = lconn_open(fs, cn, e.local);
        /* A full backlog: the server lives but has not accepted yet. Wait, within a deadline. */
        for (int64_t until = bfs_mono_ms() + fs->rpc_timeout_ms;
             err == -EAGAIN && bfs_mono_ms() < until;) {
            usleep(1000);
            err = lconn_open(fs, cn, e.local);
        }
        if (err == 0) {
            cn->local = 1;
            return 0;
        }
        if (err != -ECONNREFUSED && err != -ENOENT) {
            cn->failed = 1;
            return bfs_fail(-err == EAGAIN ? ETIMEDOUT : -err,
                            "cannot connect to server %u on this host (%s)", server, e.local);
        }
        /* Refused: no such socket in our namespace. A server of this host whose process
         * is gone is down; any other is elsewhere, reached over UCX. */
        char host[sizeof e.host] = "";
        gethostname(host, sizeof host - 1);
        if (strcmp(host, e.host) == 0 && bfs_process_gone(e.pid)) {
            cn->failed = 1;
            return bfs_fail(EHOSTDOWN, "server %u (pid %ld on this host) is not running",
                            server, (long)e.pid);
        }
    }
    err = ucx_ready(fs);
    if (!err)
        err = bfs_transport_connect(&fs->tp, e.listen, ep_failed, cn, &cn->ep);
    if (err) {
        cn->ep = NULL;
        cn->failed = 1;
        return bfs_fail(-err, "cannot connect to server %u at %s", server, e.listen);
    }
    return 0;
}

void rpc_disconnect_all(benchfs_t *fs)
{
    for (uint32_t i = 0; i < fs->nservers; i++) {
        struct conn *cn = &fs->conns[i];
        if (cn->ep)
            bfs_transport_close_ep(&fs->tp, cn->ep, cn->failed);
        cn->ep = NULL;
        lconn_close(cn, ESHUTDOWN);
        local_read_forget(cn);
    }
}

/* Encode a request frame's header and arguments into out (BFS_HDR_LEN + args_len bytes). */
static void encode_request(benchfs_t *fs, uint8_t *out, uint16_t op, uint64_t reqid,
                           const void *args, size_t args_len, size_t data_len)
{
    struct bfs_frame f = {
        .magic = BFS_MAGIC,
        .version = BFS_WIRE_VERSION,
        .opcode = op,
        .reqid = reqid,
        .args_len = (uint32_t)args_len,
        .data_len = data_len,
    };
    memcpy(f.key, fs->key, BFS_KEY_LEN);
    bfs_frame_encode(&f, out);
    if (args_len)
        memcpy(out + BFS_HDR_LEN, args, args_len);
}

/* Send one request frame on ep: a ticket carries the header and arguments, which UCX sends
 * from until send_done frees it; the payload goes eager below the threshold, rendezvous above.
 * Returns 1 while UCX holds the ticket (*tp), 0 if the send completed at once, or -errno. */
static int send_frame(benchfs_t *fs, ucp_ep_h ep, struct rpc *call, uint16_t op, uint64_t reqid,
                      const void *args, size_t args_len, const void *data, size_t data_len,
                      struct rpc_ticket **tp)
{
    struct rpc_ticket *t = malloc(sizeof *t + BFS_HDR_LEN + args_len);
    if (!t)
        return -ENOMEM;
    t->call = call;
    t->fs = fs;
    t->orphan = NULL;
    encode_request(fs, t->hdr, op, reqid, args, args_len, data_len);
    ucp_request_param_t p = {
        .op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA |
                        UCP_OP_ATTR_FIELD_FLAGS,
        .cb.send = send_done,
        .user_data = t,
        .flags = UCP_AM_SEND_FLAG_REPLY | (data_len >= fs->eager_threshold
                                               ? UCP_AM_SEND_FLAG_RNDV
                                               : UCP_AM_SEND_FLAG_EAGER),
    };
    void *r = ucp_am_send_nbx(ep, BFS_AM_REQUEST, t->hdr, BFS_HDR_LEN + args_len, data,
                              data_len, &p);
    if (r == NULL || UCS_PTR_IS_ERR(r)) {
        free(t);
        return r == NULL ? 0 : -bfs_ucs_errno(UCS_PTR_STATUS(r));
    }
    *tp = t;
    return 1;
}

static void start(benchfs_t *fs, struct rpc *c)
{
    c->started = 1;
    c->status = 0;
    c->send_done = c->reply_done = c->recv_pending = 0;
    c->sticket = c->rticket = NULL;
    c->rdata = NULL;
    c->rdata_owned = 0;
    c->rdata_len = c->rargs_len = 0;
    c->deadline_ms = bfs_mono_ms() + fs->rpc_timeout_ms;
    if (c->server >= fs->nservers || rpc_connect(fs, c->server) != 0) {
        c->status = c->server >= fs->nservers ? EINVAL : EHOSTDOWN;
        c->sent_to = c->server < fs->nservers ? fs->conns[c->server].addr_hash : 0;
        c->send_done = c->reply_done = 1;
        return;
    }
    struct conn *cn = &fs->conns[c->server];
    c->sent_to = cn->addr_hash;
    c->conn_gen = cn->gen;
    c->reqid = ++fs->next_reqid;
    table_add(fs, c);
    if (cn->fd >= 0) {
        uint8_t hdr[BFS_HDR_LEN + BFS_MAX_ARGS];
        encode_request(fs, hdr, c->op, c->reqid, c->args, c->args_len, c->data_len);
        int err = c->args_len <= BFS_MAX_ARGS
                      ? lconn_send(cn, c, hdr, BFS_HDR_LEN + c->args_len, c->data, c->data_len)
                      : -EINVAL;
        c->send_done = 1; /* the payload is sent from the caller's buffer, which outlives it */
        if (err) {
            rpc_table_take(fs, c->reqid);
            c->status = -err;
            c->reply_done = 1;
        }
        return;
    }
    struct rpc_ticket *t = NULL;
    int rc = send_frame(fs, cn->ep, c, c->op, c->reqid, c->args, c->args_len, c->data,
                        c->data_len, &t);
    if (rc == 0) {
        c->send_done = 1;
    } else if (rc < 0) {
        rpc_table_take(fs, c->reqid);
        c->status = -rc;
        c->send_done = c->reply_done = 1;
    } else {
        c->sticket = t;
    }
}

static int finished(const struct rpc *c) { return c->send_done && c->reply_done && !c->recv_pending; }

/* Has a local server gone (end of file on its socket)? Looked at no more often than every
 * ALIVE_CHECK_MS, for callers that use its chunk files without calling it. */
void rpc_check_alive(benchfs_t *fs, uint32_t server)
{
    drop_inherited(fs);
    struct conn *cn = &fs->conns[server];
    int64_t now = bfs_mono_ms();
    if (cn->fd < 0 || cn->failed || now < cn->alive_check_ms)
        return;
    cn->alive_check_ms = now + ALIVE_CHECK_MS;
    lconn_progress(fs, cn);
}

/* Fail what cannot complete any more: calls past their deadline and calls to dead peers. */
static void expire(benchfs_t *fs, struct rpc *calls, size_t n, int64_t now)
{
    for (size_t i = 0; i < n; i++) {
        struct rpc *c = &calls[i];
        if (!c->started || c->reply_done)
            continue;
        struct conn *cn = &fs->conns[c->server];
        /* Dead: its connection failed, or was already replaced by a reconnect in this batch
         * (which only happens after a failure). */
        int replaced = c->conn_gen != cn->gen;
        int dead = cn->failed || replaced;
        if (!dead && now < c->deadline_ms)
            continue;
        rpc_table_take(fs, c->reqid);
        c->status = replaced ? EHOSTDOWN
                             : dead ? (cn->fail_status ? cn->fail_status : EHOSTDOWN) : ETIMEDOUT;
        if (!replaced)
            lconn_abandon(cn, c);
        abandon(c);
        if (dead)
            continue;
        LOG_WARN("%s to server %u timed out after %d ms", bfs_op_name(c->op), c->server,
                 fs->rpc_timeout_ms);
        /* A remote peer that does not answer is suspect: the endpoint is closed (cancelling
         * what UCX still holds) and the next call reconnects from the registry. A local
         * server that lives is only slow or stopped (its death would be end of file): its
         * connection stays, and its late replies are dropped by request id. */
        if (cn->ep) {
            cn->failed = 1;
            cn->fail_status = ETIMEDOUT;
        }
    }
    /* Close failed endpoints now, so UCX completes (with errors) what it still holds. */
    for (uint32_t s = 0; s < fs->nservers; s++) {
        struct conn *cn = &fs->conns[s];
        if (!cn->failed || !cn->ep)
            continue;
        for (size_t i = 0; i < n; i++) {
            if (calls[i].started && calls[i].server == s) {
                bfs_transport_close_ep(&fs->tp, cn->ep, 1);
                cn->ep = NULL;
                break;
            }
        }
    }
}

/* Move everything along without waiting: UCX, and each local connection's reads and
 * writes. Returns non-zero if anything happened. */
static int progress(benchfs_t *fs)
{
    int any = 0;
    if (fs->tp.worker)
        any |= ucp_worker_progress(fs->tp.worker) != 0;
    for (uint32_t s = 0; s < fs->nservers; s++)
        if (fs->conns[s].fd >= 0)
            any |= lconn_progress(fs, &fs->conns[s]);
    return any;
}

/* Sleep until UCX or a local socket has something, or timeout_ms pass. */
static void client_wait(benchfs_t *fs, int timeout_ms)
{
    /* First a short spin: a local server answers a metadata call in tens of microseconds,
     * less than this process's sleep and wake-up cost on a loaded or virtual machine. */
    if (fs->spin_us > 0 && timeout_ms > 0) {
        int64_t until = bfs_mono_ns() + (int64_t)fs->spin_us * 1000;
        do {
            if (progress(fs))
                return;
        } while (bfs_mono_ns() < until);
    }
    /* The caller has just progressed: whatever arrived since is still readable (sockets) or
     * makes the arm say BUSY (UCX), so poll cannot sleep through it. */
    struct pollfd pfd[RPC_POLL_MAX];
    nfds_t n = 0;
    if (fs->tp.worker) {
        if (ucp_worker_arm(fs->tp.worker) == UCS_ERR_BUSY)
            return; /* events arrived meanwhile: the caller progresses again */
        pfd[n++] = (struct pollfd){.fd = fs->tp.efd, .events = POLLIN};
    }
    for (uint32_t s = 0; s < fs->nservers && n < RPC_POLL_MAX; s++) {
        struct conn *cn = &fs->conns[s];
        if (cn->fd >= 0)
            pfd[n++] = (struct pollfd){.fd = cn->fd,
                                       .events = POLLIN | (cn->out.head ? POLLOUT : 0)};
    }
    if (n < RPC_POLL_MAX || timeout_ms < 10)
        poll(pfd, n, timeout_ms);
    else
        poll(pfd, n, 10); /* more local sockets than we watch (not a real layout): look often */
}

static void run_batch(benchfs_t *fs, struct rpc *calls, size_t n)
{
    drop_inherited(fs);
    size_t next = 0, inflight = 0, done = 0;
    for (size_t i = 0; i < n; i++)
        calls[i].started = 0;
    while (done < n) {
        while (next < n && inflight < RPC_WINDOW) {
            start(fs, &calls[next++]);
            inflight++;
        }
        progress(fs);
        int64_t now = bfs_mono_ms();
        expire(fs, calls, next, now);
        size_t d = 0;
        int64_t soonest = INT64_MAX;
        for (size_t i = 0; i < next; i++) {
            if (finished(&calls[i])) {
                d++;
            } else if (calls[i].deadline_ms < soonest) {
                soonest = calls[i].deadline_ms;
            }
        }
        inflight -= d - done;
        done = d;
        if (done < next) {
            int64_t wait = soonest - now;
            client_wait(fs, wait < 0 ? 0 : (int)wait);
        }
    }
}

/* Registry address hash of each server's current incarnation (0: unknown), read once per
 * retry pass: hashes[] is filled lazily, known[] tells which are. */
static uint64_t current_incarnation(benchfs_t *fs, uint32_t server, uint64_t *hashes, char *known)
{
    if (!known[server]) {
        struct bfs_registry_entry e;
        hashes[server] = 0;
        if (bfs_registry_read(fs->registry, server, &e) == 0)
            hashes[server] = bfs_registry_incarnation(&e);
        known[server] = 1;
    }
    return hashes[server];
}

/* Run the calls; then give calls that failed because their server was down (EHOSTDOWN, or
 * ETIMEDOUT where the transport cannot report a dead peer) one
 * more try if, meanwhile, the server has restarted (its registry address changed): such a
 * call went to the old incarnation's endpoint (typically a restart this client never saw,
 * detected only when sending), so the new incarnation has never seen it. */
void rpc_run(benchfs_t *fs, struct rpc *calls, size_t n)
{
    run_batch(fs, calls, n);
    size_t nretry = 0;
    for (size_t i = 0; i < n; i++)
        nretry += (calls[i].status == EHOSTDOWN || calls[i].status == ETIMEDOUT) &&
                  calls[i].server < fs->nservers;
    if (!nretry)
        return;
    uint64_t *hashes = calloc(fs->nservers, sizeof *hashes);
    char *known = calloc(fs->nservers, 1);
    struct rpc *again = calloc(nretry, sizeof *again);
    size_t *from = calloc(nretry, sizeof *from);
    size_t m = 0;
    int oom = !hashes || !known || !again || !from; /* then no retries: the failures stand */
    for (size_t i = 0; i < n && !oom; i++) {
        struct rpc *c = &calls[i];
        if ((c->status != EHOSTDOWN && c->status != ETIMEDOUT) || c->server >= fs->nservers)
            continue;
        uint64_t now_at = current_incarnation(fs, c->server, hashes, known);
        if (!now_at || now_at == c->sent_to)
            continue; /* still the incarnation that failed (or none): really down */
        if (fs->conns[c->server].addr_hash != now_at)
            fs->conns[c->server].failed = 1; /* reconnect to the new incarnation */
        rpc_release(c);
        again[m] = *c;
        from[m++] = i;
    }
    if (m) {
        LOG_INFO("retrying %zu call(s) on restarted server(s)", m);
        run_batch(fs, again, m);
        for (size_t k = 0; k < m; k++)
            calls[from[k]] = again[k];
    }
    free(hashes);
    free(known);
    free(again);
    free(from);
}

void rpc_hint(benchfs_t *fs, uint32_t server, uint16_t op, const void *args, size_t args_len)
{
    drop_inherited(fs);
    struct conn *cn = server < fs->nservers ? &fs->conns[server] : NULL;
    if (!cn || (!cn->ep && cn->fd < 0) || cn->failed || args_len > BFS_MAX_ARGS)
        return; /* not worth a connection, nor an error */
    if (cn->fd >= 0) {
        uint8_t hdr[BFS_HDR_LEN + BFS_MAX_ARGS];
        encode_request(fs, hdr, op, ++fs->next_reqid, args, args_len, 0);
        lconn_send(cn, NULL, hdr, BFS_HDR_LEN + args_len, NULL, 0);
        return;
    }
    /* Nobody waits: no table entry (a hint gets no reply; one to a malformed hint would be
     * dropped by request id), and send_done only frees the ticket. */
    struct rpc_ticket *t;
    send_frame(fs, cn->ep, NULL, op, ++fs->next_reqid, args, args_len, NULL, 0, &t);
}

int rpc_call(benchfs_t *fs, struct rpc *call)
{
    rpc_run(fs, call, 1);
    return -call->status;
}

struct rpc *rpc_run_all(benchfs_t *fs, uint16_t op)
{
    struct rpc *calls = calloc(fs->nservers, sizeof *calls);
    if (!calls)
        return NULL;
    for (uint32_t s = 0; s < fs->nservers; s++)
        calls[s] = (struct rpc){.server = s, .op = op};
    rpc_run(fs, calls, fs->nservers);
    return calls;
}

void rpc_release(struct rpc *call)
{
    if (call->rdata_owned)
        free(call->rdata);
    call->rdata = NULL;
    call->rdata_owned = 0;
}
