/* SPDX-License-Identifier: BSD-3-Clause */
/* hostile_dying.c — test_hostile's vanishing peers ("test_hostile N dying"): this binary is
 * re-executed as a peer that starts work whose completion needs it and dies without closing
 * anything, over UCX (rendezvous writes the server must pull, big reads it must answer) and
 * over the local socket (reads whose replies it never reads, a 64 MiB write cut short). The
 * parent checks that every server survives each one and still serves a local client. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "hostile.h"

/* Child mode: a peer that starts requests whose completion needs it and dies without closing
 * anything. Over UCX (through the listener): rendezvous payloads the server must pull and big
 * replies it must send. Over the local socket: big CHUNK_READs whose replies it never reads,
 * then a 64 MiB CHUNK_WRITE frame of which only a part is written (variant 0), or a frame cut
 * inside its arguments after the reads (variant 1). */
int child_main(const char *registry, int n, uint64_t file_id, uint32_t file_chunk,
               const char *mode)
{
    g_child = 1;
    struct cluster c;
    memset(&c, 0, sizeof c);
    snprintf(c.registry, sizeof c.registry, "%s", registry);
    c.n = n;
    struct rp_peer r;
    hostile_open(&r, &c, strncmp(mode, "local", 5) != 0);
    memset(g_mib, 0x3c, sizeof g_mib);
    static struct frame fr;
    if (strncmp(mode, "local", 5) == 0) {
        int variant = atoi(mode + 5);
        size_t big = BFS_MAX_DATA;
        uint8_t *payload = malloc(big);
        if (!payload)
            _exit(1);
        memset(payload, 0x77, big);
        struct rp_conn p[CLUSTER_MAX];
        for (int s = 0; s < n; s++) {
            lp_open(&r, s, &p[s]);
            for (int i = 0; i < 8; i++) {
                /* big replies to nobody */
                chunk_read_frame(&fr, &r, file_id, (uint64_t)i % 4, 0, file_chunk, file_chunk);
                size_t hlen = frame_encode(&fr, g_hdr, 0, 1);
                if (rp_conn_write(&p[s], g_hdr, hlen) != 0)
                    _exit(3);
            }
            /* a file nobody has */
            chunk_write_frame(&fr, &r, 0xdead1000u + (uint64_t)s, 0, 0, (uint32_t)big);
            size_t hlen = frame_encode(&fr, g_hdr, big, 1);
            if (variant == 1) {
                if (rp_conn_write(&p[s], g_hdr, hlen - 7) != 0) /* cut inside the arguments */
                    _exit(3);
                continue;
            }
            if (rp_conn_write(&p[s], g_hdr, hlen) != 0)
                _exit(3);
            /* As much of the payload as the socket takes within 300 ms (never all of it:
             * the server does not read it faster than that), without reading a reply. */
            size_t off = 0;
            int64_t deadline = bfs_mono_ms() + 300;
            while (off < big / 2 && bfs_mono_ms() < deadline) {
                ssize_t w = send(p[s].fd, payload + off, big / 2 - off, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (w > 0) {
                    off += (size_t)w;
                } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
                    _exit(4);
                } else {
                    struct pollfd pf = {.fd = p[s].fd, .events = POLLOUT};
                    poll(&pf, 1, 5);
                }
            }
        }
        printf("hostile: dying local peer (variant %d) leaves with 8 chunk reads unread and a "
               "64 MiB write %s\n", variant, variant ? "cut inside its arguments" : "in part written");
        fflush(stdout);
        usleep(20000);
        _exit(0); /* no close: the kernel closes the sockets with the process */
    }
    /* UCX: make sure the connections are wired up both ways before the real work. (Dying
     * while a server's wire-up reply is still pending trips an assertion inside UCX 1.13
     * itself, ucp_request.c "got REP message", which is not what this test is about.) */
    for (int s = 0; s < n; s++) {
        frame_init(&fr, &r, BFS_OP_PING);
        send_frame(&r, s, &fr, NULL, 0, 0, 1, 0, EXP_STATUS, 0, "dying peer: ping");
    }
    drain(&r, 1, 5000);
    for (int s = 0; s < n; s++) {
        for (int i = 0; i < 8; i++) {
            /* a file nobody has */
            chunk_write_frame(&fr, &r, 0xdead0000u + (uint64_t)i, 0, 0, 1u << 20);
            send_frame(&r, s, &fr, g_mib, sizeof g_mib, 0, 1, UCP_AM_SEND_FLAG_RNDV, EXP_ANY, 0,
                       "dying peer: chunk_write");
            /* a big reply to nobody */
            chunk_read_frame(&fr, &r, file_id, (uint64_t)i % 4, 0, file_chunk, file_chunk);
            send_frame(&r, s, &fr, NULL, 0, 0, 1, 0, EXP_ANY, 0, "dying peer: chunk_read");
        }
    }
    for (int i = 0; i < 5; i++)
        rp_progress(&r, 1);
    _exit(0); /* no close, no flush: as if killed */
}

void dying_peer(struct cluster *c, struct rp_peer *r, uint64_t file_id, uint32_t file_chunk)
{
    char nbuf[16], idbuf[32], csbuf[16];
    snprintf(nbuf, sizeof nbuf, "%d", c->n);
    snprintf(idbuf, sizeof idbuf, "%llu", (unsigned long long)file_id);
    snprintf(csbuf, sizeof csbuf, "%u", file_chunk);
    static const char *modes[] = {"ucx", "local0", "ucx", "local1", "local0"};
    for (size_t round = 0; round < sizeof modes / sizeof modes[0]; round++) {
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) {
            perror("hostile: fork");
            test_failures++;
            return;
        }
        if (pid == 0) {
            execl("/proc/self/exe", "test_hostile", "--dying-peer", c->registry, nbuf, idbuf,
                  csbuf, modes[round], (char *)NULL);
            _exit(127);
        }
        int st = 0;
        int64_t deadline = bfs_mono_ms() + 20000;
        while (waitpid(pid, &st, WNOHANG) == 0 && bfs_mono_ms() < deadline)
            usleep(10000);
        if (waitpid(pid, &st, WNOHANG) == 0) {
            fprintf(stderr, "FAIL: the dying peer (%s) did not finish\n", modes[round]);
            test_failures++;
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
        } else {
            if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0))
                fprintf(stderr, "hostile: dying peer (%s) status %#x\n", modes[round], st);
            CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        }
        /* Let the servers notice the loss and finish what the dead peer started. */
        int64_t settle = bfs_mono_ms() + 500;
        while (bfs_mono_ms() < settle)
            rp_progress(r, 10);
        if (!rp_all_alive("hostile", c))
            return; /* the rest would only repeat the failure */
        for (int s = 0; s < c->n; s++)
            lp_ping(r, s, "ping after a dying peer");
    }
}

