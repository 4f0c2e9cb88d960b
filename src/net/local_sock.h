/* SPDX-License-Identifier: BSD-3-Clause */
/* local_sock.h — a server and the clients on its own host: an abstract AF_UNIX stream socket.
 *
 * Why not UCX here: UCX 1.13's shared-memory transports cannot report a dead peer, keep
 * per-peer System V segments and mappings in a long-lived server, and abort the whole server
 * when a peer dies in the middle of a CMA transfer. A socket has none of this: the kernel
 * reports a peer's death as end of file at once, frees everything with the descriptor,
 * and tells who is at the other end (SO_PEERCRED). An abstract name lives in the network
 * namespace, so only processes that share the server's (its host, as far as addresses go)
 * reach it; clients elsewhere use UCX. Bulk data of same-host clients does not come this way
 * by default: they read and write the server's chunk files themselves (client/local_read.c).
 *
 * Frames are the same as over UCX (wire.h): header, arguments, payload, back to back. Both
 * directions are non-blocking; writes queue and drain as the socket takes them, reads
 * assemble frames in a staging buffer and put payloads where the receiver says, so a read
 * reply lands in the caller's buffer without another copy. */
#ifndef BFS_LOCAL_SOCK_H
#define BFS_LOCAL_SOCK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/wire.h"

#define BFS_LSOCK_NAME_MAX 100

/* Server: a fresh abstract name (written to name, without the leading NUL) and a listening,
 * non-blocking socket on it; -errno. */
int bfs_lsock_listen(char name[BFS_LSOCK_NAME_MAX]);
/* A connection waiting on lfd (non-blocking, close-on-exec), with the peer's credentials;
 * -EAGAIN when none waits. */
int bfs_lsock_accept(int lfd, pid_t *pid, uid_t *uid);
/* Client: connect to the abstract name; a non-blocking connected socket or -errno
 * (-ECONNREFUSED: no such server in this network namespace; -EAGAIN: its backlog is full). */
int bfs_lsock_connect(const char *name);

/* ---- outgoing frames ---- */

/* done(arg, err) runs once the frame is written (err 0) or dropped (the connection failed). */
typedef void (*bfs_lsock_done_fn)(void *arg, int err);

struct bfs_lsock_msg {
    struct bfs_lsock_msg *next;
    const uint8_t *data; /* payload, the sender's: valid until done runs */
    size_t data_len;
    size_t off; /* bytes of header + payload written */
    bfs_lsock_done_fn done;
    void *arg;
    uint8_t *owned; /* a copy of the payload made by bfs_lsock_forget, freed with the frame */
    size_t hlen;
    uint8_t hdr[]; /* header and arguments (copied) */
};

struct bfs_lsock_out {
    struct bfs_lsock_msg *head, *tail;
    size_t bytes; /* queued and not yet written */
};

/* Queue a frame (hdr: encoded header + arguments, copied). 0 or -ENOMEM. */
int bfs_lsock_queue(struct bfs_lsock_out *q, const void *hdr, size_t hlen, const void *data,
                    size_t data_len, bfs_lsock_done_fn done, void *arg);
/* Write what the socket takes: 0 when the queue is empty, 1 while frames remain, -errno when
 * the connection is broken (the caller then fails the queue). */
int bfs_lsock_flush(int fd, struct bfs_lsock_out *q);
/* A sender gives up on the frames it queued with `arg` (a call past its deadline, whose
 * payload buffer is about to go back to its owner): frames not begun are dropped; one partly
 * written keeps the rest of its payload in a copy of its own, so the stream stays whole.
 * 0, or -ENOMEM (the caller must then close the connection). done is not called. */
int bfs_lsock_forget(struct bfs_lsock_out *q, const void *arg);
/* Drop every queued frame, calling done(arg, err). */
void bfs_lsock_fail(struct bfs_lsock_out *q, int err);

/* ---- incoming frames ---- */

struct bfs_lsock_in {
    uint8_t *buf; /* staging: BFS_LSOCK_STAGING bytes, malloc'd on first use */
    size_t start, end;
    int in_frame; /* header and arguments taken; payload being received */
    struct bfs_frame f;
    uint8_t *args;  /* f.args_len bytes, kept until the frame ends */
    uint8_t *dst;   /* where the payload goes (NULL: discarded) */
    size_t got;
    void *cookie;   /* the receiver's, from begin() to end() */
};
#define BFS_LSOCK_STAGING (64u * 1024)

struct bfs_lsock_handler {
    /* A frame's header and arguments arrived (already checked by bfs_frame_decode). Return
     * where its f->data_len payload bytes go (NULL: discard them); *cookie is handed to end.
     * A negative *err ends the connection. */
    void *(*begin)(void *arg, const struct bfs_frame *f, const uint8_t *args, void **cookie,
                   int *err);
    /* The payload is in place. Takes ownership of nothing: args is freed after it returns. */
    void (*end)(void *arg, const struct bfs_frame *f, const uint8_t *args, void *cookie);
};

/* Read and dispatch at most max_frames frames. Returns how many ended (0: nothing to read
 * now), or -errno: end of file (-ECONNRESET), an error, or a frame that breaks the protocol
 * (-EPROTO: a byte stream cannot be resynchronised; the caller closes). */
int bfs_lsock_read(int fd, struct bfs_lsock_in *in, uint32_t max_opcode, int max_frames,
                   const struct bfs_lsock_handler *h, void *arg);
/* Free what a connection's reader holds (a frame in progress is abandoned: its cookie is the
 * caller's to release). */
void bfs_lsock_in_free(struct bfs_lsock_in *in);

#endif
