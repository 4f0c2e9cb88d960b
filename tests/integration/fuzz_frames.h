/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_frames.h — what the parts of the frame fuzzer (test_fuzz_frames.c) share: the frame
 * under construction with its recorded fields (fuzz_build.c builds valid requests and mutates
 * them), and the normal client's checks and the snapshot of the cluster's files
 * (fuzz_client.c). Split by concept so that each file stays readable; see
 * test_fuzz_frames.c for what the test does and why. */
#ifndef BFS_TEST_FUZZ_FRAMES_H
#define BFS_TEST_FUZZ_FRAMES_H

#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "common/wire.h"
#include "raw_peer.h"

extern uint64_t g_next_reqid; /* the next request id; every frame gets its own */

/* ---- frames (fuzz_build.c) ---- */

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

extern uint8_t *g_payload; /* BFS_MAX_DATA + 1 bytes of pattern */
extern uint8_t g_enc[BFS_HDR_LEN + BFS_MAX_ARGS + 8192];
/* State of the namespace the fuzzer aims at (filled in by the setup). */
extern uint64_t g_fileids[8];
extern uint32_t g_chunks[8];
extern int g_nfiles;
extern uint32_t g_uid, g_gid;
extern unsigned long g_mutated;

/* true with pct percent probability */
int chance(unsigned pct);
/* Pick an op: every one, HELLO included, data ops a little more often. */
int pick_op(void);
/* Build a valid request for op. */
void build(struct gframe *g, struct rp_peer *p, int op);
/* 1 to 3 mutations. */
void mutate(struct gframe *g, struct rp_peer *p, int transport);
/* Encode into g_enc; returns the header length. The header's lengths are truthful unless
 * g->lie says how to make them lie. */
size_t encode(struct gframe *g);

/* ---- the normal client and the files (fuzz_client.c) ---- */

extern char *g_check_buf, *g_back;
extern unsigned long g_entries_seen, g_entries_err, g_files_read;
/* The servers serve a normal client: a new file written, read back and stat'ed; then every
 * entry the fuzzer may have left is listed, stat'ed and read (errors allowed, crashes not). */
void client_step(benchfs_t *fs, int step);

struct snap_ent {
    char path[512];
    mode_t mode;
    off_t size;
    struct timespec mtime;
};
extern struct snap_ent *g_snap;
extern size_t g_nsnap;
extern int g_snap_bad; /* data-dir walk: entries that should not be there */
/* Everything under the cluster's root outside the data directories, into g_snap. */
void snapshot(const struct cluster *c);
/* record: note each data directory's top-level entries; else check that only chunk files
 * were added (each one that is not counts in g_snap_bad). */
void walk_data(const struct cluster *c, int record);

#endif
