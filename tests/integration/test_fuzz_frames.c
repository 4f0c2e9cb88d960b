/* SPDX-License-Identifier: BSD-3-Clause */
/* test_fuzz_frames.c — a seeded, structure-aware frame fuzzer against real servers.
 *
 * Every request is first built valid, op by op (all of BFS_OP_PING .. BFS_OP_MKNOD,
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
 * Only one transport: add "ucx" or "local" after the server count.
 *
 * This file tracks the frames and mirrors the server's framing and admission rules; frames
 * are built and mutated in fuzz_build.c, the normal client and the file snapshot are
 * fuzz_client.c, and the UCX / local-socket peer is raw_peer.c. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cluster.h"
#include "common/proto.h"
#include "common/util.h"
#include "common/wire.h"
#include "fuzz_frames.h"
#include "raw_peer.h"

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
uint64_t g_next_reqid = 1;
static unsigned long g_stray, g_bad_replies; /* g_bad_replies: status outside 0..4095 */
static unsigned long g_sent[2], g_replies[2], g_ok[2], g_closes;
static unsigned long g_op_sent[BFS_OP__COUNT + 1];

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

/* The raw peer's reply callback (transport: RP_UCX or RP_LOCAL). */
static void record_reply(void *arg, int transport, const struct bfs_frame *f)
{
    (void)arg;
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

/* ---- what the server does with a frame (mirrors loop.c, conns.c, local_sock.c and the
 * checks at the top of handle_request) ---- */

/* After admission: the reply due for a decoded frame with the right key (a payload on an op
 * that takes none is counted and refused). */
static enum expect admitted(struct rp_peer *p, int s, const struct bfs_frame *f, size_t dlen)
{
    if (rp_payload_refused(f, dlen)) {
        p->exp_frames[s]++;
        return X_ERR;
    }
    return f->opcode == BFS_OP_CHUNK_PREFETCH ? X_MAYBE : X_ONE;
}

/* The reply due for a frame the raw peer's rp_account judged (counted there). */
static enum expect expect_of(enum rp_verdict v, const struct bfs_frame *f, int *want)
{
    switch (v) {
    case RP_DROPPED: return X_NONE;
    case RP_WRONG_KEY: *want = EACCES; return X_STATUS;
    case RP_REFUSED_PAYLOAD: return X_ERR;
    default: return f->opcode == BFS_OP_CHUNK_PREFETCH ? X_MAYBE : X_ONE;
    }
}

static void send_ucx(struct rp_peer *p, int s, struct gframe *g)
{
    size_t hlen = encode(g);
    if (p->max_am_header && hlen > p->max_am_header) { /* UCX would refuse it here */
        hlen = p->max_am_header;
    }
    struct bfs_frame f;
    int want = 0;
    enum expect e = expect_of(rp_account(p, s, g_enc, hlen, g->dlen, g->with_reply, &f), &f,
                              &want);
    /* Dropped: a header that did not decode but names a request is answered with an error
     * when it asked for a reply. */
    if (e == X_NONE && g->with_reply && hlen >= BFS_HDR_LEN && g->f.magic == BFS_MAGIC)
        e = X_ERR;
    track_new(g->f.reqid, s, 0, g->f.opcode, e, want);
    g_sent[0]++;
    rp_send(p, s, g_enc, hlen, g->dlen ? g_payload : NULL, g->dlen, 0, g->with_reply,
            g->ucx_flags);
}

/* Simulate the server reading a byte stream from a fresh frame boundary. Accounts every frame
 * it finds and tracks the one at offset 0 (reqid0); returns 1 when the server closes the
 * connection (*used: bytes up to the verdict), 0 when it waits for more (*used: bytes
 * consumed by complete frames), and sets *nframes. */
static int simulate(struct rp_peer *p, int s, const uint8_t *b, size_t n, int apply, size_t *used,
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
static int send_local(struct rp_peer *p, int s, struct gframe *g, struct rp_conn *l,
                      uint64_t *batch_first)
{
    size_t hlen = encode(g);
    size_t dlen = g->dlen;
    struct bfs_frame f;
    int clean = !g->lie && bfs_frame_decode(g_enc, hlen, dlen, BFS_OP__COUNT, &f) == 0;
    g_sent[1]++;
    if (clean) {
        int want = 0;
        enum expect e = expect_of(rp_account(p, s, g_enc, hlen, dlen, 1, &f), &f, &want);
        track_new(g->f.reqid, s, 1, g->f.opcode, e, want);
        rp_conn_write(l, g_enc, hlen);
        if (dlen)
            rp_conn_write(l, g_payload, dlen);
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
        rp_conn_pump(l, 10);
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
    rp_conn_write(l, g_stream, used);
    if (!rp_conn_wait_close(l, 5000)) {
        fprintf(stderr, "FAIL: server %d did not close a local connection after a frame it "
                        "cannot delimit (reqid %llu, op %u, lie %d)\n",
                s, (unsigned long long)g->f.reqid, g->f.opcode, g->lie);
        test_failures++;
    }
    g_closes++;
    rp_conn_close(l);
    return 1;
}

/* A local connection to server s; one that cannot be made is a failure (and stays closed). */
static void l_open(struct rp_peer *p, int s, struct rp_conn *l)
{
    int err = rp_conn_open(p, s, l);
    if (err) {
        fprintf(stderr, "FAIL: cannot connect to server %d's local socket: %s\n", s,
                strerror(-err));
        test_failures++;
    }
}

/* ---- main ---- */

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
        rp_rng = (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15ull ^ (uint64_t)ts.tv_sec ^
                (uint64_t)getpid() << 32;
    } else {
        rp_rng = seed_env ? strtoull(seed_env, NULL, 0) : 0xf0220b5eedull;
    }
    if (!rp_rng)
        rp_rng = 1;
    uint64_t seed = rp_rng;
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
    char logpath[512];
    struct cluster c;
    if (rp_cluster_start_logged(&c, n, "fuzz", logpath, sizeof logpath) != 0)
        return 2;

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

    struct rp_peer p;
    if (rp_open(&p, &c, 1, "fuzz", record_reply, NULL) != 0)
        return 2;
    struct rp_conn lc[CLUSTER_MAX];
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
                    rp_conn_close(&lc[s]);
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
                            rp_conn_pump(&lc[s], 10);
                            rp_progress(&p, 0);
                        }
                        since_drain = 0;
                        drain_every = 1 + (int)rp_rnd_below(chance(20) ? 200 : 40);
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
            if ((!missing && p.inflight == 0) || bfs_mono_ms() > deadline)
                break;
            rp_progress(&p, 1);
            for (int s = 0; s < n; s++)
                if (do_local)
                    rp_conn_pump(&lc[s], 0);
        }
        int64_t grace = bfs_mono_ms() + 30;
        while (bfs_mono_ms() < grace) {
            rp_progress(&p, 1);
            for (int s = 0; s < n; s++)
                if (do_local)
                    rp_conn_pump(&lc[s], 0);
        }
        char phase[32];
        snprintf(phase, sizeof phase, "batch %d", step);
        settle(first, g_next_reqid, phase);
        done += this_batch;
        if (!rp_all_alive("fuzz", &c)) {
            fprintf(stderr, "FAIL: a server died in batch %d (seed %#llx)\n", step,
                    (unsigned long long)seed);
            break;
        }
        client_step(fs, step++);
    }
    for (int s = 0; s < n; s++)
        if (lc[s].fd >= 0)
            rp_conn_close(&lc[s]);
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
    CHECK(g_bad_replies + p.bad_replies == 0);
    CHECK(p.send_errors == 0);
    for (int s = 0; s < n; s++)
        CHECK(!p.ucx[s].failed);

    int alive = rp_all_alive("fuzz", &c);
    if (alive) {
        client_step(fs, step++);
        /* The counters: exactly what the frames must have bumped. */
        rp_check_counters(&p, fs, 0);
    }
    rp_close(&p);

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
    char *log = rp_slurp(logpath);
    CHECK(log != NULL);
    if (log) {
        int bad = rp_count(log, "ERROR: AddressSanitizer") + rp_count(log, "runtime error") +
                  rp_count(log, "Caught signal") + rp_count(log, "Assertion") +
                  rp_count(log, " ERROR: ");
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
