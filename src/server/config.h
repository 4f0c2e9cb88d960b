/* SPDX-License-Identifier: BSD-3-Clause */
/* config.h — benchfsd settings: command-line flags, then BENCHFS_* environment variables, then
 * an optional config file (key = value, keys as the long flags), then built-in defaults. */
#ifndef BFS_SERVER_CONFIG_H
#define BFS_SERVER_CONFIG_H

#include <stdint.h>

struct bfs_server_config {
    char data_dir[4096];
    char registry[4096];
    uint32_t id;
    uint32_t nservers;
    uint64_t capacity;        /* bytes; 0: the backing file system's own limit */
    uint64_t eager_threshold; /* replies below this are sent eager, others rendezvous */
    uint64_t meta_map_size;   /* LMDB map size */
    uint32_t queue_depth;     /* io_uring entries */
    uint32_t max_open_chunks; /* chunk fd cache size */
    uint64_t buffer_cache;    /* bytes of idle I/O buffers kept for reuse (buf_pool.h) */
    int write_behind;         /* start writeback after each chunk write (handlers.c) */
    char listen_addr[4096];   /* published for remote clients; "auto": bfs_transport_pick_ip */
    uint32_t spin_us;         /* poll this long after work before sleeping (loop.c) */
    int busy_poll;            /* spin instead of sleeping when idle (dedicated core) */
    int log_level;
    uint32_t move_lease_ms;   /* a small file's unfinished move may be taken over after this */
    /* MPI launch (mpi_launch.h): 1 if benchfsd runs as one rank of mpirun/srun (detected from
     * the environment, or --mpi; --no-mpi turns detection off). Then id and nservers come from
     * the rank and size, and id_given/nservers_given say whether flags/env also set them. */
    int mpi;
    int id_given, nservers_given;
};

/* Fill `c` from argv/env/config file. Returns 0, 1 if --help/--version was printed (exit 0),
 * or -1 after printing a message about bad input (exit 2). */
int bfs_server_config_load(struct bfs_server_config *c, int argc, char **argv);

#endif
