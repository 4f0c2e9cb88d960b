/* SPDX-License-Identifier: BSD-3-Clause */
/* main.c — benchfsd: start-up, registry publication, shutdown. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "net/registry.h"
#include "mpi_launch.h"
#include "server.h"

static void raise_fd_limit(void)
{
    /* Chunk descriptors are cached; let the cache use what the system allows. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* One server per data directory: a second one would corrupt the first's chunk accounting. */
static int lock_data_dir(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/benchfsd.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int err = -errno;
        close(fd);
        return err == -EWOULDBLOCK ? -EBUSY : err;
    }
    return fd;
}

/* A fresh nonce in <data>/instance (chunk_layout.h), written as the cluster key is: hex, in
 * a temporary file renamed into place, so a client never reads half of it. */
static int write_instance(struct server *s)
{
    if (!realpath(s->cfg.data_dir, s->data_abs))
        return -errno;
    if (getrandom(s->instance, sizeof s->instance, 0) != (ssize_t)sizeof s->instance)
        return -EIO;
    char hex[2 * BFS_INSTANCE_LEN + 2];
    bfs_hex_encode(s->instance, sizeof s->instance, hex);
    strcat(hex, "\n");
    return bfs_write_file_atomic(s->data_abs, BFS_INSTANCE_FILE, hex, 0);
}

/* Open the stores and the UCX worker. Returns 0, or 1 after logging why not. */
static int start_up(struct server *s, int *lock_fd)
{
    if (mkdir(s->cfg.data_dir, 0700) != 0 && errno != EEXIST) {
        LOG_ERR("data directory %s: %s", s->cfg.data_dir, strerror(errno));
        return 1;
    }
    *lock_fd = lock_data_dir(s->cfg.data_dir);
    if (*lock_fd < 0) {
        LOG_ERR("data directory %s: %s", s->cfg.data_dir,
                *lock_fd == -EBUSY ? "already served by another benchfsd" : strerror(-*lock_fd));
        return 1;
    }
    int err = write_instance(s);
    if (err) {
        LOG_ERR("data directory %s: instance file: %s", s->cfg.data_dir, strerror(-err));
        return 1;
    }
    char meta_dir[4200];
    snprintf(meta_dir, sizeof meta_dir, "%s/meta", s->cfg.data_dir);
    err = meta_open(&s->meta, meta_dir, s->cfg.meta_map_size);
    if (!err)
        err = chunk_store_open(&s->chunks, s->cfg.data_dir, s->cfg.capacity,
                               s->cfg.max_open_chunks);
    if (!err)
        err = server_ring_init(s);
    buf_pool_init(&s->bufs, s->cfg.buffer_cache);
    if (!err)
        err = bfs_transport_init(&s->tp);
    if (!err && !s->cfg.mpi) /* under MPI rank 0 makes the key and broadcasts it */
        err = bfs_registry_key_ensure(s->cfg.registry, s->key);
    if (err) {
        LOG_ERR("start-up failed: %s", strerror(-err));
        return 1;
    }
    return 0;
}

/* Where clients reach us: the UCX listener (other hosts) and the local socket (this host);
 * both go into the registry entry. Returns 0, or 1 after logging why not. */
static int open_listeners(struct server *s, struct bfs_registry_entry *e)
{
    char ip[64];
    if (strcmp(s->cfg.listen_addr, "auto") == 0) {
        bfs_transport_pick_ip(ip, sizeof ip);
    } else {
        struct in_addr a;
        if (inet_pton(AF_INET, s->cfg.listen_addr, &a) != 1) {
            LOG_ERR("--listen-addr %s: not an IPv4 address", s->cfg.listen_addr);
            return 1;
        }
        snprintf(ip, sizeof ip, "%.63s", s->cfg.listen_addr);
    }
    if (bfs_transport_listen(&s->tp, ip, conns_listener_cb, s, e->listen, sizeof e->listen) != 0)
        return 1;
    s->lsock_fd = bfs_lsock_listen(s->lsock_name);
    if (s->lsock_fd < 0) {
        LOG_ERR("local socket: %s", strerror(-s->lsock_fd));
        return 1;
    }
    snprintf(e->local, sizeof e->local, "%s", s->lsock_name);
    return 0;
}

int main(int argc, char **argv)
{
    static struct server s; /* large; keep it off the stack */
    int rc = bfs_server_config_load(&s.cfg, argc, argv);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    bfs_log_set_level(s.cfg.log_level);
    /* Before MPI_Init and UCX start threads, which inherit the mask. */
    server_block_signals();
    int ok = 1;
    if (s.cfg.mpi) {
        rc = bfs_mpi_begin(&argc, &argv, &s.cfg);
        if (rc == -2)
            return 1;
        ok = rc == 0;
    }
    char prefix[64];
    snprintf(prefix, sizeof prefix, "benchfsd[%u]", s.cfg.id);
    bfs_log_set_prefix(prefix);
    raise_fd_limit();
    s.stats.started_ns = bfs_now_ns();
    s.ring_efd = s.sig_fd = s.epfd = s.epfd_top = s.lsock_fd = -1;
    s.reject_log = (struct bfs_log_limit)BFS_LOG_LIMIT("rejected frames", 10);

    int lock_fd = -1;
    if (ok && start_up(&s, &lock_fd) != 0)
        ok = 0;
    if (getrandom(&s.rng, sizeof s.rng, 0) != (ssize_t)sizeof s.rng)
        s.rng = (uint64_t)bfs_now_ns() ^ ((uint64_t)getpid() << 32);

    struct bfs_registry_entry e = {.id = s.cfg.id, .nservers = s.cfg.nservers, .pid = getpid()};
    gethostname(e.host, sizeof e.host - 1);
    int err = 0;
    if (ok)
        ok = open_listeners(&s, &e) == 0;
    if (s.cfg.mpi) {
        /* Every rank takes part in every collective, so a failure anywhere stops all. */
        if (!bfs_mpi_all_ok(ok)) {
            if (ok)
                LOG_ERR("another rank failed to start; giving up");
            bfs_mpi_end();
            return 1;
        }
        err = bfs_mpi_publish(s.cfg.registry, s.key, &e);
        bfs_mpi_end(); /* MPI is done with: see mpi_launch.h */
    } else if (!ok) {
        return 1;
    } else {
        err = bfs_registry_publish(s.cfg.registry, &e);
    }
    if (err) {
        LOG_ERR("registry %s: %s", s.cfg.registry, strerror(-err));
        return 1;
    }
    LOG_INFO("serving %s as server %u of %u (used %llu bytes, %llu entries)", s.cfg.data_dir,
             s.cfg.id, s.cfg.nservers, (unsigned long long)chunk_used(s.chunks),
             (unsigned long long)meta_count(s.meta));

    err = server_loop_run(&s);

    bfs_registry_unpublish(s.cfg.registry, s.cfg.id);
    /* A clean stop leaves everything on stable storage, fsync'd or not. */
    if (syncfs(lock_fd) != 0)
        LOG_WARN("syncfs %s: %s", s.cfg.data_dir, strerror(errno));
    if (err)
        LOG_ERR("event loop: %s", strerror(-err));
    server_conns_close(&s);
    io_uring_queue_exit(&s.ring);
    buf_pool_fini(&s.bufs);
    chunk_store_close(s.chunks);
    meta_close(s.meta);
    bfs_transport_fini(&s.tp);
    if (s.lsock_fd >= 0)
        close(s.lsock_fd);
    close(lock_fd);
    LOG_INFO("stopped");
    return err ? 1 : 0;
}
