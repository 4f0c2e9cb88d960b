/* SPDX-License-Identifier: BSD-3-Clause */
/* test_hostile.c — servers against a hostile peer.
 *
 * Besides a normal client, the test opens its own raw UCX worker, connects to every server's
 * UCX listener and sends frames no real client would send: garbage AM headers (with and
 * without AM data), truncated headers, wrong magic / version / opcode, lying or oversized
 * lengths, payloads on ops that take none, HELLO with arguments or a payload (EPROTO) and
 * repeated plain HELLOs (0: a no-op that must not reset the connection), chunk requests
 * outside the chunk, malformed argument encodings, paths that are not normalised, frames with
 * a wrong cluster key and frames sent without a reply endpoint, followed by a few thousand
 * randomised frames. The same peer then talks to every server's local socket (the same
 * frames, back to back on a byte stream): garbage bytes, headers whose args_len / data_len
 * lie, truncated frames followed by a close, frames with a wrong key (EACCES, the connection
 * stays), payloads on ops that take none (EPROTO, the connection stays), args_len / data_len
 * beyond the limits (> 64 MiB: the connection is closed at once). Where the server answers,
 * the status is checked; where it must drop, that no reply came; where it must close a local
 * connection, that it did. Then a flood of tens of thousands of wrong-key and malformed
 * frames: the server logs (redirected to a file) must stay small (bfs_log_limited: a few
 * lines a second and a summary line of what was left out).
 *
 * Afterwards every server must still be alive, the normal client must still read its data
 * back and create new entries, nothing the hostile frames asked for may have happened, the
 * servers' rejected_frames / rejected_key counters must equal exactly what was sent, and the
 * logs must show the rejections (at least one line each, and the summary lines) and no
 * sanitizer report.
 *
 * "test_hostile N dying" instead runs peers (this binary re-executed) that vanish with work in
 * flight: over UCX (connected through the listener) they start rendezvous writes and big
 * reads and die without closing anything; over the local socket they send big CHUNK_READs
 * they never read the replies of and write only part of a 64 MiB CHUNK_WRITE frame, then
 * die. The same end checks follow.
 *
 * The random part is seeded from $BENCHFS_HOSTILE_SEED (default fixed) and printed. The
 * structure-aware fuzzer is test_fuzz_frames.c. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cluster.h"
#include "common/path.h"
#include "common/proto.h"
#include "common/util.h"
#include "common/wire.h"
#include "net/local_sock.h"
#include "net/registry.h"
#include "net/transport.h"

/* ---- raw peer ---- */

#define MAX_REQ (1u << 18)
#define NO_REPLY INT32_MIN
#define WINDOW 64

enum expect {
    EXP_UNTRACKED = 0, /* garbage: reqid unknown */
    EXP_NONE,          /* the server must not answer */
    EXP_STATUS,        /* a reply with exactly this status */
    EXP_ANY,           /* a reply, any status */
    EXP_ERR,           /* a reply with a non-zero status */
};

struct track {
    uint8_t expect;
    uint8_t server;
    uint16_t replies;
    int32_t want;
    int32_t got;
    const char *what;
};

static struct track g_req[MAX_REQ];
static uint64_t g_next_reqid = 1;
static unsigned g_stray_replies;   /* replies naming a request we never tracked */
static unsigned g_bad_replies;     /* replies that are not well-formed BenchFS frames */
static unsigned g_inflight_sends;
static unsigned g_send_errors;     /* ucp_am_send_nbx failed locally (not the server's fault) */
static unsigned g_frames_sent;

struct raw {
    struct bfs_transport tp;
    int n;
    ucp_ep_h ep[CLUSTER_MAX];
    int ep_failed[CLUSTER_MAX];
    uint8_t key[BFS_KEY_LEN];
    char local[CLUSTER_MAX][108]; /* each server's local socket name */
    size_t max_am_header;
    /* What each server's counters must show for the frames sent so far. */
    uint64_t exp_rejected_frames[CLUSTER_MAX];
    uint64_t exp_rejected_key[CLUSTER_MAX];
};

static uint64_t g_rng;
static int g_child; /* running as the dying peer: leave without exit handlers */

static void bail(void)
{
    fflush(NULL);
    if (g_child)
        _exit(2);
    exit(2);
}

/* Running, not merely unreaped: kill(pid, 0) also succeeds on a zombie. */
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
    fprintf(stderr, "hostile: benchfsd pid %d has %s (%d)\n", (int)pid,
            si.si_code == CLD_EXITED ? "exited with status" : "died of signal", si.si_status);
    return 0;
}

static int all_alive(const struct cluster *c)
{
    int ok = 1;
    for (int s = 0; s < c->n; s++) {
        int a = server_alive(c->pids[s]);
        if (!a) {
            fprintf(stderr, "FAIL: benchfsd %d is not running\n", s);
            test_failures++;
        }
        ok &= a;
    }
    return ok;
}

static uint64_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

static uint64_t rnd_below(uint64_t n) { return n ? rnd() % n : 0; }

static void rnd_fill(void *buf, size_t n)
{
    uint8_t *p = buf;
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rnd();
}

static ucs_status_t reply_cb(void *arg, const void *header, size_t header_length, void *data,
                             size_t length, const ucp_am_recv_param_t *param)
{
    (void)arg;
    (void)data;
    (void)param;
    struct bfs_frame f;
    /* Accept replies naming any opcode: replies to opcode 0 / 999 echo them. */
    int err = bfs_frame_decode(header, header_length, length, 0x10000, &f);
    if (err == -EBADMSG && f.opcode == 0)
        err = 0;
    if (err) {
        g_bad_replies++;
        return UCS_OK;
    }
    if (f.reqid == 0 || f.reqid >= MAX_REQ || g_req[f.reqid].expect == EXP_UNTRACKED) {
        g_stray_replies++;
        return UCS_OK;
    }
    struct track *t = &g_req[f.reqid];
    t->replies++;
    t->got = f.status;
    return UCS_OK; /* reply payloads (none expected) are dropped by UCX */
}

static void ep_err_cb(void *arg, ucp_ep_h ep, ucs_status_t status)
{
    (void)ep;
    int *failed = arg;
    *failed = 1;
    fprintf(stderr, "hostile: raw endpoint failed: %s\n", ucs_status_string(status));
}

/* ucx: also connect a UCX endpoint to every server (through its listener). */
static void raw_open(struct raw *r, struct cluster *c, int ucx)
{
    memset(r, 0, sizeof *r);
    r->n = c->n;
    if (bfs_transport_init(&r->tp) != 0) {
        fprintf(stderr, "hostile: bfs_transport_init failed\n");
        bail();
    }
    ucp_worker_attr_t wa = {.field_mask = UCP_WORKER_ATTR_FIELD_MAX_AM_HEADER};
    if (ucp_worker_query(r->tp.worker, &wa) == UCS_OK)
        r->max_am_header = wa.max_am_header;
    ucp_am_handler_param_t hp = {
        .field_mask = UCP_AM_HANDLER_PARAM_FIELD_ID | UCP_AM_HANDLER_PARAM_FIELD_CB |
                      UCP_AM_HANDLER_PARAM_FIELD_ARG | UCP_AM_HANDLER_PARAM_FIELD_FLAGS,
        .id = BFS_AM_REPLY,
        .flags = UCP_AM_FLAG_WHOLE_MSG,
        .cb = reply_cb,
        .arg = r,
    };
    if (ucp_worker_set_am_recv_handler(r->tp.worker, &hp) != UCS_OK) {
        fprintf(stderr, "hostile: cannot set the reply handler\n");
        bail();
    }
    if (bfs_registry_key_read(c->registry, r->key) != 0) {
        fprintf(stderr, "hostile: cannot read the cluster key\n");
        bail();
    }
    for (int i = 0; i < r->n; i++) {
        struct bfs_registry_entry e;
        if (bfs_registry_read(c->registry, (uint32_t)i, &e) != 0) {
            fprintf(stderr, "hostile: server %d not in the registry\n", i);
            bail();
        }
        snprintf(r->local[i], sizeof r->local[i], "%s", e.local);
        if (!ucx)
            continue;
        /* Through the listener, as a client on another host would: the only UCX endpoints
         * the servers serve. */
        int err = bfs_transport_connect(&r->tp, e.listen, ep_err_cb, &r->ep_failed[i], &r->ep[i]);
        if (err) {
            fprintf(stderr, "hostile: cannot connect to server %d\n", i);
            bail();
        }
    }
}

static void raw_close(struct raw *r)
{
    for (int i = 0; i < r->n; i++)
        if (r->ep[i])
            bfs_transport_close_ep(&r->tp, r->ep[i], r->ep_failed[i]);
    bfs_transport_fini(&r->tp);
}

struct sendbuf {
    void *hdr;
    void *data; /* freed with the send unless it is shared */
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
    sendbuf_free(user_data);
    g_inflight_sends--;
    ucp_request_free(request);
}

/* Mirror of the server's admission logic (loop.c, conns.c + the payload check in handlers.c):
 * which of its two counters a frame must bump. Used for the exact counter check at the end.
 * UCX: a header that does not decode, then a frame without a reply endpoint, count as
 * rejected frames; a wrong key as rejected_key; then a payload on an op other than
 * CHUNK_WRITE as a rejected frame. */
static void account(struct raw *r, int srv, const void *hdr, size_t hlen, size_t dlen,
                    int with_reply)
{
    struct bfs_frame f;
    if (bfs_frame_decode(hdr, hlen, dlen, BFS_OP__COUNT, &f) != 0 || !with_reply) {
        r->exp_rejected_frames[srv]++;
        return;
    }
    if (memcmp(f.key, r->key, BFS_KEY_LEN) != 0) {
        r->exp_rejected_key[srv]++;
        return;
    }
    if (dlen && f.opcode != BFS_OP_CHUNK_WRITE &&
        f.opcode != BFS_OP_INLINE_WRITE)
        r->exp_rejected_frames[srv]++;
}

static void progress_some(struct raw *r, int timeout_ms)
{
    bfs_transport_wait(&r->tp, timeout_ms);
    while (ucp_worker_progress(r->tp.worker))
        ;
}

/* Send one AM to server srv. hdr (hlen bytes) is copied; data is used in place and must live
 * until the send completes (own_data: it is malloc'd and freed by us). flags: extra
 * UCP_AM_SEND_FLAG_EAGER / _RNDV. */
static void send_raw(struct raw *r, int srv, const void *hdr, size_t hlen, void *data,
                     size_t dlen, int own_data, int with_reply, uint32_t flags)
{
    int64_t deadline = bfs_mono_ms() + 10000;
    while (g_inflight_sends >= WINDOW && bfs_mono_ms() < deadline)
        progress_some(r, 10);
    struct sendbuf *b = calloc(1, sizeof *b);
    if (b && hlen)
        b->hdr = malloc(hlen);
    if (!b || (hlen && !b->hdr)) {
        fprintf(stderr, "hostile: out of memory\n");
        bail();
    }
    if (hlen)
        memcpy(b->hdr, hdr, hlen);
    b->data = data;
    b->own_data = own_data;
    ucp_request_param_t p = {
        .op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA |
                        UCP_OP_ATTR_FIELD_FLAGS,
        .cb.send = send_cb,
        .user_data = b,
        .flags = (with_reply ? UCP_AM_SEND_FLAG_REPLY : 0) | flags,
    };
    void *req = ucp_am_send_nbx(r->ep[srv], BFS_AM_REQUEST, b->hdr, hlen, data, dlen, &p);
    if (req == NULL) {
        sendbuf_free(b);
    } else if (UCS_PTR_IS_ERR(req)) {
        fprintf(stderr, "hostile: ucp_am_send_nbx(%zu header, %zu data bytes): %s\n", hlen, dlen,
                ucs_status_string(UCS_PTR_STATUS(req)));
        g_send_errors++;
        sendbuf_free(b);
        return;
    } else {
        g_inflight_sends++;
    }
    g_frames_sent++;
    account(r, srv, hdr, hlen, dlen, with_reply);
    progress_some(r, 0);
}

/* A frame under construction: header fields plus an args buffer. */
struct frame {
    struct bfs_frame f;
    uint8_t args[BFS_MAX_ARGS + 64];
    size_t args_len;
};

static uint64_t frame_init(struct frame *fr, struct raw *r, int op)
{
    memset(&fr->f, 0, sizeof fr->f);
    fr->f.magic = BFS_MAGIC;
    fr->f.version = BFS_WIRE_VERSION;
    fr->f.opcode = (uint16_t)op;
    fr->f.reqid = g_next_reqid++;
    memcpy(fr->f.key, r->key, BFS_KEY_LEN);
    fr->args_len = 0;
    if (fr->f.reqid >= MAX_REQ) {
        fprintf(stderr, "hostile: too many tracked requests\n");
        bail();
    }
    return fr->f.reqid;
}

static void track(uint64_t reqid, int srv, enum expect e, int want, const char *what)
{
    g_req[reqid] = (struct track){
        .expect = (uint8_t)e, .server = (uint8_t)srv, .want = want, .got = NO_REPLY, .what = what};
}

/* Encode the frame; args_len/data_len in the header are taken from fr->f unless `fix` is set,
 * in which case they are made truthful first. Returns the header length. */
static size_t frame_encode(struct frame *fr, uint8_t *out, size_t dlen, int fix)
{
    if (fix) {
        fr->f.args_len = (uint32_t)fr->args_len;
        fr->f.data_len = dlen;
    }
    bfs_frame_encode(&fr->f, out);
    memcpy(out + BFS_HDR_LEN, fr->args, fr->args_len);
    return BFS_HDR_LEN + fr->args_len;
}

static uint8_t g_hdr[BFS_HDR_LEN + BFS_MAX_ARGS + 64];

/* Send a frame with truthful lengths and track the expected answer. */
static void send_frame(struct raw *r, int srv, struct frame *fr, void *data, size_t dlen,
                       int own_data, int with_reply, uint32_t flags, enum expect e, int want,
                       const char *what)
{
    size_t hlen = frame_encode(fr, g_hdr, dlen, 1);
    track(fr->f.reqid, srv, with_reply ? e : EXP_NONE, want, what);
    send_raw(r, srv, g_hdr, hlen, data, dlen, own_data, with_reply, flags);
}

/* Argument writers onto a frame. */
static void a_u8(struct frame *fr, uint8_t v) { fr->args[fr->args_len++] = v; }
static void a_u16(struct frame *fr, uint16_t v)
{
    a_u8(fr, (uint8_t)v);
    a_u8(fr, (uint8_t)(v >> 8));
}
static void a_u32(struct frame *fr, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        a_u8(fr, (uint8_t)(v >> (8 * i)));
}
static void a_u64(struct frame *fr, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        a_u8(fr, (uint8_t)(v >> (8 * i)));
}
static void a_bytes(struct frame *fr, const void *p, size_t n)
{
    memcpy(fr->args + fr->args_len, p, n);
    fr->args_len += n;
}
static void a_strn(struct frame *fr, const char *s, size_t n)
{
    a_u16(fr, (uint16_t)n);
    a_bytes(fr, s, n);
}
static void a_str(struct frame *fr, const char *s) { a_strn(fr, s, strlen(s)); }

/* Wait for every tracked reply (bounded), then a short grace period for unwanted ones. */
static void drain(struct raw *r, uint64_t first_reqid, int timeout_ms)
{
    int64_t deadline = bfs_mono_ms() + timeout_ms;
    for (;;) {
        int missing = 0;
        for (uint64_t id = first_reqid; id < g_next_reqid && !missing; id++) {
            struct track *t = &g_req[id];
            if (t->expect >= EXP_STATUS && t->replies == 0)
                missing = 1;
        }
        if ((!missing && g_inflight_sends == 0) || bfs_mono_ms() > deadline)
            break;
        progress_some(r, 10);
    }
    int64_t grace = bfs_mono_ms() + 200;
    while (bfs_mono_ms() < grace)
        progress_some(r, 10);
}

static int verify(uint64_t first_reqid, const char *phase)
{
    int bad = 0, shown = 0;
    for (uint64_t id = first_reqid; id < g_next_reqid; id++) {
        struct track *t = &g_req[id];
        const char *why = NULL;
        switch (t->expect) {
        case EXP_NONE:
            if (t->replies)
                why = "answered a frame it should have dropped";
            break;
        case EXP_STATUS:
            if (t->replies != 1)
                why = t->replies ? "answered more than once" : "no reply";
            else if (t->got != t->want)
                why = "wrong status";
            break;
        case EXP_ANY:
        case EXP_ERR:
            if (t->replies != 1)
                why = t->replies ? "answered more than once" : "no reply";
            else if (t->expect == EXP_ERR && t->got == 0)
                why = "accepted a frame it should have refused";
            break;
        default:
            break;
        }
        if (why) {
            bad++;
            /* At most 5 lines per kind of frame, 60 in all. */
            static const char *last_what;
            static int same;
            same = t->what == last_what ? same + 1 : 0;
            last_what = t->what;
            if (same < 5 && shown++ < 60) {
                char want[32] = "-", got[32] = "-";
                if (t->expect == EXP_STATUS)
                    snprintf(want, sizeof want, "%d (%s)", t->want, strerror(t->want));
                if (t->replies)
                    snprintf(got, sizeof got, "%d (%s)", t->got, strerror(t->got));
                fprintf(stderr, "FAIL [%s] server %u, %s: %s (want %s, got %s)\n", phase,
                        t->server, t->what, why, want, got);
            }
        }
    }
    test_failures += bad;
    return bad;
}

/* ---- the targeted cases ---- */

static uint8_t *g_big;          /* BFS_MAX_DATA + 1 bytes, shared by the oversized sends */
static uint8_t g_mib[1 << 20];  /* 1 MiB payload */

static void lookup_frame(struct frame *fr, struct raw *r, const char *path)
{
    frame_init(fr, r, BFS_OP_LOOKUP);
    a_str(fr, path);
}

static void targeted(struct raw *r, int s, uint64_t file_id, uint32_t file_chunk)
{
    static struct frame fr;
    uint8_t hdr[BFS_HDR_LEN + 512];
    size_t hlen;

    /* Positive control: the raw channel works. */
    frame_init(&fr, r, BFS_OP_PING);
    send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, 0, "ping (control)");

    /* -- truncated headers: shorter than 48 bytes, magic right: dropped (no request named) */
    for (size_t len = 0; len < BFS_HDR_LEN; len += 7) {
        lookup_frame(&fr, r, "/");
        frame_encode(&fr, hdr, 0, 1);
        track(fr.f.reqid, s, EXP_NONE, 0, "truncated header");
        send_raw(r, s, hdr, len, NULL, 0, 0, 1, 0);
    }
    /* -- args_len claims more than is present */
    lookup_frame(&fr, r, "/");
    hlen = frame_encode(&fr, hdr, 0, 1);
    fr.f.args_len += 100;
    bfs_frame_encode(&fr.f, hdr);
    track(fr.f.reqid, s, EXP_STATUS, EPROTO, "args_len beyond the header");
    send_raw(r, s, hdr, hlen, NULL, 0, 0, 1, 0);
    /* -- args_len claims less than is present */
    lookup_frame(&fr, r, "/");
    hlen = frame_encode(&fr, hdr, 0, 1);
    fr.f.args_len -= 1;
    bfs_frame_encode(&fr.f, hdr);
    track(fr.f.reqid, s, EXP_STATUS, EPROTO, "args_len short of the header");
    send_raw(r, s, hdr, hlen, NULL, 0, 0, 1, 0);
    /* -- header cut inside the args, args_len truthful for the full frame */
    lookup_frame(&fr, r, "/some/path");
    hlen = frame_encode(&fr, hdr, 0, 1);
    track(fr.f.reqid, s, EXP_STATUS, EPROTO, "header cut inside the args");
    send_raw(r, s, hdr, hlen - 3, NULL, 0, 0, 1, 0);

    /* -- wrong magic: dropped, with and without data, with and without reply flag */
    for (int v = 0; v < 4; v++) {
        lookup_frame(&fr, r, "/");
        fr.f.magic = v == 0 ? 0 : v == 1 ? BFS_MAGIC ^ 1 : v == 2 ? 0x42465331u : 0xffffffffu;
        hlen = frame_encode(&fr, hdr, v & 1 ? 64 : 0, 1);
        track(fr.f.reqid, s, EXP_NONE, 0, "wrong magic");
        send_raw(r, s, hdr, hlen, v & 1 ? g_mib : NULL, v & 1 ? 64 : 0, 0, v != 3, 0);
    }

    /* -- wrong version: EPROTONOSUPPORT */
    static const uint16_t versions[] = {0, BFS_WIRE_VERSION - 1, BFS_WIRE_VERSION + 1, 0x100,
                                        0xffff};
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
        lookup_frame(&fr, r, "/");
        fr.f.version = versions[i];
        hlen = frame_encode(&fr, hdr, 0, 1);
        track(fr.f.reqid, s, EXP_STATUS, EPROTONOSUPPORT, "wrong version");
        send_raw(r, s, hdr, hlen, NULL, 0, 0, 1, 0);
    }
    /* wrong version and lying lengths: the version is reported first */
    lookup_frame(&fr, r, "/");
    fr.f.version = 7;
    hlen = frame_encode(&fr, hdr, 0, 1);
    fr.f.args_len = 0xffffffffu;
    bfs_frame_encode(&fr.f, hdr);
    track(fr.f.reqid, s, EXP_STATUS, EPROTONOSUPPORT, "wrong version, bad args_len");
    send_raw(r, s, hdr, hlen, NULL, 0, 0, 1, 0);

    /* -- unknown opcodes: EBADMSG */
    static const int bad_ops[] = {0, BFS_OP__COUNT, BFS_OP__COUNT + 1, 999, 0xffff};
    for (size_t i = 0; i < sizeof bad_ops / sizeof bad_ops[0]; i++) {
        frame_init(&fr, r, bad_ops[i]);
        a_str(&fr, "/");
        send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, EBADMSG, "unknown opcode");
    }
    frame_init(&fr, r, 999); /* with a payload too */
    send_frame(r, s, &fr, g_mib, 4096, 0, 1, 0, EXP_STATUS, EBADMSG, "unknown opcode + data");

    /* -- HELLO: a no-op. Arguments or a payload are EPROTO; a plain one answers 0, also a
     * second and a third time on the same connection, which keeps working. */
    frame_init(&fr, r, BFS_OP_HELLO);
    a_u32(&fr, 0);
    send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, EPROTO, "hello with arguments");
    frame_init(&fr, r, BFS_OP_HELLO);
    a_u32(&fr, (uint32_t)getpid());
    a_u32(&fr, (uint32_t)geteuid());
    a_str(&fr, "localhost");
    send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, EPROTO, "hello with the old local args");
    frame_init(&fr, r, BFS_OP_HELLO);
    send_frame(r, s, &fr, g_mib, 64, 0, 1, 0, EXP_STATUS, EPROTO, "hello with a payload");
    frame_init(&fr, r, BFS_OP_HELLO);
    send_frame(r, s, &fr, g_mib, sizeof g_mib, 0, 1, UCP_AM_SEND_FLAG_RNDV, EXP_STATUS, EPROTO,
               "hello with a 1 MiB payload (rendezvous)");
    for (int k = 0; k < 3; k++) {
        frame_init(&fr, r, BFS_OP_HELLO);
        send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, 0, "plain hello (repeated)");
    }
    frame_init(&fr, r, BFS_OP_PING);
    send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, 0, "ping after repeated hellos");

    /* -- oversized */
    lookup_frame(&fr, r, "/");
    hlen = frame_encode(&fr, hdr, 0, 1);
    fr.f.args_len = BFS_MAX_ARGS + 1;
    bfs_frame_encode(&fr.f, hdr);
    track(fr.f.reqid, s, EXP_STATUS, EPROTO, "args_len > BFS_MAX_ARGS (claimed)");
    send_raw(r, s, hdr, hlen, NULL, 0, 0, 1, 0);
    lookup_frame(&fr, r, "/");
    hlen = frame_encode(&fr, hdr, 0, 1);
    fr.f.args_len = 0xffffffffu;
    bfs_frame_encode(&fr.f, hdr);
    track(fr.f.reqid, s, EXP_STATUS, EPROTO, "args_len 4 GiB (claimed)");
    send_raw(r, s, hdr, hlen, NULL, 0, 0, 1, 0);
    if (r->max_am_header >= BFS_HDR_LEN + BFS_MAX_ARGS + 1) {
        /* Really that many argument bytes, if UCX lets us send such a header. */
        frame_init(&fr, r, BFS_OP_LOOKUP);
        memset(fr.args, 'a', BFS_MAX_ARGS + 1);
        fr.args_len = BFS_MAX_ARGS + 1;
        send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, EPROTO, "args > BFS_MAX_ARGS (real)");
    }
    static const uint64_t big_dl[] = {BFS_MAX_DATA + 1, 1ull << 40, UINT64_MAX};
    for (size_t i = 0; i < sizeof big_dl / sizeof big_dl[0]; i++) {
        frame_init(&fr, r, BFS_OP_CHUNK_WRITE);
        a_u64(&fr, 1);
        a_u64(&fr, 0);
        a_u64(&fr, 0);
        a_u32(&fr, 1u << 20);
        hlen = frame_encode(&fr, hdr, 0, 1);
        fr.f.data_len = big_dl[i];
        bfs_frame_encode(&fr.f, hdr);
        track(fr.f.reqid, s, EXP_STATUS, EPROTO, "data_len > BFS_MAX_DATA (claimed)");
        send_raw(r, s, hdr, hlen, NULL, 0, 0, 1, 0);
    }
    /* data_len disagreeing with the real payload, both ways, eager and rendezvous */
    for (int v = 0; v < 4; v++) {
        frame_init(&fr, r, BFS_OP_CHUNK_WRITE);
        a_u64(&fr, 1);
        a_u64(&fr, 0);
        a_u64(&fr, 0);
        a_u32(&fr, 1u << 20);
        size_t real = v < 2 ? 1000 : sizeof g_mib;
        hlen = frame_encode(&fr, hdr, real, 1);
        fr.f.data_len = v & 1 ? real + 1 : real - 1;
        bfs_frame_encode(&fr.f, hdr);
        track(fr.f.reqid, s, EXP_STATUS, EPROTO, "data_len disagrees with the payload");
        send_raw(r, s, hdr, hlen, g_mib, real, 0, 1, v < 2 ? 0 : UCP_AM_SEND_FLAG_RNDV);
    }
    /* a real payload larger than BFS_MAX_DATA (rendezvous: the server need not pull it) */
    if (g_big) {
        frame_init(&fr, r, BFS_OP_CHUNK_WRITE);
        a_u64(&fr, 1);
        a_u64(&fr, 0);
        a_u64(&fr, 0);
        a_u32(&fr, 64u << 20);
        send_frame(r, s, &fr, g_big, BFS_MAX_DATA + 1, 0, 1, UCP_AM_SEND_FLAG_RNDV, EXP_STATUS,
                   EPROTO, "payload > BFS_MAX_DATA");
    }
    /* a payload on ops that take none */
    lookup_frame(&fr, r, "/");
    send_frame(r, s, &fr, g_mib, sizeof g_mib, 0, 1, UCP_AM_SEND_FLAG_RNDV, EXP_STATUS, EPROTO,
               "lookup + 1 MiB (rendezvous)");
    lookup_frame(&fr, r, "/");
    send_frame(r, s, &fr, g_mib, sizeof g_mib, 0, 1, UCP_AM_SEND_FLAG_EAGER, EXP_STATUS, EPROTO,
               "lookup + 1 MiB (eager)");
    frame_init(&fr, r, BFS_OP_PING);
    send_frame(r, s, &fr, g_mib, 1, 0, 1, 0, EXP_STATUS, EPROTO, "ping + 1 byte");
    frame_init(&fr, r, BFS_OP_MKDIR);
    a_str(&fr, "/hostile-mkdir-with-data");
    a_u32(&fr, 0755);
    a_u32(&fr, 0);
    a_u32(&fr, 0);
    send_frame(r, s, &fr, g_mib, 100, 0, 1, 0, EXP_STATUS, EPROTO, "mkdir + data");
    frame_init(&fr, r, BFS_OP_CHUNK_READ);
    a_u64(&fr, file_id);
    a_u64(&fr, 0);
    a_u64(&fr, 0);
    a_u64(&fr, 4096);
    a_u32(&fr, file_chunk);
    send_frame(r, s, &fr, g_mib, 65536, 0, 1, 0, EXP_STATUS, EPROTO, "chunk_read + data");

    /* -- chunk requests outside the chunk: EINVAL */
    struct {
        uint64_t off;
        size_t len;
        uint32_t cs;
        const char *what;
    } cw[] = {
        {4000, 200, 4096, "chunk_write off+len > chunk_size"},
        {4097, 1, 4096, "chunk_write off > chunk_size"},
        {UINT64_MAX, 1, 1u << 20, "chunk_write off 2^64-1"},
        {UINT64_MAX - 10, 100, 1u << 20, "chunk_write off+len wraps"},
        {0, 100, 0, "chunk_write chunk_size 0"},
        {0, 100, 4095, "chunk_write chunk_size 4095"},
        {0, 100, (64u << 20) + 1, "chunk_write chunk_size 64 MiB + 1"},
        {0, 100, UINT32_MAX, "chunk_write chunk_size 4 GiB - 1"},
        {0, 8192, 4096, "chunk_write 8 KiB into a 4 KiB chunk"},
        {0, sizeof g_mib, 4096, "chunk_write 1 MiB into a 4 KiB chunk"},
    };
    for (size_t i = 0; i < sizeof cw / sizeof cw[0]; i++) {
        frame_init(&fr, r, BFS_OP_CHUNK_WRITE);
        a_u64(&fr, file_id); /* the real file: nothing may land in it */
        a_u64(&fr, 0);
        a_u64(&fr, cw[i].off);
        a_u32(&fr, cw[i].cs);
        send_frame(r, s, &fr, g_mib, cw[i].len, 0, 1, 0, EXP_STATUS, EINVAL, cw[i].what);
    }
    struct {
        uint64_t off, len;
        uint32_t cs;
        const char *what;
    } cr[] = {
        {0, 4ull << 30, 1u << 20, "chunk_read 4 GiB"},
        {0, UINT64_MAX, 1u << 20, "chunk_read 2^64-1 bytes"},
        {1, UINT64_MAX, 1u << 20, "chunk_read off 1 + 2^64-1 bytes"},
        {(1u << 20) + 1, 0, 1u << 20, "chunk_read off > chunk_size"},
        {UINT64_MAX, 1, 1u << 20, "chunk_read off 2^64-1"},
        {0, 4096, 0, "chunk_read chunk_size 0"},
        {0, 4096, UINT32_MAX, "chunk_read chunk_size 4 GiB - 1"},
        {0, (64u << 20) + 1, 64u << 20, "chunk_read 64 MiB + 1"},
    };
    for (size_t i = 0; i < sizeof cr / sizeof cr[0]; i++) {
        frame_init(&fr, r, BFS_OP_CHUNK_READ);
        a_u64(&fr, file_id);
        a_u64(&fr, 0);
        a_u64(&fr, cr[i].off);
        a_u64(&fr, cr[i].len);
        a_u32(&fr, cr[i].cs);
        send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, EINVAL, cr[i].what);
    }
    static const uint32_t bad_cs[] = {0, 1, 4095, (64u << 20) + 1, UINT32_MAX};
    for (size_t i = 0; i < sizeof bad_cs / sizeof bad_cs[0]; i++) {
        frame_init(&fr, r, BFS_OP_CHUNK_TRUNCATE);
        a_u64(&fr, file_id);
        a_u64(&fr, 0);
        a_u32(&fr, bad_cs[i]);
        send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, EINVAL, "chunk_truncate bad chunk_size");
    }

    /* -- malformed arguments */
    frame_init(&fr, r, BFS_OP_LOOKUP);
    a_u16(&fr, 100);
    a_bytes(&fr, "/abc", 4);
    send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, EPROTO, "string length beyond the args");
    frame_init(&fr, r, BFS_OP_LOOKUP);
    a_u16(&fr, 0xffff);
    send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, EPROTO, "string length 65535, no bytes");
    frame_init(&fr, r, BFS_OP_LOOKUP);
    a_u8(&fr, 1);
    send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, EPROTO, "half a length prefix");
    frame_init(&fr, r, BFS_OP_LOOKUP);
    send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, EPROTO, "lookup without args");
    static const char *unnormalised[] = {"/a//b", "relative", "", "/a/", "/a/./b", "/a/../b",
                                         "//", "/.", "/..", "a/b", " /a"};
    for (size_t i = 0; i < sizeof unnormalised / sizeof unnormalised[0]; i++) {
        lookup_frame(&fr, r, unnormalised[i]);
        send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, EINVAL, "path not normalised");
    }
    {
        char longname[BFS_NAME_MAX + 3];
        longname[0] = '/';
        memset(longname + 1, 'n', BFS_NAME_MAX + 1);
        longname[BFS_NAME_MAX + 2] = '\0';
        lookup_frame(&fr, r, longname);
        send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, ENAMETOOLONG, "component > 255");
        static char longpath[BFS_PATH_MAX + 2];
        for (size_t i = 0; i < BFS_PATH_MAX + 1; i++)
            longpath[i] = i % 100 == 0 ? '/' : 'p';
        longpath[BFS_PATH_MAX + 1] = '\0';
        lookup_frame(&fr, r, longpath);
        send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, EPROTO, "path > BFS_PATH_MAX");
    }
    frame_init(&fr, r, BFS_OP_LOOKUP);
    a_strn(&fr, "/a\0b", 4);
    send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, EPROTO, "path containing NUL");
    frame_init(&fr, r, BFS_OP_LOOKUP);
    a_strn(&fr, "/\0", 2);
    send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, EPROTO, "path ending in NUL");
    lookup_frame(&fr, r, "/");
    a_u8(&fr, 0);
    send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, EPROTO, "lookup + trailing byte");
    frame_init(&fr, r, BFS_OP_MKDIR);
    a_str(&fr, "/hostile-short-mkdir");
    a_u32(&fr, 0755);
    send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, EPROTO, "mkdir missing fields");
    frame_init(&fr, r, BFS_OP_MKDIR);
    a_str(&fr, "/hostile-long-mkdir");
    a_u32(&fr, 0755);
    a_u32(&fr, 0);
    a_u32(&fr, 0);
    a_u32(&fr, 0);
    send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, EPROTO, "mkdir + trailing garbage");
    frame_init(&fr, r, BFS_OP_CREATE);
    a_str(&fr, "/hostile-create-cs0");
    a_u32(&fr, 0644);
    a_u32(&fr, 0);
    a_u32(&fr, 0);
    a_u32(&fr, 0);
    a_u32(&fr, 0);
    send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, EINVAL, "create chunk_size 0");
    frame_init(&fr, r, BFS_OP_CREATE);
    a_str(&fr, "/hostile-create-cshuge");
    a_u32(&fr, 0644);
    a_u32(&fr, 0);
    a_u32(&fr, 0);
    a_u32(&fr, UINT32_MAX);
    a_u32(&fr, 0);
    send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, EINVAL, "create chunk_size 4 GiB - 1");
    frame_init(&fr, r, BFS_OP_REMOVE);
    a_str(&fr, "/");
    a_u32(&fr, BFS_REMOVE_DIR);
    a_u64(&fr, 0);
    send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, EBUSY, "remove /");
    frame_init(&fr, r, BFS_OP_REMOVE);
    a_str(&fr, "/data");
    a_u32(&fr, 77);
    a_u64(&fr, 0);
    send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, EPROTO, "remove with kind 77");
    frame_init(&fr, r, BFS_OP_SIZE_UPDATE);
    a_str(&fr, "/data");
    a_u64(&fr, file_id);
    a_u64(&fr, 1);
    a_u32(&fr, 9);
    a_u64(&fr, 0);
    send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, EPROTO, "size_update how 9");
    frame_init(&fr, r, BFS_OP_SIZE_UPDATE);
    a_str(&fr, "/data");
    a_u64(&fr, file_id);
    a_u64(&fr, UINT64_MAX);
    a_u32(&fr, BFS_SIZE_SET);
    a_u64(&fr, 0);
    send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, EFBIG, "size_update 2^64-1");
    frame_init(&fr, r, BFS_OP_READDIR);
    a_str(&fr, "/");
    a_u32(&fr, 10);
    a_str(&fr, "a/b");
    send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, EINVAL, "readdir after-name with '/'");
    frame_init(&fr, r, BFS_OP_READDIR);
    a_str(&fr, "/");
    a_u32(&fr, 10);
    {
        char n256[BFS_NAME_MAX + 2];
        memset(n256, 'n', BFS_NAME_MAX + 1);
        n256[BFS_NAME_MAX + 1] = '\0';
        a_str(&fr, n256);
    }
    send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, EPROTO, "readdir after-name > 255");
    frame_init(&fr, r, BFS_OP_SUBTREE);
    a_str(&fr, "/d");
    a_u32(&fr, 10);
    a_str(&fr, "/e/f");
    send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, EINVAL, "subtree after-path outside");
    frame_init(&fr, r, BFS_OP_SUBTREE);
    a_str(&fr, "/");
    a_u32(&fr, 10);
    {
        /* One component longer than BFS_NAME_MAX: not a path any client could send. */
        char p300[302];
        p300[0] = '/';
        memset(p300 + 1, 'x', 300);
        p300[301] = '\0';
        a_str(&fr, p300);
    }
    send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, EINVAL, "subtree after-path name > 255");
    frame_init(&fr, r, BFS_OP_SUBTREE);
    a_str(&fr, "/");
    a_u32(&fr, 10);
    a_str(&fr, "/a//b/");
    send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, EINVAL, "subtree after-path unnormalised");
    frame_init(&fr, r, BFS_OP_SUBTREE);
    a_str(&fr, "/");
    a_u32(&fr, 10);
    a_str(&fr, "/a//b");
    send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, EINVAL, "subtree after-path with //");
    frame_init(&fr, r, BFS_OP_META_PUT);
    a_str(&fr, "/hostile-meta-put");
    a_u64(&fr, 5);
    send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, EPROTO, "meta_put truncated inode");
    /* -- META_PUT of inodes no reader could use (a chunk size of 0 was stored once, and
     * every reader of the file died of SIGFPE): refused, and nothing stored */
    static const struct {
        uint32_t chunk_size, mode, nlink;
        uint64_t size, fileid;
        const char *what;
    } bad_ino[] = {
        {0, S_IFREG | 0644, 1, 10, 5, "meta_put chunk_size 0"},
        {1, S_IFREG | 0644, 1, 10, 5, "meta_put chunk_size 1"},
        {1u << 31, S_IFREG | 0644, 1, 10, 5, "meta_put chunk_size 2^31"},
        {UINT32_MAX, S_IFREG | 0644, 1, 10, 5, "meta_put chunk_size 2^32-1"},
        {1u << 20, S_IFREG | 0644, 1, 1ull << 63, 5, "meta_put size 2^63"},
        {1u << 20, S_IFLNK | 0777, 1, 10, 5, "meta_put symlink mode"},
        {1u << 20, S_IFREG | 0644, 0, 10, 5, "meta_put nlink 0"},
        {1u << 20, S_IFREG | 0644, 1, 10, 0, "meta_put file id 0"},
    };
    for (size_t i = 0; i < sizeof bad_ino / sizeof bad_ino[0]; i++) {
        struct bfs_inode ino = {.fileid = bad_ino[i].fileid, .size = bad_ino[i].size,
                                .mode = bad_ino[i].mode, .chunk_size = bad_ino[i].chunk_size,
                                .nlink = bad_ino[i].nlink, .atime_ns = 1, .mtime_ns = 1,
                                .ctime_ns = 1};
        uint8_t enc[BFS_INODE_WIRE_LEN];
        struct bfs_wbuf w;
        bfs_wb_init(&w, enc, sizeof enc);
        bfs_inode_put(&w, &ino);
        frame_init(&fr, r, BFS_OP_META_PUT);
        a_str(&fr, "/hostile-bad-inode");
        a_bytes(&fr, enc, w.len);
        a_u32(&fr, 0);
        send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, EINVAL, bad_ino[i].what);
    }
    lookup_frame(&fr, r, "/hostile-bad-inode");
    send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, ENOENT, "bad inodes were not stored");
    /* -- symbolic links: a target must be 1..4095 bytes without NUL, exactly the link's size
     * when a META_PUT carries one; a link inode without its target is malformed */
    {
        static char t4096[4097];
        memset(t4096, 't', 4096);
        static const struct {
            const char *target;
            size_t len;
            uint32_t uid;
            int err;
            const char *what;
        } bad_sym[] = {
            {"", 0, 0, EINVAL, "symlink empty target"},
            {"a\0b", 3, 0, EPROTO, "symlink target with NUL"},
            {t4096, 4096, 0, EPROTO, "symlink target 4096 bytes"},
            {"x", 1, UINT32_MAX, EINVAL, "symlink uid -1"},
        };
        for (size_t i = 0; i < sizeof bad_sym / sizeof bad_sym[0]; i++) {
            frame_init(&fr, r, BFS_OP_SYMLINK);
            a_str(&fr, "/hostile-symlink");
            a_u32(&fr, bad_sym[i].uid);
            a_u32(&fr, 0);
            a_strn(&fr, bad_sym[i].target, bad_sym[i].len);
            send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, bad_sym[i].err, bad_sym[i].what);
        }
        frame_init(&fr, r, BFS_OP_SYMLINK);
        a_str(&fr, "hostile-relative-symlink");
        a_u32(&fr, 0);
        a_u32(&fr, 0);
        a_str(&fr, "x");
        send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, EINVAL, "symlink relative path");
        frame_init(&fr, r, BFS_OP_SYMLINK);
        a_str(&fr, "/hostile-symlink");
        a_u32(&fr, 0);
        a_u32(&fr, 0);
        send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, EPROTO, "symlink without target");
        struct bfs_inode lnk = {.fileid = 5, .size = 3, .mode = S_IFLNK | 0777, .nlink = 1,
                                .atime_ns = 1, .mtime_ns = 1, .ctime_ns = 1};
        uint8_t enc[BFS_INODE_WIRE_LEN];
        struct bfs_wbuf w;
        bfs_wb_init(&w, enc, sizeof enc);
        bfs_inode_put(&w, &lnk);
        frame_init(&fr, r, BFS_OP_META_PUT);
        a_str(&fr, "/hostile-symlink");
        a_bytes(&fr, enc, w.len);
        a_u32(&fr, 0);
        send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, EPROTO, "meta_put link, no target");
        frame_init(&fr, r, BFS_OP_META_PUT);
        a_str(&fr, "/hostile-symlink");
        a_bytes(&fr, enc, w.len);
        a_u32(&fr, 0);
        a_str(&fr, "abcd"); /* 4 bytes, the inode says 3 */
        send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, EINVAL, "meta_put link, wrong size");
        lookup_frame(&fr, r, "/hostile-symlink");
        send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, ENOENT, "bad links were not stored");
        /* SETATTR of the old layout (no atime) is malformed now */
        frame_init(&fr, r, BFS_OP_SETATTR);
        a_str(&fr, "/data");
        a_u32(&fr, BFS_SETATTR_MTIME);
        a_u32(&fr, 0);
        a_u32(&fr, 0);
        a_u32(&fr, 0);
        a_u64(&fr, 1);
        send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, EPROTO, "setattr without atime");
        frame_init(&fr, r, BFS_OP_SETATTR);
        a_str(&fr, "/hostile-nothing");
        a_u32(&fr, BFS_SETATTR_ATIME);
        a_u32(&fr, 0);
        a_u32(&fr, 0);
        a_u32(&fr, 0);
        a_u64(&fr, 1);
        a_u64(&fr, (uint64_t)-5);
        send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, EINVAL, "setattr atime < 0");
        frame_init(&fr, r, BFS_OP_READDIRPLUS);
        a_str(&fr, "/");
        a_u32(&fr, 10);
        a_str(&fr, "a/b");
        send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, EINVAL,
                   "readdirplus after-name with '/'");
    }
    static const int fixed_ops[] = {BFS_OP_CHUNK_WRITE, BFS_OP_CHUNK_READ, BFS_OP_CHUNK_TRUNCATE,
                                    BFS_OP_CHUNK_REMOVE, BFS_OP_FSYNC};
    for (size_t i = 0; i < sizeof fixed_ops / sizeof fixed_ops[0]; i++) {
        frame_init(&fr, r, fixed_ops[i]);
        a_u32(&fr, 1); /* too short for any of them */
        send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, EPROTO, "chunk op, short args");
        frame_init(&fr, r, fixed_ops[i]);
        memset(fr.args, 0, 64);
        fr.args_len = 64; /* too long for any of them */
        send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, EPROTO, "chunk op, trailing garbage");
    }
    static const int noarg_ops[] = {BFS_OP_PING, BFS_OP_STATFS, BFS_OP_STATS};
    for (size_t i = 0; i < sizeof noarg_ops / sizeof noarg_ops[0]; i++) {
        frame_init(&fr, r, noarg_ops[i]);
        a_u32(&fr, 0xdeadbeef);
        send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, EPROTO, "arg-less op with args");
    }

    /* -- wrong cluster key: EACCES, and nothing done */
    for (int v = 0; v < 3; v++) {
        frame_init(&fr, r, BFS_OP_MKDIR);
        a_str(&fr, "/hostile-wrong-key");
        a_u32(&fr, 0755);
        a_u32(&fr, 0);
        a_u32(&fr, 0);
        if (v == 0)
            fr.f.key[0] ^= 1;
        else if (v == 1)
            memset(fr.f.key, 0, BFS_KEY_LEN);
        else
            fr.f.key[BFS_KEY_LEN - 1] ^= 0x80;
        send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, EACCES, "mkdir with a wrong key");
    }
    frame_init(&fr, r, BFS_OP_CHUNK_WRITE); /* overwrite the real file's data */
    a_u64(&fr, file_id);
    a_u64(&fr, 0);
    a_u64(&fr, 0);
    a_u32(&fr, file_chunk);
    fr.f.key[3] ^= 0x10;
    send_frame(r, s, &fr, g_mib, file_chunk < sizeof g_mib ? file_chunk : sizeof g_mib, 0, 1, 0,
               EXP_STATUS, EACCES, "chunk_write with a wrong key");
    frame_init(&fr, r, BFS_OP_CHUNK_REMOVE);
    a_u64(&fr, file_id);
    fr.f.key[7] ^= 0x01;
    send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, EACCES, "chunk_remove with a wrong key");
    frame_init(&fr, r, BFS_OP_REMOVE);
    a_str(&fr, "/data");
    a_u32(&fr, BFS_REMOVE_FILE);
    a_u64(&fr, 0);
    memset(fr.f.key, 0xff, BFS_KEY_LEN);
    send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, EACCES, "remove with a wrong key");
    frame_init(&fr, r, BFS_OP_PING);
    fr.f.key[0] ^= 0xff;
    send_frame(r, s, &fr, g_mib, sizeof g_mib, 0, 1, UCP_AM_SEND_FLAG_RNDV, EXP_STATUS, EACCES,
               "wrong key + 1 MiB (rendezvous)");

    /* -- no reply endpoint: dropped, nothing done */
    frame_init(&fr, r, BFS_OP_PING);
    send_frame(r, s, &fr, NULL, 0, 0, 0, 0, EXP_NONE, 0, "ping without reply flag");
    frame_init(&fr, r, BFS_OP_MKDIR);
    a_str(&fr, "/hostile-no-reply");
    a_u32(&fr, 0755);
    a_u32(&fr, 0);
    a_u32(&fr, 0);
    send_frame(r, s, &fr, NULL, 0, 0, 0, 0, EXP_NONE, 0, "mkdir without reply flag");
    frame_init(&fr, r, BFS_OP_CHUNK_WRITE);
    a_u64(&fr, file_id);
    a_u64(&fr, 0);
    a_u64(&fr, 0);
    a_u32(&fr, file_chunk);
    send_frame(r, s, &fr, g_mib, file_chunk < sizeof g_mib ? file_chunk : sizeof g_mib, 0, 0,
               UCP_AM_SEND_FLAG_RNDV, EXP_NONE, 0, "chunk_write without reply flag");
    frame_init(&fr, r, BFS_OP_MKDIR);
    a_str(&fr, "/hostile-no-reply-wrong-key");
    a_u32(&fr, 0755);
    a_u32(&fr, 0);
    a_u32(&fr, 0);
    fr.f.key[5] ^= 4;
    send_frame(r, s, &fr, NULL, 0, 0, 0, 0, EXP_NONE, 0, "wrong key without reply flag");
    lookup_frame(&fr, r, "/");
    fr.f.version = 9;
    send_frame(r, s, &fr, NULL, 0, 0, 0, 0, EXP_NONE, 0, "wrong version without reply flag");
    frame_init(&fr, r, 999);
    send_frame(r, s, &fr, g_mib, 10, 0, 0, 0, EXP_NONE, 0, "bad opcode without reply flag");
}

/* ---- randomised barrage ---- */

/* Length of the arguments each op parses, for paths of length 0 (to hit bfs_rb_done). */
static size_t op_fixed_args(int op)
{
    switch (op) {
    case BFS_OP_MKDIR: return 2 + 12;
    case BFS_OP_CREATE: return 2 + 20;
    case BFS_OP_LOOKUP: return 2;
    case BFS_OP_SETATTR: return 2 + 32;
    case BFS_OP_SIZE_UPDATE: return 2 + 28;
    case BFS_OP_REMOVE: return 2 + 12;
    case BFS_OP_READDIR: return 2 + 4 + 2;
    case BFS_OP_META_PUT: return 2 + BFS_INODE_WIRE_LEN + 4;
    case BFS_OP_SUBTREE: return 2 + 4 + 2;
    case BFS_OP_CHUNK_WRITE: return 28;
    case BFS_OP_CHUNK_READ: return 36;
    case BFS_OP_CHUNK_TRUNCATE: return 20;
    case BFS_OP_CHUNK_REMOVE: return 8;
    case BFS_OP_FSYNC: return 8;
    case BFS_OP_CHUNK_PREFETCH: return 20;
    case BFS_OP_CHUNK_RESERVE: return 36;
    case BFS_OP_CHUNK_RELEASE: return 36;
    case BFS_OP_SYMLINK: return 2 + 8 + 2;
    case BFS_OP_READDIRPLUS: return 2 + 4 + 2;
    case BFS_OP_FIND: return 2 + 12 + 4 + 2 + 8 + 8 + 8 + 4 + 4; /* no cursor, empty glob */
    case BFS_OP_LOOKUP_DATA: return 2;
    case BFS_OP_INLINE_WRITE: return 2 + 24;
    case BFS_OP_MOVE_BEGIN: return 2 + 16;
    case BFS_OP_MOVE_END: return 2 + 16;
    default: return 0;
    }
}

static void barrage(struct raw *r, int s, int n_garbage, int n_semi, int n_fuzz)
{
    static uint8_t buf[512];
    static struct frame fr;
    /* Pure garbage as the AM header: 0..300 random bytes, sometimes random AM data. */
    for (int i = 0; i < n_garbage; i++) {
        size_t hlen = rnd_below(301);
        rnd_fill(buf, hlen);
        if (hlen >= 4 && ((uint32_t)buf[0] | (uint32_t)buf[1] << 8 | (uint32_t)buf[2] << 16 |
                          (uint32_t)buf[3] << 24) == BFS_MAGIC)
            buf[0] ^= 0xff; /* stay garbage: no request is named */
        size_t dlen = 0;
        uint32_t flags = 0;
        int mode = (int)rnd_below(4);
        if (mode == 1)
            dlen = rnd_below(4097);
        else if (mode == 2) {
            dlen = 8192 + rnd_below(sizeof g_mib - 8192);
            flags = rnd() & 1 ? UCP_AM_SEND_FLAG_RNDV : 0;
        }
        void *data = NULL;
        if (dlen) {
            data = malloc(dlen);
            rnd_fill(data, dlen < 256 ? dlen : 256);
        }
        send_raw(r, s, buf, hlen, data, dlen, 1, rnd() % 4 != 0, flags);
    }
    /* Right magic, the rest random: answered when >= 48 bytes (the reqid is ours). */
    for (int i = 0; i < n_semi; i++) {
        size_t hlen = rnd_below(301);
        rnd_fill(buf, hlen);
        uint64_t reqid = g_next_reqid++;
        struct bfs_frame f = {.magic = BFS_MAGIC, .reqid = reqid};
        uint8_t h[BFS_HDR_LEN];
        bfs_frame_encode(&f, h);
        memcpy(buf, h, hlen < 4 ? hlen : 4);
        if (hlen >= 16)
            memcpy(buf + 8, h + 8, 8);
        int with_reply = rnd() % 8 != 0;
        size_t dlen = rnd() & 1 ? rnd_below(2048) : 0;
        enum expect e = hlen >= BFS_HDR_LEN && with_reply ? EXP_ERR : EXP_NONE;
        track(reqid, s, hlen >= 16 ? e : EXP_NONE, 0, "magic + random bytes");
        void *data = dlen ? calloc(1, dlen) : NULL;
        send_raw(r, s, buf, hlen, data, dlen, 1, with_reply, 0);
    }
    /* Well-formed header with the right key, random op and random arguments. */
    for (int i = 0; i < n_fuzz; i++) {
        int op = rnd() % 10 == 0 ? (int)rnd_below(0x10000) : 1 + (int)rnd_below(BFS_OP__COUNT - 1);
        /* Keep the data-producing ops out (LOOKUP is harmless when right). HELLO stays: it is
         * a no-op now (EPROTO with any argument or payload). */
        if (op == BFS_OP_PING || op == BFS_OP_STATFS || op == BFS_OP_STATS)
            op = BFS_OP_LOOKUP;
        /* A well-formed CHUNK_PREFETCH gets no reply (proto.h): fuzz it malformed only. */
        int hint = op == BFS_OP_CHUNK_PREFETCH;
        frame_init(&fr, r, op);
        size_t fixed = op_fixed_args(op);
        size_t alen = rnd() & 1 && fixed ? fixed : rnd_below(200);
        if (hint && alen == fixed)
            alen = fixed + 1 + rnd_below(16);
        rnd_fill(fr.args, alen);
        fr.args_len = alen;
        int path_op = (op != BFS_OP_CHUNK_WRITE && op <= BFS_OP_SUBTREE) ||
                      op == BFS_OP_SYMLINK || op == BFS_OP_READDIRPLUS;
        if (fixed && fixed == alen && path_op) {
            /* Path ops: a plausible path prefix so parsing gets past the path sometimes. */
            static const char *paths[] = {"/", "/a//b", "x", "/fuzz\x01\xff", "/./", "/.."};
            const char *p = paths[rnd_below(6)];
            size_t pl = strlen(p);
            memmove(fr.args + 2 + pl, fr.args + 2, alen - 2);
            fr.args[0] = (uint8_t)pl;
            fr.args[1] = 0;
            memcpy(fr.args + 2, p, pl);
            fr.args_len = alen + pl;
            /* Valid paths reach the store; never let a fuzzed frame create an entry (see the
             * listing check at the end): for the creating ops make them relative, refused. */
            if (op == BFS_OP_MKDIR || op == BFS_OP_CREATE || op == BFS_OP_META_PUT ||
                op == BFS_OP_SYMLINK)
                fr.args[2] = '.';
        }
        size_t dlen = 0;
        uint32_t flags = 0;
        if (rnd() % 3 == 0) {
            dlen = rnd() & 1 ? rnd_below(4097) : rnd_below(sizeof g_mib + 1);
            flags = rnd() % 3 == 0 ? UCP_AM_SEND_FLAG_RNDV : 0;
        }
        int with_reply = rnd() % 16 != 0;
        uint8_t *data = dlen ? malloc(dlen) : NULL;
        if (data)
            memset(data, 0xa5, dlen);
        /* A valid op must be answered (status depends on the random args); invalid: EBADMSG. */
        int valid = op > 0 && op < BFS_OP__COUNT;
        send_frame(r, s, &fr, data, dlen, 1, with_reply, flags, valid ? EXP_ANY : EXP_STATUS,
                   valid ? 0 : EBADMSG, "fuzzed args");
    }
}

/* Valid read-only requests with a few argument bytes flipped: the parsers see inputs that
 * are almost right. Only read-only templates, so no mutation can change state. */
static void mutate(struct raw *r, int s, int count, uint64_t file_id, uint32_t file_chunk)
{
    static struct frame fr;
    for (int i = 0; i < count; i++) {
        int t = (int)rnd_below(5);
        switch (t) {
        case 0: lookup_frame(&fr, r, "/data"); break;
        case 1:
            frame_init(&fr, r, BFS_OP_READDIR);
            a_str(&fr, "/");
            a_u32(&fr, 100);
            a_str(&fr, "");
            break;
        case 2:
            frame_init(&fr, r, BFS_OP_SUBTREE);
            a_str(&fr, "/");
            a_u32(&fr, 100);
            a_str(&fr, "/data");
            break;
        case 3:
            frame_init(&fr, r, BFS_OP_CHUNK_READ);
            a_u64(&fr, file_id);
            a_u64(&fr, rnd_below(4));
            a_u64(&fr, 0);
            a_u64(&fr, 4096);
            a_u32(&fr, file_chunk);
            break;
        default:
            frame_init(&fr, r, BFS_OP_STATFS);
            a_u32(&fr, 0); /* EPROTO; mutations may shorten it to nothing */
            break;
        }
        int flips = 1 + (int)rnd_below(3);
        for (int k = 0; k < flips && fr.args_len; k++) {
            size_t at = rnd_below(fr.args_len);
            switch (rnd_below(4)) {
            case 0: fr.args[at] ^= (uint8_t)(1u << rnd_below(8)); break;
            case 1: fr.args[at] = (uint8_t)rnd(); break;
            case 2: fr.args_len = at; break; /* truncate */
            default: fr.args[at] = 0xff; break;
            }
        }
        if (rnd() % 8 == 0) /* or append a byte */
            fr.args[fr.args_len++] = (uint8_t)rnd();
        send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_ANY, 0, "mutated read-only request");
    }
}

/* ---- the local socket: a raw same-host peer ---- */

/* On a byte stream a frame the server cannot parse ends the connection (it cannot find the
 * next frame): counted once in rejected_frames. */
struct lpeer {
    int fd;
    int srv;
    int closed; /* the server closed it (end of file or reset) */
    struct bfs_lsock_in in;
};

static void *lp_begin(void *arg, const struct bfs_frame *f, const uint8_t *args, void **cookie,
                      int *err)
{
    (void)arg;
    (void)f;
    (void)args;
    (void)cookie;
    (void)err;
    return NULL; /* reply payloads are not looked at */
}

static void lp_end(void *arg, const struct bfs_frame *f, const uint8_t *args, void *cookie)
{
    (void)arg;
    (void)args;
    (void)cookie;
    if (f->reqid == 0 || f->reqid >= MAX_REQ || g_req[f->reqid].expect == EXP_UNTRACKED) {
        g_stray_replies++;
        return;
    }
    g_req[f->reqid].replies++;
    g_req[f->reqid].got = f->status;
}

static const struct bfs_lsock_handler lp_handler = {.begin = lp_begin, .end = lp_end};

static void lp_open(struct raw *r, int s, struct lpeer *p)
{
    memset(p, 0, sizeof *p);
    p->srv = s;
    for (int tries = 0;; tries++) {
        p->fd = bfs_lsock_connect(r->local[s]);
        if (p->fd >= 0)
            return;
        if (p->fd != -EAGAIN || tries > 500) {
            fprintf(stderr, "hostile: cannot connect to the local socket of server %d: %s\n", s,
                    strerror(-p->fd));
            bail();
        }
        usleep(2000);
    }
}

/* Read what replies there are, waiting up to timeout_ms for the first. */
static void lp_pump(struct lpeer *p, int timeout_ms)
{
    if (p->closed)
        return;
    struct pollfd pf = {.fd = p->fd, .events = POLLIN};
    if (poll(&pf, 1, timeout_ms) <= 0)
        return;
    for (;;) {
        int rc = bfs_lsock_read(p->fd, &p->in, BFS_OP__COUNT, 1 << 20, &lp_handler, NULL);
        if (rc < 0) {
            if (rc == -EPROTO) {
                fprintf(stderr, "hostile: a malformed reply on a local socket\n");
                g_bad_replies++;
            }
            p->closed = 1;
            return;
        }
        if (rc == 0)
            return;
    }
}

/* Write all of buf, reading replies meanwhile (a server whose replies are not read stops
 * reading us). Returns 0, or -1 once the server has closed the connection. */
static int lp_write(struct lpeer *p, const void *buf, size_t n)
{
    const uint8_t *b = buf;
    int64_t deadline = bfs_mono_ms() + 20000;
    while (n && !p->closed) {
        ssize_t w = send(p->fd, b, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) {
            b += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            p->closed = 1;
            break;
        }
        if (bfs_mono_ms() > deadline) {
            fprintf(stderr, "FAIL: server %d stopped reading a local socket\n", p->srv);
            test_failures++;
            return -1;
        }
        struct pollfd pf = {.fd = p->fd, .events = POLLIN | POLLOUT};
        if (poll(&pf, 1, 10) > 0 && (pf.revents & (POLLIN | POLLHUP | POLLERR)))
            lp_pump(p, 0);
    }
    return p->closed ? -1 : 0;
}

/* What a frame with truthful lengths on a local socket must bump (see account for UCX): one
 * that does not decode ends the connection and counts as a rejected frame; then as over UCX. */
static void account_local(struct raw *r, int srv, const uint8_t *hdr, size_t hlen, size_t dlen)
{
    struct bfs_frame f;
    if (bfs_frame_decode(hdr, hlen, dlen, BFS_OP__COUNT, &f) != 0)
        r->exp_rejected_frames[srv]++;
    else if (memcmp(f.key, r->key, BFS_KEY_LEN) != 0)
        r->exp_rejected_key[srv]++;
    else if (dlen && f.opcode != BFS_OP_CHUNK_WRITE &&
        f.opcode != BFS_OP_INLINE_WRITE)
        r->exp_rejected_frames[srv]++;
}

/* Send a frame with truthful lengths on a local connection and track the expected answer. */
static void lp_send_frame(struct raw *r, struct lpeer *p, struct frame *fr, const void *data,
                          size_t dlen, enum expect e, int want, const char *what)
{
    size_t hlen = frame_encode(fr, g_hdr, dlen, 1);
    track(fr->f.reqid, p->srv, e, want, what);
    account_local(r, p->srv, g_hdr, hlen, dlen);
    g_frames_sent++;
    if (lp_write(p, g_hdr, hlen) == 0 && dlen)
        lp_write(p, data, dlen);
}

/* Wait for the replies tracked since first (bounded). */
static void lp_drain(struct lpeer *p, uint64_t first_reqid, int timeout_ms)
{
    int64_t deadline = bfs_mono_ms() + timeout_ms;
    for (;;) {
        int missing = 0;
        for (uint64_t id = first_reqid; id < g_next_reqid && !missing; id++)
            if (g_req[id].expect >= EXP_STATUS && g_req[id].replies == 0)
                missing = 1;
        if (!missing || p->closed || bfs_mono_ms() > deadline)
            break;
        lp_pump(p, 10);
    }
    lp_pump(p, 20); /* anything unwanted */
}

/* As lp_drain, without the grace period for unwanted replies. */
static void lp_drain_quiet(struct lpeer *p, uint64_t first_reqid, int timeout_ms)
{
    int64_t deadline = bfs_mono_ms() + timeout_ms;
    uint64_t id = first_reqid;
    while (!p->closed && bfs_mono_ms() < deadline) {
        while (id < g_next_reqid && (g_req[id].expect < EXP_STATUS || g_req[id].replies))
            id++;
        if (id == g_next_reqid)
            break;
        lp_pump(p, 10);
    }
}

/* The server must close the connection (within 5 s). */
static void lp_expect_close(struct lpeer *p, const char *what)
{
    int64_t deadline = bfs_mono_ms() + 5000;
    while (!p->closed && bfs_mono_ms() < deadline)
        lp_pump(p, 10);
    if (!p->closed) {
        fprintf(stderr, "FAIL: server %d kept a local connection open after %s\n", p->srv, what);
        test_failures++;
    }
}

static void lp_close(struct lpeer *p)
{
    if (p->fd >= 0)
        close(p->fd);
    p->fd = -1;
    bfs_lsock_in_free(&p->in);
}

/* A fresh connection that must be closed by the server after `bytes` (one breaking frame). */
static void lp_breaking(struct raw *r, int s, const void *bytes, size_t n, const char *what)
{
    struct lpeer p;
    lp_open(r, s, &p);
    r->exp_rejected_frames[s]++;
    g_frames_sent++;
    lp_write(&p, bytes, n);
    lp_expect_close(&p, what);
    lp_close(&p);
}

/* The server is still there and serving local clients: a ping on a new connection. */
static void lp_ping(struct raw *r, int s, const char *what)
{
    static struct frame fr;
    struct lpeer p;
    lp_open(r, s, &p);
    uint64_t first = g_next_reqid;
    frame_init(&fr, r, BFS_OP_PING);
    lp_send_frame(r, &p, &fr, NULL, 0, EXP_STATUS, 0, what);
    lp_drain(&p, first, 5000);
    lp_close(&p);
    verify(first, what);
}

static void targeted_local(struct raw *r, int s, uint64_t file_id, uint32_t file_chunk)
{
    static struct frame fr;
    uint8_t hdr[BFS_HDR_LEN + 512];
    size_t hlen;
    struct lpeer p;

    /* -- one connection that must survive everything sent on it */
    lp_open(r, s, &p);
    uint64_t first = g_next_reqid;
    frame_init(&fr, r, BFS_OP_PING);
    lp_send_frame(r, &p, &fr, NULL, 0, EXP_STATUS, 0, "local: ping (control)");
    for (int k = 0; k < 3; k++) {
        frame_init(&fr, r, BFS_OP_HELLO);
        lp_send_frame(r, &p, &fr, NULL, 0, EXP_STATUS, 0, "local: plain hello (repeated)");
    }
    frame_init(&fr, r, BFS_OP_HELLO);
    a_u32(&fr, (uint32_t)getpid());
    lp_send_frame(r, &p, &fr, NULL, 0, EXP_STATUS, EPROTO, "local: hello with arguments");
    frame_init(&fr, r, BFS_OP_HELLO);
    lp_send_frame(r, &p, &fr, g_mib, 64, EXP_STATUS, EPROTO, "local: hello with a payload");
    frame_init(&fr, r, BFS_OP_HELLO);
    lp_send_frame(r, &p, &fr, g_mib, sizeof g_mib, EXP_STATUS, EPROTO,
                  "local: hello with 1 MiB of payload");
    frame_init(&fr, r, BFS_OP_HELLO);
    lp_send_frame(r, &p, &fr, NULL, 0, EXP_STATUS, 0, "local: plain hello after the bad ones");
    /* wrong keys: EACCES, payload skipped, nothing done, the connection stays */
    frame_init(&fr, r, BFS_OP_MKDIR);
    a_str(&fr, "/hostile-wrong-key-local");
    a_u32(&fr, 0755);
    a_u32(&fr, 0);
    a_u32(&fr, 0);
    fr.f.key[2] ^= 0x20;
    lp_send_frame(r, &p, &fr, NULL, 0, EXP_STATUS, EACCES, "local: mkdir with a wrong key");
    frame_init(&fr, r, BFS_OP_CHUNK_WRITE);
    a_u64(&fr, file_id);
    a_u64(&fr, 0);
    a_u64(&fr, 0);
    a_u32(&fr, file_chunk);
    memset(fr.f.key, 0, BFS_KEY_LEN);
    lp_send_frame(r, &p, &fr, g_mib, file_chunk < sizeof g_mib ? file_chunk : sizeof g_mib,
                  EXP_STATUS, EACCES, "local: chunk_write with a wrong key");
    frame_init(&fr, r, BFS_OP_PING);
    fr.f.key[BFS_KEY_LEN - 1] ^= 1;
    lp_send_frame(r, &p, &fr, g_mib, sizeof g_mib, EXP_STATUS, EACCES,
                  "local: wrong key + 1 MiB");
    /* payloads on ops that take none: EPROTO, the payload is read and dropped */
    lookup_frame(&fr, r, "/");
    lp_send_frame(r, &p, &fr, g_mib, sizeof g_mib, EXP_STATUS, EPROTO, "local: lookup + 1 MiB");
    frame_init(&fr, r, BFS_OP_MKDIR);
    a_str(&fr, "/hostile-mkdir-with-data-local");
    a_u32(&fr, 0755);
    a_u32(&fr, 0);
    a_u32(&fr, 0);
    lp_send_frame(r, &p, &fr, g_mib, 100, EXP_STATUS, EPROTO, "local: mkdir + data");
    /* refused arguments, answered */
    lookup_frame(&fr, r, "/a//b");
    lp_send_frame(r, &p, &fr, NULL, 0, EXP_STATUS, EINVAL, "local: path not normalised");
    frame_init(&fr, r, BFS_OP_LOOKUP);
    a_u16(&fr, 0xffff);
    lp_send_frame(r, &p, &fr, NULL, 0, EXP_STATUS, EPROTO, "local: string length 65535");
    frame_init(&fr, r, BFS_OP_CHUNK_READ);
    a_u64(&fr, file_id);
    a_u64(&fr, 0);
    a_u64(&fr, 0);
    a_u64(&fr, UINT64_MAX);
    a_u32(&fr, file_chunk);
    lp_send_frame(r, &p, &fr, NULL, 0, EXP_STATUS, EINVAL, "local: chunk_read 2^64-1 bytes");
    frame_init(&fr, r, BFS_OP_CHUNK_WRITE);
    a_u64(&fr, file_id);
    a_u64(&fr, 0);
    a_u64(&fr, 4000);
    a_u32(&fr, 4096);
    lp_send_frame(r, &p, &fr, g_mib, 200, EXP_STATUS, EINVAL, "local: chunk_write past the chunk");
    frame_init(&fr, r, BFS_OP_CREATE);
    a_str(&fr, "/hostile-create-cs0-local");
    a_u32(&fr, 0644);
    a_u32(&fr, 0);
    a_u32(&fr, 0);
    a_u32(&fr, 0);
    a_u32(&fr, 0);
    lp_send_frame(r, &p, &fr, NULL, 0, EXP_STATUS, EINVAL, "local: create chunk_size 0");
    /* 200 pings in one write: every one answered. (Found with this test: a server that
     * took more than LOCAL_FRAMES_PER_WAKE frames into its staging buffer in one read left
     * the rest there until more bytes arrived: 64 of 200 answered, the others never.) */
    for (int k = 0; k < 200; k++) {
        frame_init(&fr, r, BFS_OP_PING);
        lp_send_frame(r, &p, &fr, NULL, 0, EXP_STATUS, 0, "local: pipelined ping");
    }
    lp_drain(&p, first, 10000);
    if (p.closed) {
        fprintf(stderr, "FAIL: server %d closed a local connection it should have kept\n", s);
        test_failures++;
    }
    lp_close(&p);

    /* -- frames that end the connection at once: garbage, wrong magic / version / opcode,
     * lengths beyond the limits */
    uint8_t junk[512];
    rnd_fill(junk, sizeof junk);
    junk[0] ^= (uint8_t)(junk[0] == (uint8_t)BFS_MAGIC ? 0xff : 0); /* stay garbage */
    junk[23] = 0xff; /* an args_len beyond the limit: no waiting for more */
    lp_breaking(r, s, junk, sizeof junk, "garbage bytes");
    lp_breaking(r, s, junk, BFS_HDR_LEN, "48 garbage bytes");
    static const uint32_t magics[] = {0, BFS_MAGIC ^ 1, 0x42465331u};
    for (size_t i = 0; i < sizeof magics / sizeof magics[0]; i++) {
        lookup_frame(&fr, r, "/");
        fr.f.magic = magics[i];
        hlen = frame_encode(&fr, hdr, 0, 1);
        lp_breaking(r, s, hdr, hlen, "wrong magic");
    }
    static const uint16_t versions[] = {0, BFS_WIRE_VERSION - 1, BFS_WIRE_VERSION + 1, 0xffff};
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
        lookup_frame(&fr, r, "/");
        fr.f.version = versions[i];
        hlen = frame_encode(&fr, hdr, 0, 1);
        lp_breaking(r, s, hdr, hlen, "wrong version");
    }
    static const int bad_ops[] = {0, BFS_OP__COUNT, 999, 0xffff};
    for (size_t i = 0; i < sizeof bad_ops / sizeof bad_ops[0]; i++) {
        frame_init(&fr, r, bad_ops[i]);
        a_str(&fr, "/");
        hlen = frame_encode(&fr, hdr, 0, 1);
        lp_breaking(r, s, hdr, hlen, "unknown opcode");
    }
    lookup_frame(&fr, r, "/");
    hlen = frame_encode(&fr, hdr, 0, 1);
    fr.f.args_len = BFS_MAX_ARGS + 1;
    bfs_frame_encode(&fr.f, hdr);
    lp_breaking(r, s, hdr, BFS_HDR_LEN, "args_len > BFS_MAX_ARGS");
    fr.f.args_len = 0xffffffffu;
    bfs_frame_encode(&fr.f, hdr);
    lp_breaking(r, s, hdr, BFS_HDR_LEN, "args_len 4 GiB");
    static const uint64_t big_dl[] = {BFS_MAX_DATA + 1, 1ull << 40, 1ull << 63, UINT64_MAX};
    for (size_t i = 0; i < sizeof big_dl / sizeof big_dl[0]; i++) {
        frame_init(&fr, r, BFS_OP_CHUNK_WRITE);
        a_u64(&fr, file_id);
        a_u64(&fr, 0);
        a_u64(&fr, 0);
        a_u32(&fr, 64u << 20);
        hlen = frame_encode(&fr, hdr, 0, 1);
        fr.f.data_len = big_dl[i];
        bfs_frame_encode(&fr.f, hdr);
        lp_breaking(r, s, hdr, hlen, "data_len > 64 MiB");
    }
    if (g_big) { /* and really more than 64 MiB after it: the server stops at the header */
        frame_init(&fr, r, BFS_OP_CHUNK_WRITE);
        a_u64(&fr, file_id);
        a_u64(&fr, 0);
        a_u64(&fr, 0);
        a_u32(&fr, 64u << 20);
        hlen = frame_encode(&fr, hdr, BFS_MAX_DATA + 1, 1);
        lp_open(r, s, &p);
        r->exp_rejected_frames[s]++;
        g_frames_sent++;
        if (lp_write(&p, hdr, hlen) == 0)
            lp_write(&p, g_big, 4u << 20); /* stops at the close */
        lp_expect_close(&p, "a 64 MiB + 1 payload");
        lp_close(&p);
    }

    /* -- lying lengths: the frame as the server delimits it is handled, then the rest of
     * what we sent is not a frame: closed. Sent in two steps, so the reply to the first part
     * is certain to come before the close. */
    /* args_len 3 short: the lookup is malformed (EPROTO); "ath" + a ping is garbage */
    lp_open(r, s, &p);
    first = g_next_reqid;
    lookup_frame(&fr, r, "/some/path");
    hlen = frame_encode(&fr, hdr, 0, 1);
    fr.f.args_len -= 3;
    bfs_frame_encode(&fr.f, hdr);
    track(fr.f.reqid, s, EXP_STATUS, EPROTO, "local: args_len 3 short");
    g_frames_sent++;
    lp_write(&p, hdr, hlen - 3);
    lp_drain(&p, first, 5000);
    {
        uint8_t rest[3 + BFS_HDR_LEN];
        memcpy(rest, hdr + hlen - 3, 3);
        frame_init(&fr, r, BFS_OP_PING);
        track(fr.f.reqid, s, EXP_NONE, 0, "local: ping after a short args_len");
        frame_encode(&fr, rest + 3, 0, 1);
        r->exp_rejected_frames[s]++;
        lp_write(&p, rest, sizeof rest);
    }
    lp_expect_close(&p, "args_len 3 short");
    lp_close(&p);
    /* data_len 100 short of 300: the write is refused (chunk size 0: EINVAL), the other 200
     * bytes are not a header */
    lp_open(r, s, &p);
    first = g_next_reqid;
    frame_init(&fr, r, BFS_OP_CHUNK_WRITE);
    a_u64(&fr, 0xdeadbeefull);
    a_u64(&fr, 0);
    a_u64(&fr, 0);
    a_u32(&fr, 0);
    hlen = frame_encode(&fr, hdr, 100, 1);
    track(fr.f.reqid, s, EXP_STATUS, EINVAL, "local: data_len short of the payload");
    g_frames_sent++;
    {
        uint8_t pay[300];
        memset(pay, 0xa5, sizeof pay);
        lp_write(&p, hdr, hlen);
        lp_write(&p, pay, 100);
        lp_drain(&p, first, 5000);
        r->exp_rejected_frames[s]++;
        lp_write(&p, pay + 100, 200);
    }
    lp_expect_close(&p, "data_len short of the payload");
    lp_close(&p);

    /* -- truncated frames, then the peer closes: nothing is counted, nothing answered */
    for (int v = 0; v < 5; v++) {
        lp_open(r, s, &p);
        first = g_next_reqid;
        size_t cut;
        const void *pay = NULL;
        size_t paylen = 0;
        if (v < 3) {
            lookup_frame(&fr, r, "/some/longer/path/name");
            hlen = frame_encode(&fr, hdr, 0, 1);
            cut = v == 0 ? 30 : v == 1 ? BFS_HDR_LEN : hlen - 5;
        } else if (v == 3) { /* args_len claims 100 more than will ever come */
            lookup_frame(&fr, r, "/");
            hlen = frame_encode(&fr, hdr, 0, 1);
            fr.f.args_len += 100;
            bfs_frame_encode(&fr.f, hdr);
            cut = hlen;
        } else { /* a CHUNK_WRITE whose 1 MiB payload stops half way; then a ping that the
                  * server reads as payload */
            frame_init(&fr, r, BFS_OP_CHUNK_WRITE);
            a_u64(&fr, 0xdead0001ull);
            a_u64(&fr, 0);
            a_u64(&fr, 0);
            a_u32(&fr, 0);
            hlen = frame_encode(&fr, hdr, sizeof g_mib, 1);
            cut = hlen;
            pay = g_mib;
            paylen = sizeof g_mib / 2;
        }
        track(fr.f.reqid, s, EXP_NONE, 0, "local: truncated frame, then close");
        g_frames_sent++;
        lp_write(&p, hdr, cut);
        if (paylen) {
            lp_write(&p, pay, paylen);
            frame_init(&fr, r, BFS_OP_PING);
            hlen = frame_encode(&fr, hdr, 0, 1);
            track(fr.f.reqid, s, EXP_NONE, 0, "local: ping inside a payload");
            lp_write(&p, hdr, hlen);
        }
        for (int k = 0; k < 5; k++) /* let the server read it; it must not answer */
            lp_pump(&p, 10);
        if (p.closed) {
            fprintf(stderr, "FAIL: server %d closed a connection with a frame in progress\n", s);
            test_failures++;
        }
        lp_close(&p);
    }
    lp_ping(r, s, "local: ping after the broken connections");
}

/* Tens of thousands of wrong-key frames (local socket) and malformed ones (UCX): all counted,
 * all answered where an answer is due, and the log stays small. */
static void flood(struct raw *r, int s, int n_key, int n_bad)
{
    static struct frame fr;
    struct lpeer p;
    lp_open(r, s, &p);
    uint64_t first = g_next_reqid;
    /* In batches of 256 frames back to back, reading replies as they come. */
    static uint8_t batch[256 * (BFS_HDR_LEN + 8)];
    for (int i = 0; i < n_key && !p.closed;) {
        size_t off = 0;
        for (int k = 0; k < 256 && i < n_key; k++, i++) {
            frame_init(&fr, r, k & 1 ? BFS_OP_PING : BFS_OP_CHUNK_REMOVE);
            if (k & 1) {
                fr.f.key[i % BFS_KEY_LEN] ^= (uint8_t)(1u << (i % 8));
            } else {
                a_u64(&fr, 0x1234);
                memset(fr.f.key, 0, BFS_KEY_LEN);
            }
            size_t hlen = frame_encode(&fr, batch + off, 0, 1);
            track(fr.f.reqid, s, EXP_STATUS, EACCES, "flood: wrong key (local)");
            r->exp_rejected_key[s]++;
            g_frames_sent++;
            off += hlen;
        }
        lp_write(&p, batch, off);
        if (i % 4096 < 256) /* and now and then wait for all of them */
            lp_drain_quiet(&p, first, 5000);
        else
            lp_pump(&p, 0);
    }
    lp_drain(&p, first, 20000);
    lp_close(&p);
    /* Malformed AM headers without a reply endpoint: dropped and counted. */
    uint8_t h[BFS_HDR_LEN];
    for (int i = 0; i < n_bad; i++) {
        rnd_fill(h, sizeof h);
        h[0] = 0; /* never the magic */
        send_raw(r, s, h, sizeof h, NULL, 0, 0, 0, 0);
    }
}

/* Child mode: a peer that starts requests whose completion needs it and dies without closing
 * anything. Over UCX (through the listener): rendezvous payloads the server must pull and big
 * replies it must send. Over the local socket: big CHUNK_READs whose replies it never reads,
 * then a 64 MiB CHUNK_WRITE frame of which only a part is written (variant 0), or a frame cut
 * inside its arguments after the reads (variant 1). */
static int child_main(const char *registry, int n, uint64_t file_id, uint32_t file_chunk,
                      const char *mode)
{
    g_child = 1;
    struct cluster c;
    memset(&c, 0, sizeof c);
    snprintf(c.registry, sizeof c.registry, "%s", registry);
    c.n = n;
    struct raw r;
    raw_open(&r, &c, strncmp(mode, "local", 5) != 0);
    memset(g_mib, 0x3c, sizeof g_mib);
    static struct frame fr;
    if (strncmp(mode, "local", 5) == 0) {
        int variant = atoi(mode + 5);
        size_t big = BFS_MAX_DATA;
        uint8_t *payload = malloc(big);
        if (!payload)
            _exit(1);
        memset(payload, 0x77, big);
        struct lpeer p[CLUSTER_MAX];
        for (int s = 0; s < n; s++) {
            lp_open(&r, s, &p[s]);
            for (int i = 0; i < 8; i++) {
                frame_init(&fr, &r, BFS_OP_CHUNK_READ); /* big replies to nobody */
                a_u64(&fr, file_id);
                a_u64(&fr, (uint64_t)i % 4);
                a_u64(&fr, 0);
                a_u64(&fr, file_chunk);
                a_u32(&fr, file_chunk);
                size_t hlen = frame_encode(&fr, g_hdr, 0, 1);
                if (lp_write(&p[s], g_hdr, hlen) != 0)
                    _exit(3);
            }
            frame_init(&fr, &r, BFS_OP_CHUNK_WRITE); /* a file nobody has */
            a_u64(&fr, 0xdead1000u + (uint64_t)s);
            a_u64(&fr, 0);
            a_u64(&fr, 0);
            a_u32(&fr, (uint32_t)big);
            size_t hlen = frame_encode(&fr, g_hdr, big, 1);
            if (variant == 1) {
                if (lp_write(&p[s], g_hdr, hlen - 7) != 0) /* cut inside the arguments */
                    _exit(3);
                continue;
            }
            if (lp_write(&p[s], g_hdr, hlen) != 0)
                _exit(3);
            /* As much of the payload as the socket takes within 300 ms (never all of it:
             * the server does not read it faster than that), without reading a reply. */
            size_t off = 0;
            int64_t deadline = bfs_mono_ms() + 300;
            while (off < big / 2 && bfs_mono_ms() < deadline) {
                ssize_t w = send(p[s].fd, payload + off, big / 2 - off, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (w > 0) {
                    off += (size_t)w;
                } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
                    _exit(4);
                } else {
                    struct pollfd pf = {.fd = p[s].fd, .events = POLLOUT};
                    poll(&pf, 1, 5);
                }
            }
        }
        printf("hostile: dying local peer (variant %d) leaves with 8 chunk reads unread and a "
               "64 MiB write %s\n", variant, variant ? "cut inside its arguments" : "in part written");
        fflush(stdout);
        usleep(20000);
        _exit(0); /* no close: the kernel closes the sockets with the process */
    }
    /* UCX: make sure the connections are wired up both ways before the real work. (Dying
     * while a server's wire-up reply is still pending trips an assertion inside UCX 1.13
     * itself, ucp_request.c "got REP message", which is not what this test is about.) */
    for (int s = 0; s < n; s++) {
        frame_init(&fr, &r, BFS_OP_PING);
        send_frame(&r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, 0, "dying peer: ping");
    }
    drain(&r, 1, 5000);
    for (int s = 0; s < n; s++) {
        for (int i = 0; i < 8; i++) {
            frame_init(&fr, &r, BFS_OP_CHUNK_WRITE); /* a file nobody has */
            a_u64(&fr, 0xdead0000u + (uint64_t)i);
            a_u64(&fr, 0);
            a_u64(&fr, 0);
            a_u32(&fr, 1u << 20);
            send_frame(&r, s, &fr, g_mib, sizeof g_mib, 0, 1, UCP_AM_SEND_FLAG_RNDV, EXP_ANY, 0,
                       "dying peer: chunk_write");
            frame_init(&fr, &r, BFS_OP_CHUNK_READ); /* a big reply to nobody */
            a_u64(&fr, file_id);
            a_u64(&fr, (uint64_t)i % 4);
            a_u64(&fr, 0);
            a_u64(&fr, file_chunk);
            a_u32(&fr, file_chunk);
            send_frame(&r, s, &fr, NULL, 0, 0, 1, 0, EXP_ANY, 0, "dying peer: chunk_read");
        }
    }
    for (int i = 0; i < 5; i++)
        progress_some(&r, 1);
    _exit(0); /* no close, no flush: as if killed */
}

static void dying_peer(struct cluster *c, struct raw *r, uint64_t file_id, uint32_t file_chunk)
{
    char nbuf[16], idbuf[32], csbuf[16];
    snprintf(nbuf, sizeof nbuf, "%d", c->n);
    snprintf(idbuf, sizeof idbuf, "%llu", (unsigned long long)file_id);
    snprintf(csbuf, sizeof csbuf, "%u", file_chunk);
    static const char *modes[] = {"ucx", "local0", "ucx", "local1", "local0"};
    for (size_t round = 0; round < sizeof modes / sizeof modes[0]; round++) {
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) {
            perror("hostile: fork");
            test_failures++;
            return;
        }
        if (pid == 0) {
            execl("/proc/self/exe", "test_hostile", "--dying-peer", c->registry, nbuf, idbuf,
                  csbuf, modes[round], (char *)NULL);
            _exit(127);
        }
        int st = 0;
        int64_t deadline = bfs_mono_ms() + 20000;
        while (waitpid(pid, &st, WNOHANG) == 0 && bfs_mono_ms() < deadline)
            usleep(10000);
        if (waitpid(pid, &st, WNOHANG) == 0) {
            fprintf(stderr, "FAIL: the dying peer (%s) did not finish\n", modes[round]);
            test_failures++;
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
        } else {
            if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0))
                fprintf(stderr, "hostile: dying peer (%s) status %#x\n", modes[round], st);
            CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        }
        /* Let the servers notice the loss and finish what the dead peer started. */
        int64_t settle = bfs_mono_ms() + 500;
        while (bfs_mono_ms() < settle)
            progress_some(r, 10);
        if (!all_alive(c))
            return; /* the rest would only repeat the failure */
        for (int s = 0; s < c->n; s++)
            lp_ping(r, s, "ping after a dying peer");
    }
}

/* ---- checks through the normal client ---- */

static long stat_value(const char *text, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, name, n) == 0 && p[n] == ' ')
            return atol(p + n + 1);
    return -1;
}

static int count_lines(const char *log, const char *needle)
{
    int n = 0;
    for (const char *p = log; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
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

int main(int argc, char **argv)
{
    if (argc == 7 && strcmp(argv[1], "--dying-peer") == 0)
        return child_main(argv[2], atoi(argv[3]), strtoull(argv[4], NULL, 10),
                          (uint32_t)strtoul(argv[5], NULL, 10), argv[6]);
    int n = argc > 1 ? atoi(argv[1]) : 2;
    /* "dying": only the vanishing-peer scenario (its own ctest entry), else the barrage. */
    int dying = argc > 2 && strcmp(argv[2], "dying") == 0;
    const char *seed_env = getenv("BENCHFS_HOSTILE_SEED");
    g_rng = seed_env ? strtoull(seed_env, NULL, 0) : 0x5eed0fb0057ull;
    if (!g_rng)
        g_rng = 1;
    printf("hostile: %d server(s), %s, seed %#llx\n", n, dying ? "dying peers" : "barrage",
           (unsigned long long)g_rng);
    fflush(stdout);
    int64_t t_start = bfs_mono_ms();

    /* Servers inherit stderr at fork: point it at a log file while the cluster starts. */
    const char *tmp = getenv("TMPDIR");
    char logpath[512];
    snprintf(logpath, sizeof logpath, "%s/benchfs-hostile-log-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int logfd = mkstemp(logpath);
    int saved_stderr = dup(2);
    if (logfd < 0 || saved_stderr < 0) {
        perror("hostile: log file");
        return 2;
    }
    fcntl(logfd, F_SETFL, O_APPEND);
    fflush(stderr);
    dup2(logfd, 2);
    struct cluster c;
    cluster_start(&c, n, NULL);
    fflush(stderr);
    dup2(saved_stderr, 2);
    close(saved_stderr);
    close(logfd);

    benchfs_t *fs = cluster_client(&c, 5000);
    /* The file the hostile frames must not damage. */
    size_t flen = 3 * (1u << 20) + 4321;
    char *fdata = malloc(flen), *back = malloc(flen);
    for (size_t i = 0; i < flen; i++)
        fdata[i] = (char)(i * 31 + 7);
    int fd = benchfs_open(fs, "/data", O_CREAT | O_RDWR, 0644);
    CHECK(fd >= 0);
    CHECK(benchfs_pwrite(fs, fd, fdata, flen, 0) == (ssize_t)flen);
    CHECK_OK(benchfs_close(fs, fd));
    benchfs_stat_t st;
    memset(&st, 0, sizeof st);
    CHECK_OK(benchfs_stat(fs, "/data", &st));
    uint64_t file_id = st.ino;
    uint32_t file_chunk = st.chunk_size ? st.chunk_size : (1u << 20);

    struct raw r;
    raw_open(&r, &c, 1);
    printf("hostile: max AM header %zu bytes\n", r.max_am_header);
    g_big = malloc(BFS_MAX_DATA + 1); /* never touched: rendezvous the server declines */
    memset(g_mib, 0x5a, sizeof g_mib);

    uint64_t first;
    if (!dying) {
        /* Phase 1: targeted frames, every server. */
        first = g_next_reqid;
        for (int s = 0; s < n; s++)
            targeted(&r, s, file_id, file_chunk);
        drain(&r, first, 10000);
        verify(first, "targeted");
        printf("hostile: phase targeted done at %lld ms\n", (long long)(bfs_mono_ms() - t_start));

        /* Phase 2: randomised barrage, every server (about 3000 frames in all). */
        int per = 3000 / n / 3;
        first = g_next_reqid;
        for (int s = 0; s < n; s++)
            barrage(&r, s, per, per / 2, per + per / 2);
        drain(&r, first, 15000);
        verify(first, "barrage");
        printf("hostile: phase barrage done at %lld ms\n", (long long)(bfs_mono_ms() - t_start));

        /* Phase 3: read-only requests with flipped bytes. */
        first = g_next_reqid;
        for (int s = 0; s < n; s++)
            mutate(&r, s, 600 / n, file_id, file_chunk);
        drain(&r, first, 10000);
        verify(first, "mutated");
        printf("hostile: phase mutated done at %lld ms\n", (long long)(bfs_mono_ms() - t_start));

        /* Phase 4: the local sockets. */
        first = g_next_reqid;
        for (int s = 0; s < n; s++)
            targeted_local(&r, s, file_id, file_chunk);
        drain(&r, first, 5000);
        verify(first, "local");
        printf("hostile: %u frames sent after the local socket phase, %lld ms\n", g_frames_sent,
               (long long)(bfs_mono_ms() - t_start));

        /* Phase 5: a flood. The log may grow by a few lines a second per server, whatever
         * the number of frames; a summary line follows a second later (provoked by one more
         * rejected frame of each kind: the limiter writes it when the next one comes). */
        struct stat lst;
        off_t log_before = stat(logpath, &lst) == 0 ? lst.st_size : 0;
        int64_t t_flood = bfs_mono_ms();
        first = g_next_reqid;
        for (int s = 0; s < n; s++)
            flood(&r, s, 20000, 10000);
        drain(&r, first, 20000);
        verify(first, "flood");
        int64_t flood_ms = bfs_mono_ms() - t_flood;
        int64_t until = bfs_mono_ms() + 1100;
        while (bfs_mono_ms() < until)
            progress_some(&r, 10);
        first = g_next_reqid;
        for (int s = 0; s < n; s++) {
            flood(&r, s, 1, 1);
            static struct frame fr;
            frame_init(&fr, &r, BFS_OP_PING); /* and the UCX channel still answers */
            send_frame(&r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, 0, "ping after the flood");
        }
        drain(&r, first, 5000);
        verify(first, "after the flood");
        off_t log_after = stat(logpath, &lst) == 0 ? lst.st_size : 0;
        printf("hostile: flood of %d wrong-key + %d malformed frames per server in %lld ms; "
               "the server log grew by %lld bytes\n",
               20000, 10000, (long long)flood_ms, (long long)(log_after - log_before));
        /* 10 lines a second per limiter and server, ~150 bytes each, plus summaries */
        long long bound = (long long)n * 2 * (flood_ms / 1000 + 2) * 12 * 200;
        if (bound > 64 * 1024 * n)
            bound = 64 * 1024 * n;
        CHECK(log_after - log_before < bound);
    } else {
        /* Peers that vanish with rendezvous transfers and chunk I/O in flight. */
        dying_peer(&c, &r, file_id, file_chunk);
    }

    /* The channel still works. */
    first = g_next_reqid;
    for (int s = 0; s < n; s++) {
        static struct frame fr;
        frame_init(&fr, &r, BFS_OP_PING);
        send_frame(&r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, 0, "ping at the end");
    }
    drain(&r, first, 5000);
    verify(first, "after");
    CHECK(g_stray_replies == 0);
    CHECK(g_bad_replies == 0);
    CHECK(g_send_errors == 0);
    for (int s = 0; s < n; s++)
        CHECK(!r.ep_failed[s]);
    printf("hostile: %u frames sent in %lld ms\n", g_frames_sent,
           (long long)(bfs_mono_ms() - t_start));

    /* Every server is alive; if one is not, skip to its log (the rest would just cascade). */
    if (!all_alive(&c)) {
        fprintf(stderr, "FAIL: a server died; skipping the client checks, see its log below\n");
        raw_close(&r);
        goto stop;
    }

    /* Nothing the hostile frames asked for happened. */
    static const char *never[] = {"/hostile-wrong-key", "/hostile-no-reply",
                                  "/hostile-no-reply-wrong-key", "/hostile-mkdir-with-data",
                                  "/hostile-short-mkdir", "/hostile-long-mkdir",
                                  "/hostile-create-cs0", "/hostile-create-cshuge",
                                  "/hostile-meta-put", "/hostile-wrong-key-local",
                                  "/hostile-mkdir-with-data-local", "/hostile-create-cs0-local",
                                  "/hostile-symlink", "/hostile-bad-inode"};
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++)
        CHECK_ERR(benchfs_stat(fs, never[i], &st), ENOENT);
    int entries = 0, only_data = 1;
    benchfs_dir_t *d = benchfs_opendir(fs, "/");
    CHECK(d != NULL);
    for (const benchfs_dirent_t *e; d && (e = benchfs_readdir(d)) != NULL; entries++)
        if (strcmp(e->name, "data") != 0) {
            only_data = 0;
            fprintf(stderr, "hostile: unexpected entry /%s\n", e->name);
        }
    if (d)
        benchfs_closedir(d);
    CHECK(entries == 1 && only_data);

    /* The normal client still works and its data is intact. */
    memset(&st, 0, sizeof st);
    CHECK_OK(benchfs_stat(fs, "/data", &st));
    CHECK(st.size == flen && st.ino == file_id);
    fd = benchfs_open(fs, "/data", O_RDONLY, 0);
    CHECK(fd >= 0);
    memset(back, 0, flen);
    CHECK(benchfs_pread(fs, fd, back, flen, 0) == (ssize_t)flen);
    CHECK(memcmp(back, fdata, flen) == 0);
    CHECK_OK(benchfs_close(fs, fd));
    CHECK_OK(benchfs_mkdir(fs, "/after", 0755));
    fd = benchfs_open(fs, "/after/f", O_CREAT | O_EXCL | O_RDWR, 0644);
    CHECK(fd >= 0);
    CHECK(benchfs_pwrite(fs, fd, fdata, 100000, 0) == 100000);
    memset(back, 0, 100000);
    CHECK(benchfs_pread(fs, fd, back, 100000, 0) == 100000);
    CHECK(memcmp(back, fdata, 100000) == 0);
    CHECK_OK(benchfs_close(fs, fd));
    CHECK_OK(benchfs_stat(fs, "/after/f", &st));
    CHECK(st.size == 100000);

    /* The counters saw exactly the frames that must be counted (bounded wait: frames without
     * a reply may still be in flight). */
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
            if ((rf == (long)r.exp_rejected_frames[s] && rk == (long)r.exp_rejected_key[s]) ||
                bfs_mono_ms() > deadline)
                break;
            progress_some(&r, 20);
        }
        printf("hostile: server %d rejected_frames %ld (expected %llu), rejected_key %ld "
               "(expected %llu)\n",
               s, rf, (unsigned long long)r.exp_rejected_frames[s], rk,
               (unsigned long long)r.exp_rejected_key[s]);
        if (!dying)
            CHECK(rf > 0 && rk > 0);
        CHECK(rf == (long)r.exp_rejected_frames[s]);
        CHECK(rk == (long)r.exp_rejected_key[s]);
    }

    raw_close(&r);
    CHECK_OK(benchfs_unlink(fs, "/after/f"));
    CHECK_OK(benchfs_rmdir(fs, "/after"));
    all_alive(&c);
stop:
    free(g_big);
    benchfs_term(fs);
    cluster_stop(&c); /* also checks every server exits cleanly on SIGTERM */

    /* The servers logged the rejections, and no sanitizer complained. */
    char *log = slurp(logpath);
    CHECK(log != NULL);
    if (log) {
        for (int s = 0; s < n && !dying; s++) {
            /* Rate-limited: at least one line of each kind, and the summaries. */
            char needle[160];
            snprintf(needle, sizeof needle, "benchfsd[%d] WARN: rejected a malformed request", s);
            CHECK(count_lines(log, needle) > 0);
            snprintf(needle, sizeof needle, "benchfsd[%d] WARN: rejected a ", s);
            int rej = count_lines(log, needle);
            snprintf(needle, sizeof needle, "benchfsd[%d] WARN: closing local client pid", s);
            int closing = count_lines(log, needle);
            snprintf(needle, sizeof needle, "benchfsd[%d] WARN: rejected a mkdir request with a "
                                            "wrong cluster key", s);
            CHECK(count_lines(log, needle) > 0);
            snprintf(needle, sizeof needle, "benchfsd[%d] WARN: ", s);
            int summaries = 0;
            for (const char *q = log; (q = strstr(q, needle)) != NULL; q += strlen(needle)) {
                const char *eol = strchr(q, '\n');
                const char *m = strstr(q, " more rejected frames in the last ");
                if (m && (!eol || m < eol))
                    summaries |= 1;
                m = strstr(q, " more frames with a wrong key in the last ");
                if (m && (!eol || m < eol))
                    summaries |= 2;
            }
            printf("hostile: server %d logged %d rejection lines, %d local closes, summaries %s\n",
                   s, rej, closing, summaries == 3 ? "both" : summaries ? "one" : "none");
            CHECK(closing > 0 || rej > 0);
            CHECK(summaries == 3);
        }
        int asan = count_lines(log, "ERROR: AddressSanitizer") +
                   count_lines(log, "ERROR: LeakSanitizer") + count_lines(log, "runtime error") +
                   count_lines(log, "Caught signal");
        CHECK(asan == 0);
        /* Show what the servers said besides the expected rejections. */
        int shown = 0, total = 0;
        for (char *line = strtok(log, "\n"); line; line = strtok(NULL, "\n")) {
            total++;
            if (strstr(line, "WARN: rejected a ") || strstr(line, " INFO: ") ||
                strstr(line, "WARN: closing local client pid") ||
                strstr(line, "(not logged one by one)"))
                continue;
            if (shown++ < 60 || asan)
                fprintf(stderr, "server log: %s\n", line);
        }
        printf("hostile: %d server log lines (%d unexpected shown above)\n", total, shown);
        free(log);
    }
    if (!getenv("BENCHFS_KEEP_TEST_DIR"))
        unlink(logpath);
    else
        printf("hostile: server log kept in %s\n", logpath);
    free(fdata);
    free(back);
    printf("hostile: total %lld ms\n", (long long)(bfs_mono_ms() - t_start));
    return test_finish("hostile");
}
