/* SPDX-License-Identifier: BSD-3-Clause */
/* test_wire.c — frame header codec, writer/reader, inode record, and a decode fuzz loop. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "common/proto.h"
#include "common/wire.h"

/* A valid request header with every field distinct. */
static struct bfs_frame sample_frame(uint32_t args_len, uint64_t data_len)
{
    struct bfs_frame f;
    memset(&f, 0, sizeof f);
    f.magic = BFS_MAGIC;
    f.version = BFS_WIRE_VERSION;
    f.opcode = BFS_OP_CHUNK_WRITE;
    f.reqid = 0x8877665544332211ull;
    f.status = -12345678;
    f.args_len = args_len;
    f.data_len = data_len;
    for (int i = 0; i < BFS_KEY_LEN; i++)
        f.key[i] = (uint8_t)(0xa0 + i);
    return f;
}

/* Encode `f` into a heap buffer of exactly BFS_HDR_LEN + extra bytes (so ASan sees any read
 * past it) and decode it as an AM header of that length. */
static int encode_decode(const struct bfs_frame *f, size_t extra, size_t data_len,
                         struct bfs_frame *out)
{
    uint8_t *buf = malloc(BFS_HDR_LEN + extra);
    if (!buf)
        exit(2);
    memset(buf, 0x5c, BFS_HDR_LEN + extra);
    bfs_frame_encode(f, buf);
    int rc = bfs_frame_decode(buf, BFS_HDR_LEN + extra, data_len, BFS_OP__COUNT, out);
    free(buf);
    return rc;
}

static void check_frames_equal(const struct bfs_frame *a, const struct bfs_frame *b)
{
    CHECK_EQ_U64(a->magic, b->magic);
    CHECK_EQ_U64(a->version, b->version);
    CHECK_EQ_U64(a->opcode, b->opcode);
    CHECK_EQ_U64(a->reqid, b->reqid);
    CHECK_EQ_INT(a->status, b->status);
    CHECK_EQ_U64(a->args_len, b->args_len);
    CHECK_EQ_U64(a->data_len, b->data_len);
    CHECK_EQ_MEM(a->key, b->key, BFS_KEY_LEN);
}

static void test_frame_roundtrip(void)
{
    struct bfs_frame f = sample_frame(7, 4096), g;
    CHECK_EQ_INT(encode_decode(&f, 7, 4096, &g), 0);
    check_frames_equal(&g, &f);

    /* The layout is fixed little-endian at fixed offsets. */
    uint8_t buf[BFS_HDR_LEN];
    memset(buf, 0xee, sizeof buf);
    bfs_frame_encode(&f, buf);
    CHECK_EQ_MEM(buf + 0, "BFS1", 4);
    CHECK_EQ_MEM(buf + 4, "\x02\x00", 2);
    CHECK_EQ_U64(buf[6], BFS_OP_CHUNK_WRITE);
    CHECK_EQ_U64(buf[7], 0);
    CHECK_EQ_MEM(buf + 8, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
    int32_t st = -12345678;
    uint32_t ust = (uint32_t)st;
    uint8_t stb[4] = {(uint8_t)ust, (uint8_t)(ust >> 8), (uint8_t)(ust >> 16),
                      (uint8_t)(ust >> 24)};
    CHECK_EQ_MEM(buf + 16, stb, 4);
    CHECK_EQ_MEM(buf + 20, "\x07\x00\x00\x00", 4);
    CHECK_EQ_MEM(buf + 24, "\x00\x10\x00\x00\x00\x00\x00\x00", 8);
    CHECK_EQ_MEM(buf + 32, f.key, BFS_KEY_LEN);

    /* Extremes of every field that still decodes. */
    f = sample_frame(0, 0);
    f.opcode = BFS_OP__COUNT - 1;
    f.reqid = UINT64_MAX;
    f.status = INT32_MIN;
    memset(f.key, 0xff, BFS_KEY_LEN);
    CHECK_EQ_INT(encode_decode(&f, 0, 0, &g), 0);
    check_frames_equal(&g, &f);

    f = sample_frame(BFS_MAX_ARGS, BFS_MAX_DATA);
    f.opcode = BFS_OP_PING;
    f.reqid = 0;
    f.status = INT32_MAX;
    memset(f.key, 0, BFS_KEY_LEN);
    CHECK_EQ_INT(encode_decode(&f, BFS_MAX_ARGS, (size_t)BFS_MAX_DATA, &g), 0);
    check_frames_equal(&g, &f);

    /* A reply: status a positive errno. */
    f = sample_frame(3, 0);
    f.status = ENOENT;
    CHECK_EQ_INT(encode_decode(&f, 3, 0, &g), 0);
    CHECK_EQ_INT(g.status, ENOENT);

    /* Every valid opcode decodes. */
    for (int op = 1; op < BFS_OP__COUNT; op++) {
        f = sample_frame(0, 0);
        f.opcode = (uint16_t)op;
        CHECK_EQ_INT(encode_decode(&f, 0, 0, &g), 0);
        CHECK_EQ_U64(g.opcode, op);
    }
}

static void test_frame_rejects(void)
{
    struct bfs_frame f, g;

    /* Truncated header: every length below 48, with a buffer of exactly that length. */
    uint8_t full[BFS_HDR_LEN];
    f = sample_frame(0, 0);
    bfs_frame_encode(&f, full);
    for (size_t len = 0; len < BFS_HDR_LEN; len++) {
        uint8_t *b = malloc(len ? len : 1);
        memcpy(b, full, len);
        int rc = bfs_frame_decode(b, len, 0, BFS_OP__COUNT, &g);
        CHECK_MSG(rc == -EPROTO, "truncated header of %zu bytes: got %d", len, rc);
        free(b);
    }
    CHECK_EQ_INT(bfs_frame_decode(NULL, 0, 0, BFS_OP__COUNT, &g), -EPROTO);
    CHECK_EQ_INT(bfs_frame_decode(NULL, BFS_HDR_LEN, 0, BFS_OP__COUNT, &g), -EPROTO);

    /* Wrong magic. */
    static const uint32_t magics[] = {0, 0x31534641u, 0x32534642u, 0x42465331u, UINT32_MAX};
    for (size_t i = 0; i < sizeof magics / sizeof magics[0]; i++) {
        f = sample_frame(0, 0);
        f.magic = magics[i];
        CHECK_EQ_INT(encode_decode(&f, 0, 0, &g), -EPROTO);
    }

    /* Wrong version. */
    static const uint16_t versions[] = {0, BFS_WIRE_VERSION - 1, BFS_WIRE_VERSION + 1, 0x0100, UINT16_MAX};
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
        f = sample_frame(0, 0);
        f.version = versions[i];
        CHECK_EQ_INT(encode_decode(&f, 0, 0, &g), -EPROTONOSUPPORT);
    }

    /* args_len disagreeing with the header length. */
    f = sample_frame(10, 0);
    CHECK_EQ_INT(encode_decode(&f, 9, 0, &g), -EPROTO);
    CHECK_EQ_INT(encode_decode(&f, 11, 0, &g), -EPROTO);
    CHECK_EQ_INT(encode_decode(&f, 0, 0, &g), -EPROTO);
    CHECK_EQ_INT(encode_decode(&f, 10, 0, &g), 0);
    f = sample_frame(0, 0);
    CHECK_EQ_INT(encode_decode(&f, 1, 0, &g), -EPROTO);

    /* args_len over the limit, even when the header really is that long. */
    f = sample_frame(BFS_MAX_ARGS + 1, 0);
    CHECK_EQ_INT(encode_decode(&f, BFS_MAX_ARGS + 1, 0, &g), -EPROTO);
    f = sample_frame(UINT32_MAX, 0);
    CHECK_EQ_INT(encode_decode(&f, 0, 0, &g), -EPROTO);
    {
        /* Claim a header of 48 + 4 GiB - 1 bytes. The decoder only reads the first 48, so
         * the (much smaller) buffer is enough; a decoder that truncated args_len or len to
         * 32 bits could accept this. */
        uint8_t b[BFS_HDR_LEN];
        bfs_frame_encode(&f, b);
        CHECK_EQ_INT(bfs_frame_decode(b, (size_t)BFS_HDR_LEN + UINT32_MAX, 0, BFS_OP__COUNT, &g),
                     -EPROTO);
    }

    /* data_len disagreeing with the AM data actually received. */
    f = sample_frame(0, 100);
    CHECK_EQ_INT(encode_decode(&f, 0, 99, &g), -EPROTO);
    CHECK_EQ_INT(encode_decode(&f, 0, 101, &g), -EPROTO);
    CHECK_EQ_INT(encode_decode(&f, 0, 0, &g), -EPROTO);
    CHECK_EQ_INT(encode_decode(&f, 0, 100, &g), 0);
    f = sample_frame(0, 0);
    CHECK_EQ_INT(encode_decode(&f, 0, 1, &g), -EPROTO);

    /* Oversized data, even when header and AM data agree. */
    f = sample_frame(0, BFS_MAX_DATA + 1);
    CHECK_EQ_INT(encode_decode(&f, 0, (size_t)(BFS_MAX_DATA + 1), &g), -EPROTO);
    f = sample_frame(0, UINT64_MAX);
    CHECK_EQ_INT(encode_decode(&f, 0, SIZE_MAX, &g), -EPROTO);
    /* Lengths that agree only in their low bits must not pass (a decoder comparing narrowed
     * values would accept these). */
    f = sample_frame(0, (1ull << 32) + 5);
    CHECK_EQ_INT(encode_decode(&f, 0, 5, &g), -EPROTO);
    f = sample_frame(0, (1ull << 16) + 5);
    CHECK_EQ_INT(encode_decode(&f, 0, 5, &g), -EPROTO);
    CHECK_EQ_INT(encode_decode(&f, 0, (1u << 16) + 5, &g), 0);
    f = sample_frame(0, 5);
    CHECK_EQ_INT(encode_decode(&f, 0, (1u << 16) + 5, &g), -EPROTO);

    /* Unknown opcodes. */
    f = sample_frame(0, 0);
    f.opcode = 0;
    CHECK_EQ_INT(encode_decode(&f, 0, 0, &g), -EBADMSG);
    f.opcode = BFS_OP__COUNT;
    CHECK_EQ_INT(encode_decode(&f, 0, 0, &g), -EBADMSG);
    f.opcode = BFS_OP__COUNT + 1;
    CHECK_EQ_INT(encode_decode(&f, 0, 0, &g), -EBADMSG);
    f.opcode = UINT16_MAX;
    CHECK_EQ_INT(encode_decode(&f, 0, 0, &g), -EBADMSG);

    /* max_opcode is honoured and exclusive. */
    uint8_t b[BFS_HDR_LEN];
    f = sample_frame(0, 0);
    f.opcode = 5;
    bfs_frame_encode(&f, b);
    CHECK_EQ_INT(bfs_frame_decode(b, sizeof b, 0, 6, &g), 0);
    CHECK_EQ_INT(bfs_frame_decode(b, sizeof b, 0, 5, &g), -EBADMSG);
    CHECK_EQ_INT(bfs_frame_decode(b, sizeof b, 0, 0, &g), -EBADMSG);
}

static void test_writer_reader_roundtrip(void)
{
    uint8_t buf[128];
    uint8_t blob[5] = {0, 1, 0xfe, 0xff, 0x80};
    struct bfs_wbuf w;
    bfs_wb_init(&w, buf, sizeof buf);
    bfs_wb_u8(&w, 0xab);
    bfs_wb_u32(&w, 0x01020304u);
    bfs_wb_u64(&w, 0x1122334455667788ull);
    bfs_wb_str(&w, "hello/world");
    bfs_wb_bytes(&w, blob, sizeof blob);
    bfs_wb_str(&w, "");
    bfs_wb_u8(&w, 0);
    bfs_wb_u32(&w, UINT32_MAX);
    bfs_wb_u64(&w, UINT64_MAX);
    bfs_wb_bytes(&w, NULL, 0);
    CHECK_EQ_INT(w.err, 0);
    size_t expect = 1 + 4 + 8 + (2 + 11) + 5 + 2 + 1 + 4 + 8;
    CHECK_EQ_U64(w.len, expect);

    /* Little-endian, strings as u16 length + bytes without a NUL. */
    CHECK_EQ_MEM(buf, "\xab\x04\x03\x02\x01\x88\x77\x66\x55\x44\x33\x22\x11\x0b\x00hello/world",
                 1 + 4 + 8 + 2 + 11);
    CHECK_EQ_MEM(buf + 26, blob, sizeof blob);
    CHECK_EQ_MEM(buf + 31, "\x00\x00", 2);

    struct bfs_rbuf r;
    bfs_rb_init(&r, buf, w.len);
    CHECK(!bfs_rb_done(&r));
    CHECK_EQ_U64(bfs_rb_u8(&r), 0xab);
    CHECK_EQ_U64(bfs_rb_u32(&r), 0x01020304u);
    CHECK_EQ_U64(bfs_rb_u64(&r), 0x1122334455667788ull);
    char s[64];
    CHECK_EQ_U64(bfs_rb_str(&r, s, sizeof s), 11);
    CHECK_EQ_STR(s, "hello/world");
    uint8_t got[5];
    bfs_rb_bytes(&r, got, sizeof got);
    CHECK_EQ_MEM(got, blob, sizeof blob);
    memset(s, 'x', sizeof s);
    CHECK_EQ_U64(bfs_rb_str(&r, s, sizeof s), 0);
    CHECK_EQ_STR(s, "");
    CHECK_EQ_U64(bfs_rb_u8(&r), 0);
    CHECK_EQ_U64(bfs_rb_u32(&r), UINT32_MAX);
    CHECK(!bfs_rb_done(&r));
    CHECK_EQ_U64(bfs_rb_u64(&r), UINT64_MAX);
    bfs_rb_bytes(&r, got, 0);
    CHECK_EQ_INT(r.err, 0);
    CHECK_EQ_U64(r.off, expect);
    CHECK(bfs_rb_done(&r));

    /* The longest string the u16 prefix allows. */
    size_t big = 0xffff;
    char *longs = malloc(big + 1), *back = malloc(big + 1);
    uint8_t *lb = malloc(big + 2);
    memset(longs, 'q', big);
    longs[big] = '\0';
    bfs_wb_init(&w, lb, big + 2);
    bfs_wb_str(&w, longs);
    CHECK_EQ_INT(w.err, 0);
    CHECK_EQ_U64(w.len, big + 2);
    bfs_rb_init(&r, lb, w.len);
    CHECK_EQ_U64(bfs_rb_str(&r, back, big + 1), big);
    CHECK(bfs_rb_done(&r));
    CHECK(memcmp(back, longs, big + 1) == 0);
    free(longs);
    free(back);
    free(lb);
}

static void test_writer_overflow(void)
{
    uint8_t buf[32];
    struct bfs_wbuf w;

    /* Exactly full is fine. */
    memset(buf, 0xee, sizeof buf);
    bfs_wb_init(&w, buf, 8);
    bfs_wb_u64(&w, 0x0102030405060708ull);
    CHECK_EQ_INT(w.err, 0);
    CHECK_EQ_U64(w.len, 8);
    bfs_wb_bytes(&w, "", 0);
    CHECK_EQ_INT(w.err, 0);

    /* One byte more is not, and writes nothing. */
    bfs_wb_u8(&w, 0x42);
    CHECK(w.err != 0);
    CHECK_EQ_U64(w.len, 8);
    CHECK_EQ_U64(buf[8], 0xee);

    /* A partial fit writes nothing either; err stays set, so later writes that would fit
     * do not leave a hole in the message. */
    memset(buf, 0xee, sizeof buf);
    bfs_wb_init(&w, buf, 10);
    bfs_wb_u64(&w, 1);
    bfs_wb_u32(&w, 0xdeadbeef); /* needs 4, 2 left */
    CHECK(w.err != 0);
    CHECK_EQ_U64(w.len, 8);
    CHECK_EQ_U64(buf[8], 0xee);
    CHECK_EQ_U64(buf[9], 0xee);
    bfs_wb_u8(&w, 0x42); /* would fit */
    CHECK(w.err != 0);
    CHECK_EQ_U64(w.len, 8);
    CHECK_EQ_U64(buf[8], 0xee);
    int touched = 0;
    for (size_t i = 8; i < sizeof buf; i++)
        touched += buf[i] != 0xee;
    CHECK_EQ_INT(touched, 0);

    /* A string that does not fit. */
    memset(buf, 0xee, sizeof buf);
    bfs_wb_init(&w, buf, 6);
    bfs_wb_str(&w, "hello");
    CHECK(w.err != 0);
    CHECK(w.len <= 6);
    touched = 0;
    for (size_t i = 6; i < sizeof buf; i++)
        touched += buf[i] != 0xee;
    CHECK_EQ_INT(touched, 0);

    /* Big bytes into a small buffer (n near SIZE_MAX must not wrap the bounds check). */
    memset(buf, 0xee, sizeof buf);
    bfs_wb_init(&w, buf, 4);
    bfs_wb_u8(&w, 1);
    bfs_wb_bytes(&w, buf + 16, SIZE_MAX);
    CHECK(w.err != 0);
    CHECK_EQ_U64(w.len, 1);
    CHECK_EQ_U64(buf[1], 0xee);

    /* A string longer than the u16 prefix allows. */
    size_t n = 0x10000;
    char *s = malloc(n + 1);
    uint8_t *big = malloc(n + 16);
    memset(s, 'z', n);
    s[n] = '\0';
    bfs_wb_init(&w, big, n + 16);
    bfs_wb_str(&w, s);
    CHECK(w.err != 0);
    free(s);
    free(big);

    /* Capacity 0. */
    bfs_wb_init(&w, NULL, 0);
    bfs_wb_u8(&w, 1);
    CHECK(w.err != 0);
    CHECK_EQ_U64(w.len, 0);
}

static void test_reader_past_end(void)
{
    const uint8_t data[6] = {1, 2, 3, 4, 5, 6};
    struct bfs_rbuf r;
    bfs_rb_init(&r, data, sizeof data);
    CHECK_EQ_U64(bfs_rb_u32(&r), 0x04030201u);
    CHECK_EQ_INT(r.err, 0);
    CHECK_EQ_U64(bfs_rb_u32(&r), 0); /* 2 left */
    CHECK(r.err != 0);
    CHECK_EQ_U64(r.off, 4);
    CHECK(!bfs_rb_done(&r));
    /* Sticky: a read that would fit also yields zero now. */
    CHECK_EQ_U64(bfs_rb_u8(&r), 0);
    CHECK_EQ_U64(r.off, 4);
    uint8_t out[8];
    memset(out, 0x77, sizeof out);
    bfs_rb_bytes(&r, out, 2);
    CHECK_EQ_MEM(out, "\0\0\x77", 3);

    bfs_rb_init(&r, data, sizeof data);
    CHECK_EQ_U64(bfs_rb_u64(&r), 0);
    CHECK(r.err != 0);
    memset(out, 0x77, sizeof out);
    bfs_rb_init(&r, data, sizeof data);
    bfs_rb_bytes(&r, out, 7);
    CHECK(r.err != 0);
    CHECK_EQ_MEM(out, "\0\0\0\0\0\0\0\x77", 8);

    /* Exactly to the end, then one more. */
    bfs_rb_init(&r, data, sizeof data);
    bfs_rb_bytes(&r, out, 6);
    CHECK_EQ_INT(r.err, 0);
    CHECK(bfs_rb_done(&r));
    CHECK_EQ_U64(bfs_rb_u8(&r), 0);
    CHECK(r.err != 0);
    CHECK(!bfs_rb_done(&r));

    /* Empty and NULL buffers. */
    bfs_rb_init(&r, data, 0);
    CHECK(bfs_rb_done(&r));
    CHECK_EQ_U64(bfs_rb_u8(&r), 0);
    CHECK(r.err != 0);
    bfs_rb_init(&r, NULL, 100); /* NULL means nothing to read, whatever the length */
    CHECK_EQ_U64(r.len, 0);
    CHECK(bfs_rb_done(&r));
    CHECK_EQ_U64(bfs_rb_u64(&r), 0);
    CHECK(r.err != 0);
    char s[8] = "xxxxxxx";
    bfs_rb_init(&r, NULL, 0);
    CHECK_EQ_U64(bfs_rb_str(&r, s, sizeof s), 0);
    CHECK(r.err != 0);
    CHECK_EQ_STR(s, "");
}

/* Build a reader over `n` bytes copied to an exact-size heap buffer. */
static uint8_t *heap_copy(const void *p, size_t n)
{
    uint8_t *b = malloc(n ? n : 1);
    if (!b)
        exit(2);
    memcpy(b, p, n);
    return b;
}

static void test_reader_str(void)
{
    struct bfs_rbuf r;
    char out[16];
    uint8_t *b;

    /* "hello": fits in 6 (5 + NUL), not in 5 or less. */
    b = heap_copy("\x05\x00hello", 7);
    bfs_rb_init(&r, b, 7);
    CHECK_EQ_U64(bfs_rb_str(&r, out, 6), 5);
    CHECK_EQ_STR(out, "hello");
    CHECK(bfs_rb_done(&r));
    bfs_rb_init(&r, b, 7);
    memset(out, 'x', sizeof out);
    CHECK_EQ_U64(bfs_rb_str(&r, out, 5), 0);
    CHECK(r.err != 0);
    CHECK_EQ_U64(out[0], 0);
    CHECK(!bfs_rb_done(&r));
    bfs_rb_init(&r, b, 7);
    memset(out, 'x', sizeof out);
    CHECK_EQ_U64(bfs_rb_str(&r, out, 3), 0);
    CHECK(r.err != 0);
    CHECK_EQ_U64(out[0], 0);
    CHECK_EQ_U64(out[3], 'x'); /* nothing written past cap */
    /* cap 0: nothing can be written at all. */
    bfs_rb_init(&r, b, 7);
    memset(out, 'x', sizeof out);
    CHECK_EQ_U64(bfs_rb_str(&r, out, 0), 0);
    CHECK(r.err != 0);
    CHECK_EQ_U64(out[0], 'x');
    free(b);

    /* A length prefix exceeding what remains. */
    b = heap_copy("\x06\x00hello", 7);
    bfs_rb_init(&r, b, 7);
    memset(out, 'x', sizeof out);
    CHECK_EQ_U64(bfs_rb_str(&r, out, sizeof out), 0);
    CHECK(r.err != 0);
    CHECK_EQ_U64(out[0], 0);
    CHECK(!bfs_rb_done(&r));
    free(b);
    b = heap_copy("\xff\xff" "abc", 5);
    bfs_rb_init(&r, b, 5);
    CHECK_EQ_U64(bfs_rb_str(&r, out, sizeof out), 0);
    CHECK(r.err != 0);
    free(b);
    /* A truncated length prefix. */
    b = heap_copy("\x01", 1);
    bfs_rb_init(&r, b, 1);
    CHECK_EQ_U64(bfs_rb_str(&r, out, sizeof out), 0);
    CHECK(r.err != 0);
    free(b);

    /* An embedded NUL anywhere in the string. */
    static const char *const nul_cases[] = {"\x05\x00" "ab\0cd", "\x05\x00" "\0bcde",
                                            "\x05\x00" "abcd\0"};
    for (size_t i = 0; i < 3; i++) {
        b = heap_copy(nul_cases[i], 7);
        bfs_rb_init(&r, b, 7);
        memset(out, 'x', sizeof out);
        CHECK_EQ_U64(bfs_rb_str(&r, out, sizeof out), 0);
        CHECK_MSG(r.err != 0, "embedded NUL case %zu accepted", i);
        CHECK_EQ_U64(out[0], 0);
        free(b);
    }

    /* A string followed by more data: the reader continues after it. */
    b = heap_copy("\x02\x00hi\x2a", 5);
    bfs_rb_init(&r, b, 5);
    CHECK_EQ_U64(bfs_rb_str(&r, out, sizeof out), 2);
    CHECK_EQ_STR(out, "hi");
    CHECK(!bfs_rb_done(&r));
    CHECK_EQ_U64(bfs_rb_u8(&r), 42);
    CHECK(bfs_rb_done(&r));
    free(b);
}

static void test_rb_done(void)
{
    const uint8_t data[4] = {9, 8, 7, 6};
    struct bfs_rbuf r;
    bfs_rb_init(&r, data, 4);
    CHECK(!bfs_rb_done(&r)); /* bytes left */
    bfs_rb_u8(&r);
    CHECK(!bfs_rb_done(&r));
    bfs_rb_u8(&r);
    bfs_rb_u8(&r);
    bfs_rb_u8(&r);
    CHECK(bfs_rb_done(&r)); /* all consumed, no error */

    /* Consumed to the end but something failed: not done. */
    bfs_rb_init(&r, data, 4);
    bfs_rb_u8(&r);
    bfs_rb_u8(&r);
    bfs_rb_u8(&r);
    char s[4];
    bfs_rb_str(&r, s, sizeof s); /* fails: only one byte for the u16 prefix */
    CHECK(r.err != 0);
    CHECK(!bfs_rb_done(&r));

    /* Trailing garbage after a complete message. */
    bfs_rb_init(&r, data, 4);
    bfs_rb_u8(&r);
    bfs_rb_u8(&r);
    CHECK(!bfs_rb_done(&r));
}

static struct bfs_inode sample_inode(void)
{
    struct bfs_inode ino;
    memset(&ino, 0, sizeof ino);
    ino.fileid = 0x0123456789abcdefull;
    ino.size = 0xfedcba9876543210ull;
    ino.mode = 0100644;
    ino.uid = 1000;
    ino.gid = 0xfffffffeu;
    ino.chunk_size = 4u << 20;
    ino.nlink = 2;
    ino.atime_ns = -1;
    ino.mtime_ns = INT64_MIN;
    ino.ctime_ns = INT64_MAX;
    ino.extent = 0x1122334455667788ull;
    ino.flags = BFS_INO_INLINE;
    return ino;
}

static void check_inodes_equal(const struct bfs_inode *a, const struct bfs_inode *b)
{
    CHECK_EQ_U64(a->fileid, b->fileid);
    CHECK_EQ_U64(a->size, b->size);
    CHECK_EQ_U64(a->mode, b->mode);
    CHECK_EQ_U64(a->uid, b->uid);
    CHECK_EQ_U64(a->gid, b->gid);
    CHECK_EQ_U64(a->chunk_size, b->chunk_size);
    CHECK_EQ_U64(a->nlink, b->nlink);
    CHECK_EQ_INT(a->atime_ns, b->atime_ns);
    CHECK_EQ_INT(a->mtime_ns, b->mtime_ns);
    CHECK_EQ_INT(a->ctime_ns, b->ctime_ns);
    CHECK_EQ_U64(a->extent, b->extent);
    CHECK_EQ_INT(a->flags, b->flags);
}

static void test_inode(void)
{
    struct bfs_inode a = sample_inode(), b;
    uint8_t buf[BFS_INODE_WIRE_LEN + 8];
    memset(buf, 0xee, sizeof buf);
    struct bfs_wbuf w;
    bfs_wb_init(&w, buf, sizeof buf);
    bfs_inode_put(&w, &a);
    CHECK_EQ_INT(w.err, 0);
    CHECK_EQ_U64(w.len, BFS_INODE_WIRE_LEN);
    CHECK_EQ_U64(buf[BFS_INODE_WIRE_LEN], 0xee);
    CHECK_EQ_MEM(buf, "\xef\xcd\xab\x89\x67\x45\x23\x01", 8); /* fileid first, LE */
    /* The base record, then the extent, then the flags (DESIGN.md, the wire inode). */
    CHECK_EQ_MEM(buf + BFS_INODE_BASE_LEN, "\x88\x77\x66\x55\x44\x33\x22\x11", 8);
    CHECK_EQ_MEM(buf + BFS_INODE_BASE_LEN + 8, "\x01\x00\x00\x00", 4);

    struct bfs_rbuf r;
    bfs_rb_init(&r, buf, w.len);
    memset(&b, 0x5a, sizeof b);
    bfs_inode_get(&r, &b);
    CHECK_EQ_INT(r.err, 0);
    CHECK(bfs_rb_done(&r));
    check_inodes_equal(&b, &a);

    /* Zero inode too. */
    struct bfs_inode z;
    memset(&z, 0, sizeof z);
    bfs_wb_init(&w, buf, sizeof buf);
    bfs_inode_put(&w, &z);
    CHECK_EQ_U64(w.len, BFS_INODE_WIRE_LEN);
    bfs_rb_init(&r, buf, w.len);
    memset(&b, 0x5a, sizeof b);
    bfs_inode_get(&r, &b);
    CHECK(bfs_rb_done(&r));
    check_inodes_equal(&b, &z);

    /* One byte short on either side fails. */
    bfs_wb_init(&w, buf, BFS_INODE_WIRE_LEN - 1);
    bfs_inode_put(&w, &a);
    CHECK(w.err != 0);
    bfs_wb_init(&w, buf, sizeof buf);
    bfs_inode_put(&w, &a);
    uint8_t *shortb = heap_copy(buf, BFS_INODE_WIRE_LEN - 1);
    bfs_rb_init(&r, shortb, BFS_INODE_WIRE_LEN - 1);
    bfs_inode_get(&r, &b);
    CHECK(r.err != 0);
    CHECK(!bfs_rb_done(&r));
    CHECK_EQ_U64(b.extent, a.extent); /* the base record and the extent fit */
    CHECK_EQ_INT(b.flags, 0); /* the field that did not fit (the last) reads as zero */
    free(shortb);
}

static void test_op_names(void)
{
    CHECK_EQ_STR(bfs_op_name(BFS_OP_PING), "ping");
    CHECK_EQ_STR(bfs_op_name(BFS_OP_FSYNC), "fsync");
    CHECK_EQ_STR(bfs_op_name(0), "invalid");
    CHECK_EQ_STR(bfs_op_name(-1), "invalid");
    CHECK_EQ_STR(bfs_op_name(BFS_OP__COUNT), "invalid");
    for (int op = 1; op < BFS_OP__COUNT; op++) {
        const char *n = bfs_op_name(op);
        CHECK_MSG(n != NULL && strcmp(n, "invalid") != 0, "op %d has no name", op);
    }
}

/* ---- fuzz ---------------------------------------------------------------------------- */

#define FUZZ_ITERS 100000

/* Random reads over `buf`; checks the reader's invariants after each. */
static void fuzz_reader(uint64_t *rng, const uint8_t *buf, size_t len)
{
    struct bfs_rbuf r;
    bfs_rb_init(&r, buf, len);
    int nops = (int)(check_rand(rng) % 24);
    char str[300];
    uint8_t bytes[300];
    struct bfs_inode ino;
    for (int i = 0; i < nops; i++) {
        int was_err = r.err;
        size_t off0 = r.off;
        uint64_t v = 0;
        switch (check_rand(rng) % 6) {
        case 0: v = bfs_rb_u8(&r); break;
        case 1: v = bfs_rb_u32(&r); break;
        case 2: v = bfs_rb_u64(&r); break;
        case 3: {
            size_t n = (size_t)(check_rand(rng) % sizeof bytes);
            bfs_rb_bytes(&r, bytes, n);
            if (r.err) {
                size_t nz = 0;
                for (size_t k = 0; k < n; k++)
                    nz += bytes[k] != 0;
                CHECK_MSG(nz == 0, "failed bfs_rb_bytes left %zu non-zero bytes", nz);
            } else {
                CHECK(memcmp(bytes, buf + off0, n) == 0);
            }
            break;
        }
        case 4: {
            size_t cap = (size_t)(check_rand(rng) % (sizeof str + 1));
            memset(str, 'x', sizeof str);
            size_t n = bfs_rb_str(&r, str, cap);
            if (cap > 0) {
                CHECK_MSG(memchr(str, '\0', cap) != NULL, "bfs_rb_str left no NUL in cap %zu",
                          cap);
                CHECK_EQ_U64(strlen(str), n);
            }
            if (cap < sizeof str)
                CHECK_EQ_U64(str[cap], 'x');
            if (r.err)
                CHECK_EQ_U64(n, 0);
            break;
        }
        default: bfs_inode_get(&r, &ino); break;
        }
        CHECK_MSG(r.off <= r.len, "reader offset %zu past length %zu", r.off, r.len);
        if (was_err) {
            CHECK_EQ_U64(v, 0);
            CHECK_EQ_U64(r.off, off0);
            CHECK(r.err);
        }
        if (r.err && v != 0)
            CHECK_MSG(0, "failed read yielded %llu", (unsigned long long)v);
    }
    if (bfs_rb_done(&r))
        CHECK(!r.err && r.off == len);
}

static void test_fuzz(void)
{
    uint64_t rng = 0xbf5f00d;
    size_t accepted = 0;
    for (int it = 0; it < FUZZ_ITERS; it++) {
        /* Mostly short buffers around the header size; some up to past BFS_MAX_ARGS. */
        size_t len;
        uint64_t pick = check_rand(&rng) % 16;
        if (pick == 0)
            len = (size_t)(check_rand(&rng) % (BFS_HDR_LEN + BFS_MAX_ARGS + 64));
        else
            len = (size_t)(check_rand(&rng) % 256);
        uint8_t *buf = malloc(len ? len : 1);
        if (!buf)
            exit(2);
        for (size_t i = 0; i < len; i++)
            buf[i] = (uint8_t)check_rand(&rng);
        size_t data_len = (size_t)(check_rand(&rng) % 1024);

        /* Make most headers plausible so the later checks are reached too. */
        if (len >= BFS_HDR_LEN && check_rand(&rng) % 4 != 0) {
            struct bfs_frame f = sample_frame((uint32_t)(len - BFS_HDR_LEN), data_len);
            uint64_t m = check_rand(&rng);
            if (m & 1)
                f.version = (uint16_t)check_rand(&rng);
            if (m & 2)
                f.args_len = (uint32_t)check_rand(&rng);
            if (m & 4)
                f.data_len = check_rand(&rng) >> (check_rand(&rng) % 64);
            f.opcode = (uint16_t)(m & 8 ? check_rand(&rng) : check_rand(&rng) % (BFS_OP__COUNT + 1));
            bfs_frame_encode(&f, buf);
        }

        struct bfs_frame f;
        int rc = bfs_frame_decode(len ? buf : NULL, len, data_len, BFS_OP__COUNT, &f);
        CHECK_MSG(rc == 0 || rc == -EPROTO || rc == -EPROTONOSUPPORT || rc == -EBADMSG,
                  "unexpected decode result %d", rc);
        if (len >= BFS_HDR_LEN) {
            /* Accepted exactly when every rule holds, whatever order they are checked in. */
            uint32_t magic = (uint32_t)buf[0] | (uint32_t)buf[1] << 8 |
                             (uint32_t)buf[2] << 16 | (uint32_t)buf[3] << 24;
            uint16_t ver = (uint16_t)(buf[4] | buf[5] << 8);
            uint16_t op = (uint16_t)(buf[6] | buf[7] << 8);
            uint64_t al = 0, dl = 0;
            for (int k = 0; k < 4; k++)
                al |= (uint64_t)buf[20 + k] << (8 * k);
            for (int k = 0; k < 8; k++)
                dl |= (uint64_t)buf[24 + k] << (8 * k);
            int valid = magic == BFS_MAGIC && ver == BFS_WIRE_VERSION && al <= BFS_MAX_ARGS &&
                        al == len - BFS_HDR_LEN && dl <= BFS_MAX_DATA && dl == data_len &&
                        op != 0 && op < BFS_OP__COUNT;
            CHECK_MSG((rc == 0) == valid, "len %zu data_len %zu: decode %d but valid=%d", len,
                      data_len, rc, valid);
            if (rc == 0)
                accepted++;
            /* Random-args readers over the argument bytes and over the whole buffer. */
            fuzz_reader(&rng, buf + BFS_HDR_LEN, len - BFS_HDR_LEN);
        } else {
            CHECK_EQ_INT(rc, -EPROTO);
        }
        fuzz_reader(&rng, buf, len);
        free(buf);
    }
    /* The fuzz must actually reach the accept path, or it is only testing the early outs. */
    CHECK_MSG(accepted > 1000, "only %zu of %d fuzz frames were valid", accepted, FUZZ_ITERS);
    printf("fuzz: %d buffers, %zu decoded as valid frames\n", FUZZ_ITERS, accepted);
}

/* Zero-length reads from a reader over no buffer at all. bfs_rb_init documents NULL as
 * "nothing to read", and a request without arguments can arrive as (NULL, 0), so reading zero
 * bytes from it must be a plain no-op. Run last: under UBSan (CI) a failure here aborts. */
static void test_reader_null_zero_len(void)
{
    struct bfs_rbuf r;
    uint8_t out[4] = {7, 7, 7, 7};
    bfs_rb_init(&r, NULL, 0);
    bfs_rb_bytes(&r, out, 0); /* must not memcpy from a NULL source, even for 0 bytes */
    CHECK_EQ_INT(r.err, 0);
    CHECK(bfs_rb_done(&r));
    CHECK_EQ_U64(out[0], 7);
    /* The same after the reader has failed (the zero-fill path). */
    bfs_rb_u8(&r);
    CHECK(r.err != 0);
    bfs_rb_bytes(&r, out, 0);
    CHECK_EQ_U64(out[0], 7);
}

int main(void)
{
    test_frame_roundtrip();
    test_frame_rejects();
    test_writer_reader_roundtrip();
    test_writer_overflow();
    test_reader_past_end();
    test_reader_str();
    test_rb_done();
    test_inode();
    test_op_names();
    test_fuzz();
    test_reader_null_zero_len();
    return check_report("test_wire");
}
