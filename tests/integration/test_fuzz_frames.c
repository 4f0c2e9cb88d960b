/* SPDX-License-Identifier: BSD-3-Clause */
/* test_fuzz_frames.c — a seeded, structure-aware frame fuzzer against real servers.
 *
 * Every request is first built valid, op by op (all of BFS_OP_PING .. BFS_OP_MOVE_END,
 * HELLO included), from fields that make sense for a small namespace the test sets up (/fz):
 * paths, modes, ids, file ids of real files, chunk indexes, offsets and lengths inside the
 * chunk, chunk sizes, payloads. Most frames are then mutated, 1 to 3 times: the opcode
 * swapped for another (valid or not), a numeric field set to an edge value (0, 1, 2^31,
 * 2^32-1, 2^63, UINT64_MAX, chunk sizes 4095 / 4096 / 64 MiB / 64 MiB + 1 ...) or to random
 * bits, a string's length prefix made to lie, a path replaced by one that is not normalised
 * (//, /./, /.., relative, NUL, 255 / 256-byte names, 4 KiB paths), bytes flipped, the
 * arguments cut short or extended, a payload added to an op that takes none or a CHUNK_WRITE
 * payload of 0 / 1 / chunk + 1 bytes (rarely 64 MiB + 1), the cluster key, version or magic
 * spoiled, args_len / data_len made to lie, or (UCX) no reply endpoint.
 *
 * The frames go in batches to every server over both transports: UCX, connected through the
 * server's listener as a client on another host, and the server's local socket (the same
 * frames back to back on a byte stream). For each frame the test works out, by mirroring the
 * server's framing and admission rules, whether it must be answered (exactly once), may be
 * answered (CHUNK_PREFETCH), or must not be, whether a local connection must be closed by the
 * server (a frame that cannot be delimited: the rest of the stream is then padded so the
 * server reaches its verdict), and which of the rejected_frames / rejected_key counters it
 * bumps. Statuses are not checked beyond "wrong key: EACCES" and "refused frame: not 0": the
 * server's validation decides whether a mutated but valid inode is stored.
 *
 * Between batches a normal client (benchfs.h) creates, writes, reads back and stats a file
 * of its own, lists / and /fz and stats every entry, opening and reading the regular files
 * (whatever the fuzzer stored there must cost an error, not a crash). At the end: every
 * server is alive, no frame lost its reply, the counters equal exactly what was sent, the
 * server logs show no sanitizer report, nothing outside the data directories changed (the
 * cluster's directory is compared with a snapshot, sentinel files included), and inside the
 * data directories nothing but chunk files appeared.
 *
 * Environment:
 *   BENCHFS_FUZZ_SEED    seed (default fixed; "random": from the clock); always printed
 *   BENCHFS_FUZZ_FRAMES  frames per transport and server (default 3000; 100000 with --long)
 *   BENCHFS_FUZZ_BATCH   frames per batch between normal-client checks (default 250)
 * Long run (minutes), e.g. under the ASan build:
 *   BENCHFS_FUZZ_SEED=random build-asan/tests/integration/test_fuzz_frames 2 --long
 *   BENCHFS_FUZZ_SEED=0x1234 BENCHFS_FUZZ_FRAMES=500000 build/tests/integration/test_fuzz_frames 2
 * Only one transport: add "ucx" or "local" after the server count. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cluster.h"
#include "common/chunk_layout.h"
#include "common/path.h"
#include "common/proto.h"
#include "common/util.h"
#include "common/wire.h"
#include "net/local_sock.h"
#include "net/registry.h"
#include "net/transport.h"

/* ---- tracking ---- */

enum expect { X_FREE = 0, X_NONE, X_MAYBE, X_ONE, X_ERR, X_STATUS };

struct track {
    uint64_t reqid;
    uint8_t expect;
    uint8_t srv;
    uint8_t transport; /* 0 UCX, 1 local */
    uint8_t op;
    uint16_t replies;
    int32_t want, got;
};

#define RING (1u << 16) /* more than one batch ever has in flight */
static struct track g_ring[RING];
static uint64_t g_next_reqid = 1;
static unsigned long g_stray, g_bad_replies, g_send_errors, g_inflight;
static unsigned long g_sent[2], g_replies[2], g_ok[2], g_closes, g_mutated;
static unsigned long g_op_sent[BFS_OP__COUNT + 1];
static uint64_t g_rng;

static uint64_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}
static uint64_t rnd_below(uint64_t n) { return n ? rnd() % n : 0; }
static int chance(unsigned pct) { return rnd_below(100) < pct; }

static struct track *track_new(uint64_t reqid, int srv, int transport, int op, enum expect e,
                               int want)
{
    struct track *t = &g_ring[reqid % RING];
    if (t->expect != X_FREE) {
        fprintf(stderr, "fuzz: tracking ring overflow\n");
        exit(2);
    }
    *t = (struct track){.reqid = reqid, .expect = (uint8_t)e, .srv = (uint8_t)srv,
                        .transport = (uint8_t)transport, .op = (uint8_t)(op < 256 ? op : 255),
                        .want = want, .got = INT32_MIN};
    return t;
}

/* Frames the server finds inside a stream we made it misread: a reply to one is no stray. */
#define MAYBE_MAX 4096
static uint64_t g_maybe[MAYBE_MAX];
static unsigned long g_nmaybe;

static int is_maybe(uint64_t reqid)
{
    for (unsigned long i = 0; i < g_nmaybe && i < MAYBE_MAX; i++)
        if (g_maybe[i] == reqid)
            return 1;
    return 0;
}

static void record_reply(int transport, const struct bfs_frame *f)
{
    g_replies[transport]++;
    struct track *t = &g_ring[f->reqid % RING];
    if ((t->expect == X_FREE || t->reqid != f->reqid) && transport == 1 && is_maybe(f->reqid))
        return;
    if (t->expect == X_FREE || t->reqid != f->reqid) {
        g_stray++;
        if (g_stray <= 5)
            fprintf(stderr, "fuzz: a reply to reqid %llu nobody is waiting for (op %u)\n",
                    (unsigned long long)f->reqid, f->opcode);
        return;
    }
    if (f->status < 0 || f->status > 4095) {
        g_bad_replies++;
        fprintf(stderr, "fuzz: a reply with status %d\n", f->status);
    }
    t->replies++;
    t->got = f->status;
    if (f->status == 0)
        g_ok[transport]++;
}

static int g_failed_tracks;

/* Check and free the tracked frames [first, last). */
static void settle(uint64_t first, uint64_t last, const char *phase)
{
    for (uint64_t id = first; id < last; id++) {
        struct track *t = &g_ring[id % RING];
        if (t->expect == X_FREE || t->reqid != id)
            continue;
        const char *why = NULL;
        switch (t->expect) {
        case X_NONE:
            if (t->replies)
                why = "answered a frame it must drop";
            break;
        case X_MAYBE:
            if (t->replies > 1)
                why = "answered more than once";
            break;
        case X_ONE:
        case X_ERR:
        case X_STATUS:
            if (t->replies != 1)
                why = t->replies ? "answered more than once" : "no reply (request lost)";
            else if (t->expect == X_ERR && t->got == 0)
                why = "accepted a frame it must refuse";
            else if (t->expect == X_STATUS && t->got != t->want)
                why = "wrong status";
            break;
        default: break;
        }
        if (why) {
            test_failures++;
            if (g_failed_tracks++ < 30)
                fprintf(stderr, "FAIL [%s] server %u over %s, reqid %llu op %u: %s (want %d, "
                                "got %d)\n",
                        phase, t->srv, t->transport ? "the local socket" : "UCX",
                        (unsigned long long)id, t->op, why, t->want, t->got);
        }
        t->expect = X_FREE;
    }
}

/* ---- the peer: UCX endpoints and local sockets to every server ---- */

struct peer {
    struct bfs_transport tp;
    int n;
    ucp_ep_h ep[CLUSTER_MAX];
    int ep_failed[CLUSTER_MAX];
    char local[CLUSTER_MAX][108];
    uint8_t key[BFS_KEY_LEN];
    size_t max_am_header;
    uint64_t exp_frames[CLUSTER_MAX], exp_key[CLUSTER_MAX];
};

static ucs_status_t ucx_reply_cb(void *arg, const void *header, size_t header_length,
                                 void *data, size_t length, const ucp_am_recv_param_t *param)
{
    (void)arg;
    (void)data;
    (void)param;
    struct bfs_frame f;
    int err = bfs_frame_decode(header, header_length, length, 0x10000, &f);
    if (err == -EBADMSG && f.opcode == 0)
        err = 0; /* a reply to opcode 0 echoes it */
    if (err) {
        g_bad_replies++;
        return UCS_OK;
    }
    record_reply(0, &f);
    return UCS_OK;
}

static void ep_err_cb(void *arg, ucp_ep_h ep, ucs_status_t status)
{
    (void)ep;
    *(int *)arg = 1;
    fprintf(stderr, "fuzz: UCX endpoint failed: %s\n", ucs_status_string(status));
}

static void peer_open(struct peer *p, struct cluster *c)
{
    memset(p, 0, sizeof *p);
    p->n = c->n;
    if (bfs_transport_init(&p->tp) != 0 || bfs_registry_key_read(c->registry, p->key) != 0) {
        fprintf(stderr, "fuzz: cannot set up the raw peer\n");
        exit(2);
    }
    ucp_worker_attr_t wa = {.field_mask = UCP_WORKER_ATTR_FIELD_MAX_AM_HEADER};
    if (ucp_worker_query(p->tp.worker, &wa) == UCS_OK)
        p->max_am_header = wa.max_am_header;
    ucp_am_handler_param_t hp = {
        .field_mask = UCP_AM_HANDLER_PARAM_FIELD_ID | UCP_AM_HANDLER_PARAM_FIELD_CB |
                      UCP_AM_HANDLER_PARAM_FIELD_ARG | UCP_AM_HANDLER_PARAM_FIELD_FLAGS,
        .id = BFS_AM_REPLY,
        .flags = UCP_AM_FLAG_WHOLE_MSG,
        .cb = ucx_reply_cb,
        .arg = p,
    };
    if (ucp_worker_set_am_recv_handler(p->tp.worker, &hp) != UCS_OK)
        exit(2);
    for (int i = 0; i < p->n; i++) {
        struct bfs_registry_entry e;
        if (bfs_registry_read(c->registry, (uint32_t)i, &e) != 0) {
            fprintf(stderr, "fuzz: server %d not in the registry\n", i);
            exit(2);
        }
        snprintf(p->local[i], sizeof p->local[i], "%s", e.local);
        if (bfs_transport_connect(&p->tp, e.listen, ep_err_cb, &p->ep_failed[i], &p->ep[i])) {
            fprintf(stderr, "fuzz: cannot connect to server %d's listener\n", i);
            exit(2);
        }
    }
}

static void progress(struct peer *p, int timeout_ms)
{
    bfs_transport_wait(&p->tp, timeout_ms);
    while (ucp_worker_progress(p->tp.worker))
        ;
}

struct sendreq {
    void *hdr;
};

static void ucx_send_cb(void *request, ucs_status_t status, void *user_data)
{
    (void)status; /* a refused rendezvous may end with an error */
    free(user_data);
    g_inflight--;
    ucp_request_free(request);
}

/* Send one AM; hdr is copied, data must stay valid (it is static). */
static void ucx_send(struct peer *p, int s, const uint8_t *hdr, size_t hlen, const void *data,
                     size_t dlen, int with_reply, uint32_t flags)
{
    int64_t deadline = bfs_mono_ms() + 10000;
    while (g_inflight >= 64 && bfs_mono_ms() < deadline)
        progress(p, 10);
    void *copy = malloc(hlen ? hlen : 1);
    if (!copy)
        exit(2);
    memcpy(copy, hdr, hlen);
    ucp_request_param_t prm = {
        .op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA |
                        UCP_OP_ATTR_FIELD_FLAGS,
        .cb.send = ucx_send_cb,
        .user_data = copy,
        .flags = (with_reply ? UCP_AM_SEND_FLAG_REPLY : 0) | flags,
    };
    void *r = ucp_am_send_nbx(p->ep[s], BFS_AM_REQUEST, copy, hlen, data, dlen, &prm);
    if (r == NULL) {
        free(copy);
    } else if (UCS_PTR_IS_ERR(r)) {
        fprintf(stderr, "fuzz: ucp_am_send_nbx(%zu + %zu bytes): %s\n", hlen, dlen,
                ucs_status_string(UCS_PTR_STATUS(r)));
        g_send_errors++;
        free(copy);
    } else {
        g_inflight++;
    }
    progress(p, 0);
}

/* ---- local socket connections ---- */

struct lconn {
    int fd, srv, closed;
    struct bfs_lsock_in in;
};

static void *l_begin(void *arg, const struct bfs_frame *f, const uint8_t *args, void **cookie,
                     int *err)
{
    (void)arg;
    (void)f;
    (void)args;
    (void)cookie;
    (void)err;
    return NULL;
}

static void l_end(void *arg, const struct bfs_frame *f, const uint8_t *args, void *cookie)
{
    (void)arg;
    (void)args;
    (void)cookie;
    record_reply(1, f);
}

static const struct bfs_lsock_handler l_handler = {.begin = l_begin, .end = l_end};

static void l_open(struct peer *p, int s, struct lconn *l)
{
    memset(l, 0, sizeof *l);
    l->srv = s;
    for (int tries = 0;; tries++) {
        l->fd = bfs_lsock_connect(p->local[s]);
        if (l->fd >= 0)
            return;
        if (l->fd != -EAGAIN || tries > 1000) {
            fprintf(stderr, "FAIL: cannot connect to server %d's local socket: %s\n", s,
                    strerror(-l->fd));
            test_failures++;
            l->closed = 1;
            return;
        }
        usleep(1000);
    }
}

static void l_close(struct lconn *l)
{
    if (l->fd >= 0)
        close(l->fd);
    l->fd = -1;
    bfs_lsock_in_free(&l->in);
}

static void l_pump(struct lconn *l, int timeout_ms)
{
    if (l->closed || l->fd < 0)
        return;
    struct pollfd pf = {.fd = l->fd, .events = POLLIN};
    if (poll(&pf, 1, timeout_ms) <= 0)
        return;
    for (;;) {
        int rc = bfs_lsock_read(l->fd, &l->in, BFS_OP__COUNT, 1 << 20, &l_handler, NULL);
        if (rc < 0) {
            if (rc == -EPROTO) {
                fprintf(stderr, "fuzz: a malformed reply on a local socket\n");
                g_bad_replies++;
            }
            l->closed = 1;
            return;
        }
        if (rc == 0)
            return;
    }
}

static void l_write(struct lconn *l, const void *buf, size_t n)
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
            return;
        }
        if (bfs_mono_ms() > deadline) {
            fprintf(stderr, "FAIL: server %d stopped reading a local socket\n", l->srv);
            test_failures++;
            l->closed = 1;
            return;
        }
        struct pollfd pf = {.fd = l->fd, .events = POLLIN | POLLOUT};
        if (poll(&pf, 1, 10) > 0 && (pf.revents & (POLLIN | POLLHUP | POLLERR)))
            l_pump(l, 0);
    }
}

/* ---- frames ---- */

enum fkind { F_NUM, F_STRLEN, F_CS, F_MODE, F_FILEID };
struct fld {
    uint16_t off;
    uint8_t size; /* 1, 2, 4, 8 */
    uint8_t kind;
};

struct gframe {
    struct bfs_frame f;
    uint8_t args[BFS_MAX_ARGS + 8192];
    size_t alen;
    struct fld flds[40];
    int nf;
    size_t dlen;
    int lie; /* header lengths not truthful */
    int with_reply;
    uint32_t ucx_flags;
};

static uint8_t *g_payload; /* BFS_MAX_DATA + 1 bytes of pattern */
static uint8_t g_enc[BFS_HDR_LEN + BFS_MAX_ARGS + 8192];

static void put(struct gframe *g, uint64_t v, int size, int kind)
{
    if (g->alen + (size_t)size > sizeof g->args)
        return;
    if (g->nf < (int)(sizeof g->flds / sizeof g->flds[0]))
        g->flds[g->nf++] = (struct fld){(uint16_t)g->alen, (uint8_t)size, (uint8_t)kind};
    for (int i = 0; i < size; i++)
        g->args[g->alen++] = (uint8_t)(v >> (8 * i));
}

static void put_bytes_str(struct gframe *g, const char *s, size_t n)
{
    if (g->alen + 2 + n > sizeof g->args)
        n = sizeof g->args - g->alen - 2;
    put(g, n, 2, F_STRLEN);
    memcpy(g->args + g->alen, s, n);
    g->alen += n;
}

/* State of the namespace the fuzzer aims at (filled in by the setup). */
static uint64_t g_fileids[8];
static uint32_t g_chunks[8];
static int g_nfiles;
static uint32_t g_uid, g_gid;

static const char *const g_names[] = {"f1", "f2", "d1", "d2", "n0", "n1", "n2", "n3", "x"};

/* A path: mostly valid and under /fz; sometimes not normalised or oversized. */
static void put_path(struct gframe *g, int may_be_root)
{
    char buf[BFS_PATH_MAX + 64];
    if (chance(12)) {
        static const char *const weird[] = {
            "", "/", "//", "/fz/", "/fz//f1", "/fz/./f1", "/fz/../fz/f1", "/fz/..", "/..",
            "/.", "fz/f1", "../../../../etc/passwd", "/../../../tmp/fuzz-escape",
            "/fz/d1/../../..", " /fz", "/fz/\x01\x02", "/fz/f1/", "/fz/a\\b", "/fz/\xff\xfe",
            "/fz/d1/./", "/./", "/fz/%s", "/fz/\n"};
        int k = (int)rnd_below(sizeof weird / sizeof weird[0] + 5);
        size_t n;
        if (k < (int)(sizeof weird / sizeof weird[0])) {
            n = strlen(weird[k]);
            memcpy(buf, weird[k], n);
        } else if (k == (int)(sizeof weird / sizeof weird[0])) { /* a NUL inside */
            memcpy(buf, "/fz/a\0b", 7);
            n = 7;
        } else if (k == (int)(sizeof weird / sizeof weird[0]) + 1) { /* 255 / 256 bytes */
            size_t nl = BFS_NAME_MAX + rnd_below(2);
            memcpy(buf, "/fz/", 4);
            memset(buf + 4, 'N', nl);
            n = 4 + nl;
        } else if (k == (int)(sizeof weird / sizeof weird[0]) + 2) { /* about BFS_PATH_MAX */
            n = BFS_PATH_MAX - 2 + rnd_below(5);
            for (size_t i = 0; i < n; i++)
                buf[i] = i % 64 == 0 ? '/' : 'p';
        } else if (k == (int)(sizeof weird / sizeof weird[0]) + 3) { /* deep */
            n = 0;
            for (int d = 0; d < 40 && n < 300; d++)
                n += (size_t)snprintf(buf + n, sizeof buf - n, "/d%d", d);
        } else { /* random bytes after /fz/ */
            memcpy(buf, "/fz/", 4);
            n = 4 + rnd_below(20);
            for (size_t i = 4; i < n; i++)
                buf[i] = (char)rnd();
        }
        put_bytes_str(g, buf, n);
        return;
    }
    int depth = (int)rnd_below(3);
    if (depth == 0 && may_be_root && chance(30)) {
        put_bytes_str(g, "/fz", 3);
        return;
    }
    size_t n = (size_t)snprintf(buf, sizeof buf, "/fz");
    for (int d = 0; d <= depth && d < 2; d++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "/%s",
                              g_names[rnd_below(sizeof g_names / sizeof g_names[0])]);
    put_bytes_str(g, buf, n);
}

static uint32_t pick_cs(void)
{
    static const uint32_t cs[] = {4096, 65536, 1u << 20, 4u << 20};
    if (g_nfiles && chance(60))
        return g_chunks[rnd_below((uint64_t)g_nfiles)];
    return cs[rnd_below(4)];
}

static uint64_t pick_fileid(void)
{
    if (g_nfiles && chance(60))
        return g_fileids[rnd_below((uint64_t)g_nfiles)];
    return chance(50) ? 0xf0220000ull + rnd_below(16) : rnd();
}

static uint32_t pick_mode(int dir)
{
    static const uint32_t perm[] = {0644, 0755, 0600, 0777, 0};
    return (dir ? S_IFDIR : chance(80) ? S_IFREG : 0) | perm[rnd_below(5)];
}

static void put_inode(struct gframe *g)
{
    int dir = chance(30);
    uint32_t cs = pick_cs();
    put(g, pick_fileid(), 8, F_FILEID);
    put(g, dir ? 0 : rnd_below(4) * cs + rnd_below(cs), 8, F_NUM);
    put(g, pick_mode(dir), 4, F_MODE);
    put(g, g_uid, 4, F_NUM);
    put(g, g_gid, 4, F_NUM);
    put(g, dir ? 0 : cs, 4, F_CS);
    put(g, 1 + rnd_below(2), 4, F_NUM);
    int64_t now = (int64_t)time(NULL) * 1000000000ll;
    put(g, (uint64_t)now, 8, F_NUM);
    put(g, (uint64_t)now, 8, F_NUM);
    put(g, (uint64_t)now, 8, F_NUM);
    put(g, chance(10) ? UINT64_MAX : rnd_below(8) * cs, 8, F_NUM); /* extent (or unknown) */
    put(g, chance(80) ? 0 : rnd_below(4), 4, F_NUM); /* flags: INLINE / MOVING (refused) */
}

/* Offsets / lengths of a chunk range: valid for chunk size cs. */
static void put_range(struct gframe *g, uint32_t cs, int with_len, uint64_t *len_out)
{
    uint64_t off = chance(50) ? 0 : rnd_below(cs);
    uint64_t len = 1 + rnd_below(cs - off < 65536 ? cs - off : 65536);
    put(g, rnd_below(4), 8, F_NUM); /* chunk index */
    put(g, off, 8, F_NUM);
    if (with_len)
        put(g, len, 8, F_NUM);
    *len_out = len;
}

/* Build a valid request for op. */
static void build(struct gframe *g, struct peer *p, int op)
{
    memset(&g->f, 0, sizeof g->f);
    g->f.magic = BFS_MAGIC;
    g->f.version = BFS_WIRE_VERSION;
    g->f.opcode = (uint16_t)op;
    g->f.reqid = g_next_reqid++;
    memcpy(g->f.key, p->key, BFS_KEY_LEN);
    g->alen = 0;
    g->nf = 0;
    g->dlen = 0;
    g->lie = 0;
    g->with_reply = 1;
    g->ucx_flags = 0;
    uint32_t cs;
    uint64_t len;
    switch (op) {
    case BFS_OP_MKDIR:
    case BFS_OP_CREATE:
        put_path(g, 0);
        put(g, pick_mode(op == BFS_OP_MKDIR), 4, F_MODE);
        put(g, g_uid, 4, F_NUM);
        put(g, g_gid, 4, F_NUM);
        if (op == BFS_OP_CREATE) {
            put(g, pick_cs(), 4, F_CS);
            put(g, rnd_below(4), 4, F_NUM); /* EXCL, INLINE */
        }
        break;
    case BFS_OP_LOOKUP: put_path(g, 1); break;
    case BFS_OP_SETATTR:
        put_path(g, 1);
        put(g, rnd_below(16), 4, F_NUM);
        put(g, pick_mode(chance(30)), 4, F_MODE);
        put(g, g_uid, 4, F_NUM);
        put(g, g_gid, 4, F_NUM);
        put(g, (uint64_t)time(NULL) * 1000000000ull, 8, F_NUM);
        put(g, (uint64_t)time(NULL) * 1000000000ull, 8, F_NUM); /* atime */
        break;
    case BFS_OP_SYMLINK: {
        /* Targets are stored, never followed by a server: escaping ones included. */
        static const char *const targets[] = {"f1", "../d1", "/fz/f2", "n0", "/etc/passwd",
                                              "../../../../tmp/fuzz-escape", "."};
        put_path(g, 0);
        put(g, g_uid, 4, F_NUM);
        put(g, g_gid, 4, F_NUM);
        const char *t = targets[rnd_below(sizeof targets / sizeof targets[0])];
        put_bytes_str(g, t, strlen(t));
        break;
    }
    case BFS_OP_SIZE_UPDATE:
        put_path(g, 0);
        put(g, pick_fileid(), 8, F_FILEID);
        put(g, rnd_below(1u << 22), 8, F_NUM);
        put(g, rnd_below(2), 4, F_NUM);
        put(g, chance(50) ? 0 : (uint64_t)time(NULL) * 1000000000ull, 8, F_NUM);
        break;
    case BFS_OP_REMOVE:
        put_path(g, 0);
        put(g, 1 + rnd_below(2), 4, F_NUM);
        put(g, chance(70) ? 0 : pick_fileid(), 8, F_FILEID);
        break;
    case BFS_OP_READDIR:
    case BFS_OP_READDIRPLUS:
    case BFS_OP_SUBTREE:
        put_path(g, 1);
        put(g, rnd_below(300), 4, F_NUM);
        if (op != BFS_OP_SUBTREE || chance(50)) {
            const char *a = chance(50) ? "" : g_names[rnd_below(9)];
            put_bytes_str(g, a, strlen(a));
        } else {
            put_path(g, 0);
        }
        break;
    case BFS_OP_META_PUT:
        put_path(g, 0);
        if (chance(15)) { /* a link, with its target after the flags */
            static const char t[] = "f1";
            int64_t now = (int64_t)time(NULL) * 1000000000ll;
            put(g, pick_fileid(), 8, F_FILEID);
            put(g, sizeof t - 1, 8, F_NUM);
            put(g, S_IFLNK | 0777, 4, F_MODE);
            put(g, g_uid, 4, F_NUM);
            put(g, g_gid, 4, F_NUM);
            put(g, 0, 4, F_CS);
            put(g, 1, 4, F_NUM);
            for (int i = 0; i < 3; i++)
                put(g, (uint64_t)now, 8, F_NUM);
            put(g, rnd_below(2), 4, F_NUM);
            put_bytes_str(g, t, sizeof t - 1);
            break;
        }
        put_inode(g);
        put(g, rnd_below(2), 4, F_NUM);
        break;
    case BFS_OP_CHUNK_WRITE:
        cs = pick_cs();
        put(g, pick_fileid(), 8, F_FILEID);
        put_range(g, cs, 0, &len);
        put(g, cs, 4, F_CS);
        g->dlen = len;
        break;
    case BFS_OP_CHUNK_READ:
    case BFS_OP_CHUNK_RESERVE:
    case BFS_OP_CHUNK_RELEASE:
        cs = pick_cs();
        put(g, pick_fileid(), 8, F_FILEID);
        put_range(g, cs, 1, &len);
        put(g, cs, 4, F_CS);
        break;
    case BFS_OP_CHUNK_TRUNCATE:
        cs = pick_cs();
        put(g, pick_fileid(), 8, F_FILEID);
        put(g, rnd_below(4ull * cs), 8, F_NUM);
        put(g, cs, 4, F_CS);
        break;
    case BFS_OP_CHUNK_REMOVE:
    case BFS_OP_FSYNC: put(g, chance(20) ? 0 : pick_fileid(), 8, F_FILEID); break;
    case BFS_OP_CHUNK_PREFETCH:
        put(g, pick_fileid(), 8, F_FILEID);
        put(g, rnd_below(4), 8, F_NUM);
        put(g, pick_cs(), 4, F_CS);
        break;
    case BFS_OP_FIND: {
        static const char *const globs[] = {"*", "*01*", "f?", "[a-", "\\"};
        put_path(g, 1);
        put(g, rnd_below(8), 4, F_NUM);  /* page */
        put(g, rnd_below(40), 4, F_NUM); /* scan budget */
        uint32_t clen = chance(70) ? 0 : (uint32_t)rnd_below(BFS_FIND_CURSOR_MAX + 1);
        put(g, clen, 4, F_NUM);
        for (uint32_t i = 0; i < clen && g->alen < sizeof g->args; i++)
            g->args[g->alen++] = (uint8_t)rnd(); /* a cursor of any bytes: only a place */
        put(g, rnd_below(16), 4, F_NUM);      /* tests */
        const char *gl = globs[rnd_below(5)];
        put_bytes_str(g, gl, strlen(gl));
        put(g, (uint64_t)time(NULL) * 1000000000ull, 8, F_NUM);
        put(g, rnd_below(5000), 8, F_NUM);
        put(g, 1 + rnd_below(1024), 8, F_NUM);
        put(g, rnd_below(3), 4, F_NUM);
        put(g, 1 + rnd_below(7), 4, F_NUM);
        break;
    }
    case BFS_OP_LOOKUP_DATA: put_path(g, 1); break;
    case BFS_OP_INLINE_WRITE:
        put_path(g, 0);
        put(g, pick_fileid(), 8, F_FILEID);
        len = rnd_below(BFS_INLINE_MAX + 2);
        put(g, rnd_below(BFS_INLINE_MAX + 2 - len), 8, F_NUM);
        put(g, chance(50) ? 0 : (uint64_t)time(NULL) * 1000000000ull, 8, F_NUM);
        g->dlen = len;
        break;
    case BFS_OP_MOVE_BEGIN:
    case BFS_OP_MOVE_END:
        put_path(g, 0);
        put(g, pick_fileid(), 8, F_FILEID);
        put(g, chance(10) ? 0 : rnd_below(3) + 1, 8, F_NUM); /* mover */
        break;
    default: break; /* PING, STATFS, STATS, HELLO, CHUNK_DIR: no arguments */
    }
}

static const uint64_t g_edges[] = {0,
                                   1,
                                   2,
                                   4095,
                                   4096,
                                   (64u << 20),
                                   (64u << 20) + 1,
                                   0x7fffffffull,
                                   0x80000000ull,
                                   0xffffffffull,
                                   0x100000000ull,
                                   0x7fffffffffffffffull,
                                   0x8000000000000000ull,
                                   0xfffffffffffffffeull,
                                   UINT64_MAX};

static void set_field(struct gframe *g, const struct fld *fl, uint64_t v)
{
    for (int i = 0; i < fl->size; i++)
        g->args[fl->off + i] = (uint8_t)(v >> (8 * i));
}

/* 1 to 3 mutations. */
static void mutate(struct gframe *g, struct peer *p, int transport)
{
    int m = 1 + (int)rnd_below(3);
    g_mutated++;
    for (int k = 0; k < m; k++) {
        unsigned what = (unsigned)rnd_below(100);
        if (what < 30 && g->nf) { /* a numeric field: an edge value */
            const struct fld *fl = &g->flds[rnd_below((uint64_t)g->nf)];
            if (fl->off + fl->size > g->alen)
                continue;
            uint64_t v = g_edges[rnd_below(sizeof g_edges / sizeof g_edges[0])];
            if (fl->kind == F_CS && chance(50)) {
                static const uint32_t cs[] = {0, 1, 4095, 4097, 8191, (64u << 20) + 1,
                                              0x80000000u, UINT32_MAX, 3u << 20};
                v = cs[rnd_below(9)];
            } else if (fl->kind == F_MODE && chance(50)) {
                static const uint32_t modes[] = {0, S_IFLNK | 0777, S_IFCHR | 0644, S_IFIFO,
                                                 S_IFDIR | S_IFREG | 0644, 0170000, 07777,
                                                 S_IFREG | 04755};
                v = modes[rnd_below(8)];
            } else if (fl->kind == F_STRLEN && chance(60)) {
                uint64_t cur = (uint64_t)g->args[fl->off] | (uint64_t)g->args[fl->off + 1] << 8;
                uint64_t opts[] = {cur ? cur - 1 : 0, cur + 1, cur + 100, 0, 0xffff};
                v = opts[rnd_below(5)];
            }
            set_field(g, fl, v);
        } else if (what < 40 && g->nf) { /* random bits in a field */
            const struct fld *fl = &g->flds[rnd_below((uint64_t)g->nf)];
            if (fl->off + fl->size <= g->alen)
                set_field(g, fl, rnd());
        } else if (what < 50 && g->alen) { /* bytes */
            int flips = 1 + (int)rnd_below(4);
            for (int i = 0; i < flips; i++) {
                size_t at = rnd_below(g->alen);
                g->args[at] = chance(50) ? (uint8_t)(g->args[at] ^ (1u << rnd_below(8)))
                                         : (uint8_t)rnd();
            }
        } else if (what < 57) { /* cut short */
            g->alen = rnd_below(g->alen + 1);
        } else if (what < 62) { /* extend */
            size_t add = chance(80) ? 1 + rnd_below(16) : rnd_below(3000);
            for (size_t i = 0; i < add && g->alen < BFS_MAX_ARGS + 100; i++)
                g->args[g->alen++] = (uint8_t)rnd();
        } else if (what < 70) { /* another opcode */
            g->f.opcode = chance(85) ? (uint16_t)(1 + rnd_below(BFS_OP__COUNT - 1))
                          : chance(50) ? (uint16_t)rnd() : (uint16_t)(chance(50) ? 0 : BFS_OP__COUNT);
        } else if (what < 78) { /* payload */
            static const size_t sizes[] = {0, 1, 2, 4095, 4096, 4097, 65536, 65537, 1u << 20};
            g->dlen = sizes[rnd_below(9)];
            if (chance(2))
                g->dlen = BFS_MAX_DATA - (chance(50) ? 0 : 1);
            if (transport == 0 && chance(50))
                g->ucx_flags = chance(50) || g->dlen > 65536 ? UCP_AM_SEND_FLAG_RNDV
                                                             : UCP_AM_SEND_FLAG_EAGER;
        } else if (what < 82) { /* the key */
            if (chance(50))
                g->f.key[rnd_below(BFS_KEY_LEN)] ^= (uint8_t)(1u << rnd_below(8));
            else
                memset(g->f.key, chance(50) ? 0 : 0xff, BFS_KEY_LEN);
        } else if (what < 84) { /* version / magic */
            if (chance(60))
                g->f.version = (uint16_t)(chance(50) ? 0 : chance(50) ? 2 : rnd());
            else
                g->f.magic ^= (uint32_t)1u << rnd_below(32);
        } else if (what < 90) { /* lying lengths (set when encoded) */
            g->lie = 1 + (int)rnd_below(8);
        } else if (what < 92 && transport == 0) {
            g->with_reply = 0;
        } else if (what < 96) { /* HELLO: with and without arguments / payload */
            g->f.opcode = BFS_OP_HELLO;
        } else { /* the reqid: edge values (the reply must echo it) */
            /* leave it: our tracking needs unique reqids */
        }
    }
    (void)p;
}

/* Encode into g_enc; returns the header length. The header's lengths are truthful unless
 * g->lie says how to make them lie. */
static size_t encode(struct gframe *g)
{
    g->f.args_len = (uint32_t)g->alen;
    g->f.data_len = g->dlen;
    switch (g->lie) {
    case 0: break;
    case 1: g->f.args_len += 1 + (uint32_t)rnd_below(64); break;
    case 2: g->f.args_len -= g->alen ? 1 + (uint32_t)rnd_below(g->alen) : 0; break;
    case 3: g->f.args_len = chance(50) ? BFS_MAX_ARGS + 1 : UINT32_MAX; break;
    case 4: g->f.data_len += 1 + rnd_below(4096); break;
    case 5: g->f.data_len -= g->dlen ? 1 + rnd_below(g->dlen) : 0; break;
    case 6: g->f.data_len = g_edges[7 + rnd_below(8)]; break;
    case 7: g->f.data_len = BFS_MAX_DATA + 1; break;
    default: g->f.args_len ^= 1u << rnd_below(32); break;
    }
    bfs_frame_encode(&g->f, g_enc);
    memcpy(g_enc + BFS_HDR_LEN, g->args, g->alen);
    return BFS_HDR_LEN + g->alen;
}

/* ---- what the server does with a frame (mirrors loop.c, conns.c, local_sock.c and the
 * checks at the top of handle_request) ---- */

/* After admission: the reply due for a decoded frame with the right key. */
static enum expect admitted(struct peer *p, int s, const struct bfs_frame *f, size_t dlen)
{
    if (dlen && f->opcode != BFS_OP_CHUNK_WRITE && f->opcode != BFS_OP_INLINE_WRITE) {
        p->exp_frames[s]++;
        return X_ERR;
    }
    return f->opcode == BFS_OP_CHUNK_PREFETCH ? X_MAYBE : X_ONE;
}

static void send_ucx(struct peer *p, int s, struct gframe *g)
{
    size_t hlen = encode(g);
    if (p->max_am_header && hlen > p->max_am_header) { /* UCX would refuse it here */
        hlen = p->max_am_header;
    }
    struct bfs_frame f;
    int err = bfs_frame_decode(g_enc, hlen, g->dlen, BFS_OP__COUNT, &f);
    enum expect e;
    int want = 0;
    if (err || !g->with_reply) {
        p->exp_frames[s]++;
        e = err && g->with_reply && hlen >= BFS_HDR_LEN && g->f.magic == BFS_MAGIC ? X_ERR
                                                                                     : X_NONE;
    } else if (memcmp(f.key, p->key, BFS_KEY_LEN) != 0) {
        p->exp_key[s]++;
        e = X_STATUS;
        want = EACCES;
    } else {
        e = admitted(p, s, &f, g->dlen);
    }
    track_new(g->f.reqid, s, 0, g->f.opcode, e, want);
    g_sent[0]++;
    ucx_send(p, s, g_enc, hlen, g->dlen ? g_payload : NULL, g->dlen, g->with_reply,
             g->ucx_flags);
}

/* Simulate the server reading a byte stream from a fresh frame boundary. Accounts every frame
 * it finds and tracks the one at offset 0 (reqid0); returns 1 when the server closes the
 * connection (*used: bytes up to the verdict), 0 when it waits for more (*used: bytes
 * consumed by complete frames), and sets *nframes. */
static int simulate(struct peer *p, int s, const uint8_t *b, size_t n, int apply, size_t *used,
                    int *nframes, uint64_t reqid0, int first_expect_maybe)
{
    size_t at = 0;
    *nframes = 0;
    for (;;) {
        size_t avail = n - at;
        const uint8_t *h = b + at;
        if (avail < BFS_HDR_LEN)
            break;
        uint32_t alen = (uint32_t)h[20] | (uint32_t)h[21] << 8 | (uint32_t)h[22] << 16 |
                        (uint32_t)h[23] << 24;
        uint64_t dlen = 0;
        for (int i = 7; i >= 0; i--)
            dlen = dlen << 8 | h[24 + i];
        struct bfs_frame f;
        if (alen > BFS_MAX_ARGS || dlen > BFS_MAX_DATA) {
            if (apply)
                p->exp_frames[s]++;
            *used = at + BFS_HDR_LEN;
            return 1;
        }
        if (avail < BFS_HDR_LEN + alen)
            break;
        if (bfs_frame_decode(h, BFS_HDR_LEN + alen, dlen, BFS_OP__COUNT, &f) != 0) {
            if (apply)
                p->exp_frames[s]++;
            *used = at + BFS_HDR_LEN + alen;
            return 1;
        }
        int wrong_key = memcmp(f.key, p->key, BFS_KEY_LEN) != 0;
        int complete = avail >= BFS_HDR_LEN + alen + dlen;
        if (apply) {
            enum expect e = X_NONE;
            int want = 0;
            if (wrong_key) {
                p->exp_key[s]++; /* counted when the header is in, payload or not */
                e = X_STATUS;
                want = EACCES;
            } else if (complete) {
                e = admitted(p, s, &f, dlen);
            }
            if (first_expect_maybe && e != X_NONE)
                e = X_MAYBE; /* the close that follows may drop the reply */
            if (at == 0 && f.reqid == reqid0)
                track_new(reqid0, s, 1, f.opcode, e, want);
            else if (e != X_NONE) /* a frame found mid-stream: it may be answered */
                g_maybe[g_nmaybe++ % MAYBE_MAX] = f.reqid;
        }
        if (!complete)
            break;
        at += BFS_HDR_LEN + alen + dlen;
        (*nframes)++;
    }
    *used = at;
    return 0;
}

static uint8_t g_stream[BFS_HDR_LEN + BFS_MAX_ARGS + 8192 + (1u << 20)];

/* One frame on a local connection. Frames the server can delimit go on the open connection;
 * one it cannot (or whose lying lengths make it read the stream differently) goes last, the
 * stream is padded until the server must close, and the connection is replaced. Returns 1
 * when the connection was used up. */
static int send_local(struct peer *p, int s, struct gframe *g, struct lconn *l,
                      uint64_t *batch_first)
{
    size_t hlen = encode(g);
    size_t dlen = g->dlen;
    struct bfs_frame f;
    int clean = !g->lie && bfs_frame_decode(g_enc, hlen, dlen, BFS_OP__COUNT, &f) == 0;
    g_sent[1]++;
    if (clean) {
        enum expect e;
        int want = 0;
        if (memcmp(f.key, p->key, BFS_KEY_LEN) != 0) {
            p->exp_key[s]++;
            e = X_STATUS;
            want = EACCES;
        } else {
            e = admitted(p, s, &f, dlen);
        }
        track_new(g->f.reqid, s, 1, g->f.opcode, e, want);
        l_write(l, g_enc, hlen);
        if (dlen)
            l_write(l, g_payload, dlen);
        return 0;
    }
    /* The stream from here: header, arguments, payload (as much as we send), padding. The
     * replies to what came before must be in before the server closes (it drops them). */
    int64_t deadline = bfs_mono_ms() + 10000;
    for (;;) {
        int missing = 0;
        for (uint64_t id = *batch_first; id < g_next_reqid && !missing; id++) {
            struct track *t = &g_ring[id % RING];
            if (t->reqid == id && t->transport == 1 && t->expect >= X_ONE && !t->replies)
                missing = 1;
        }
        if (!missing || l->closed || bfs_mono_ms() > deadline)
            break;
        l_pump(l, 10);
    }
    size_t send_dlen = dlen < (1u << 20) ? dlen : (1u << 20);
    size_t n = hlen;
    memcpy(g_stream, g_enc, hlen);
    memcpy(g_stream + n, g_payload, send_dlen);
    n += send_dlen;
    size_t pad = BFS_HDR_LEN;
    size_t used;
    int nf, closes = 0;
    for (;;) {
        if (n + pad > sizeof g_stream)
            break;
        memset(g_stream + n, 0xee, pad);
        closes = simulate(p, s, g_stream, n + pad, 0, &used, &nf, g->f.reqid, 1);
        if (closes)
            break;
        pad = pad * 4 + BFS_HDR_LEN;
    }
    if (!closes) {
        /* It would wait for more than we care to send (a lie of tens of MiB): the verdict would
         * depend on timing. Send this one with truthful lengths instead. */
        g->lie = 0;
        g_sent[1]--;
        return send_local(p, s, g, l, batch_first);
    }
    simulate(p, s, g_stream, used, 1, &used, &nf, g->f.reqid, 1);
    l_write(l, g_stream, used);
    int64_t close_deadline = bfs_mono_ms() + 5000;
    while (!l->closed && bfs_mono_ms() < close_deadline)
        l_pump(l, 10);
    if (!l->closed) {
        fprintf(stderr, "FAIL: server %d did not close a local connection after a frame it "
                        "cannot delimit (reqid %llu, op %u, lie %d)\n",
                s, (unsigned long long)g->f.reqid, g->f.opcode, g->lie);
        test_failures++;
    }
    g_closes++;
    l_close(l);
    return 1;
}

/* ---- the normal client ---- */

static char *g_check_buf, *g_back;
static unsigned long g_entries_seen, g_entries_err, g_files_read;

static void check_entries(benchfs_t *fs, const char *dir, int depth)
{
    benchfs_dir_t *d = benchfs_opendir(fs, dir);
    if (!d)
        return; /* the fuzzer may have replaced it by something else: an error is fine */
    char names[64][300];
    int nn = 0;
    for (const benchfs_dirent_t *e; (e = benchfs_readdir(d)) != NULL;)
        if (nn < 64)
            snprintf(names[nn++], sizeof names[0], "%s%s%s", dir, strcmp(dir, "/") ? "/" : "",
                     e->name);
    benchfs_closedir(d);
    for (int i = 0; i < nn; i++) {
        benchfs_stat_t st;
        g_entries_seen++;
        if (benchfs_stat(fs, names[i], &st) != 0) {
            g_entries_err++;
            continue;
        }
        if (S_ISDIR(st.mode)) {
            if (depth < 2)
                check_entries(fs, names[i], depth + 1);
            continue;
        }
        int fd = benchfs_open(fs, names[i], O_RDONLY, 0);
        if (fd < 0)
            continue;
        g_files_read++;
        char buf[4096];
        (void)benchfs_pread(fs, fd, buf, sizeof buf, 0);
        if (st.size > 0)
            (void)benchfs_pread(fs, fd, buf, 1, (off_t)(st.size - 1 < (uint64_t)INT64_MAX
                                                             ? st.size - 1
                                                             : INT64_MAX - 1));
        (void)benchfs_pread(fs, fd, buf, sizeof buf, (off_t)st.chunk_size * 3 + 17);
        benchfs_close(fs, fd);
    }
}

/* The servers serve a normal client: a new file written, read back and stat'ed; then every
 * entry the fuzzer may have left is listed, stat'ed and read (errors allowed, crashes not). */
static void client_step(benchfs_t *fs, int step)
{
    char path[96];
    snprintf(path, sizeof path, "/okdir-normal-client/file-%d", step);
    size_t len = 70000 + (size_t)step * 911 % 300000;
    for (size_t i = 0; i < len; i++)
        g_check_buf[i] = (char)(i * 131 + (size_t)step);
    int fd = benchfs_open(fs, path, O_CREAT | O_EXCL | O_RDWR, 0644);
    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK(benchfs_pwrite(fs, fd, g_check_buf, len, 0) == (ssize_t)len);
        memset(g_back, 0, len);
        CHECK(benchfs_pread(fs, fd, g_back, len, 0) == (ssize_t)len);
        CHECK(memcmp(g_back, g_check_buf, len) == 0);
        CHECK_OK(benchfs_close(fs, fd));
    }
    benchfs_stat_t st;
    CHECK_OK(benchfs_stat(fs, path, &st));
    CHECK(st.size == len);
    if (step % 3 == 0)
        CHECK_OK(benchfs_unlink(fs, path));
    check_entries(fs, "/", 0);
}

/* ---- the file system outside the data directories ---- */

struct snap_ent {
    char path[512];
    mode_t mode;
    off_t size;
    struct timespec mtime;
};
static struct snap_ent *g_snap;
static size_t g_nsnap, g_capsnap;
static const struct cluster *g_snap_cluster;
static int g_snap_bad; /* data-dir walk: entries that should not be there */
static const char *g_walk_data;

static int snap_cb(const char *fpath, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)type;
    (void)ftw;
    for (int i = 0; i < g_snap_cluster->n; i++) {
        size_t dl = strlen(g_snap_cluster->data[i]);
        if (strncmp(fpath, g_snap_cluster->data[i], dl) == 0 &&
            (fpath[dl] == '\0' || fpath[dl] == '/'))
            return 0; /* walked separately */
    }
    if (g_nsnap == g_capsnap) {
        g_capsnap = g_capsnap ? 2 * g_capsnap : 64;
        g_snap = realloc(g_snap, g_capsnap * sizeof *g_snap);
        if (!g_snap)
            exit(2);
    }
    struct snap_ent *e = &g_snap[g_nsnap++];
    snprintf(e->path, sizeof e->path, "%s", fpath);
    e->mode = sb->st_mode;
    e->size = S_ISDIR(sb->st_mode) ? 0 : sb->st_size;
    e->mtime = S_ISDIR(sb->st_mode) ? (struct timespec){0, 0} : sb->st_mtim;
    return 0;
}

/* Inside a data directory: top-level entries as at the start, and under chunks/ only
 * <2 hex>/<16 hex>/<decimal> regular files. */
static char g_top[CLUSTER_MAX][32][64];
static int g_ntop[CLUSTER_MAX];
static int g_walk_id, g_walk_record;

static int all_of(const char *s, const char *set, size_t n)
{
    if (strlen(s) != n && n)
        return 0;
    for (; *s; s++)
        if (!strchr(set, *s))
            return 0;
    return 1;
}

static int data_cb(const char *fpath, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)type;
    const char *rel = fpath + strlen(g_walk_data);
    if (*rel == '/')
        rel++;
    if (ftw->level == 0)
        return 0;
    if (S_ISLNK(sb->st_mode) || !(S_ISREG(sb->st_mode) || S_ISDIR(sb->st_mode))) {
        fprintf(stderr, "FAIL: %s is neither a file nor a directory\n", fpath);
        g_snap_bad++;
        return 0;
    }
    if (ftw->level == 1) {
        if (g_walk_record) {
            if (g_ntop[g_walk_id] < 32)
                snprintf(g_top[g_walk_id][g_ntop[g_walk_id]++], 64, "%s", rel);
            return 0;
        }
        for (int i = 0; i < g_ntop[g_walk_id]; i++)
            if (strcmp(g_top[g_walk_id][i], rel) == 0)
                return 0;
        if (strcmp(rel, BFS_CHUNK_SUBDIR) == 0)
            return 0;
        fprintf(stderr, "FAIL: new entry in a data directory: %s\n", fpath);
        g_snap_bad++;
        return 0;
    }
    if (strncmp(rel, BFS_CHUNK_SUBDIR "/", strlen(BFS_CHUNK_SUBDIR) + 1) != 0)
        return 0; /* the metadata store's own files */
    const char *name = fpath + ftw->base;
    int ok = ftw->level == 2   ? S_ISDIR(sb->st_mode) && all_of(name, "0123456789abcdef", 2)
             : ftw->level == 3 ? S_ISDIR(sb->st_mode) && all_of(name, "0123456789abcdef", 16)
             : ftw->level == 4 ? S_ISREG(sb->st_mode) && all_of(name, "0123456789", 0) && *name
                               : 0;
    if (!ok) {
        fprintf(stderr, "FAIL: unexpected entry among the chunk files: %s\n", fpath);
        g_snap_bad++;
    }
    return 0;
}

static void walk_data(const struct cluster *c, int record)
{
    g_walk_record = record;
    for (int i = 0; i < c->n; i++) {
        g_walk_id = i;
        g_walk_data = c->data[i];
        nftw(c->data[i], data_cb, 16, FTW_PHYS);
    }
}

static void snapshot(const struct cluster *c)
{
    g_snap_cluster = c;
    g_nsnap = 0;
    nftw(c->root, snap_cb, 16, FTW_PHYS);
}

/* ---- main ---- */

static int server_alive(pid_t pid)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (pid <= 0 || kill(pid, 0) != 0)
        return 0;
    if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0)
        return 0;
    if (si.si_pid == 0)
        return 1;
    fprintf(stderr, "FAIL: benchfsd pid %d has %s %d\n", (int)pid,
            si.si_code == CLD_EXITED ? "exited with status" : "died of signal", si.si_status);
    return 0;
}

static int all_alive(const struct cluster *c)
{
    int ok = 1;
    for (int s = 0; s < c->n; s++)
        if (!server_alive(c->pids[s])) {
            test_failures++;
            ok = 0;
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

static char *slurp(const char *path)
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

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *q = hay; (q = strstr(q, needle)) != NULL; q += strlen(needle))
        n++;
    return n;
}

/* Pick an op: every one, HELLO included, data ops a little more often. */
static int pick_op(void)
{
    static const int heavy[] = {BFS_OP_CHUNK_WRITE, BFS_OP_CHUNK_READ, BFS_OP_META_PUT,
                                BFS_OP_CREATE, BFS_OP_SETATTR, BFS_OP_MKDIR};
    if (chance(25))
        return heavy[rnd_below(6)];
    return 1 + (int)rnd_below(BFS_OP__COUNT - 1);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2;
    int do_ucx = 1, do_local = 1, long_run = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "ucx") == 0)
            do_local = 0;
        else if (strcmp(argv[i], "local") == 0)
            do_ucx = 0;
        else if (strcmp(argv[i], "--long") == 0)
            long_run = 1;
    }
    if (n < 1 || n > CLUSTER_MAX)
        n = 2;
    const char *seed_env = getenv("BENCHFS_FUZZ_SEED");
    if (seed_env && strcmp(seed_env, "random") == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        g_rng = (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15ull ^ (uint64_t)ts.tv_sec ^
                (uint64_t)getpid() << 32;
    } else {
        g_rng = seed_env ? strtoull(seed_env, NULL, 0) : 0xf0220b5eedull;
    }
    if (!g_rng)
        g_rng = 1;
    uint64_t seed = g_rng;
    const char *fe = getenv("BENCHFS_FUZZ_FRAMES");
    long frames = fe ? atol(fe) : long_run ? 100000 : 3000;
    const char *be = getenv("BENCHFS_FUZZ_BATCH");
    long batch = be ? atol(be) : 250;
    if (batch < 1)
        batch = 250;
    printf("fuzz: %d server(s), seed %#llx (BENCHFS_FUZZ_SEED), %ld frames per transport and "
           "server, batches of %ld, over%s%s\n",
           n, (unsigned long long)seed, frames, batch, do_ucx ? " UCX" : "",
           do_local ? " the local socket" : "");
    fflush(stdout);
    int64_t t0 = bfs_mono_ms();
    g_uid = (uint32_t)geteuid();
    g_gid = (uint32_t)getegid();

    /* Server stderr to a file (sanitizer reports, rejection lines). */
    const char *tmp = getenv("TMPDIR");
    char logpath[512];
    snprintf(logpath, sizeof logpath, "%s/benchfs-fuzz-log-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int logfd = mkstemp(logpath);
    int saved = dup(2);
    if (logfd < 0 || saved < 0)
        return 2;
    fcntl(logfd, F_SETFL, O_APPEND);
    fflush(stderr);
    dup2(logfd, 2);
    struct cluster c;
    cluster_start(&c, n, NULL);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(logfd);

    benchfs_t *fs = cluster_client(&c, 5000);
    g_check_buf = malloc(1u << 20);
    g_back = malloc(1u << 20);
    g_payload = malloc(BFS_MAX_DATA + 1);
    if (!g_check_buf || !g_back || !g_payload)
        return 2;
    for (size_t i = 0; i < BFS_MAX_DATA + 1; i += 4096)
        memset(g_payload + i, (int)(i >> 12), BFS_MAX_DATA + 1 - i < 4096 ? BFS_MAX_DATA + 1 - i
                                                                           : 4096);

    /* The namespace the fuzzer aims at, and the normal client's own directory. */
    CHECK_OK(benchfs_mkdir(fs, "/fz", 0755));
    CHECK_OK(benchfs_mkdir(fs, "/fz/d1", 0755));
    CHECK_OK(benchfs_mkdir(fs, "/okdir-normal-client", 0755));
    static const char *files[] = {"/fz/f1", "/fz/f2", "/fz/d1/n0"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        int fd = benchfs_open(fs, files[i], O_CREAT | O_RDWR, 0644);
        CHECK(fd >= 0);
        if (fd < 0)
            continue;
        size_t len = (i + 1) * 300000;
        CHECK(benchfs_pwrite(fs, fd, g_payload, len, 0) == (ssize_t)len);
        benchfs_close(fs, fd);
        benchfs_stat_t st;
        if (benchfs_stat(fs, files[i], &st) == 0) {
            g_fileids[g_nfiles] = st.ino;
            g_chunks[g_nfiles++] = st.chunk_size;
        }
    }
    /* Sentinels outside the data directories. */
    char sentinel[400];
    snprintf(sentinel, sizeof sentinel, "%s/outside", c.root);
    mkdir(sentinel, 0755);
    snprintf(sentinel, sizeof sentinel, "%s/outside/sentinel", c.root);
    FILE *sf = fopen(sentinel, "w");
    if (sf) {
        fputs("must not change\n", sf);
        fclose(sf);
    }
    snapshot(&c);
    size_t nsnap0 = g_nsnap;
    struct snap_ent *snap0 = malloc(nsnap0 * sizeof *snap0);
    memcpy(snap0, g_snap, nsnap0 * sizeof *snap0);
    walk_data(&c, 1);

    struct peer p;
    peer_open(&p, &c);
    struct lconn lc[CLUSTER_MAX];
    for (int s = 0; s < n; s++)
        lc[s].fd = -1, lc[s].closed = 1;
    static struct gframe g;

    long done = 0;
    int step = 0;
    while (done < frames && test_failures < 50) {
        long this_batch = frames - done < batch ? frames - done : batch;
        uint64_t first = g_next_reqid;
        for (int s = 0; s < n; s++) {
            if (do_local && (lc[s].fd < 0 || lc[s].closed)) {
                if (lc[s].fd >= 0)
                    l_close(&lc[s]);
                l_open(&p, s, &lc[s]);
            }
            uint64_t lfirst = g_next_reqid;
            int since_drain = 0, drain_every = 32;
            for (long i = 0; i < this_batch; i++) {
                for (int t = 0; t < 2; t++) {
                    if ((t == 0 && !do_ucx) || (t == 1 && !do_local))
                        continue;
                    int op = pick_op();
                    build(&g, &p, op);
                    if (chance(80))
                        mutate(&g, &p, t);
                    g_op_sent[g.f.opcode < BFS_OP__COUNT ? g.f.opcode : BFS_OP__COUNT]++;
                    if (t == 0) {
                        send_ucx(&p, s, &g);
                        continue;
                    }
                    if (send_local(&p, s, &g, &lc[s], &lfirst)) {
                        l_open(&p, s, &lc[s]);
                        lfirst = g_next_reqid;
                        since_drain = 0;
                    } else if (++since_drain >= drain_every) {
                        /* Now and then wait for the replies of what is on the wire: sometimes
                         * after a few frames, sometimes after more than the server takes
                         * from one connection at a time (64 requests in progress, 64 frames
                         * per wake-up: frames left staged must still be served). */
                        int64_t dl = bfs_mono_ms() + 10000;
                        for (;;) {
                            int missing = 0;
                            for (uint64_t id = lfirst; id < g_next_reqid && !missing; id++) {
                                struct track *tr = &g_ring[id % RING];
                                if (tr->reqid == id && tr->transport == 1 &&
                                    tr->expect >= X_ONE && !tr->replies)
                                    missing = 1;
                            }
                            if (!missing || lc[s].closed || bfs_mono_ms() > dl)
                                break;
                            l_pump(&lc[s], 10);
                            progress(&p, 0);
                        }
                        since_drain = 0;
                        drain_every = 1 + (int)rnd_below(chance(20) ? 200 : 40);
                    }
                }
            }
        }
        /* Collect the replies (bounded), then check every frame of the batch. */
        int64_t deadline = bfs_mono_ms() + 15000;
        for (;;) {
            int missing = 0;
            for (uint64_t id = first; id < g_next_reqid && !missing; id++) {
                struct track *t = &g_ring[id % RING];
                if (t->reqid == id && t->expect >= X_ONE && !t->replies)
                    missing = 1;
            }
            if ((!missing && g_inflight == 0) || bfs_mono_ms() > deadline)
                break;
            progress(&p, 1);
            for (int s = 0; s < n; s++)
                if (do_local)
                    l_pump(&lc[s], 0);
        }
        int64_t grace = bfs_mono_ms() + 30;
        while (bfs_mono_ms() < grace) {
            progress(&p, 1);
            for (int s = 0; s < n; s++)
                if (do_local)
                    l_pump(&lc[s], 0);
        }
        char phase[32];
        snprintf(phase, sizeof phase, "batch %d", step);
        settle(first, g_next_reqid, phase);
        done += this_batch;
        if (!all_alive(&c)) {
            fprintf(stderr, "FAIL: a server died in batch %d (seed %#llx)\n", step,
                    (unsigned long long)seed);
            break;
        }
        client_step(fs, step++);
    }
    for (int s = 0; s < n; s++)
        if (lc[s].fd >= 0)
            l_close(&lc[s]);
    printf("fuzz: %lu frames over UCX (%lu replies, %lu of them status 0), %lu over the local "
           "socket (%lu replies, %lu status 0, %lu connections closed by the servers), %lu "
           "mutated, in %lld ms\n",
           g_sent[0], g_replies[0], g_ok[0], g_sent[1], g_replies[1], g_ok[1], g_closes,
           g_mutated,
           (long long)(bfs_mono_ms() - t0));
    printf("fuzz: the normal client listed %lu entries (%lu could not be stat'ed) and read %lu "
           "files\n", g_entries_seen, g_entries_err, g_files_read);
    printf("fuzz: frames per opcode:");
    for (int op = 1; op <= BFS_OP__COUNT; op++)
        printf(" %s=%lu", op < BFS_OP__COUNT ? bfs_op_name(op) : "other", g_op_sent[op]);
    printf("\n");
    CHECK(g_stray == 0);
    CHECK(g_bad_replies == 0);
    CHECK(g_send_errors == 0);
    for (int s = 0; s < n; s++)
        CHECK(!p.ep_failed[s]);

    int alive = all_alive(&c);
    if (alive) {
        client_step(fs, step++);
        /* The counters: exactly what the frames must have bumped. */
        static char text[16384];
        for (int s = 0; s < n; s++) {
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
                if ((rf == (long)p.exp_frames[s] && rk == (long)p.exp_key[s]) ||
                    bfs_mono_ms() > deadline)
                    break;
                progress(&p, 20);
            }
            printf("fuzz: server %d rejected_frames %ld (expected %llu), rejected_key %ld "
                   "(expected %llu)\n",
                   s, rf, (unsigned long long)p.exp_frames[s], rk,
                   (unsigned long long)p.exp_key[s]);
            CHECK(rf == (long)p.exp_frames[s]);
            CHECK(rk == (long)p.exp_key[s]);
        }
    }
    for (int s = 0; s < n; s++)
        if (p.ep[s])
            bfs_transport_close_ep(&p.tp, p.ep[s], p.ep_failed[s]);
    bfs_transport_fini(&p.tp);

    /* Nothing outside the data directories changed; inside, only chunk files appeared. */
    snapshot(&c);
    int changed = 0;
    for (size_t i = 0; i < g_nsnap || i < nsnap0; i++) {
        const struct snap_ent *a = i < nsnap0 ? &snap0[i] : NULL;
        const struct snap_ent *b = i < g_nsnap ? &g_snap[i] : NULL;
        if (!a || !b || strcmp(a->path, b->path) != 0 || a->mode != b->mode ||
            a->size != b->size || a->mtime.tv_sec != b->mtime.tv_sec ||
            a->mtime.tv_nsec != b->mtime.tv_nsec) {
            fprintf(stderr, "FAIL: outside the data directories: %s changed\n",
                    a ? a->path : b->path);
            changed++;
            break;
        }
    }
    CHECK(changed == 0);
    free(snap0);
    g_snap_bad = 0;
    walk_data(&c, 0);
    CHECK(g_snap_bad == 0);
    struct stat est;
    CHECK(stat("/tmp/fuzz-escape", &est) != 0);

    benchfs_term(fs);
    cluster_stop(&c);
    char *log = slurp(logpath);
    CHECK(log != NULL);
    if (log) {
        int bad = count(log, "ERROR: AddressSanitizer") + count(log, "runtime error") +
                  count(log, "Caught signal") + count(log, "Assertion") + count(log, " ERROR: ");
        if (bad || test_failures) {
            int shown = 0;
            for (char *line = strtok(log, "\n"); line && shown < 80; line = strtok(NULL, "\n"))
                if (!strstr(line, "WARN: rejected a ") && !strstr(line, " INFO: ") &&
                    !strstr(line, "WARN: closing local client") &&
                    !strstr(line, "not logged one by one")) {
                    fprintf(stderr, "server log: %s\n", line);
                    shown++;
                }
        }
        CHECK(bad == 0);
        free(log);
    }
    if (!getenv("BENCHFS_KEEP_TEST_DIR"))
        unlink(logpath);
    else
        printf("fuzz: server log kept in %s\n", logpath);
    printf("fuzz: seed %#llx, total %lld ms\n", (unsigned long long)seed,
           (long long)(bfs_mono_ms() - t0));
    return test_finish("fuzz_frames");
}
