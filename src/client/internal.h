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

/* Space a same-host server has allocated in one chunk file for this descriptor's direct
 * writes, ahead of them (local_write.c). */
struct reserved_window {
    uint64_t index;  /* chunk */
    uint64_t lo, hi; /* [lo, hi) allocated; hi == 0: empty */
    uint64_t total;  /* bytes reserved in this chunk so far: the next window's size */
};
#define RESERVED_WINDOWS 4

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
    struct reserved_window rw[RESERVED_WINDOWS]; /* next_rw: next to reuse */
    unsigned next_rw;
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
    int dircache_ms;   /* parent checks may use a directory this old ($BENCHFS_DIR_CACHE_MS) */
    struct dircache_slot *dircache; /* dircache.c; NULL until first used */
    pid_t pid;         /* the process whose sockets conns[] hold (a forked child reconnects) */
    unsigned fork_gen; /* forks seen (rpc.c): a new one makes the next call compare pids */
    int local_fds;     /* chunk files kept open by descriptors (local_read.c), all told */
    uint64_t next_reqid;
    struct rpc *table[RPC_TABLE_SLOTS];
    /* The identity of the call in progress (cred.c: loaded by ENTER): permission checks and
     * the owner of what is created. Groups other than gid are read when a check needs them. */
    uid_t uid;
    gid_t gid;
    const gid_t *cred_groups;
    int cred_ngroups;
    int cred_groups_known;
    gid_t *groups; /* the process's groups, when read (ngroups_cap entries allocated) */
    int ngroups_cap;
    /* An absolute symlink target under this prefix is a BenchFS path (resolve.c); "": none */
    char mount_prefix[BFS_PATH_MAX];
    /* open files: fd is the index */
    struct bfs_file **files;
    int nfiles;
};

/* rpc.c */
int rpc_setup(benchfs_t *fs);
/* Notice forks from now on (pthread_atfork, registered once per process). */
void rpc_fork_watch(benchfs_t *fs);
/* The call waiting for request id reqid (find: it stays; take: it leaves the table). */
struct rpc *rpc_table_find(benchfs_t *fs, uint64_t reqid);
struct rpc *rpc_table_take(benchfs_t *fs, uint64_t reqid);
/* Run n calls concurrently (at most RPC_WINDOW in flight); returns when all are done.
 * Each call's status is in calls[i].status. */
void rpc_run(benchfs_t *fs, struct rpc *calls, size_t n);
/* A call without arguments to every server, run concurrently: nservers calls (the caller
 * releases and frees them), or NULL (out of memory). */
struct rpc *rpc_run_all(benchfs_t *fs, uint16_t op);
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

/* cred.c — the calling thread's identity, loaded into fs at each call (ENTER). */
void cred_load(benchfs_t *fs);
/* Is gid the call's gid or one of its supplementary groups? */
int cred_in_group(benchfs_t *fs, gid_t gid);

/* errors.c — per-thread error text; these return -1 with errno set, for `return fail(...)` */
int bfs_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void bfs_clear_error(void);

/* namespace.c — shared by the file and directory code */
int meta_owner(benchfs_t *fs, const char *path);
/* Normalise a user path lexically (no links followed), with a readable error. */
int ns_normalize(const char *in, char *out);
/* May the caller access `ino` with R_OK/W_OK/X_OK bits `want`? 0 or -EACCES. */
int ns_permitted(benchfs_t *fs, const struct bfs_inode *ino, int want);
/* bfs_fail for a call on a user path that failed with -err; returns -1. */
int ns_fail_path(int err, const char *what, const char *path);
/* For calls that make or remove the last name of `in` itself (mkdir, symlink, unlink, rmdir,
 * rename): out := its resolved parent + that name; the parent must be a directory the caller
 * may change (w+x). 0, or -1 with the error set. out "/" (no parent) is the caller's to judge. */
int ns_parent_for_change(benchfs_t *fs, const char *in, char *out, const char *what);
/* As ns_parent_for_change, and the parent's inode into *pi (unset when out is "/"): for the
 * calls that remove or replace an entry (ns_sticky_permits). */
int ns_parent_for_remove(benchfs_t *fs, const char *in, char *out, const char *what,
                         struct bfs_inode *pi);

/* special.c — the sticky-directory and set-id rules (Linux's) */
/* May the caller remove or replace `entry` of directory `dir`? In a sticky directory only
 * root, the directory's owner or the entry's owner may. 0, or -1 with EPERM set. */
int ns_sticky_permits(benchfs_t *fs, const struct bfs_inode *dir, const struct bfs_inode *entry,
                      const char *what, const char *path);
/* The permission bits `ino` keeps after a change of owner (chown 1: whoever asks) or a write
 * or truncate (chown 0: by someone else than root): set-user-ID and set-group-ID (the latter only with
 * group execute) fall from everything but directories. */
uint32_t ns_setid_cleared(benchfs_t *fs, const struct bfs_inode *ino, int chown);
/* stat (follow) or lstat. */
int ns_stat_path(benchfs_t *fs, const char *path, int follow, benchfs_stat_t *st);
/* SETATTR of the fields in mask. */
int ns_setattr(benchfs_t *fs, const char *path, uint32_t mask, uint32_t mode, uint32_t uid,
               uint32_t gid, int64_t mtime, int64_t atime);

/* resolve.c — paths with symbolic links. */
struct ns_res {
    char path[BFS_PATH_MAX];             /* the entry's link-free path */
    struct bfs_inode ino;                /* valid when 0 is returned */
    char target[BFS_SYMLINK_MAX + 1];    /* ino is a link (not followed): its target */
    int missing; /* -ENOENT only: the last name is absent, its parent an existing directory */
    int hops;    /* links followed so far (set by the resolution itself) */
};
/* Resolve a user path (absolute, "."/".."/"//" allowed), following links in every component
 * and, if follow, in the last. 0, or -errno (ENOENT, ENOTDIR, ELOOP, EXDEV, ENAMETOOLONG,
 * EINVAL for NULL or relative, ENOENT for "", ...). */
int ns_resolve(benchfs_t *fs, const char *in, int follow, struct ns_res *res);
/* As ns_resolve, for open: the entry itself is looked up with LOOKUP_DATA (small_lookup), so
 * an inline file's data comes with its inode. */
int ns_resolve_open(benchfs_t *fs, const char *in, int follow, struct ns_res *res);
/* The resolved parent (followed, a directory: *pi) of the last name of `in`, and out := parent
 * + name. "dir/." and "dir/.." name the directory itself. */
int ns_resolve_parent(benchfs_t *fs, const char *in, char *out, struct bfs_inode *pi);
/* LOOKUP of a link-free path; a link's target into target (BFS_SYMLINK_MAX + 1 bytes) if
 * not NULL. The root is answered here. */
int ns_lookup_link(benchfs_t *fs, const char *path, struct bfs_inode *ino, char *target);
/* A LOOKUP reply: the inode, checked, and a link's target. */
int ns_lookup_decode(const struct rpc *c, struct bfs_inode *ino, char *target);
/* Where a link in directory `dir` pointing at `target` leads: dir/target, or the BenchFS
 * path of an absolute target (-EXDEV outside the mount prefix). */
int ns_link_join(benchfs_t *fs, const char *dir, const char *target, char *out, size_t cap);
/* The checks every user path passes first: 0, or -1 with the error set. */
int ns_check_user_path(const char *in);
/* The path in names lexically (single slashes, no trailing one) into out, if it has no "."
 * or ".." component and is not the root; 0 or -1. */
int ns_lexical_path(const char *in, char *out);
int ns_set_size(benchfs_t *fs, const char *path, uint64_t fileid, uint64_t size, uint32_t how,
                int64_t mtime, struct bfs_inode *out);
/* A chunk op (CHUNK_REMOVE, CHUNK_TRUNCATE to `size`, FSYNC) for one file, sent to the
 * distinct servers of the chunks that can exist (below the inode's extent: proto.h; for a
 * truncate, from the chunk holding `size` on), concurrently; 0 or the first -errno. */
int ns_chunks_op(benchfs_t *fs, uint16_t op, const struct bfs_inode *ino, uint64_t size);

void ns_fill_stat(const struct bfs_inode *ino, benchfs_stat_t *st);
/* Set the size of a file to `length` and cut its chunks on the servers holding them. */
int ns_truncate_inode(benchfs_t *fs, const char *path, struct bfs_inode *ino, uint64_t length);
int ns_remove_entry(benchfs_t *fs, const char *path, uint32_t kind, uint64_t fileid,
                    struct bfs_inode *old);
/* Insert/replace an entry on its owner (a link with its target); *replaced / *old describe
 * what was there. */
int ns_put_entry(benchfs_t *fs, const char *path, const struct bfs_inode *ino,
                 const char *target, uint32_t flags, int *replaced, struct bfs_inode *old);

/* rename.c: the current path of a file id (a scan of every server; the slow path). */
int ns_find_fileid(benchfs_t *fs, uint64_t fileid, char *path_out);

/* directory.c */
/* ino: the entry's inode (READDIRPLUS), NULL for READDIR. */
typedef int (*list_fn)(void *arg, const benchfs_dirent_t *ent, const struct bfs_inode *ino);
int dir_list(benchfs_t *fs, const char *dir, uint32_t page, list_fn fn, void *arg);
/* op: BFS_OP_READDIR or BFS_OP_READDIRPLUS. */
int dir_list_op(benchfs_t *fs, const char *dir, uint32_t page, uint16_t op, list_fn fn,
                void *arg);
int dir_is_empty(benchfs_t *fs, const char *dir);

/* dircache.c: directories looked up a moment ago, for parent checks. get: 0 (fresh, *ino set)
 * or -1; put: only directories at link-free paths; clear: after this context changed any. */
int dircache_get(benchfs_t *fs, const char *path, struct bfs_inode *ino);
void dircache_put(benchfs_t *fs, const char *path, const struct bfs_inode *ino);
void dircache_clear(benchfs_t *fs);
void dircache_free(benchfs_t *fs);

/* file.c */
int file_close_all(benchfs_t *fs);
/* create.c: O_CREAT's resolve-check-create; out: the path opened, *created: this call made it. */
int file_open_create(benchfs_t *fs, const char *in, int flags, mode_t mode,
                     struct bfs_inode *ino, int *created, char *out);
/* Publish what this context's descriptors of file `fileid` wrote (size and mtime): before a
 * time is set, so no later close puts an older write's mtime over it. */
int file_flush_fileid(benchfs_t *fs, uint64_t fileid);
/* The descriptor's file, with the error set if fd is not open. */
struct bfs_file *file_get(benchfs_t *fs, int fd);
/* A write through the chunks (f->ino.flags 0), as pwrite does it. */
ssize_t file_pwrite_chunks(benchfs_t *fs, struct bfs_file *f, const void *buf, size_t len,
                           uint64_t off);

/* small_file.c — files whose data is kept in their metadata record (DESIGN.md, Small files).
 * f->ino.flags non-zero marks such a descriptor; the hooks below return SMALL_CHUNKS when
 * the file is (now) in chunks and the caller's chunk path must do the work. */
#define SMALL_INLINE_DEFAULT 16384
#define SMALL_CHUNKS (-1000000)
/* open: LOOKUP_DATA (inode and data in one round trip) in place of ns_lookup_link (a link's
 * target in target, as there); an inline file's data is kept for small_open to give to the
 * descriptor. Called by ns_resolve_open for the entry itself. */
int small_lookup(benchfs_t *fs, const char *path, struct bfs_inode *ino, char *target);
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
        cred_load(fs);                                                                           \
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
