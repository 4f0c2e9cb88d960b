/* test_stalled_client — a same-host client that stops reading its replies.
 *
 * A peer connects as libbenchfs does on this host (shared memory, no UCX peer-failure mode)
 * and says HELLO as a local client (so the server answers it over shared memory), sends
 * NPING pings and never polls again: the replies fill its shared-memory queue and the rest
 * wait inside the server's UCX worker, which then reports "busy" on every arm. The server
 * must neither spin on that (a core taken from the job: its CPU time over a second is
 * measured) nor stop serving other clients, and SIGTERM must still stop it cleanly while the
 * stalled peer lives (cluster_stop checks the exit).
 *
 * usage: test_stalled_client */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cluster.h"
#include "common/proto.h"
#include "common/util.h"
#include "net/registry.h"
#include "net/transport.h"

#define NPING 2000

static unsigned g_replies;

static ucs_status_t on_reply(void *arg, const void *header, size_t header_length, void *data,
                             size_t length, const ucp_am_recv_param_t *param)
{
    (void)arg, (void)header, (void)header_length, (void)data, (void)length, (void)param;
    g_replies++;
    return UCS_OK;
}

static void send_frame(ucp_ep_h ep, const uint8_t *key, uint16_t op, uint64_t reqid,
                       const uint8_t *args, size_t args_len, const void *data, size_t data_len)
{
    static uint8_t hdr[NPING + 8][BFS_HDR_LEN + 80]; /* live until the sends complete */
    uint8_t *h = hdr[reqid % (NPING + 8)];
    struct bfs_frame f = {.magic = BFS_MAGIC, .version = BFS_WIRE_VERSION, .opcode = op,
                          .reqid = reqid, .args_len = (uint32_t)args_len, .data_len = data_len};
    memcpy(f.key, key, BFS_KEY_LEN);
    bfs_frame_encode(&f, h);
    if (args_len)
        memcpy(h + BFS_HDR_LEN, args, args_len);
    ucp_request_param_t p = {.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS,
                             .flags = UCP_AM_SEND_FLAG_REPLY | UCP_AM_SEND_FLAG_EAGER};
    void *r = ucp_am_send_nbx(ep, BFS_AM_REQUEST, h, BFS_HDR_LEN + args_len, data, data_len, &p);
    if (UCS_PTR_IS_PTR(r))
        ucp_request_free(r); /* UCX completes it on its own */
}

/* The stalled peer: connect, HELLO as a local client, send the pings, then sleep. */
static void stalled_peer(const char *registry, int ready_fd)
{
    struct bfs_transport tp;
    uint8_t key[BFS_KEY_LEN];
    struct bfs_registry_entry e;
    ucp_ep_h ep;
    if (bfs_transport_init(&tp) != 0 || bfs_registry_key_read(registry, key) != 0 ||
        bfs_registry_read(registry, 0, &e) != 0 ||
        bfs_transport_connect(&tp, e.addr, e.addr_len, 0, NULL, NULL, &ep) != 0)
        _exit(2);
    ucp_am_handler_param_t hp = {
        .field_mask = UCP_AM_HANDLER_PARAM_FIELD_ID | UCP_AM_HANDLER_PARAM_FIELD_CB |
                      UCP_AM_HANDLER_PARAM_FIELD_FLAGS,
        .id = BFS_AM_REPLY, .flags = UCP_AM_FLAG_WHOLE_MSG, .cb = on_reply};
    uint8_t *addr;
    size_t addr_len;
    if (ucp_worker_set_am_recv_handler(tp.worker, &hp) != UCS_OK ||
        bfs_transport_address(&tp, &addr, &addr_len) != 0)
        _exit(2);
    uint8_t args[80];
    struct bfs_wbuf w;
    char host[64] = "";
    gethostname(host, sizeof host - 1);
    bfs_wb_init(&w, args, sizeof args);
    bfs_wb_u32(&w, (uint32_t)getpid());
    bfs_wb_u32(&w, (uint32_t)geteuid());
    bfs_wb_str(&w, host);
    send_frame(ep, key, BFS_OP_HELLO, 1, args, w.len, addr, addr_len);
    int64_t deadline = bfs_mono_ms() + 10000;
    while (g_replies < 1 && bfs_mono_ms() < deadline)
        bfs_transport_wait(&tp, 10);
    if (g_replies < 1)
        _exit(3);
    /* No progress from here on, so no reply is read. A small send into the server's shared
     * memory queue completes at once while the queue has room: pause now and then to let
     * the server drain it. */
    for (uint64_t i = 0; i < NPING; i++) {
        send_frame(ep, key, BFS_OP_PING, 2 + i, NULL, 0, NULL, 0);
        if (i % 16 == 15)
            usleep(200);
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

    /* Let the server answer the pings and fill the peer's queue, then watch it idle. */
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
