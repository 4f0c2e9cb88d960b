/* SPDX-License-Identifier: BSD-3-Clause */
/* hostile_random.c — test_hostile's seeded random families: a barrage of pure garbage AM
 * headers, headers with the right magic and random bytes, and well-formed headers with the
 * right key, a random op and random arguments; valid read-only requests with a few argument
 * bytes flipped, so the parsers see inputs that are almost right; and a flood of tens of
 * thousands of wrong-key and malformed frames that must all be counted while the server log
 * stays small. The targeted cases name each malformation; these find the ones nobody
 * thought of. */
#include <errno.h>
#include <string.h>

#include "hostile.h"

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
    case BFS_OP_MKNOD: return 2 + 20;
    default: return 0;
    }
}

void barrage(struct rp_peer *r, int s, int n_garbage, int n_semi, int n_fuzz)
{
    static uint8_t buf[512];
    static struct frame fr;
    /* Pure garbage as the AM header: 0..300 random bytes, sometimes random AM data. */
    for (int i = 0; i < n_garbage; i++) {
        size_t hlen = rp_rnd_below(301);
        rnd_fill(buf, hlen);
        if (hlen >= 4 && ((uint32_t)buf[0] | (uint32_t)buf[1] << 8 | (uint32_t)buf[2] << 16 |
                          (uint32_t)buf[3] << 24) == BFS_MAGIC)
            buf[0] ^= 0xff; /* stay garbage: no request is named */
        size_t dlen = 0;
        uint32_t flags = 0;
        int mode = (int)rp_rnd_below(4);
        if (mode == 1)
            dlen = rp_rnd_below(4097);
        else if (mode == 2) {
            dlen = 8192 + rp_rnd_below(sizeof g_mib - 8192);
            flags = rp_rnd() & 1 ? UCP_AM_SEND_FLAG_RNDV : 0;
        }
        void *data = NULL;
        if (dlen) {
            data = malloc(dlen);
            rnd_fill(data, dlen < 256 ? dlen : 256);
        }
        send_raw(r, s, buf, hlen, data, dlen, 1, rp_rnd() % 4 != 0, flags);
    }
    /* Right magic, the rest random: answered when >= 48 bytes (the reqid is ours). */
    for (int i = 0; i < n_semi; i++) {
        size_t hlen = rp_rnd_below(301);
        rnd_fill(buf, hlen);
        uint64_t reqid = g_next_reqid++;
        struct bfs_frame f = {.magic = BFS_MAGIC, .reqid = reqid};
        uint8_t h[BFS_HDR_LEN];
        bfs_frame_encode(&f, h);
        memcpy(buf, h, hlen < 4 ? hlen : 4);
        if (hlen >= 16)
            memcpy(buf + 8, h + 8, 8);
        int with_reply = rp_rnd() % 8 != 0;
        size_t dlen = rp_rnd() & 1 ? rp_rnd_below(2048) : 0;
        enum expect e = hlen >= BFS_HDR_LEN && with_reply ? EXP_ERR : EXP_NONE;
        track(reqid, s, hlen >= 16 ? e : EXP_NONE, 0, "magic + random bytes");
        void *data = dlen ? calloc(1, dlen) : NULL;
        send_raw(r, s, buf, hlen, data, dlen, 1, with_reply, 0);
    }
    /* Well-formed header with the right key, random op and random arguments. */
    for (int i = 0; i < n_fuzz; i++) {
        int op = rp_rnd() % 10 == 0 ? (int)rp_rnd_below(0x10000)
                                    : 1 + (int)rp_rnd_below(BFS_OP__COUNT - 1);
        /* Keep the data-producing ops out (LOOKUP is harmless when right). HELLO stays: it is
         * a no-op now (EPROTO with any argument or payload). */
        if (op == BFS_OP_PING || op == BFS_OP_STATFS || op == BFS_OP_STATS)
            op = BFS_OP_LOOKUP;
        /* A well-formed CHUNK_PREFETCH gets no reply (proto.h): fuzz it malformed only. */
        int hint = op == BFS_OP_CHUNK_PREFETCH;
        frame_init(&fr, r, op);
        size_t fixed = op_fixed_args(op);
        size_t alen = rp_rnd() & 1 && fixed ? fixed : rp_rnd_below(200);
        if (hint && alen == fixed)
            alen = fixed + 1 + rp_rnd_below(16);
        rnd_fill(fr.args, alen);
        fr.args_len = alen;
        int path_op = (op != BFS_OP_CHUNK_WRITE && op <= BFS_OP_SUBTREE) ||
                      op == BFS_OP_SYMLINK || op == BFS_OP_READDIRPLUS;
        if (fixed && fixed == alen && path_op) {
            /* Path ops: a plausible path prefix so parsing gets past the path sometimes. */
            static const char *paths[] = {"/", "/a//b", "x", "/fuzz\x01\xff", "/./", "/.."};
            const char *p = paths[rp_rnd_below(6)];
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
        if (rp_rnd() % 3 == 0) {
            dlen = rp_rnd() & 1 ? rp_rnd_below(4097) : rp_rnd_below(sizeof g_mib + 1);
            flags = rp_rnd() % 3 == 0 ? UCP_AM_SEND_FLAG_RNDV : 0;
        }
        int with_reply = rp_rnd() % 16 != 0;
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
void mutate(struct rp_peer *r, int s, int count, uint64_t file_id, uint32_t file_chunk)
{
    static struct frame fr;
    for (int i = 0; i < count; i++) {
        int t = (int)rp_rnd_below(5);
        switch (t) {
        case 0: lookup_frame(&fr, r, "/data"); break;
        case 1:
            listing_frame(&fr, r, BFS_OP_READDIR, "/", 100);
            a_str(&fr, "");
            break;
        case 2:
            listing_frame(&fr, r, BFS_OP_SUBTREE, "/", 100);
            a_str(&fr, "/data");
            break;
        case 3:
            chunk_read_frame(&fr, r, file_id, rp_rnd_below(4), 0, 4096, file_chunk);
            break;
        default:
            frame_init(&fr, r, BFS_OP_STATFS);
            a_u32(&fr, 0); /* EPROTO; mutations may shorten it to nothing */
            break;
        }
        int flips = 1 + (int)rp_rnd_below(3);
        for (int k = 0; k < flips && fr.args_len; k++) {
            size_t at = rp_rnd_below(fr.args_len);
            switch (rp_rnd_below(4)) {
            case 0: fr.args[at] ^= (uint8_t)(1u << rp_rnd_below(8)); break;
            case 1: fr.args[at] = (uint8_t)rp_rnd(); break;
            case 2: fr.args_len = at; break; /* truncate */
            default: fr.args[at] = 0xff; break;
            }
        }
        if (rp_rnd() % 8 == 0) /* or append a byte */
            fr.args[fr.args_len++] = (uint8_t)rp_rnd();
        send_frame(r, s, &fr, NULL, 0, 0, 1, 0, EXP_ANY, 0, "mutated read-only request");
    }
}

/* Tens of thousands of wrong-key frames (local socket) and malformed ones (UCX): all counted,
 * all answered where an answer is due, and the log stays small. */
void flood(struct rp_peer *r, int s, int n_key, int n_bad)
{
    static struct frame fr;
    struct rp_conn p;
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
            r->exp_key[s]++;
            g_frames_sent++;
            off += hlen;
        }
        rp_conn_write(&p, batch, off);
        if (i % 4096 < 256) /* and now and then wait for all of them */
            lp_drain_quiet(&p, first, 5000);
        else
            rp_conn_pump(&p, 0);
    }
    lp_drain(&p, first, 20000);
    rp_conn_close(&p);
    /* Malformed AM headers without a reply endpoint: dropped and counted. */
    uint8_t h[BFS_HDR_LEN];
    for (int i = 0; i < n_bad; i++) {
        rnd_fill(h, sizeof h);
        h[0] = 0; /* never the magic */
        send_raw(r, s, h, sizeof h, NULL, 0, 0, 0, 0);
    }
}
