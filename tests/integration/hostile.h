/* SPDX-License-Identifier: BSD-3-Clause */
/* hostile.h — what the parts of test_hostile share: the table of tracked requests and what
 * each must get back, the frame under construction with its argument writers and request
 * shapes, sending over UCX and the local socket (through raw_peer.c) with the counters each
 * frame must bump, and the attack families, one file each (hostile_targeted.c,
 * hostile_random.c, hostile_local.c, hostile_dying.c). See test_hostile.c for what the test
 * does and why. */
#ifndef BFS_TEST_HOSTILE_H
#define BFS_TEST_HOSTILE_H

#include <stdint.h>

#include "common/proto.h"
#include "common/wire.h"
#include "raw_peer.h"

/* ---- tracking (hostile_common.c) ---- */

#define MAX_REQ (1u << 18)
#define NO_REPLY INT32_MIN

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

extern struct track g_req[MAX_REQ];
extern uint64_t g_next_reqid;
extern unsigned g_stray_replies; /* replies naming a request we never tracked */
extern unsigned g_frames_sent;
extern int g_child; /* running as the dying peer: leave without exit handlers */

extern uint8_t *g_big;         /* BFS_MAX_DATA + 1 bytes, shared by the oversized sends */
extern uint8_t g_mib[1 << 20]; /* 1 MiB payload */
extern uint8_t g_hdr[BFS_HDR_LEN + BFS_MAX_ARGS + 64];

void bail(void);
void rnd_fill(void *buf, size_t n);
/* The raw peer with hostile's reply tracking (ucx: also UCX endpoints); bails on failure. */
void hostile_open(struct rp_peer *r, struct cluster *c, int ucx);
void track(uint64_t reqid, int srv, enum expect e, int want, const char *what);
/* Wait for every tracked reply since first_reqid (bounded), then a short grace period for
 * unwanted ones. */
void drain(struct rp_peer *r, uint64_t first_reqid, int timeout_ms);
/* Check the tracked requests since first_reqid; each wrong one is a failure. */
int verify(uint64_t first_reqid, const char *phase);

/* ---- frames ---- */

/* A frame under construction: header fields plus an args buffer. */
struct frame {
    struct bfs_frame f;
    uint8_t args[BFS_MAX_ARGS + 64];
    size_t args_len;
};

uint64_t frame_init(struct frame *fr, struct rp_peer *r, int op);
/* Encode the frame; args_len/data_len in the header are taken from fr->f unless `fix` is set,
 * in which case they are made truthful first. Returns the header length. */
size_t frame_encode(struct frame *fr, uint8_t *out, size_t dlen, int fix);

void a_u8(struct frame *fr, uint8_t v);
void a_u16(struct frame *fr, uint16_t v);
void a_u32(struct frame *fr, uint32_t v);
void a_u64(struct frame *fr, uint64_t v);
void a_bytes(struct frame *fr, const void *p, size_t n);
void a_strn(struct frame *fr, const char *s, size_t n);
void a_str(struct frame *fr, const char *s);

/* Request shapes (proto.h): a fresh frame with these arguments; more may be appended. */
void lookup_frame(struct frame *fr, struct rp_peer *r, const char *path);
/* MKDIR path, mode 0755, uid 0, gid 0 */
void mkdir_frame(struct frame *fr, struct rp_peer *r, const char *path);
/* CREATE path, mode, uid 0, gid 0, chunk size, flags 0 */
void create_frame(struct frame *fr, struct rp_peer *r, const char *path, uint32_t mode,
                  uint32_t chunk_size);
/* REMOVE path, kind, expected file id 0 */
void remove_frame(struct frame *fr, struct rp_peer *r, const char *path, uint32_t kind);
/* SIZE_UPDATE path, file id, size, how, mtime 0 */
void size_update_frame(struct frame *fr, struct rp_peer *r, const char *path, uint64_t file_id,
                       uint64_t size, uint32_t how);
/* SETATTR path, mask, mode 0, uid 0, gid 0, mtime 1 (the atime is the caller's) */
void setattr_frame(struct frame *fr, struct rp_peer *r, const char *path, uint32_t mask);
/* READDIR / READDIRPLUS / SUBTREE path, max entries (the after-name is the caller's) */
void listing_frame(struct frame *fr, struct rp_peer *r, int op, const char *path, uint32_t max);
/* SYMLINK path, uid, gid 0 (the target is the caller's) */
void symlink_frame(struct frame *fr, struct rp_peer *r, const char *path, uint32_t uid);
/* META_PUT path, the inode, flags 0 (a link's target is the caller's) */
void meta_put_frame(struct frame *fr, struct rp_peer *r, const char *path,
                    const struct bfs_inode *ino);
/* CHUNK_WRITE file id, chunk index, offset, chunk size (the payload goes with the send) */
void chunk_write_frame(struct frame *fr, struct rp_peer *r, uint64_t file_id, uint64_t idx,
                       uint64_t off, uint32_t chunk_size);
/* CHUNK_READ file id, chunk index, offset, length, chunk size */
void chunk_read_frame(struct frame *fr, struct rp_peer *r, uint64_t file_id, uint64_t idx,
                      uint64_t off, uint64_t len, uint32_t chunk_size);

/* ---- UCX ---- */

/* Send one AM to server srv and count what it must bump (see rp_send for the arguments). */
void send_raw(struct rp_peer *r, int srv, const void *hdr, size_t hlen, const void *data,
              size_t dlen, int own_data, int with_reply, uint32_t flags);
/* Send a frame with truthful lengths and track the expected answer. */
void send_frame(struct rp_peer *r, int srv, struct frame *fr, const void *data, size_t dlen,
                int own_data, int with_reply, uint32_t flags, enum expect e, int want,
                const char *what);
/* send_frame without a payload, with a reply flag: the answer must be status `want`. */
void send_expect(struct rp_peer *r, int srv, struct frame *fr, int want, const char *what);
/* Re-encode fr's header (fields changed after frame_encode) into hdr and send hlen bytes of
 * it, with a reply flag; the answer must be status `want`. */
void send_header(struct rp_peer *r, int srv, struct frame *fr, uint8_t *hdr, size_t hlen,
                 int want, const char *what);

/* ---- the local socket ---- */

/* Connect (bails on failure). On a byte stream a frame the server cannot parse ends the
 * connection (it cannot find the next frame): counted once in rejected_frames. */
void lp_open(struct rp_peer *r, int s, struct rp_conn *p);
/* Send a frame with truthful lengths on a local connection and track the expected answer. */
void lp_send_frame(struct rp_peer *r, struct rp_conn *p, struct frame *fr, const void *data,
                   size_t dlen, enum expect e, int want, const char *what);
/* Wait for the replies tracked since first (bounded), then for anything unwanted. */
void lp_drain(struct rp_conn *p, uint64_t first_reqid, int timeout_ms);
/* As lp_drain, without the grace period for unwanted replies. */
void lp_drain_quiet(struct rp_conn *p, uint64_t first_reqid, int timeout_ms);
/* The server must close the connection (within 5 s). */
void lp_expect_close(struct rp_conn *p, const char *what);
/* A fresh connection that must be closed by the server after `bytes` (one breaking frame). */
void lp_breaking(struct rp_peer *r, int s, const void *bytes, size_t n, const char *what);
/* The server is still there and serving local clients: a ping on a new connection. */
void lp_ping(struct rp_peer *r, int s, const char *what);

/* ---- the attack families ---- */

/* hostile_targeted.c: one frame per malformation over UCX, each with the answer it must get */
void targeted(struct rp_peer *r, int s, uint64_t file_id, uint32_t file_chunk);
/* hostile_random.c: random frames, mutated read-only requests, a flood */
void barrage(struct rp_peer *r, int s, int n_garbage, int n_semi, int n_fuzz);
void mutate(struct rp_peer *r, int s, int count, uint64_t file_id, uint32_t file_chunk);
void flood(struct rp_peer *r, int s, int n_key, int n_bad);
/* hostile_local.c: the same kinds of frames on the local socket */
void targeted_local(struct rp_peer *r, int s, uint64_t file_id, uint32_t file_chunk);
/* hostile_dying.c: peers that die with work in flight */
int child_main(const char *registry, int n, uint64_t file_id, uint32_t file_chunk,
               const char *mode);
void dying_peer(struct cluster *c, struct rp_peer *r, uint64_t file_id, uint32_t file_chunk);

#endif
