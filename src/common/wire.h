/* SPDX-License-Identifier: BSD-3-Clause */
/* wire.h — the BenchFS message format and a bounds-checked codec.
 *
 * Every message is one UCX Active Message. Its AM header holds a fixed 48-byte frame header
 * followed by `args_len` bytes of op-specific arguments; its AM data holds `data_len` bytes of
 * bulk payload (chunk data, directory listings). All integers are little-endian. Nothing
 * received is trusted: bfs_frame_decode checks magic, version, opcode and every length before
 * any field is used, and the readers below never read past their buffer. */
#ifndef BFS_WIRE_H
#define BFS_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define BFS_MAGIC 0x31534642u /* "BFS1" read as little-endian bytes */
#define BFS_WIRE_VERSION 2
#define BFS_KEY_LEN 16
#define BFS_HDR_LEN 48
#define BFS_MAX_ARGS (16u * 1024)         /* two paths and some fields fit */
#define BFS_MAX_DATA (64ull * 1024 * 1024) /* one chunk at the largest chunk size */

/* Active Message ids. */
enum { BFS_AM_REQUEST = 1, BFS_AM_REPLY = 2 };

struct bfs_frame {
    uint32_t magic;
    uint16_t version;
    uint16_t opcode;
    uint64_t reqid;
    int32_t status;   /* replies: 0 or a positive errno */
    uint32_t args_len;
    uint64_t data_len;
    uint8_t key[BFS_KEY_LEN]; /* requests: the cluster key; replies: zero */
};

/* Encode into exactly BFS_HDR_LEN bytes. */
void bfs_frame_encode(const struct bfs_frame *f, uint8_t *out);
/* Decode and validate a received AM header of `len` bytes whose AM data was `data_len` bytes.
 * Returns 0, -EPROTO (bad magic / truncated / lengths disagree / too large), -EPROTONOSUPPORT
 * (wrong version) or -EBADMSG (unknown opcode). `max_opcode` is exclusive. */
int bfs_frame_decode(const void *buf, size_t len, size_t data_len, uint32_t max_opcode,
                     struct bfs_frame *f);

/* The two length fields of a BFS_HDR_LEN-byte header, unchecked: how far a frame reaches on a
 * byte stream (net/local_sock.c), before bfs_frame_decode checks the whole of it. */
void bfs_frame_lengths(const void *hdr, uint32_t *args_len, uint64_t *data_len);

/* Sequential writer into a fixed buffer; a write past `cap` sets err and writes nothing. */
struct bfs_wbuf {
    uint8_t *p;
    size_t len, cap;
    int err;
};
void bfs_wb_init(struct bfs_wbuf *w, void *buf, size_t cap);
void bfs_wb_u8(struct bfs_wbuf *w, uint8_t v);
void bfs_wb_u32(struct bfs_wbuf *w, uint32_t v);
void bfs_wb_u64(struct bfs_wbuf *w, uint64_t v);
void bfs_wb_bytes(struct bfs_wbuf *w, const void *p, size_t n);
/* A string: u16 length then bytes (no NUL). */
void bfs_wb_str(struct bfs_wbuf *w, const char *s);

/* Sequential reader; reading past the end sets err and yields zeros. */
struct bfs_rbuf {
    const uint8_t *p;
    size_t len, off;
    int err;
};
void bfs_rb_init(struct bfs_rbuf *r, const void *buf, size_t len);
uint8_t bfs_rb_u8(struct bfs_rbuf *r);
uint32_t bfs_rb_u32(struct bfs_rbuf *r);
uint64_t bfs_rb_u64(struct bfs_rbuf *r);
void bfs_rb_bytes(struct bfs_rbuf *r, void *out, size_t n);
/* Read a string into out (capacity cap, NUL-terminated). Sets err if it does not fit, is
 * longer than the buffer holds, or contains a NUL byte. Returns its length. */
size_t bfs_rb_str(struct bfs_rbuf *r, char *out, size_t cap);
/* True when every byte was consumed and nothing failed. */
int bfs_rb_done(const struct bfs_rbuf *r);

#endif
