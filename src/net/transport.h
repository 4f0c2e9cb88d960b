/* SPDX-License-Identifier: BSD-3-Clause */
/* transport.h — the UCX worker shared by server and client: one context, one worker, Active
 * Messages, and a wake-up file descriptor so nobody spins while waiting. UCX carries traffic
 * between hosts (network namespaces); a server's clients on its own host use its local
 * socket instead (local_sock.h). */
#ifndef BFS_TRANSPORT_H
#define BFS_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <ucp/api/ucp.h>

struct bfs_transport {
    ucp_context_h context;
    ucp_worker_h worker;
    ucp_listener_h listener; /* servers */
    int efd; /* becomes readable when the worker has work; see bfs_transport_wait */
};

int bfs_transport_init(struct bfs_transport *t);
void bfs_transport_fini(struct bfs_transport *t);
/* A usable IPv4 address of this host for others to reach us at (first non-loopback
 * interface that is up; 127.0.0.1 if none). */
int bfs_transport_pick_ip(char *out, size_t cap);
/* Server: listen on every interface, on a port the kernel picks; `cb` gets each connection
 * request (accept it with bfs_transport_accept). Writes "ip:port" (ip as given) to out. */
int bfs_transport_listen(struct bfs_transport *t, const char *ip, ucp_listener_conn_callback_t cb,
                         void *arg, char *listen_out, size_t cap);
int bfs_transport_accept(struct bfs_transport *t, ucp_conn_request_h req,
                         ucp_err_handler_cb_t cb, void *arg, ucp_ep_h *ep);
/* Client: connect to a server's listener ("ip:port"), never blocking; UCX reports the peer's
 * failure (or an unreachable one) to `cb(arg, ep, status)`. */
int bfs_transport_connect(struct bfs_transport *t, const char *listen, ucp_err_handler_cb_t cb,
                          void *arg, ucp_ep_h *ep);
/* Is the process `pid` on this host gone? (kill(pid, 0) says ESRCH.) */
int bfs_process_gone(pid_t pid);
/* Close an endpoint, flushing it (or cancelling everything with `force`), bounded by 2 s. */
void bfs_transport_close_ep(struct bfs_transport *t, ucp_ep_h ep, int force);
/* Progress until idle, then sleep on the wake-up fd for at most timeout_ms (-1: forever).
 * Returns after an event, progress, or the timeout. */
void bfs_transport_wait(struct bfs_transport *t, int timeout_ms);
/* Map a UCS status to an errno value. */
int bfs_ucs_errno(ucs_status_t st);

#endif
