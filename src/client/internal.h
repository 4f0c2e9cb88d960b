/* SPDX-License-Identifier: BSD-3-Clause */
/* internal.h — the client library's private state.
 *
 * A benchfs_t owns one UCX worker, one endpoint per server, the placement ring and the open
 * file table. Every API call takes the context mutex for its whole duration: the worker is
 * single-threaded, and holding the lock across an operation keeps each call's concurrent
 * chunk RPCs simple to reason about. */
#ifndef BFS_CLIENT_INTERNAL_H
#define BFS_CLIENT_INTERNAL_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include "benchfs.h"
#include "common/path.h"
#include "common/proto.h"
#include "common/ring.h"
#include "net/local_sock.h"
#include "net/transport.h"

#ifdef BENCHFS_BUILDING_LIB
#define BFS_API __attribute__((visibility("default")))
#else
#define BFS_API
#endif

#define RPC_REPLY_ARGS_MAX 128
#define RPC_WINDOW 64      /* chunk RPCs in flight per call */
#define RPC_TABLE_SLOTS 256
#define RPC_POLL_MAX 64    /* descriptors a waiting call sleeps on */
/* A waiting call may poll this long before it sleeps ($BENCHFS_SPIN_US): a reply from a
 * local server often comes within tens of microseconds, less than a sleep and wake-up cost.
 * Off by default: with more processes than cores (servers share the job's) spinning took
 * the cores the servers needed (DESIGN.md, Performance). */
#define RPC_SPIN_US_DEFAULT 0

struct conn {
    ucp_ep_h ep;     /* a server elsewhere: UCX, through its listener */
    int fd;          /* a server on this host: its local socket (rpc_local.c), else -1 */
    struct bfs_lsock_in in;
    struct bfs_lsock_out out;
    int local;       /* reached through the local socket: on this host, in our namespace */
    int64_t alive_check_ms; /* direct chunk access: when to look at the socket again */
    int failed;      /* the peer is dead (UCX said so, or end of file); reconnect */
    uint32_t gen;    /* bumped by each (re)connect */
    int close_after_read; /* errno: close once the reader has returned */
    int fail_status; /* errno to report for calls that were in flight */
    uint64_t addr_hash; /* bfs_registry_incarnation of the entry we connected to */
    /* Reading and writing its chunk files directly (local_read.c): 0 not asked yet, 1 yes
     * (chunk_root set: <data>/chunks), -1 no. Asked again on each new endpoint: a restarted
     * server may serve elsewhere. */
    int direct;
    char *chunk_root;
    uint32_t local_epoch; /* bumped by each forget: chunk files opened before are stale */
};

/* One request and, once done, its reply. The caller owns the struct; rpc_run fills the rest. */
struct rpc {
    /* inputs */
    uint32_t server;
    uint16_t op;
    const void *args;
    size_t args_len;
    const void *data; /* request payload (chunk writes) */
    size_t data_len;
    void *rbuf;       /* where reply payload lands; NULL: malloc'd into rdata */
    size_t rcap;
    /* outputs */
    int status; /* 0 or errno */
    uint8_t rargs[RPC_REPLY_ARGS_MAX];
    size_t rargs_len;
    void *rdata;
    size_t rdata_len;
    int rdata_owned;
    /* internal */
    uint64_t reqid;
    struct rpc_ticket *sticket, *rticket; /* what UCX's send / receive callbacks point at */
    int started, send_done, reply_done, recv_pending;
    int64_t deadline_ms;
    uint64_t sent_to; /* conn addr_hash when started: was it the server's current incarnation? */
    uint32_t conn_gen; /* conn gen when started: a reconnect since means this call is lost */
    struct rpc *hnext;
};

/* A chunk file of a same-host server, kept open by a descriptor (local_read.c). */
struct local_fd {
    int fd; /* -1: empty slot */
    uint32_t server;
    uint32_t epoch; /* conn.local_epoch when opened */
    uint64_t index;
};
#define LOCAL_FDS 4      /* per descriptor */
#define LOCAL_FDS_MAX 64 /* per context, so many open BenchFS files do not exhaust the fds */

/* Where one piece of a read or write lies: chunk index and offset in the chunk. */
struct chunk_piece {
    uint64_t index, offset;
};

struct bfs_file {
    char path[BFS_PATH_MAX];
    struct bfs_inode ino; /* ino.size: the largest size this descriptor knows of */
    int flags;
    uint64_t pos;
    int dirty; /* wrote since the last size publication */
    int64_t mtime_ns;
    struct local_fd lfds[LOCAL_FDS]; /* chunk files read directly; next_lfd: next to reuse */
    unsigned next_lfd;
    uint64_t ra_next; /* direct reads: the next chunk not yet read ahead */
    int ra_cold;      /* a direct read had to wait for the device: read ahead from now on */
    struct small_view *small; /* an inline file's data as this descriptor knows it */
};

struct benchfs {
    pthread_mutex_t lock;
    char registry[BFS_PATH_MAX];
    uint8_t key[BFS_KEY_LEN];
    uint32_t nservers;
    struct conn *conns;
    struct bfs_ring ring;
    struct bfs_transport tp;
    int rpc_timeout_ms;
    uint32_t chunk_size;
    uint32_t inline_max; /* files up to this size keep their data inline ($BENCHFS_INLINE_MAX) */
    struct small_view *small_stash; /* data of the last LOOKUP_DATA, for the open under way */
    size_t eager_threshold;
    int same_host;     /* reach same-host servers by their local socket ($BENCHFS_SAME_HOST) */
    int local_reads;   /* read same-host servers' chunk files directly ($BENCHFS_LOCAL_READS) */
    int local_writes;  /* write them directly, after CHUNK_RESERVE ($BENCHFS_LOCAL_WRITES) */
    int write_behind;  /* direct writes start writeback at once ($BENCHFS_WRITE_BEHIND) */
    int spin_us;       /* poll this long before sleeping ($BENCHFS_SPIN_US) */
    pid_t pid;         /* the process whose sockets conns[] hold (a forked child reconnects) */
    int local_fds;     /* chunk files kept open by descriptors (local_read.c), all told */
    uint64_t next_reqid;
    struct rpc *table[RPC_TABLE_SLOTS];
    /* credentials, for permission checks */
    uid_t uid;
    gid_t gid;
    gid_t *groups;
    int ngroups;
    /* open files: fd is the index */
    struct bfs_file **files;
    int nfiles;
};

/* rpc.c */
int rpc_setup(benchfs_t *fs);
/* The call waiting for request id reqid (find: it stays; take: it leaves the table). */
struct rpc *rpc_table_find(benchfs_t *fs, uint64_t reqid);
struct rpc *rpc_table_take(benchfs_t *fs, uint64_t reqid);
/* Run n calls concurrently (at most RPC_WINDOW in flight); returns when all are done.
 * Each call's status is in calls[i].status. */
void rpc_run(benchfs_t *fs, struct rpc *calls, size_t n);
/* Fire and forget (a hint, which the server does not answer): sent if the server is
 * connected. */
void rpc_hint(benchfs_t *fs, uint32_t server, uint16_t op, const void *args, size_t args_len);
/* One call; returns -errno or 0. */
int rpc_call(benchfs_t *fs, struct rpc *call);
void rpc_release(struct rpc *call);
/* Connect (or reconnect) to a server from its registry entry. */
int rpc_connect(benchfs_t *fs, uint32_t server);
void rpc_disconnect_all(benchfs_t *fs);
/* Has a same-host server gone (end of file on its socket)? Looked at every 100 ms at most. */
void rpc_check_alive(benchfs_t *fs, uint32_t server);

/* rpc_local.c — the local-socket side of rpc.c. */
int lconn_open(benchfs_t *fs, struct conn *cn, const char *name);
/* Close the socket (if open), dropping what is queued; marks the connection failed (err). */
void lconn_close(struct conn *cn, int err);
/* Queue a request frame of `owner` (a call, or NULL) and write what the socket takes; 0 or
 * -errno (connection closed). */
int lconn_send(struct conn *cn, const void *owner, const uint8_t *hdr, size_t hlen,
               const void *data, size_t data_len);
/* Call c gives up: nothing of it (its payload buffer, its reply buffer) is used any more. */
void lconn_abandon(struct conn *cn, const struct rpc *c);
/* Write queued frames, read and dispatch replies; non-zero if anything happened. */
int lconn_progress(benchfs_t *fs, struct conn *cn);

/* file.c: the arguments of a chunk RPC for piece p of f (len: CHUNK_READ and CHUNK_RESERVE
 * only, a write's is its payload's) into out; returns their length. */
#define CHUNK_ARGS_LEN 36 /* u64 fileid, chunk, offset, length; u32 chunk_size */
size_t chunk_args(uint8_t *out, uint16_t op, const struct bfs_file *f,
                  const struct chunk_piece *p, uint64_t len);

/* local_read.c — chunk reads served from a same-host server's files, without an RPC.
 * 1: done (c->status and c->rdata_len set, as a CHUNK_READ reply would), 0: use the RPC. */
int local_read_chunk(benchfs_t *fs, struct bfs_file *f, struct rpc *c,
                     const struct chunk_piece *p);
void local_read_forget(struct conn *cn);
/* Are chunks of this server read here (as far as is known now)? */
int local_read_ready(benchfs_t *fs, uint32_t server);
/* May chunk files of this server be used directly? Asks the server where they are the first
 * time (CHUNK_DIR), and looks at its pid (every 100 ms). */
int local_io_usable(benchfs_t *fs, uint32_t server);
/* Chunk file `index` of f on a same-host server, from f's cache or opened now (for writing
 * too if f is); -1 with errno if not. *transient: the caller closes it after use. */
int local_chunk_fd(benchfs_t *fs, struct bfs_file *f, uint32_t server, uint64_t index,
                   int *transient);

/* A sequential reader entered chunk k of f: if its reads have found data off the page cache,
 * start the device reading the next chunks that are ours to read (about LOCAL_READ_AHEAD
 * bytes), opening them into f's cache. */
void local_read_ahead(benchfs_t *fs, struct bfs_file *f, uint64_t k);
#define LOCAL_READ_AHEAD (8u << 20)
void local_read_init(struct bfs_file *f);
void local_read_close(benchfs_t *fs, struct bfs_file *f); /* closes the chunk files f kept */

/* local_write.c — chunk writes to same-host servers: the server reserves (creates the chunk
 * file, counts the bytes: CHUNK_RESERVE), the client writes the file. Runs the calls of one
 * write (CHUNK_WRITEs from split(), pieces[i] where calls[i] lies); returns when all are
 * done. */
void local_write_run(benchfs_t *fs, struct bfs_file *f, struct rpc *calls,
                     const struct chunk_piece *pieces, size_t n);

/* errors.c — per-thread error text; these return -1 with errno set, for `return fail(...)` */
int bfs_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void bfs_clear_error(void);

/* namespace.c — shared by the file and directory code */
int meta_owner(benchfs_t *fs, const char *path);
int ns_lookup(benchfs_t *fs, const char *path, struct bfs_inode *ino);
/* As ns_lookup, but a miss is always -ENOENT (no ENOTDIR walk up the prefix): for callers
 * that already know the parent is a directory. */
int ns_lookup_entry(benchfs_t *fs, const char *path, struct bfs_inode *ino);
/* Normalise a user path, with a readable error. */
int ns_normalize(const char *in, char *out);
/* Check that the parent of `path` is a directory the caller may modify (w+x). */
int ns_check_parent(benchfs_t *fs, const char *path);
/* May the caller access `ino` with R_OK/W_OK/X_OK bits `want`? 0 or -EACCES. */
int ns_permitted(benchfs_t *fs, const struct bfs_inode *ino, int want);
int ns_set_size(benchfs_t *fs, const char *path, uint64_t fileid, uint64_t size, uint32_t how,
                int64_t mtime, struct bfs_inode *out);
/* Broadcast a chunk op (truncate/remove) for one file id to every server. */
int ns_chunks_broadcast(benchfs_t *fs, uint16_t op, uint64_t fileid, uint64_t size,
                        uint32_t chunk_size);

void ns_fill_stat(const struct bfs_inode *ino, benchfs_stat_t *st);
/* Set the size of a file to `length` and cut its chunks on every server. */
int ns_truncate_inode(benchfs_t *fs, const char *path, struct bfs_inode *ino, uint64_t length);
int ns_remove_entry(benchfs_t *fs, const char *path, uint32_t kind, uint64_t fileid,
                    struct bfs_inode *old);
/* Insert/replace an entry on its owner; *replaced / *old describe what was there. */
int ns_put_entry(benchfs_t *fs, const char *path, const struct bfs_inode *ino, uint32_t flags,
                 int *replaced, struct bfs_inode *old);

/* rename.c: the current path of a file id (a scan of every server; the slow path). */
int ns_find_fileid(benchfs_t *fs, uint64_t fileid, char *path_out);

/* directory.c */
typedef int (*list_fn)(void *arg, const benchfs_dirent_t *ent);
int dir_list(benchfs_t *fs, const char *dir, uint32_t page, list_fn fn, void *arg);
int dir_is_empty(benchfs_t *fs, const char *dir);

/* file.c */
int file_close_all(benchfs_t *fs);
/* A write through the chunks (f->ino.flags 0), as pwrite does it. */
ssize_t file_pwrite_chunks(benchfs_t *fs, struct bfs_file *f, const void *buf, size_t len,
                           uint64_t off);

/* small_file.c — files whose data is kept in their metadata record (DESIGN.md, Small files).
 * f->ino.flags non-zero marks such a descriptor; the hooks below return SMALL_CHUNKS when
 * the file is (now) in chunks and the caller's chunk path must do the work. */
#define SMALL_INLINE_DEFAULT 16384
#define SMALL_CHUNKS (-1000000)
/* open: LOOKUP_DATA (inode and data in one round trip) in place of ns_lookup; the data is
 * kept for small_open to give to the descriptor. */
int small_lookup(benchfs_t *fs, const char *path, struct bfs_inode *ino);
void small_open(benchfs_t *fs, struct bfs_file *f);
void small_close(struct bfs_file *f);
void small_stale(struct bfs_file *f); /* the data f saw is out of date: read it again */
ssize_t small_pread(benchfs_t *fs, struct bfs_file *f, void *buf, size_t len, uint64_t off);
ssize_t small_pwrite(benchfs_t *fs, struct bfs_file *f, const void *buf, size_t len,
                     uint64_t off);
/* fsync of an inline file: its metadata server's store only. 0 or -errno. */
int small_fsync(benchfs_t *fs, struct bfs_file *f);
/* SIZE_UPDATE(SET) that moves an inline file to chunks first when it must. 0 or -errno. */
int small_set_size(benchfs_t *fs, const char *path, struct bfs_inode *ino, uint64_t length);
/* Move the file at path (inode *ino, updated) to chunks; 0 or -errno. */
int small_move(benchfs_t *fs, const char *path, struct bfs_inode *ino);
/* Re-point open descriptors after a rename of `from` (a file or a directory) to `to`. */
void file_renamed(benchfs_t *fs, const char *from, const char *to);
/* After a truncate of file `fileid`: its open descriptors take the new size, and the writes
 * they made before it no longer need publishing (their close must not undo the truncate). */
void file_truncated(benchfs_t *fs, uint64_t fileid, uint64_t length);

#define ENTER(fs)                                                                                \
    do {                                                                                         \
        if (!(fs))                                                                               \
            return bfs_fail(EINVAL, "BenchFS context is NULL");                                  \
        LOCK(fs);                                                                                \
    } while (0)
#define LEAVE(fs, rc)                                                                            \
    do {                                                                                         \
        int rc_ = (rc);                                                                          \
        UNLOCK(fs);                                                                              \
        return rc_;                                                                              \
    } while (0)

#define LOCK(fs) pthread_mutex_lock(&(fs)->lock)
#define UNLOCK(fs) pthread_mutex_unlock(&(fs)->lock)

#endif
