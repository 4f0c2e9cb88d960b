/* SPDX-License-Identifier: BSD-3-Clause */
/* raw_peer.h — a raw BenchFS peer for the tests that attack real servers (test_hostile,
 * test_fuzz_frames). It works below the client library so that it can send what no client
 * would: a UCX worker connected to every server's listener (as a client on another host)
 * that sends any AM header and payload, and connections to every server's abstract local
 * socket that write any bytes while reading the replies. Replies that decode go to the test's
 * callback; malformed ones are counted. Every wait is bounded. Also here: the server-side
 * admission rule both tests mirror to predict the rejected_frames / rejected_key counters,
 * and the checks both make at the end (servers alive, those counters, the server log). */
#ifndef BFS_TEST_RAW_PEER_H
#define BFS_TEST_RAW_PEER_H

#include <stddef.h>
#include <stdint.h>

#include "cluster.h"
#include "common/wire.h"
#include "net/local_sock.h"
#include "net/transport.h"

enum { RP_UCX = 0, RP_LOCAL = 1 };

/* A reply that decoded, from either transport. */
typedef void (*rp_reply_fn)(void *arg, int transport, const struct bfs_frame *f);

struct rp_peer;
struct rp_ep {
    struct rp_peer *peer;
    int srv;
    int failed; /* UCX reported the endpoint broken */
    ucp_ep_h ep;
};

struct rp_peer {
    const char *name; /* the prefix of its messages ("hostile", "fuzz") */
    struct bfs_transport tp;
    int n;
    struct rp_ep ucx[CLUSTER_MAX]; /* .ep NULL: not connected over UCX */
    char local[CLUSTER_MAX][108];  /* each server's local socket name */
    uint8_t key[BFS_KEY_LEN];
    size_t max_am_header;
    rp_reply_fn on_reply;
    void *arg;
    unsigned long inflight;    /* UCX sends not completed yet */
    unsigned long bad_replies; /* replies that are not well-formed BenchFS frames */
    unsigned long send_errors; /* ucp_am_send_nbx failed locally (not the server's fault) */
    /* What each server's counters must show for the frames sent so far. */
    uint64_t exp_frames[CLUSTER_MAX]; /* rejected_frames */
    uint64_t exp_key[CLUSTER_MAX];    /* rejected_key */
};

/* A valid header for op from this peer: magic, version, the cluster key; lengths 0. */
void rp_header(const struct rp_peer *p, struct bfs_frame *f, int op, uint64_t reqid);

/* Set up the worker, read the cluster key and every server's addresses; ucx: also connect
 * to every server's listener. Returns 0, or -1 after saying why on stderr. */
int rp_open(struct rp_peer *p, const struct cluster *c, int ucx, const char *name,
            rp_reply_fn on_reply, void *arg);
void rp_close(struct rp_peer *p);
/* Wait up to timeout_ms for UCX events, then progress the worker until it is idle. */
void rp_progress(struct rp_peer *p, int timeout_ms);
/* Send one AM to server s (at most 64 in flight; waits up to 10 s for room). hdr is copied;
 * data is used in place until the send completes (own_data: malloc'd, freed then). flags:
 * extra UCP_AM_SEND_FLAG_EAGER / _RNDV. Returns 0, or -1 when UCX refused it locally
 * (counted in send_errors). */
int rp_send(struct rp_peer *p, int s, const void *hdr, size_t hlen, const void *data,
            size_t dlen, int own_data, int with_reply, uint32_t flags);

/* The server's admission of a frame (loop.c, conns.c, local_sock.c and the payload check in
 * handle_request): which counter it bumps. A header that does not decode, or (UCX) a frame
 * without a reply endpoint: rejected_frames; a wrong key: rejected_key; then a payload on an
 * op that takes none: rejected_frames. Counts into p->exp_*; *f gets the decoded header. */
enum rp_verdict { RP_DROPPED, RP_WRONG_KEY, RP_REFUSED_PAYLOAD, RP_ADMITTED };
int rp_payload_refused(const struct bfs_frame *f, size_t dlen);
enum rp_verdict rp_account(struct rp_peer *p, int s, const void *hdr, size_t hlen, size_t dlen,
                           int with_reply, struct bfs_frame *f);

/* A connection to a server's local socket. */
struct rp_conn {
    struct rp_peer *peer;
    int fd;
    int srv;
    int closed; /* the server closed it (end of file, reset, or it stopped reading) */
    struct bfs_lsock_in in;
};

/* Connect to server s (retrying for about a second while the server's backlog is full).
 * Returns 0, or -errno with the connection marked closed. */
int rp_conn_open(struct rp_peer *p, int s, struct rp_conn *l);
/* Read what replies there are, waiting up to timeout_ms for the first. */
void rp_conn_pump(struct rp_conn *l, int timeout_ms);
/* Write all of buf, reading replies meanwhile (a server whose replies are not read stops
 * reading us); a server that reads nothing for 20 s is a failure. Returns 0, or -1 once the
 * connection is closed. */
int rp_conn_write(struct rp_conn *l, const void *buf, size_t n);
/* Wait up to timeout_ms for the server to close the connection; returns whether it did. */
int rp_conn_wait_close(struct rp_conn *l, int timeout_ms);
void rp_conn_close(struct rp_conn *l);

/* The seeded generator both tests use (xorshift64: a seed replays a run). */
extern uint64_t rp_rng;
uint64_t rp_rnd(void);
uint64_t rp_rnd_below(uint64_t n);

/* Start n servers with their stderr appended to a new log file (its path into logpath,
 * "<TMPDIR>/benchfs-<name>-log-XXXXXX"); returns 0 or -1. */
int rp_cluster_start_logged(struct cluster *c, int n, const char *name, char *logpath,
                            size_t len);
/* Every server still running (not merely unreaped); each one that is not is a failure. */
int rp_all_alive(const char *name, const struct cluster *c);
/* Wait (up to 5 s) until every server's rejected_frames / rejected_key equal p->exp_*, print
 * them and check them; must_reject: both must also be non-zero. */
void rp_check_counters(struct rp_peer *p, benchfs_t *fs, int must_reject);
/* A file's contents (malloc'd, NUL-terminated), or NULL. */
char *rp_slurp(const char *path);
/* How often needle occurs in hay. */
int rp_count(const char *hay, const char *needle);

#endif
