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
#include "net/transport.h"
#include "stats.h"

struct srv_req;
struct server;

/* A client connection that introduced itself with HELLO: an endpoint the server made itself
 * (with error handling) to the client's worker, used for every reply of that connection.
 * Found by the value of the reply_ep pointer UCX passes with the client's requests (used as
 * a key only, never dereferenced outside the AM callback). Each request on it holds a
 * reference; the endpoint is closed from the main loop once it is unmapped (failed, or its
 * key taken over by a newer HELLO) and no request refers to it any more. */
struct srv_conn {
    struct srv_conn *hnext;            /* hash chain, while mapped */
    struct srv_conn *prev, *next;      /* every live connection */
    struct srv_conn *znext;            /* the to-close list */
    struct server *srv;
    uintptr_t key;                     /* the reply_ep pointer value of the HELLO */
    ucp_ep_h ep;                       /* NULL until the HELLO is handled */
    pid_t pid;                         /* a client on this host: its pid, watched (else 0) */
    int failed;                        /* UCX reported the endpoint dead: drop its replies */
    int mapped;                        /* in the hash table */
    int refs;                          /* requests referring to it */
    int zombie;                        /* on the to-close list */
};
#define SRV_CONN_BUCKETS 256

typedef void (*io_done_fn)(struct srv_req *req, int res);

enum data_kind { DATA_NONE, DATA_UCX, DATA_HEAP, DATA_POOL };

#define REPLY_ARGS_MAX 128

struct srv_req {
    struct srv_req *next;
    struct server *srv;
    struct bfs_frame frame;
    uint8_t *args; /* frame.args_len bytes */
    ucp_ep_h reply_ep;     /* UCX's endpoint: valid only inside the AM callback */
    struct srv_conn *conn; /* the connection's own endpoint (a reference), or NULL */
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
    int ring_efd, sig_fd, epfd;
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
    /* Client connections (loop.c). */
    struct srv_conn *conn_table[SRV_CONN_BUCKETS];
    struct srv_conn *conns;       /* every live connection */
    struct srv_conn *conns_dead;  /* unmapped and unreferenced: to close from the loop */
    int in_am_cb;                 /* inside am_request_cb: the raw reply_ep is valid */
    int conns_closing;            /* shutting down: accept no more requests */
    int conns_gone;               /* shut down: connections no longer exist */
    unsigned nlocal_conns;        /* connections to clients on this host (pid-watched) */
    int64_t next_alive_check_ms;  /* when to look at their pids again */
    char host[64];                /* gethostname(): tells local clients from remote ones */
};

/* loop.c */
int server_loop_run(struct server *s);
int server_ring_init(struct server *s);
void server_block_signals(void);
/* Queue an io_uring op; on completion req->io_done(req, res) runs (req NULL: a hint nobody
 * waits for, its completion ignored). NULL if the SQ is full. */
struct io_uring_sqe *server_sqe(struct server *s, struct srv_req *req);
/* Send the reply (status: 0 or positive errno) and free the request when it is out. */
void server_reply(struct srv_req *req, int status, const void *args, size_t args_len,
                  void *data, size_t data_len);
/* Finish a request that gets no reply (a hint): counted in the stats, then freed. Replies
 * nobody waits for would pile up in a client that does not poll, and stall the server. */
void server_done_silently(struct srv_req *req, int status);
/* HELLO: connect the request's connection to the worker address in its payload, and reply. */
void server_hello(struct srv_req *req);
/* Close every client connection (shutdown, before the worker goes). */
void server_conns_close(struct server *s);

/* handlers.c */
void handle_request(struct srv_req *req);
uint64_t server_new_fileid(struct server *s);

#endif
