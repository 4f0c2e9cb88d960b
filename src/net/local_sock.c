/* SPDX-License-Identifier: BSD-3-Clause */
#include "local_sock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/util.h"

/* Bigger than the default (~200 KiB) so a 1 MiB payload crosses in a few wake-ups. */
#define SOCK_BUF_BYTES (2 << 20)

static socklen_t abstract_addr(const char *name, struct sockaddr_un *sa)
{
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    size_t n = strnlen(name, BFS_LSOCK_NAME_MAX - 1);
    memcpy(sa->sun_path + 1, name, n); /* sun_path[0] = '\0': the abstract namespace */
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

static void tune(int fd)
{
    int sz = SOCK_BUF_BYTES;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
}

int bfs_lsock_listen(char name[BFS_LSOCK_NAME_MAX])
{
    uint8_t nonce[8];
    if (getrandom(nonce, sizeof nonce, 0) != (ssize_t)sizeof nonce)
        return -EIO;
    char hex[2 * sizeof nonce + 1];
    bfs_hex_encode(nonce, sizeof nonce, hex);
    /* Random, so a stale registry entry can never lead a client to another server. */
    snprintf(name, BFS_LSOCK_NAME_MAX, "benchfsd-%ld-%s", (long)getpid(), hex);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    struct sockaddr_un sa;
    socklen_t len = abstract_addr(name, &sa);
    if (bind(fd, (struct sockaddr *)&sa, len) != 0 || listen(fd, SOMAXCONN) != 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    return fd;
}

int bfs_lsock_accept(int lfd, pid_t *pid, uid_t *uid)
{
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    struct ucred cr;
    socklen_t cl = sizeof cr;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) != 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    *pid = cr.pid;
    *uid = cr.uid;
    tune(fd);
    return fd;
}

int bfs_lsock_connect(const char *name)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    tune(fd);
    struct sockaddr_un sa;
    socklen_t len = abstract_addr(name, &sa);
    /* A Unix socket connects at once or not at all (EAGAIN: the backlog is full). */
    if (connect(fd, (struct sockaddr *)&sa, len) != 0) {
        int err = errno == EWOULDBLOCK ? -EAGAIN : -errno;
        close(fd);
        return err;
    }
    return fd;
}

/* ---- outgoing ---- */

int bfs_lsock_queue(struct bfs_lsock_out *q, const void *hdr, size_t hlen, const void *data,
                    size_t data_len, bfs_lsock_done_fn done, void *arg)
{
    struct bfs_lsock_msg *m = malloc(sizeof *m + hlen);
    if (!m)
        return -ENOMEM;
    m->next = NULL;
    m->data = data;
    m->data_len = data_len;
    m->off = 0;
    m->owned = NULL;
    m->done = done;
    m->arg = arg;
    m->hlen = hlen;
    memcpy(m->hdr, hdr, hlen);
    if (q->tail)
        q->tail->next = m;
    else
        q->head = m;
    q->tail = m;
    q->bytes += hlen + data_len;
    return 0;
}

static void pop(struct bfs_lsock_out *q, int err)
{
    struct bfs_lsock_msg *m = q->head;
    q->head = m->next;
    if (!q->head)
        q->tail = NULL;
    q->bytes -= m->hlen + m->data_len - m->off;
    if (m->done)
        m->done(m->arg, err);
    free(m->owned);
    free(m);
}

int bfs_lsock_forget(struct bfs_lsock_out *q, const void *arg)
{
    struct bfs_lsock_msg **pp = &q->head, *prev = NULL;
    while (*pp) {
        struct bfs_lsock_msg *m = *pp;
        if (m->arg != arg) {
            prev = m;
            pp = &m->next;
            continue;
        }
        if (m->off == 0) { /* not begun: the peer never sees it */
            *pp = m->next;
            if (q->tail == m)
                q->tail = prev;
            q->bytes -= m->hlen + m->data_len;
            free(m->owned);
            free(m);
            continue;
        }
        if (m->data_len && !m->owned) {
            uint8_t *copy = malloc(m->data_len);
            if (!copy)
                return -ENOMEM;
            memcpy(copy, m->data, m->data_len); /* only the unsent part is read from it */
            m->owned = copy;
            m->data = copy;
        }
        m->done = NULL;
        prev = m;
        pp = &m->next;
    }
    return 0;
}

#define FLUSH_IOV 64

int bfs_lsock_flush(int fd, struct bfs_lsock_out *q)
{
    while (q->head) {
        struct iovec iov[FLUSH_IOV];
        int n = 0;
        for (struct bfs_lsock_msg *m = q->head; m && n + 2 <= FLUSH_IOV; m = m->next) {
            size_t off = m->off;
            if (off < m->hlen) {
                iov[n++] = (struct iovec){m->hdr + off, m->hlen - off};
                off = m->hlen;
            }
            if (m->data_len > off - m->hlen)
                iov[n++] = (struct iovec){(void *)(m->data + (off - m->hlen)),
                                          m->data_len - (off - m->hlen)};
        }
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)n};
        /* MSG_NOSIGNAL: a peer that died must cost an error, not SIGPIPE. */
        ssize_t w = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN || errno == EWOULDBLOCK ? 1 : -errno;
        }
        size_t left = (size_t)w;
        while (left && q->head) {
            struct bfs_lsock_msg *m = q->head;
            size_t rest = m->hlen + m->data_len - m->off;
            size_t take = left < rest ? left : rest;
            m->off += take;
            q->bytes -= take;
            left -= take;
            if (m->off == m->hlen + m->data_len)
                pop(q, 0);
        }
    }
    return 0;
}

void bfs_lsock_fail(struct bfs_lsock_out *q, int err)
{
    while (q->head)
        pop(q, err);
    q->bytes = 0;
}

/* ---- incoming ---- */

/* Finish the frame in progress. */
static void end_frame(struct bfs_lsock_in *in, const struct bfs_lsock_handler *h, void *arg)
{
    in->in_frame = 0;
    h->end(arg, &in->f, in->args, in->cookie);
    free(in->args);
    in->args = NULL;
    in->cookie = NULL;
    in->dst = NULL;
}

/* Take header and arguments from the staging buffer if they are all there: 1 taken, 0 need
 * more bytes, -errno. */
static int take_header(struct bfs_lsock_in *in, uint32_t max_opcode,
                       const struct bfs_lsock_handler *h, void *arg)
{
    size_t avail = in->end - in->start;
    if (avail < BFS_HDR_LEN)
        return 0;
    const uint8_t *p = in->buf + in->start;
    uint32_t args_len;
    uint64_t data_len;
    bfs_frame_lengths(p, &args_len, &data_len);
    if (args_len > BFS_MAX_ARGS || data_len > BFS_MAX_DATA)
        return -EPROTO;
    if (avail < BFS_HDR_LEN + args_len)
        return 0;
    int err = bfs_frame_decode(p, BFS_HDR_LEN + args_len, data_len, max_opcode, &in->f);
    if (err)
        return -EPROTO;
    in->args = malloc(args_len ? args_len : 1);
    if (!in->args)
        return -ENOMEM;
    memcpy(in->args, p + BFS_HDR_LEN, args_len);
    in->start += BFS_HDR_LEN + args_len;
    in->in_frame = 1;
    in->got = 0;
    in->cookie = NULL;
    err = 0;
    in->dst = h->begin(arg, &in->f, in->args, &in->cookie, &err);
    return err < 0 ? err : 1;
}

int bfs_lsock_read(int fd, struct bfs_lsock_in *in, uint32_t max_opcode, int max_frames,
                   const struct bfs_lsock_handler *h, void *arg)
{
    if (!in->buf && !(in->buf = malloc(BFS_LSOCK_STAGING)))
        return -ENOMEM;
    int frames = 0, drained = 0; /* drained: a read came back short, the socket is empty */
    while (frames < max_frames) {
        if (in->in_frame) {
            /* Payload: first what is staged, then straight from the socket into place. */
            size_t need = in->f.data_len - in->got;
            size_t staged = in->end - in->start;
            size_t take = staged < need ? staged : need;
            if (take) {
                if (in->dst)
                    memcpy(in->dst + in->got, in->buf + in->start, take);
                in->start += take;
                in->got += take;
                need -= take;
            }
            if (need && in->dst) {
                if (drained)
                    return frames;
                ssize_t r = read(fd, in->dst + in->got, need);
                if (r == 0)
                    return -ECONNRESET;
                if (r < 0)
                    return errno == EAGAIN || errno == EINTR ? frames : -errno;
                in->got += (size_t)r;
                need -= (size_t)r;
                drained = need > 0;
            }
            if (need) {
                if (!in->dst) { /* discarded: through the staging buffer */
                    if (drained)
                        return frames;
                    in->start = in->end = 0;
                    ssize_t r = read(fd, in->buf, need < BFS_LSOCK_STAGING ? need
                                                                          : BFS_LSOCK_STAGING);
                    if (r == 0)
                        return -ECONNRESET;
                    if (r < 0)
                        return errno == EAGAIN || errno == EINTR ? frames : -errno;
                    in->end = (size_t)r;
                }
                continue;
            }
            end_frame(in, h, arg);
            frames++;
            continue;
        }
        int t = take_header(in, max_opcode, h, arg);
        if (t < 0)
            return t;
        if (t > 0)
            continue;
        /* Need more bytes: make room at the end, then read (unless the socket just ran dry:
         * saves a read that would only say EAGAIN; epoll reports what comes next). */
        if (drained)
            return frames;
        if (in->start == in->end) {
            in->start = in->end = 0;
        } else if (in->start > 0 && BFS_LSOCK_STAGING - in->end < BFS_HDR_LEN + BFS_MAX_ARGS) {
            memmove(in->buf, in->buf + in->start, in->end - in->start);
            in->end -= in->start;
            in->start = 0;
        }
        size_t room = BFS_LSOCK_STAGING - in->end;
        ssize_t r = read(fd, in->buf + in->end, room);
        if (r == 0)
            return -ECONNRESET;
        if (r < 0)
            return errno == EAGAIN || errno == EINTR ? frames : -errno;
        in->end += (size_t)r;
        drained = (size_t)r < room;
    }
    return frames;
}

void bfs_lsock_in_free(struct bfs_lsock_in *in)
{
    free(in->buf);
    free(in->args);
    in->buf = NULL;
    in->args = NULL;
    in->start = in->end = 0;
    in->in_frame = 0;
}
