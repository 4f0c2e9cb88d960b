/* rpc.c — client requests over UCX Active Messages.
 *
 * A call is sent as one AM (header + args, payload as AM data: eager below the threshold,
 * rendezvous above). Replies arrive in reply_cb, are matched by request id, and their payload
 * is received straight into the caller's buffer (for reads: the user's buffer). Waiting never
 * spins: bfs_transport_wait sleeps on the worker's event fd. Every call has a deadline; a peer
 * that is dead fails its calls with EHOSTDOWN and is reconnected on next use. A server on
 * this host is reached over shared memory and CMA (an endpoint without UCX peer-failure
 * handling, which would force TCP loopback): its death shows as its pid being gone, checked
 * while calls wait; a remote server's death is reported by UCX. */
#include <errno.h>
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
    void *orphan;     /* an abandoned reply buffer UCX may still fill: freed with the ticket */
    uint8_t hdr[];    /* send tickets: the frame header and arguments UCX sends from */
};

#define ALIVE_CHECK_MS 100 /* how often a waiting call looks at a local server's pid */

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

static struct rpc *table_take(benchfs_t *fs, uint64_t reqid)
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
    struct rpc *c = table_take(fs, f.reqid);
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
            if (!c->status)
                c->status = bfs_ucs_errno(status);
            c->reply_done = 1; /* no reply will come */
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
    cn->fail_status = bfs_ucs_errno(status);
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

static void hello_sent(void *request, ucs_status_t status, void *user_data)
{
    (void)status; /* a failure shows on the endpoint: its error handler reconnects */
    (void)user_data;
    ucp_request_free(request);
}

/* Introduce ourselves on a new endpoint: the server then replies to everything sent on it
 * through an endpoint of its own to our worker (see HELLO in proto.h). Fire and forget: UCX
 * delivers the AMs of one endpoint in order, so the server sees it before any call; its
 * reply names request id 0, which reply_cb drops. */
static int send_hello(benchfs_t *fs, ucp_ep_h ep)
{
    if (!fs->self_addr) {
        int err = bfs_transport_address(&fs->tp, &fs->self_addr, &fs->self_addr_len);
        if (err)
            return err;
        /* Our pid and host: a server on the same host answers over shared memory and
         * watches the pid to notice our death (see rpc.c's header). Without them (shared
         * memory turned off) the server treats us as remote. */
        char host[64] = "";
        gethostname(host, sizeof host - 1);
        struct bfs_wbuf w;
        bfs_wb_init(&w, fs->hello_hdr + BFS_HDR_LEN, sizeof fs->hello_hdr - BFS_HDR_LEN);
        if (fs->same_host_shm) {
            bfs_wb_u32(&w, (uint32_t)getpid());
            bfs_wb_u32(&w, (uint32_t)geteuid());
            bfs_wb_str(&w, host);
        }
        struct bfs_frame f = {
            .magic = BFS_MAGIC,
            .version = BFS_WIRE_VERSION,
            .opcode = BFS_OP_HELLO,
            .reqid = 0,
            .args_len = (uint32_t)w.len,
            .data_len = fs->self_addr_len,
        };
        memcpy(f.key, fs->key, BFS_KEY_LEN);
        bfs_frame_encode(&f, fs->hello_hdr); /* the same for every endpoint: shared */
        fs->hello_len = BFS_HDR_LEN + w.len;
    }
    ucp_request_param_t p = {
        .op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_FLAGS,
        .cb.send = hello_sent,
        .flags = UCP_AM_SEND_FLAG_REPLY | UCP_AM_SEND_FLAG_EAGER,
    };
    void *r = ucp_am_send_nbx(ep, BFS_AM_REQUEST, fs->hello_hdr, fs->hello_len, fs->self_addr,
                              fs->self_addr_len, &p);
    if (UCS_PTR_IS_ERR(r))
        return -bfs_ucs_errno(UCS_PTR_STATUS(r));
    return 0;
}

/* Shared memory and CMA need the server on this host and running as our user: another
 * user's shared-memory segments cannot be attached, nor its memory read with CMA. The
 * server's user is the owner of its registry entry (it wrote the file). */
static int local_peer(benchfs_t *fs, uint32_t server, const struct bfs_registry_entry *e)
{
    char host[sizeof e->host], path[BFS_PATH_MAX + 32];
    if (!fs->same_host_shm || e->pid <= 0 || gethostname(host, sizeof host - 1) != 0)
        return 0;
    host[sizeof host - 1] = '\0';
    snprintf(path, sizeof path, "%s/server.%u", fs->registry, server);
    struct stat st;
    return strcmp(host, e->host) == 0 && stat(path, &st) == 0 && st.st_uid == geteuid();
}

int rpc_connect(benchfs_t *fs, uint32_t server)
{
    struct conn *cn = &fs->conns[server];
    if (cn->ep && !cn->failed)
        return 0;
    if (cn->ep) {
        bfs_transport_close_ep(&fs->tp, cn->ep, 1);
        cn->ep = NULL;
    }
    struct bfs_registry_entry e;
    int err = bfs_registry_read(fs->registry, server, &e);
    if (err)
        return bfs_fail(EHOSTDOWN, "server %u is not in the registry %s", server, fs->registry);
    local_read_forget(cn); /* a new incarnation may keep its chunks elsewhere */
    cn->local = local_peer(fs, server, &e);
    cn->pid = cn->local ? e.pid : 0;
    cn->alive_check_ms = bfs_mono_ms() + ALIVE_CHECK_MS;
    if (cn->local && bfs_process_gone(e.pid)) {
        /* A server on this host whose process is gone: fail now, not after a timeout. */
        pid_t pid = e.pid;
        bfs_registry_entry_free(&e);
        cn->failed = 1;
        return bfs_fail(EHOSTDOWN, "server %u (pid %ld on this host) is not running", server,
                        (long)pid);
    }
    cn->failed = 0;
    cn->fail_status = 0;
    cn->addr_hash = bfs_hash_bytes(e.addr, e.addr_len);
    err = bfs_transport_connect(&fs->tp, e.addr, e.addr_len, !cn->local, ep_failed, cn, &cn->ep);
    bfs_registry_entry_free(&e);
    if (!err) {
        err = send_hello(fs, cn->ep);
        if (err) {
            bfs_transport_close_ep(&fs->tp, cn->ep, 1);
            cn->ep = NULL;
        }
    }
    if (err) {
        cn->ep = NULL;
        return bfs_fail(-err, "cannot connect to server %u", server);
    }
    return 0;
}

void rpc_disconnect_all(benchfs_t *fs)
{
    for (uint32_t i = 0; i < fs->nservers; i++) {
        if (fs->conns[i].ep)
            bfs_transport_close_ep(&fs->tp, fs->conns[i].ep, fs->conns[i].failed);
        fs->conns[i].ep = NULL;
        local_read_forget(&fs->conns[i]);
    }
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
    t->orphan = NULL;
    struct bfs_frame f = {
        .magic = BFS_MAGIC,
        .version = BFS_WIRE_VERSION,
        .opcode = op,
        .reqid = reqid,
        .args_len = (uint32_t)args_len,
        .data_len = data_len,
    };
    memcpy(f.key, fs->key, BFS_KEY_LEN);
    bfs_frame_encode(&f, t->hdr);
    if (args_len)
        memcpy(t->hdr + BFS_HDR_LEN, args, args_len);
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
    c->sent_to = fs->conns[c->server].addr_hash;
    c->reqid = ++fs->next_reqid;
    table_add(fs, c);
    struct rpc_ticket *t = NULL;
    int rc = send_frame(fs, fs->conns[c->server].ep, c, c->op, c->reqid, c->args, c->args_len,
                        c->data, c->data_len, &t);
    if (rc == 0) {
        c->send_done = 1;
    } else if (rc < 0) {
        table_take(fs, c->reqid);
        c->status = -rc;
        c->send_done = c->reply_done = 1;
    } else {
        c->sticket = t;
    }
}

static int finished(const struct rpc *c) { return c->send_done && c->reply_done && !c->recv_pending; }

/* Is a local server's process gone? Looked at no more often than every ALIVE_CHECK_MS. */
static void check_alive(struct conn *cn, uint32_t server, int64_t now)
{
    if (!cn->local || cn->failed || now < cn->alive_check_ms)
        return;
    cn->alive_check_ms = now + ALIVE_CHECK_MS;
    if (bfs_process_gone(cn->pid)) {
        LOG_INFO("server %u (pid %ld on this host) is gone", server, (long)cn->pid);
        cn->failed = 1;
        cn->fail_status = EHOSTDOWN;
    }
}

void rpc_check_alive(benchfs_t *fs, uint32_t server)
{
    check_alive(&fs->conns[server], server, bfs_mono_ms());
}

/* Fail what cannot complete any more: calls past their deadline and calls to dead peers. */
static void expire(benchfs_t *fs, struct rpc *calls, size_t n, int64_t now)
{
    for (size_t i = 0; i < n; i++) {
        struct rpc *c = &calls[i];
        if (!c->started || c->reply_done)
            continue;
        struct conn *cn = &fs->conns[c->server];
        check_alive(cn, c->server, now);
        int dead = cn->failed;
        if (!dead && now < c->deadline_ms)
            continue;
        table_take(fs, c->reqid);
        c->status = dead ? (cn->fail_status ? cn->fail_status : EHOSTDOWN) : ETIMEDOUT;
        abandon(c);
        if (dead)
            continue;
        LOG_WARN("%s to server %u timed out after %d ms", bfs_op_name(c->op), c->server,
                 fs->rpc_timeout_ms);
        /* A remote peer that does not answer is suspect: the endpoint is closed (cancelling
         * what UCX still holds) and the next call reconnects from the registry. A local
         * server whose process lives is only slow or stopped: its shared-memory endpoint
         * stays (it cannot be force-closed under a live peer), and its late replies are
         * dropped by request id. */
        if (!cn->local) {
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

static void run_batch(benchfs_t *fs, struct rpc *calls, size_t n)
{
    size_t next = 0, inflight = 0, done = 0;
    for (size_t i = 0; i < n; i++)
        calls[i].started = 0;
    while (done < n) {
        while (next < n && inflight < RPC_WINDOW) {
            start(fs, &calls[next++]);
            inflight++;
        }
        ucp_worker_progress(fs->tp.worker);
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
            /* Wake at least every ALIVE_CHECK_MS: a local server's death shows only so. */
            if (wait > ALIVE_CHECK_MS)
                wait = ALIVE_CHECK_MS;
            bfs_transport_wait(&fs->tp, wait < 0 ? 0 : (int)wait);
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
        if (bfs_registry_read(fs->registry, server, &e) == 0) {
            hashes[server] = bfs_hash_bytes(e.addr, e.addr_len);
            bfs_registry_entry_free(&e);
        }
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
    struct conn *cn = server < fs->nservers ? &fs->conns[server] : NULL;
    if (!cn || !cn->ep || cn->failed)
        return; /* not worth a connection, nor an error */
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

void rpc_release(struct rpc *call)
{
    if (call->rdata_owned)
        free(call->rdata);
    call->rdata = NULL;
    call->rdata_owned = 0;
}
