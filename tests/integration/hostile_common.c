/* SPDX-License-Identifier: BSD-3-Clause */
/* hostile_common.c — the machinery test_hostile's attack families share: the table of
 * tracked requests (what answer each frame must get, and what it got), frames built field by
 * field with the request shapes of proto.h, and sending them over UCX and the local socket
 * through the raw peer (raw_peer.c) while counting what each must bump in the servers'
 * rejected_frames / rejected_key. One place, so that every family checks answers the same
 * way. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "hostile.h"

struct track g_req[MAX_REQ];
uint64_t g_next_reqid = 1;
unsigned g_stray_replies;
unsigned g_frames_sent;
int g_child;
uint8_t *g_big;
uint8_t g_mib[1 << 20];
uint8_t g_hdr[BFS_HDR_LEN + BFS_MAX_ARGS + 64];

void bail(void)
{
    fflush(NULL);
    if (g_child)
        _exit(2);
    exit(2);
}

void rnd_fill(void *buf, size_t n)
{
    uint8_t *p = buf;
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rp_rnd();
}

/* A reply over either transport: to a tracked request, or a stray. */
static void on_reply(void *arg, int transport, const struct bfs_frame *f)
{
    (void)arg;
    (void)transport;
    if (f->reqid == 0 || f->reqid >= MAX_REQ || g_req[f->reqid].expect == EXP_UNTRACKED) {
        g_stray_replies++;
        return;
    }
    struct track *t = &g_req[f->reqid];
    t->replies++;
    t->got = f->status;
}

void hostile_open(struct rp_peer *r, struct cluster *c, int ucx)
{
    if (rp_open(r, c, ucx, "hostile", on_reply, NULL) != 0)
        bail();
}

void track(uint64_t reqid, int srv, enum expect e, int want, const char *what)
{
    g_req[reqid] = (struct track){
        .expect = (uint8_t)e, .server = (uint8_t)srv, .want = want, .got = NO_REPLY, .what = what};
}

void drain(struct rp_peer *r, uint64_t first_reqid, int timeout_ms)
{
    int64_t deadline = bfs_mono_ms() + timeout_ms;
    for (;;) {
        int missing = 0;
        for (uint64_t id = first_reqid; id < g_next_reqid && !missing; id++) {
            struct track *t = &g_req[id];
            if (t->expect >= EXP_STATUS && t->replies == 0)
                missing = 1;
        }
        if ((!missing && r->inflight == 0) || bfs_mono_ms() > deadline)
            break;
        rp_progress(r, 10);
    }
    int64_t grace = bfs_mono_ms() + 200;
    while (bfs_mono_ms() < grace)
        rp_progress(r, 10);
}

int verify(uint64_t first_reqid, const char *phase)
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

/* ---- frames ---- */

uint64_t frame_init(struct frame *fr, struct rp_peer *r, int op)
{
    rp_header(r, &fr->f, op, g_next_reqid++);
    fr->args_len = 0;
    if (fr->f.reqid >= MAX_REQ) {
        fprintf(stderr, "hostile: too many tracked requests\n");
        bail();
    }
    return fr->f.reqid;
}

size_t frame_encode(struct frame *fr, uint8_t *out, size_t dlen, int fix)
{
    if (fix) {
        fr->f.args_len = (uint32_t)fr->args_len;
        fr->f.data_len = dlen;
    }
    bfs_frame_encode(&fr->f, out);
    memcpy(out + BFS_HDR_LEN, fr->args, fr->args_len);
    return BFS_HDR_LEN + fr->args_len;
}

void a_u8(struct frame *fr, uint8_t v) { fr->args[fr->args_len++] = v; }
void a_u16(struct frame *fr, uint16_t v)
{
    a_u8(fr, (uint8_t)v);
    a_u8(fr, (uint8_t)(v >> 8));
}
void a_u32(struct frame *fr, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        a_u8(fr, (uint8_t)(v >> (8 * i)));
}
void a_u64(struct frame *fr, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        a_u8(fr, (uint8_t)(v >> (8 * i)));
}
void a_bytes(struct frame *fr, const void *p, size_t n)
{
    memcpy(fr->args + fr->args_len, p, n);
    fr->args_len += n;
}
void a_strn(struct frame *fr, const char *s, size_t n)
{
    a_u16(fr, (uint16_t)n);
    a_bytes(fr, s, n);
}
void a_str(struct frame *fr, const char *s) { a_strn(fr, s, strlen(s)); }

void lookup_frame(struct frame *fr, struct rp_peer *r, const char *path)
{
    frame_init(fr, r, BFS_OP_LOOKUP);
    a_str(fr, path);
}

void mkdir_frame(struct frame *fr, struct rp_peer *r, const char *path)
{
    frame_init(fr, r, BFS_OP_MKDIR);
    a_str(fr, path);
    a_u32(fr, 0755);
    a_u32(fr, 0);
    a_u32(fr, 0);
}

void create_frame(struct frame *fr, struct rp_peer *r, const char *path, uint32_t mode,
                  uint32_t chunk_size)
{
    frame_init(fr, r, BFS_OP_CREATE);
    a_str(fr, path);
    a_u32(fr, mode);
    a_u32(fr, 0);
    a_u32(fr, 0);
    a_u32(fr, chunk_size);
    a_u32(fr, 0);
}

void remove_frame(struct frame *fr, struct rp_peer *r, const char *path, uint32_t kind)
{
    frame_init(fr, r, BFS_OP_REMOVE);
    a_str(fr, path);
    a_u32(fr, kind);
    a_u64(fr, 0);
}

void size_update_frame(struct frame *fr, struct rp_peer *r, const char *path, uint64_t file_id,
                       uint64_t size, uint32_t how)
{
    frame_init(fr, r, BFS_OP_SIZE_UPDATE);
    a_str(fr, path);
    a_u64(fr, file_id);
    a_u64(fr, size);
    a_u32(fr, how);
    a_u64(fr, 0);
}

void setattr_frame(struct frame *fr, struct rp_peer *r, const char *path, uint32_t mask)
{
    frame_init(fr, r, BFS_OP_SETATTR);
    a_str(fr, path);
    a_u32(fr, mask);
    a_u32(fr, 0);
    a_u32(fr, 0);
    a_u32(fr, 0);
    a_u64(fr, 1);
}

void listing_frame(struct frame *fr, struct rp_peer *r, int op, const char *path, uint32_t max)
{
    frame_init(fr, r, op);
    a_str(fr, path);
    a_u32(fr, max);
}

void symlink_frame(struct frame *fr, struct rp_peer *r, const char *path, uint32_t uid)
{
    frame_init(fr, r, BFS_OP_SYMLINK);
    a_str(fr, path);
    a_u32(fr, uid);
    a_u32(fr, 0);
}

void meta_put_frame(struct frame *fr, struct rp_peer *r, const char *path,
                    const struct bfs_inode *ino)
{
    uint8_t enc[BFS_INODE_WIRE_LEN];
    struct bfs_wbuf w;
    bfs_wb_init(&w, enc, sizeof enc);
    bfs_inode_put(&w, ino);
    frame_init(fr, r, BFS_OP_META_PUT);
    a_str(fr, path);
    a_bytes(fr, enc, w.len);
    a_u32(fr, 0);
}

void chunk_write_frame(struct frame *fr, struct rp_peer *r, uint64_t file_id, uint64_t idx,
                       uint64_t off, uint32_t chunk_size)
{
    frame_init(fr, r, BFS_OP_CHUNK_WRITE);
    a_u64(fr, file_id);
    a_u64(fr, idx);
    a_u64(fr, off);
    a_u32(fr, chunk_size);
}

void chunk_read_frame(struct frame *fr, struct rp_peer *r, uint64_t file_id, uint64_t idx,
                      uint64_t off, uint64_t len, uint32_t chunk_size)
{
    frame_init(fr, r, BFS_OP_CHUNK_READ);
    a_u64(fr, file_id);
    a_u64(fr, idx);
    a_u64(fr, off);
    a_u64(fr, len);
    a_u32(fr, chunk_size);
}

/* ---- UCX ---- */

void send_raw(struct rp_peer *r, int srv, const void *hdr, size_t hlen, const void *data,
              size_t dlen, int own_data, int with_reply, uint32_t flags)
{
    if (rp_send(r, srv, hdr, hlen, data, dlen, own_data, with_reply, flags) != 0)
        return;
    g_frames_sent++;
    struct bfs_frame f;
    rp_account(r, srv, hdr, hlen, dlen, with_reply, &f);
}

void send_frame(struct rp_peer *r, int srv, struct frame *fr, const void *data, size_t dlen,
                int own_data, int with_reply, uint32_t flags, enum expect e, int want,
                const char *what)
{
    size_t hlen = frame_encode(fr, g_hdr, dlen, 1);
    track(fr->f.reqid, srv, with_reply ? e : EXP_NONE, want, what);
    send_raw(r, srv, g_hdr, hlen, data, dlen, own_data, with_reply, flags);
}

void send_expect(struct rp_peer *r, int srv, struct frame *fr, int want, const char *what)
{
    send_frame(r, srv, fr, NULL, 0, 0, 1, 0, EXP_STATUS, want, what);
}

void send_header(struct rp_peer *r, int srv, struct frame *fr, uint8_t *hdr, size_t hlen,
                 int want, const char *what)
{
    bfs_frame_encode(&fr->f, hdr);
    track(fr->f.reqid, srv, EXP_STATUS, want, what);
    send_raw(r, srv, hdr, hlen, NULL, 0, 0, 1, 0);
}

/* ---- the local socket ---- */

void lp_open(struct rp_peer *r, int s, struct rp_conn *p)
{
    int err = rp_conn_open(r, s, p);
    if (err) {
        fprintf(stderr, "hostile: cannot connect to the local socket of server %d: %s\n", s,
                strerror(-err));
        bail();
    }
}

void lp_send_frame(struct rp_peer *r, struct rp_conn *p, struct frame *fr, const void *data,
                   size_t dlen, enum expect e, int want, const char *what)
{
    size_t hlen = frame_encode(fr, g_hdr, dlen, 1);
    struct bfs_frame f;
    track(fr->f.reqid, p->srv, e, want, what);
    rp_account(r, p->srv, g_hdr, hlen, dlen, 1, &f);
    g_frames_sent++;
    if (rp_conn_write(p, g_hdr, hlen) == 0 && dlen)
        rp_conn_write(p, data, dlen);
}

void lp_drain(struct rp_conn *p, uint64_t first_reqid, int timeout_ms)
{
    int64_t deadline = bfs_mono_ms() + timeout_ms;
    for (;;) {
        int missing = 0;
        for (uint64_t id = first_reqid; id < g_next_reqid && !missing; id++)
            if (g_req[id].expect >= EXP_STATUS && g_req[id].replies == 0)
                missing = 1;
        if (!missing || p->closed || bfs_mono_ms() > deadline)
            break;
        rp_conn_pump(p, 10);
    }
    rp_conn_pump(p, 20); /* anything unwanted */
}

void lp_drain_quiet(struct rp_conn *p, uint64_t first_reqid, int timeout_ms)
{
    int64_t deadline = bfs_mono_ms() + timeout_ms;
    uint64_t id = first_reqid;
    while (!p->closed && bfs_mono_ms() < deadline) {
        while (id < g_next_reqid && (g_req[id].expect < EXP_STATUS || g_req[id].replies))
            id++;
        if (id == g_next_reqid)
            break;
        rp_conn_pump(p, 10);
    }
}

void lp_expect_close(struct rp_conn *p, const char *what)
{
    if (!rp_conn_wait_close(p, 5000)) {
        fprintf(stderr, "FAIL: server %d kept a local connection open after %s\n", p->srv, what);
        test_failures++;
    }
}

void lp_breaking(struct rp_peer *r, int s, const void *bytes, size_t n, const char *what)
{
    struct rp_conn p;
    lp_open(r, s, &p);
    r->exp_frames[s]++;
    g_frames_sent++;
    rp_conn_write(&p, bytes, n);
    lp_expect_close(&p, what);
    rp_conn_close(&p);
}

void lp_ping(struct rp_peer *r, int s, const char *what)
{
    static struct frame fr;
    struct rp_conn p;
    lp_open(r, s, &p);
    uint64_t first = g_next_reqid;
    frame_init(&fr, r, BFS_OP_PING);
    lp_send_frame(r, &p, &fr, NULL, 0, EXP_STATUS, 0, what);
    lp_drain(&p, first, 5000);
    rp_conn_close(&p);
    verify(first, what);
}
