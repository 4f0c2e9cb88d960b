/* SPDX-License-Identifier: BSD-3-Clause */
#include "transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
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
    case UCS_ERR_IO_ERROR: /* what a connection manager reports for a refused connect */
    case UCS_ERR_NOT_CONNECTED:
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
    /* Every UCX peer is on another host or in another network namespace (same-host clients use
     * the local socket, net/local_sock.h), and every endpoint asks for peer-failure reports:
     * leave out the shared-memory transports, which in UCX 1.13 keep per-peer segments and
     * cannot report a dead peer. The user's UCX_TLS, if any, stands. */
    if (!getenv("UCX_TLS"))
        ucp_config_modify(cfg, "TLS", "^sm");
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
    if (t->listener)
        ucp_listener_destroy(t->listener);
    if (t->worker)
        ucp_worker_destroy(t->worker);
    if (t->context)
        ucp_cleanup(t->context);
    memset(t, 0, sizeof *t);
    t->efd = -1;
}

/* "a.b.c.d:port" -> sockaddr; 0 or -EINVAL. */
static int parse_ipv4(const char *text, struct sockaddr_in *sa)
{
    char ip[64];
    const char *colon = strrchr(text, ':');
    if (!colon || (size_t)(colon - text) >= sizeof ip)
        return -EINVAL;
    memcpy(ip, text, (size_t)(colon - text));
    ip[colon - text] = '\0';
    char *end;
    unsigned long port = strtoul(colon + 1, &end, 10);
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (*end || port == 0 || port > 65535 || inet_pton(AF_INET, ip, &sa->sin_addr) != 1)
        return -EINVAL;
    return 0;
}

int bfs_transport_pick_ip(char *out, size_t cap)
{
    /* The first IPv4 address of an interface that is up and not loopback: on a cluster node,
     * its network; in a test namespace, its veth. Loopback only when there is nothing else. */
    struct ifaddrs *ifs;
    snprintf(out, cap, "127.0.0.1");
    if (getifaddrs(&ifs) != 0)
        return -errno;
    for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !(i->ifa_flags & IFF_UP) ||
            (i->ifa_flags & IFF_LOOPBACK))
            continue;
        inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, out, (socklen_t)cap);
        break;
    }
    freeifaddrs(ifs);
    return 0;
}

int bfs_transport_listen(struct bfs_transport *t, const char *ip, ucp_listener_conn_callback_t cb,
                         void *arg, char *listen_out, size_t cap)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY)};
    ucp_listener_params_t lp = {
        .field_mask = UCP_LISTENER_PARAM_FIELD_SOCK_ADDR | UCP_LISTENER_PARAM_FIELD_CONN_HANDLER,
        .sockaddr = {.addr = (const struct sockaddr *)&sa, .addrlen = sizeof sa},
        .conn_handler = {.cb = cb, .arg = arg},
    };
    ucs_status_t st = ucp_listener_create(t->worker, &lp, &t->listener);
    if (st != UCS_OK) {
        LOG_ERR("ucp_listener_create: %s", ucs_status_string(st));
        return -EIO;
    }
    ucp_listener_attr_t la = {.field_mask = UCP_LISTENER_ATTR_FIELD_SOCKADDR};
    st = ucp_listener_query(t->listener, &la);
    if (st != UCS_OK || la.sockaddr.ss_family != AF_INET) {
        LOG_ERR("ucp_listener_query: %s", ucs_status_string(st));
        return -EIO;
    }
    unsigned port = ntohs(((struct sockaddr_in *)&la.sockaddr)->sin_port);
    snprintf(listen_out, cap, "%s:%u", ip, port);
    return 0;
}

int bfs_transport_accept(struct bfs_transport *t, ucp_conn_request_h req,
                         ucp_err_handler_cb_t cb, void *arg, ucp_ep_h *ep)
{
    ucp_ep_params_t p = {
        .field_mask = UCP_EP_PARAM_FIELD_CONN_REQUEST | UCP_EP_PARAM_FIELD_ERR_HANDLING_MODE |
                      UCP_EP_PARAM_FIELD_ERR_HANDLER,
        .conn_request = req,
        .err_mode = UCP_ERR_HANDLING_MODE_PEER,
        .err_handler = {.cb = cb, .arg = arg},
    };
    ucs_status_t st = ucp_ep_create(t->worker, &p, ep);
    if (st != UCS_OK) {
        LOG_WARN("ucp_ep_create (accept): %s", ucs_status_string(st));
        return -bfs_ucs_errno(st);
    }
    return 0;
}

int bfs_transport_connect(struct bfs_transport *t, const char *listen, ucp_err_handler_cb_t cb,
                          void *arg, ucp_ep_h *ep)
{
    struct sockaddr_in sa;
    if (parse_ipv4(listen, &sa) != 0)
        return -EINVAL;
    /* Through UCX's connection manager: the TCP connect runs in the background (a peer that
     * does not answer costs the caller its deadline, not a blocking connect()), and the
     * server accepts with an endpoint of its own, on which it replies. */
    ucp_ep_params_t p = {
        .field_mask = UCP_EP_PARAM_FIELD_FLAGS | UCP_EP_PARAM_FIELD_SOCK_ADDR |
                      UCP_EP_PARAM_FIELD_ERR_HANDLING_MODE | UCP_EP_PARAM_FIELD_ERR_HANDLER,
        .flags = UCP_EP_PARAMS_FLAGS_CLIENT_SERVER,
        .sockaddr = {.addr = (const struct sockaddr *)&sa, .addrlen = sizeof sa},
        .err_mode = UCP_ERR_HANDLING_MODE_PEER,
        .err_handler = {.cb = cb, .arg = arg},
    };
    ucs_status_t st = ucp_ep_create(t->worker, &p, ep);
    if (st != UCS_OK) {
        LOG_WARN("ucp_ep_create %s: %s", listen, ucs_status_string(st));
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
