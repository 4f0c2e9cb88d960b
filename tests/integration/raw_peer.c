/* SPDX-License-Identifier: BSD-3-Clause */
/* raw_peer.c — the raw peer of raw_peer.h: UCX and local-socket connections to real servers
 * that carry whatever bytes a test builds, with their replies decoded and handed back. One
 * implementation for test_hostile and test_fuzz_frames, so that both attack the servers
 * through the same, bounded machinery and count replies and failures the same way. */
#include "raw_peer.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/proto.h"
#include "common/util.h"
#include "net/registry.h"

#define WINDOW 64 /* UCX sends in flight */

/* ---- UCX ---- */

static ucs_status_t reply_cb(void *arg, const void *header, size_t header_length, void *data,
                             size_t length, const ucp_am_recv_param_t *param)
{
    (void)data;
    (void)param;
    struct rp_peer *p = arg;
    struct bfs_frame f;
    /* Accept replies naming any opcode: replies to opcode 0 / 999 echo them. */
    int err = bfs_frame_decode(header, header_length, length, 0x10000, &f);
    if (err == -EBADMSG && f.opcode == 0)
        err = 0;
    if (err) {
        p->bad_replies++;
        return UCS_OK;
    }
    p->on_reply(p->arg, RP_UCX, &f);
    return UCS_OK; /* reply payloads are dropped by UCX */
}

static void ep_err_cb(void *arg, ucp_ep_h ep, ucs_status_t status)
{
    (void)ep;
    struct rp_ep *e = arg;
    e->failed = 1;
    fprintf(stderr, "%s: raw UCX endpoint to server %d failed: %s\n", e->peer->name, e->srv,
            ucs_status_string(status));
}

int rp_open(struct rp_peer *p, const struct cluster *c, int ucx, const char *name,
            rp_reply_fn on_reply, void *arg)
{
    memset(p, 0, sizeof *p);
    p->name = name;
    p->n = c->n;
    p->on_reply = on_reply;
    p->arg = arg;
    if (bfs_transport_init(&p->tp) != 0) {
        fprintf(stderr, "%s: bfs_transport_init failed\n", name);
        return -1;
    }
    ucp_worker_attr_t wa = {.field_mask = UCP_WORKER_ATTR_FIELD_MAX_AM_HEADER};
    if (ucp_worker_query(p->tp.worker, &wa) == UCS_OK)
        p->max_am_header = wa.max_am_header;
    ucp_am_handler_param_t hp = {
        .field_mask = UCP_AM_HANDLER_PARAM_FIELD_ID | UCP_AM_HANDLER_PARAM_FIELD_CB |
                      UCP_AM_HANDLER_PARAM_FIELD_ARG | UCP_AM_HANDLER_PARAM_FIELD_FLAGS,
        .id = BFS_AM_REPLY,
        .flags = UCP_AM_FLAG_WHOLE_MSG,
        .cb = reply_cb,
        .arg = p,
    };
    if (ucp_worker_set_am_recv_handler(p->tp.worker, &hp) != UCS_OK) {
        fprintf(stderr, "%s: cannot set the reply handler\n", name);
        return -1;
    }
    if (bfs_registry_key_read(c->registry, p->key) != 0) {
        fprintf(stderr, "%s: cannot read the cluster key\n", name);
        return -1;
    }
    for (int i = 0; i < p->n; i++) {
        struct bfs_registry_entry e;
        if (bfs_registry_read(c->registry, (uint32_t)i, &e) != 0) {
            fprintf(stderr, "%s: server %d not in the registry\n", name, i);
            return -1;
        }
        snprintf(p->local[i], sizeof p->local[i], "%s", e.local);
        p->ucx[i].peer = p;
        p->ucx[i].srv = i;
        if (!ucx)
            continue;
        /* Through the listener, as a client on another host would: the only UCX endpoints
         * the servers serve. */
        if (bfs_transport_connect(&p->tp, e.listen, ep_err_cb, &p->ucx[i], &p->ucx[i].ep)) {
            fprintf(stderr, "%s: cannot connect to server %d's listener\n", name, i);
            return -1;
        }
    }
    return 0;
}

void rp_close(struct rp_peer *p)
{
    for (int i = 0; i < p->n; i++)
        if (p->ucx[i].ep)
            bfs_transport_close_ep(&p->tp, p->ucx[i].ep, p->ucx[i].failed);
    bfs_transport_fini(&p->tp);
}

void rp_progress(struct rp_peer *p, int timeout_ms)
{
    bfs_transport_wait(&p->tp, timeout_ms);
    while (ucp_worker_progress(p->tp.worker))
        ;
}

struct sendbuf {
    struct rp_peer *peer;
    void *hdr;
    void *data; /* freed with the send when own_data */
    int own_data;
};

static void sendbuf_free(struct sendbuf *b)
{
    free(b->hdr);
    if (b->own_data)
        free(b->data);
    free(b);
}

static void send_cb(void *request, ucs_status_t status, void *user_data)
{
    (void)status; /* a rendezvous the server declined may complete with an error */
    struct sendbuf *b = user_data;
    b->peer->inflight--;
    sendbuf_free(b);
    ucp_request_free(request);
}

int rp_send(struct rp_peer *p, int s, const void *hdr, size_t hlen, const void *data,
            size_t dlen, int own_data, int with_reply, uint32_t flags)
{
    int64_t deadline = bfs_mono_ms() + 10000;
    while (p->inflight >= WINDOW && bfs_mono_ms() < deadline)
        rp_progress(p, 10);
    struct sendbuf *b = calloc(1, sizeof *b);
    if (b)
        b->hdr = malloc(hlen ? hlen : 1);
    if (!b || !b->hdr) {
        fprintf(stderr, "%s: out of memory\n", p->name);
        exit(2);
    }
    memcpy(b->hdr, hdr, hlen);
    b->peer = p;
    b->data = (void *)data;
    b->own_data = own_data;
    ucp_request_param_t prm = {
        .op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA |
                        UCP_OP_ATTR_FIELD_FLAGS,
        .cb.send = send_cb,
        .user_data = b,
        .flags = (with_reply ? UCP_AM_SEND_FLAG_REPLY : 0) | flags,
    };
    void *req = ucp_am_send_nbx(p->ucx[s].ep, BFS_AM_REQUEST, b->hdr, hlen, data, dlen, &prm);
    int rc = 0;
    if (req == NULL) {
        sendbuf_free(b);
    } else if (UCS_PTR_IS_ERR(req)) {
        fprintf(stderr, "%s: ucp_am_send_nbx(%zu header, %zu data bytes): %s\n", p->name, hlen,
                dlen, ucs_status_string(UCS_PTR_STATUS(req)));
        p->send_errors++;
        sendbuf_free(b);
        rc = -1;
    } else {
        p->inflight++;
    }
    rp_progress(p, 0);
    return rc;
}

void rp_header(const struct rp_peer *p, struct bfs_frame *f, int op, uint64_t reqid)
{
    memset(f, 0, sizeof *f);
    f->magic = BFS_MAGIC;
    f->version = BFS_WIRE_VERSION;
    f->opcode = (uint16_t)op;
    f->reqid = reqid;
    memcpy(f->key, p->key, BFS_KEY_LEN);
}

/* ---- admission ---- */

int rp_payload_refused(const struct bfs_frame *f, size_t dlen)
{
    return dlen && f->opcode != BFS_OP_CHUNK_WRITE && f->opcode != BFS_OP_INLINE_WRITE;
}

enum rp_verdict rp_account(struct rp_peer *p, int s, const void *hdr, size_t hlen, size_t dlen,
                           int with_reply, struct bfs_frame *f)
{
    if (bfs_frame_decode(hdr, hlen, dlen, BFS_OP__COUNT, f) != 0 || !with_reply) {
        p->exp_frames[s]++;
        return RP_DROPPED;
    }
    if (memcmp(f->key, p->key, BFS_KEY_LEN) != 0) {
        p->exp_key[s]++;
        return RP_WRONG_KEY;
    }
    if (rp_payload_refused(f, dlen)) {
        p->exp_frames[s]++;
        return RP_REFUSED_PAYLOAD;
    }
    return RP_ADMITTED;
}

/* ---- the local socket ---- */

static void *conn_begin(void *arg, const struct bfs_frame *f, const uint8_t *args,
                        void **cookie, int *err)
{
    (void)arg;
    (void)f;
    (void)args;
    (void)cookie;
    (void)err;
    return NULL; /* reply payloads are not looked at */
}

static void conn_end(void *arg, const struct bfs_frame *f, const uint8_t *args, void *cookie)
{
    (void)args;
    (void)cookie;
    struct rp_peer *p = arg;
    p->on_reply(p->arg, RP_LOCAL, f);
}

static const struct bfs_lsock_handler conn_handler = {.begin = conn_begin, .end = conn_end};

int rp_conn_open(struct rp_peer *p, int s, struct rp_conn *l)
{
    memset(l, 0, sizeof *l);
    l->peer = p;
    l->srv = s;
    for (int tries = 0;; tries++) {
        l->fd = bfs_lsock_connect(p->local[s]);
        if (l->fd >= 0)
            return 0;
        if (l->fd != -EAGAIN || tries > 500) {
            int err = l->fd;
            l->fd = -1;
            l->closed = 1;
            return err;
        }
        usleep(2000);
    }
}

void rp_conn_pump(struct rp_conn *l, int timeout_ms)
{
    if (l->closed || l->fd < 0)
        return;
    struct pollfd pf = {.fd = l->fd, .events = POLLIN};
    if (poll(&pf, 1, timeout_ms) <= 0)
        return;
    for (;;) {
        int rc = bfs_lsock_read(l->fd, &l->in, BFS_OP__COUNT, 1 << 20, &conn_handler, l->peer);
        if (rc < 0) {
            if (rc == -EPROTO) {
                fprintf(stderr, "%s: a malformed reply on a local socket\n", l->peer->name);
                l->peer->bad_replies++;
            }
            l->closed = 1;
            return;
        }
        if (rc == 0)
            return;
    }
}

int rp_conn_write(struct rp_conn *l, const void *buf, size_t n)
{
    const uint8_t *b = buf;
    int64_t deadline = bfs_mono_ms() + 20000;
    while (n && !l->closed) {
        ssize_t w = send(l->fd, b, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) {
            b += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            l->closed = 1;
            break;
        }
        if (bfs_mono_ms() > deadline) {
            fprintf(stderr, "FAIL: server %d stopped reading a local socket\n", l->srv);
            test_failures++;
            l->closed = 1;
            break;
        }
        struct pollfd pf = {.fd = l->fd, .events = POLLIN | POLLOUT};
        if (poll(&pf, 1, 10) > 0 && (pf.revents & (POLLIN | POLLHUP | POLLERR)))
            rp_conn_pump(l, 0);
    }
    return l->closed ? -1 : 0;
}

int rp_conn_wait_close(struct rp_conn *l, int timeout_ms)
{
    int64_t deadline = bfs_mono_ms() + timeout_ms;
    while (!l->closed && bfs_mono_ms() < deadline)
        rp_conn_pump(l, 10);
    return l->closed;
}

void rp_conn_close(struct rp_conn *l)
{
    if (l->fd >= 0)
        close(l->fd);
    l->fd = -1;
    bfs_lsock_in_free(&l->in);
}

/* ---- the generator ---- */

uint64_t rp_rng = 1;

uint64_t rp_rnd(void)
{
    rp_rng ^= rp_rng << 13;
    rp_rng ^= rp_rng >> 7;
    rp_rng ^= rp_rng << 17;
    return rp_rng;
}

uint64_t rp_rnd_below(uint64_t n) { return n ? rp_rnd() % n : 0; }

/* ---- the servers ---- */

int rp_cluster_start_logged(struct cluster *c, int n, const char *name, char *logpath,
                            size_t len)
{
    /* Servers inherit stderr at fork: point it at the log file while the cluster starts. */
    const char *tmp = getenv("TMPDIR");
    snprintf(logpath, len, "%s/benchfs-%s-log-XXXXXX", tmp && *tmp ? tmp : "/tmp", name);
    int logfd = mkstemp(logpath);
    int saved = dup(2);
    if (logfd < 0 || saved < 0) {
        perror("log file");
        return -1;
    }
    fcntl(logfd, F_SETFL, O_APPEND);
    fflush(stderr);
    dup2(logfd, 2);
    cluster_start(c, n, NULL);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(logfd);
    return 0;
}

/* Running, not merely unreaped: kill(pid, 0) also succeeds on a zombie. */
static int server_alive(const char *name, pid_t pid)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (pid <= 0 || kill(pid, 0) != 0)
        return 0;
    if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0)
        return 0;
    if (si.si_pid == 0)
        return 1;
    fprintf(stderr, "%s: benchfsd pid %d has %s (%d)\n", name, (int)pid,
            si.si_code == CLD_EXITED ? "exited with status" : "died of signal", si.si_status);
    return 0;
}

int rp_all_alive(const char *name, const struct cluster *c)
{
    int ok = 1;
    for (int s = 0; s < c->n; s++) {
        int a = server_alive(name, c->pids[s]);
        if (!a) {
            fprintf(stderr, "FAIL: benchfsd %d is not running\n", s);
            test_failures++;
        }
        ok &= a;
    }
    return ok;
}

static long stat_value(const char *text, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, name, n) == 0 && p[n] == ' ')
            return atol(p + n + 1);
    return -1;
}

void rp_check_counters(struct rp_peer *p, benchfs_t *fs, int must_reject)
{
    /* Bounded wait: frames without a reply may still be in flight. */
    static char text[16384];
    for (int s = 0; s < p->n; s++) {
        long rf = -1, rk = -1;
        int64_t deadline = bfs_mono_ms() + 5000;
        for (;;) {
            ssize_t len = benchfs_server_stats(fs, s, text, sizeof text - 1);
            CHECK(len > 0);
            if (len <= 0)
                break;
            text[len] = '\0';
            rf = stat_value(text, "rejected_frames");
            rk = stat_value(text, "rejected_key");
            if ((rf == (long)p->exp_frames[s] && rk == (long)p->exp_key[s]) ||
                bfs_mono_ms() > deadline)
                break;
            rp_progress(p, 20);
        }
        printf("%s: server %d rejected_frames %ld (expected %llu), rejected_key %ld "
               "(expected %llu)\n",
               p->name, s, rf, (unsigned long long)p->exp_frames[s], rk,
               (unsigned long long)p->exp_key[s]);
        if (must_reject)
            CHECK(rf > 0 && rk > 0);
        CHECK(rf == (long)p->exp_frames[s]);
        CHECK(rk == (long)p->exp_key[s]);
    }
}

char *rp_slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = buf ? fread(buf, 1, (size_t)n, f) : 0;
    fclose(f);
    if (buf)
        buf[got] = '\0';
    return buf;
}

int rp_count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *q = hay; (q = strstr(q, needle)) != NULL; q += strlen(needle))
        n++;
    return n;
}
