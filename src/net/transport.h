/* transport.h — the UCX worker shared by server and client: one context, one worker, Active
 * Messages, and a wake-up file descriptor so nobody spins while waiting. */
#ifndef BFS_TRANSPORT_H
#define BFS_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <ucp/api/ucp.h>

struct bfs_transport {
    ucp_context_h context;
    ucp_worker_h worker;
    int efd; /* becomes readable when the worker has work; see bfs_transport_wait */
};

int bfs_transport_init(struct bfs_transport *t);
void bfs_transport_fini(struct bfs_transport *t);
/* The worker address in a malloc'd buffer, for the registry. */
int bfs_transport_address(struct bfs_transport *t, uint8_t **addr, size_t *len);
/* Connect to a peer worker. With peer_failures, UCX watches the peer and reports its failure
 * to `cb(arg, ep, status)` (network transports only); without, the endpoint may use shared
 * memory and CMA, and the caller must detect a dead peer itself (same host: its pid). */
int bfs_transport_connect(struct bfs_transport *t, const uint8_t *addr, size_t len,
                          int peer_failures, ucp_err_handler_cb_t cb, void *arg, ucp_ep_h *ep);
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
