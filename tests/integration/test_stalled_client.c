/* SPDX-License-Identifier: BSD-3-Clause */
/* test_stalled_client — a same-host client that stops reading its replies.
 *
 * A peer connects to the server's local socket as libbenchfs does on this host, sends NREQ
 * STATS requests (each reply is a few KiB) and never reads again: the replies fill the
 * socket, then the server's queue for that connection, at which point the server must stop
 * reading the peer's requests (its memory for one client is bounded) rather than queue
 * without end. It must neither spin on that (a core taken from the job: its CPU time over a
 * second is measured), nor stop serving other clients, and SIGTERM must still stop it
 * cleanly while the stalled peer lives (cluster_stop checks the exit).
 *
 * usage: test_stalled_client */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cluster.h"
#include "common/proto.h"
#include "common/util.h"
#include "net/local_sock.h"
#include "net/registry.h"

#define NREQ 40000

/* The stalled peer: connect, send the requests (as far as the server takes them), sleep. */
static void stalled_peer(const char *registry, int ready_fd)
{
    uint8_t key[BFS_KEY_LEN];
    struct bfs_registry_entry e;
    if (bfs_registry_key_read(registry, key) != 0 || bfs_registry_read(registry, 0, &e) != 0)
        _exit(2);
    int fd = bfs_lsock_connect(e.local);
    if (fd < 0)
        _exit(2);
    struct bfs_lsock_out q = {0};
    for (uint64_t i = 0; i < NREQ; i++) {
        uint8_t h[BFS_HDR_LEN];
        struct bfs_frame f = {.magic = BFS_MAGIC, .version = BFS_WIRE_VERSION,
                              .opcode = BFS_OP_STATS, .reqid = 1 + i};
        memcpy(f.key, key, BFS_KEY_LEN);
        bfs_frame_encode(&f, h);
        if (bfs_lsock_queue(&q, h, sizeof h, NULL, 0, NULL, NULL) != 0)
            _exit(3);
    }
    /* Write for up to 3 s: once the server stops reading us, the rest stays queued here. */
    int64_t deadline = bfs_mono_ms() + 3000;
    while (bfs_lsock_flush(fd, &q) == 1 && bfs_mono_ms() < deadline) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        poll(&p, 1, 100);
    }
    if (write(ready_fd, "r", 1) != 1)
        _exit(4);
    for (;;)
        pause();
}

/* utime + stime of a process, in clock ticks. */
static long cpu_ticks(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    long utime = 0, stime = 0;
    /* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld", &utime,
                     &stime) != 2)
        return -1;
    return utime + stime;
}

int main(void)
{
    struct cluster c;
    cluster_start(&c, 1, NULL);
    benchfs_t *fs = cluster_client(&c, 5000);
    CHECK_OK(benchfs_mkdir(fs, "/before", 0755));

    int pfd[2];
    CHECK(pipe(pfd) == 0);
    fflush(NULL);
    pid_t peer = fork();
    if (peer == 0) {
        close(pfd[0]);
        stalled_peer(c.registry, pfd[1]);
    }
    close(pfd[1]);
    char ready = 0;
    CHECK(read(pfd[0], &ready, 1) == 1 && ready == 'r');
    close(pfd[0]);

    /* Let the server answer and fill the peer's socket and its own queue, then watch it. */
    usleep(300 * 1000);
    long t0 = cpu_ticks(c.pids[0]);
    usleep(1000 * 1000);
    long t1 = cpu_ticks(c.pids[0]);
    long hz = sysconf(_SC_CLK_TCK);
    printf("stalled_client: server used %ld of %ld ticks in the second with a stalled peer\n",
           t1 - t0, hz);
    CHECK(t0 >= 0 && t1 >= t0);
    CHECK(t1 - t0 < hz / 2); /* a spinning server uses all of them */

    /* Other clients are served meanwhile. */
    benchfs_stat_t st;
    CHECK_OK(benchfs_stat(fs, "/before", &st));
    CHECK_OK(benchfs_mkdir(fs, "/during", 0755));
    CHECK_OK(benchfs_stat(fs, "/during", &st));
    CHECK_OK(benchfs_term(fs));

    /* SIGTERM while the peer still lives: the server must stop, cleanly (cluster_stop). */
    cluster_stop(&c);
    kill(peer, SIGKILL);
    int ws;
    waitpid(peer, &ws, 0);
    return test_finish("stalled_client");
}
