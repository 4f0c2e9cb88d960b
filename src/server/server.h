/* SPDX-License-Identifier: BSD-3-Clause */
/* server.h — the state of one benchfsd and of each request it serves.
 *
 * One thread runs everything (loop.c): UCX delivers requests through Active-Message callbacks,
 * which only queue them; the loop then runs each handler (handlers.c). Handlers answer at once
 * (metadata: LMDB is a memory map) or start io_uring operations and answer from the completion,
 * so many chunk requests are in flight while the loop keeps serving. */
#ifndef BFS_SERVER_H
#define BFS_SERVER_H

#include <liburing.h>
#include <stdint.h>

#include "buf_pool.h"
#include "chunk_store.h"
#include "common/chunk_layout.h"
#include "common/proto.h"
#include "config.h"
#include "meta_store.h"
#include "common/log.h"
#include "net/local_sock.h"
#include "net/transport.h"
#include "stats.h"

struct srv_req;
struct server;

/* What an epoll event points at: one of the loop's own descriptors, or a local connection. */
enum poll_kind { POLL_UCX, POLL_RING, POLL_SIGNAL, POLL_LISTEN_LOCAL, POLL_CONN };
struct srv_poll {
    enum poll_kind kind;
    struct srv_conn *conn; /* POLL_CONN */
};

enum conn_kind { CONN_UCX, CONN_LOCAL };

/* A client connection (conns.c): a UCX endpoint the server created from a connection request
 * on its listener (found by that pointer's value, which UCX passes as the reply endpoint of
 * each request), or a local socket. Each request on it holds a reference; a failed one drops
 * its replies and is freed from the main loop once no request refers to it. */
struct srv_conn {
    struct srv_poll poll;
    struct srv_conn *hnext;       /* hash chain (UCX), while mapped */
    struct srv_conn *prev, *next; /* every live connection */
    struct srv_conn *znext;       /* the to-close list */
    struct server *srv;
    enum conn_kind kind;
    uintptr_t key;                /* UCX: our endpoint's pointer value */
    ucp_ep_h ep;                  /* UCX */
    int fd;                       /* local socket, -1 once closed */
    pid_t pid;                    /* local: the peer's credentials (SO_PEERCRED), for logs */
    uid_t uid;
    struct bfs_lsock_in in;       /* local: frames arriving */
    struct bfs_lsock_out out;     /* local: replies leaving */
    uint32_t events;              /* local: what epoll watches for */
    int reading;                  /* local: inside bfs_lsock_read (do not close or flush) */
    int fail_after_read;          /* local: failed while reading */
    int reread_queued;            /* local: on the server's reread list */
    int staged_more;              /* local: the last read stopped at its cap: frames may wait */
    struct srv_conn *rnext;       /* that list */
    int failed;                   /* the client is gone: drop its replies */
    int mapped;                   /* in the hash table */
    int refs;                     /* requests referring to it, and the loop while it works on it */
    int nreqs;                    /* requests referring to it: what the in-flight limit counts */
    int zombie;                   /* on the to-close list */
};
#define SRV_CONN_BUCKETS 256

struct pending_conn {
    struct pending_conn *next;
    ucp_conn_request_h req;
};

typedef void (*io_done_fn)(struct srv_req *req, int res);

enum data_kind { DATA_NONE, DATA_UCX, DATA_HEAP, DATA_POOL };

#define REPLY_ARGS_MAX 128

struct srv_req {
    struct srv_req *next;
    struct server *srv;
    struct bfs_frame frame;
    uint8_t *args; /* frame.args_len bytes */
    ucp_ep_h reply_ep;     /* UCX's endpoint: valid only inside the AM callback */
    struct srv_conn *conn; /* the connection it came on (a reference), or NULL: a frame
                            * refused inside the AM callback, answered on reply_ep */
    int64_t t0;

    /* Request payload: retained UCX data, or our own buffer (copied eager / rendezvous). */
    void *data;
    size_t data_len, data_cap; /* data_cap: the pool buffer's capacity (DATA_POOL) */
    enum data_kind data_kind;
    int recv_status; /* errno if the rendezvous receive failed */

    /* I/O in progress. */
    io_done_fn io_done;
    struct chunk_file *cf;
    struct chunk_file **cfs; /* fsync: every chunk of a file */
    size_t ncfs;
    int dirfd;
    char *io_buf;
    size_t io_buf_cap; /* non-zero: io_buf is from the buffer pool */
    uint64_t io_off;
    size_t io_len, io_done_bytes;
    int pending, first_err;

    /* Reply. */
    uint8_t reply_hdr[BFS_HDR_LEN + REPLY_ARGS_MAX];
    void *reply_data;
    size_t reply_data_len;
    uint64_t bytes_in, bytes_out;
};

struct server {
    struct bfs_server_config cfg;
    struct bfs_transport tp;
    struct io_uring ring;
    int ring_efd, sig_fd, epfd, epfd_top; /* loop.c: setup_epoll says why two */
    struct meta_store *meta;
    struct chunk_store *chunks;
    struct server_stats stats;
    struct buf_pool bufs; /* chunk payload buffers, reused (buf_pool.h says why) */
    uint8_t key[BFS_KEY_LEN];
    struct srv_req *ready_head, *ready_tail;
    unsigned sqes_unsubmitted, io_inflight;
    uint64_t reqs_live; /* requests allocated and not yet freed */
    int stopping;
    uint64_t rng; /* file id generator state */
    /* For same-host clients that read chunk files themselves (client/local_read.c): the data
     * directory as an absolute path, and this run's nonce, also in <data>/instance. */
    char data_abs[4096];
    uint8_t instance[BFS_INSTANCE_LEN];
    /* Client connections (conns.c). */
    struct srv_conn *conn_table[SRV_CONN_BUCKETS];
    struct srv_conn *conns;       /* every live connection */
    struct srv_conn *conns_dead;  /* failed and unreferenced: to close from the loop */
    unsigned nconns;
    struct pending_conn *pending_conns; /* UCX connection requests not yet accepted */
    unsigned npending_conns;
    int lsock_fd;                 /* the local socket clients on this host connect to */
    struct srv_poll lsock_poll;   /* its epoll tag */
    int64_t lsock_paused_until;   /* not watched until then (out of descriptors), or 0 */
    struct srv_conn *conns_reread; /* local connections with frames staged: read them again */
    char lsock_name[BFS_LSOCK_NAME_MAX];
    int in_am_cb;                 /* inside am_request_cb: the raw reply_ep is valid */
    int conns_closing;            /* shutting down: accept no more requests */
    int conns_gone;               /* shut down: connections no longer exist */
    struct bfs_log_limit reject_log; /* rejected frames: logged at a bounded rate */
};

/* loop.c */
int server_loop_run(struct server *s);
int server_ring_init(struct server *s);
void server_block_signals(void);
/* Queue an io_uring op; on completion req->io_done(req, res) runs (req NULL: a hint nobody
 * waits for, its completion ignored). NULL if the SQ is full. */
struct io_uring_sqe *server_sqe(struct server *s, struct srv_req *req);
/* Add, change or remove fd in both epoll sets (loop.c, setup_epoll says why two). */
int server_watch(struct server *s, int op, int fd, uint32_t events, struct srv_poll *tag);
/* Send the reply (status: 0 or positive errno) and free the request when it is out. */
void server_reply(struct srv_req *req, int status, const void *args, size_t args_len,
                  void *data, size_t data_len);
/* Finish a request that gets no reply (a hint): counted in the stats, then freed. Replies
 * nobody waits for would pile up in a client that does not poll, and stall the server. */
void server_done_silently(struct srv_req *req, int status);
/* A request frame that arrived on connection c: checks the cluster key (a wrong one is
 * answered EACCES and counted), then a new request holding a reference to c, with a copy of
 * the arguments; its payload is the caller's to attach. NULL if refused. */
struct srv_req *server_req_new(struct server *s, struct srv_conn *c, const struct bfs_frame *f,
                               const uint8_t *args);
void server_req_free(struct srv_req *req);
/* Queue a request whose payload is in place for its handler. */
void server_enqueue(struct srv_req *req);

/* find.c: the FIND RPC (handlers.c dispatches it). */
void op_find(struct srv_req *req, struct bfs_rbuf *r);

/* conns.c */
struct srv_conn *conn_lookup(struct server *s, ucp_ep_h ep);
void conn_fail(struct srv_conn *c);
void conn_put(struct srv_conn *c);
/* The listener's connection-request callback, and the loop's step that accepts them. */
void conns_listener_cb(ucp_conn_request_h req, void *arg);
int conns_accept_pending(struct server *s);
/* Accept waiting local-socket clients. */
int conns_accept_local(struct server *s);
/* The local listener, out of descriptors: not watched for a while (resume: when the time has
 * come, or at once with force; returns 1 if it resumed). */
void conns_listen_pause(struct server *s);
int conns_listen_resume(struct server *s, int force);
/* Read the connections that have complete frames staged; how many. */
int conns_reread(struct server *s);
/* epoll reported `events` on a local connection. */
void conn_local_ready(struct srv_conn *c, uint32_t events);
/* Queue a reply (req->reply_hdr, hlen bytes, then the payload) on a local connection; the
 * request is freed once written or dropped. 0 or -ENOMEM. */
int conn_local_send(struct srv_conn *c, struct srv_req *req, size_t hlen, const void *data,
                    size_t data_len);
/* Close and free the failed, unreferenced connections; how many. */
int conns_reap(struct server *s);
/* Close every client connection (shutdown, before the worker goes). */
void server_conns_close(struct server *s);

/* handlers.c */
void handle_request(struct srv_req *req);
uint64_t server_new_fileid(struct server *s);
/* Read a path argument and insist it is already normalised: the client placed the request by
 * hashing exactly this string, so any other spelling would be a different file. 0 or -errno. */
int handler_get_path(struct bfs_rbuf *r, char *path);
/* Answer with a status and nothing else. */
void handler_reply_empty(struct srv_req *req, int err);

/* handlers_chunk.c: the chunk RPCs */
void op_chunk_write(struct srv_req *req, struct bfs_rbuf *r);
void op_chunk_reserve(struct srv_req *req, struct bfs_rbuf *r);
void op_chunk_release(struct srv_req *req, struct bfs_rbuf *r);
void op_chunk_read(struct srv_req *req, struct bfs_rbuf *r);
void op_chunk_prefetch(struct srv_req *req, struct bfs_rbuf *r);
void op_chunk_dir(struct srv_req *req, struct bfs_rbuf *r);
void op_fsync(struct srv_req *req, struct bfs_rbuf *r);
void op_chunk_truncate(struct srv_req *req, struct bfs_rbuf *r);
void op_chunk_remove(struct srv_req *req, struct bfs_rbuf *r);

/* handlers_inline.c: small files kept in the metadata record */
void op_lookup_data(struct srv_req *req, struct bfs_rbuf *r);
void op_inline_write(struct srv_req *req, struct bfs_rbuf *r);
void op_move(struct srv_req *req, struct bfs_rbuf *r, int begin); /* MOVE_BEGIN / MOVE_END */

#endif
