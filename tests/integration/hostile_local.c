/* SPDX-License-Identifier: BSD-3-Clause */
/* hostile_local.c — test_hostile's attacks on the servers' local sockets, where frames come
 * back to back on a byte stream: one connection that must survive wrong keys (EACCES),
 * payloads on ops that take none (EPROTO), refused arguments and 200 pipelined pings; frames
 * that must end the connection at once (garbage, wrong magic / version / opcode, lengths
 * beyond the limits); lying lengths, where the part the server delimits is answered and the
 * rest closes the connection; and truncated frames followed by the peer's close, which
 * nothing may answer or count. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "hostile.h"

void targeted_local(struct rp_peer *r, int s, uint64_t file_id, uint32_t file_chunk)
{
    static struct frame fr;
    uint8_t hdr[BFS_HDR_LEN + 512];
    size_t hlen;
    struct rp_conn p;

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
    mkdir_frame(&fr, r, "/hostile-wrong-key-local");
    fr.f.key[2] ^= 0x20;
    lp_send_frame(r, &p, &fr, NULL, 0, EXP_STATUS, EACCES, "local: mkdir with a wrong key");
    chunk_write_frame(&fr, r, file_id, 0, 0, file_chunk);
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
    mkdir_frame(&fr, r, "/hostile-mkdir-with-data-local");
    lp_send_frame(r, &p, &fr, g_mib, 100, EXP_STATUS, EPROTO, "local: mkdir + data");
    /* refused arguments, answered */
    lookup_frame(&fr, r, "/a//b");
    lp_send_frame(r, &p, &fr, NULL, 0, EXP_STATUS, EINVAL, "local: path not normalised");
    frame_init(&fr, r, BFS_OP_LOOKUP);
    a_u16(&fr, 0xffff);
    lp_send_frame(r, &p, &fr, NULL, 0, EXP_STATUS, EPROTO, "local: string length 65535");
    chunk_read_frame(&fr, r, file_id, 0, 0, UINT64_MAX, file_chunk);
    lp_send_frame(r, &p, &fr, NULL, 0, EXP_STATUS, EINVAL, "local: chunk_read 2^64-1 bytes");
    chunk_write_frame(&fr, r, file_id, 0, 4000, 4096);
    lp_send_frame(r, &p, &fr, g_mib, 200, EXP_STATUS, EINVAL, "local: chunk_write past the chunk");
    create_frame(&fr, r, "/hostile-create-cs0-local", 0644, 0);
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
    rp_conn_close(&p);

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
        chunk_write_frame(&fr, r, file_id, 0, 0, 64u << 20);
        hlen = frame_encode(&fr, hdr, 0, 1);
        fr.f.data_len = big_dl[i];
        bfs_frame_encode(&fr.f, hdr);
        lp_breaking(r, s, hdr, hlen, "data_len > 64 MiB");
    }
    if (g_big) { /* and really more than 64 MiB after it: the server stops at the header */
        chunk_write_frame(&fr, r, file_id, 0, 0, 64u << 20);
        hlen = frame_encode(&fr, hdr, BFS_MAX_DATA + 1, 1);
        lp_open(r, s, &p);
        r->exp_frames[s]++;
        g_frames_sent++;
        if (rp_conn_write(&p, hdr, hlen) == 0)
            rp_conn_write(&p, g_big, 4u << 20); /* stops at the close */
        lp_expect_close(&p, "a 64 MiB + 1 payload");
        rp_conn_close(&p);
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
    rp_conn_write(&p, hdr, hlen - 3);
    lp_drain(&p, first, 5000);
    {
        uint8_t rest[3 + BFS_HDR_LEN];
        memcpy(rest, hdr + hlen - 3, 3);
        frame_init(&fr, r, BFS_OP_PING);
        track(fr.f.reqid, s, EXP_NONE, 0, "local: ping after a short args_len");
        frame_encode(&fr, rest + 3, 0, 1);
        r->exp_frames[s]++;
        rp_conn_write(&p, rest, sizeof rest);
    }
    lp_expect_close(&p, "args_len 3 short");
    rp_conn_close(&p);
    /* data_len 100 short of 300: the write is refused (chunk size 0: EINVAL), the other 200
     * bytes are not a header */
    lp_open(r, s, &p);
    first = g_next_reqid;
    chunk_write_frame(&fr, r, 0xdeadbeefull, 0, 0, 0);
    hlen = frame_encode(&fr, hdr, 100, 1);
    track(fr.f.reqid, s, EXP_STATUS, EINVAL, "local: data_len short of the payload");
    g_frames_sent++;
    {
        uint8_t pay[300];
        memset(pay, 0xa5, sizeof pay);
        rp_conn_write(&p, hdr, hlen);
        rp_conn_write(&p, pay, 100);
        lp_drain(&p, first, 5000);
        r->exp_frames[s]++;
        rp_conn_write(&p, pay + 100, 200);
    }
    lp_expect_close(&p, "data_len short of the payload");
    rp_conn_close(&p);

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
            chunk_write_frame(&fr, r, 0xdead0001ull, 0, 0, 0);
            hlen = frame_encode(&fr, hdr, sizeof g_mib, 1);
            cut = hlen;
            pay = g_mib;
            paylen = sizeof g_mib / 2;
        }
        track(fr.f.reqid, s, EXP_NONE, 0, "local: truncated frame, then close");
        g_frames_sent++;
        rp_conn_write(&p, hdr, cut);
        if (paylen) {
            rp_conn_write(&p, pay, paylen);
            frame_init(&fr, r, BFS_OP_PING);
            hlen = frame_encode(&fr, hdr, 0, 1);
            track(fr.f.reqid, s, EXP_NONE, 0, "local: ping inside a payload");
            rp_conn_write(&p, hdr, hlen);
        }
        for (int k = 0; k < 5; k++) /* let the server read it; it must not answer */
            rp_conn_pump(&p, 10);
        if (p.closed) {
            fprintf(stderr, "FAIL: server %d closed a connection with a frame in progress\n", s);
            test_failures++;
        }
        rp_conn_close(&p);
    }
    lp_ping(r, s, "local: ping after the broken connections");
}
