#include "transport.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "../common/util.h"

int bfs_ucs_errno(ucs_status_t st)
{
    switch (st) {
    case UCS_OK: return 0;
    case UCS_ERR_NO_MEMORY: return ENOMEM;
    case UCS_ERR_TIMED_OUT: return ETIMEDOUT;
    case UCS_ERR_CANCELED: return ECANCELED;
    case UCS_ERR_UNREACHABLE:
    case UCS_ERR_ENDPOINT_TIMEOUT:
    case UCS_ERR_CONNECTION_RESET:
    case UCS_ERR_REJECTED: return EHOSTDOWN;
    case UCS_ERR_MESSAGE_TRUNCATED: return EMSGSIZE;
    default: return EIO;
    }
}

int bfs_transport_init(struct bfs_transport *t)
{
    memset(t, 0, sizeof *t);
    t->efd = -1;
    ucp_config_t *cfg;
    ucs_status_t st = ucp_config_read(NULL, NULL, &cfg);
    if (st != UCS_OK) {
        LOG_ERR("ucp_config_read: %s", ucs_status_string(st));
        return -EIO;
    }
    ucp_params_t params = {
        .field_mask = UCP_PARAM_FIELD_FEATURES,
        .features = UCP_FEATURE_AM | UCP_FEATURE_WAKEUP,
    };
    st = ucp_init(&params, cfg, &t->context);
    ucp_config_release(cfg);
    if (st != UCS_OK) {
        LOG_ERR("ucp_init: %s", ucs_status_string(st));
        return -EIO;
    }
    /* Single-threaded worker: the server has one loop, the client serialises on a mutex. */
    ucp_worker_params_t wp = {
        .field_mask = UCP_WORKER_PARAM_FIELD_THREAD_MODE,
        .thread_mode = UCS_THREAD_MODE_SINGLE,
    };
    st = ucp_worker_create(t->context, &wp, &t->worker);
    if (st != UCS_OK) {
        LOG_ERR("ucp_worker_create: %s", ucs_status_string(st));
        ucp_cleanup(t->context);
        return -EIO;
    }
    st = ucp_worker_get_efd(t->worker, &t->efd);
    if (st != UCS_OK) {
        LOG_ERR("ucp_worker_get_efd: %s", ucs_status_string(st));
        bfs_transport_fini(t);
        return -EIO;
    }
    return 0;
}

void bfs_transport_fini(struct bfs_transport *t)
{
    if (t->worker)
        ucp_worker_destroy(t->worker);
    if (t->context)
        ucp_cleanup(t->context);
    memset(t, 0, sizeof *t);
    t->efd = -1;
}

int bfs_transport_address(struct bfs_transport *t, uint8_t **addr, size_t *len)
{
    ucp_address_t *a;
    size_t n;
    ucs_status_t st = ucp_worker_get_address(t->worker, &a, &n);
    if (st != UCS_OK)
        return -EIO;
    *addr = malloc(n);
    if (!*addr) {
        ucp_worker_release_address(t->worker, a);
        return -ENOMEM;
    }
    memcpy(*addr, a, n);
    *len = n;
    ucp_worker_release_address(t->worker, a);
    return 0;
}

int bfs_transport_connect(struct bfs_transport *t, const uint8_t *addr, size_t len,
                          int peer_failures, ucp_err_handler_cb_t cb, void *arg, ucp_ep_h *ep)
{
    (void)len;
    ucp_ep_params_t ep_params = {
        .field_mask = UCP_EP_PARAM_FIELD_REMOTE_ADDRESS | UCP_EP_PARAM_FIELD_ERR_HANDLING_MODE,
        .address = (const ucp_address_t *)addr,
        /* PEER mode lets UCX tell us a peer died instead of leaving requests hanging, but UCX
         * 1.13 then refuses its shared-memory transports (no peer-failure support in
         * sysv/posix/cma) and runs even same-host traffic over TCP loopback. NONE keeps
         * shared memory and CMA; the caller then watches the peer's pid itself. */
        .err_mode = peer_failures ? UCP_ERR_HANDLING_MODE_PEER : UCP_ERR_HANDLING_MODE_NONE,
    };
    if (peer_failures) {
        ep_params.field_mask |= UCP_EP_PARAM_FIELD_ERR_HANDLER;
        ep_params.err_handler = (ucp_err_handler_t){.cb = cb, .arg = arg};
    }
    ucs_status_t st = ucp_ep_create(t->worker, &ep_params, ep);
    if (st != UCS_OK) {
        LOG_WARN("ucp_ep_create: %s", ucs_status_string(st));
        return -bfs_ucs_errno(st);
    }
    return 0;
}

int bfs_process_gone(pid_t pid)
{
    return pid > 0 && kill(pid, 0) != 0 && errno == ESRCH;
}

void bfs_transport_close_ep(struct bfs_transport *t, ucp_ep_h ep, int force)
{
    ucp_request_param_t p = {
        .op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS,
        .flags = force ? UCP_EP_CLOSE_FLAG_FORCE : 0,
    };
    void *req = ucp_ep_close_nbx(ep, &p);
    if (req == NULL || UCS_PTR_IS_ERR(req))
        return;
    int64_t deadline = bfs_mono_ms() + 2000;
    while (ucp_request_check_status(req) == UCS_INPROGRESS && bfs_mono_ms() < deadline)
        bfs_transport_wait(t, 10);
    if (ucp_request_check_status(req) == UCS_INPROGRESS) {
        /* A graceful close that cannot finish (peer gone): fall back to a forced one. */
        ucp_request_cancel(t->worker, req);
        if (!force) {
            ucp_request_free(req);
            bfs_transport_close_ep(t, ep, 1);
            return;
        }
    }
    ucp_request_free(req);
}

void bfs_transport_wait(struct bfs_transport *t, int timeout_ms)
{
    if (ucp_worker_progress(t->worker))
        return;
    ucs_status_t st = ucp_worker_arm(t->worker);
    if (st == UCS_ERR_BUSY)
        return; /* events arrived meanwhile: the caller progresses again */
    struct pollfd pfd = {.fd = t->efd, .events = POLLIN};
    poll(&pfd, 1, timeout_ms);
}
