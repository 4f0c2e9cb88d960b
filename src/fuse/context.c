/* SPDX-License-Identifier: BSD-3-Clause */
/* context.c — the library contexts of benchfs-fuse and the identity of each request.
 * A benchfs_t serialises its calls, so one shared context would make the multithreaded FUSE
 * loop single-file. Each worker thread takes a context of its own on its first request
 * (created lazily, or one left by a thread that ended: FUSE starts and ends workers with the
 * load, and contexts are too costly to make per thread lifetime); past max_contexts, threads
 * share them round robin. Before each request the thread acts, through
 * benchfs_set_thread_cred, as the process that made the request, so the library's permission
 * checks and the owner of what is created are that process's. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bfuse.h"

struct bfuse_conf bfuse_conf;

struct thread_state {
    benchfs_t *fs;
    int owned; /* fs is this thread's alone: back to the free list at thread exit */
    int have_cred;
    pid_t pid;
    uid_t uid;
    gid_t gid;
    struct timespec when; /* when the groups were read */
};

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static benchfs_t **pool;      /* every context made, in order */
static unsigned npool, nmaking;
static benchfs_t **free_list; /* contexts no live thread owns */
static unsigned nfree, next_shared;
static pthread_key_t state_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static __thread struct thread_state *self;

int bfuse_errno(int e)
{
    switch (e) {
    case 0:
    case EHOSTDOWN:
    case EHOSTUNREACH:
    case ENETDOWN:
    case ENETUNREACH:
    case ECONNREFUSED:
    case ECONNRESET:
    case ECONNABORTED:
    case ENOTCONN:
    case ESHUTDOWN:
    case EPIPE:
    case EPROTO:
        return EIO;
    case ENOSYS:
        /* ENOSYS tells the kernel an operation is not implemented at all: after one from
         * open, flush, fsync or create it stops sending them, and files "open" with no
         * handle. The library's ENOSYS is a call it cannot do. */
        return EOPNOTSUPP;
    default:
        return e;
    }
}

static benchfs_t *connect_cluster(void)
{
    benchfs_options_t o;
    memset(&o, 0, sizeof o);
    o.registry = bfuse_conf.registry;
    o.rpc_timeout_ms = bfuse_conf.rpc_timeout_ms;
    o.mount_prefix = bfuse_conf.mountpoint;
    return benchfs_init_opts(&o);
}

int bfuse_probe(void)
{
    benchfs_t *fs = connect_cluster();
    if (!fs)
        return -errno;
    benchfs_term(fs);
    return 0;
}

static void thread_gone(void *arg)
{
    struct thread_state *ts = arg;
    if (ts->owned) {
        pthread_mutex_lock(&pool_lock);
        free_list[nfree++] = ts->fs;
        pthread_mutex_unlock(&pool_lock);
    }
    free(ts);
}

static void make_key(void) { (void)pthread_key_create(&state_key, thread_gone); }

/* A context for a thread that has none: a free one, a new one, or (pool full) a shared one. */
static int take_context(struct thread_state *ts)
{
    pthread_mutex_lock(&pool_lock);
    if (!pool) {
        pool = calloc(bfuse_conf.max_contexts, sizeof *pool);
        free_list = calloc(bfuse_conf.max_contexts, sizeof *free_list);
        if (!pool || !free_list) {
            free(pool), free(free_list);
            pool = free_list = NULL;
            pthread_mutex_unlock(&pool_lock);
            return -ENOMEM;
        }
    }
    if (nfree > 0) {
        ts->fs = free_list[--nfree];
        ts->owned = 1;
        pthread_mutex_unlock(&pool_lock);
        return 0;
    }
    if (npool + nmaking >= bfuse_conf.max_contexts) {
        if (npool == 0) { /* all still being made: wait for none, fail this one */
            pthread_mutex_unlock(&pool_lock);
            return -EAGAIN;
        }
        ts->fs = pool[next_shared++ % npool];
        ts->owned = 0;
        pthread_mutex_unlock(&pool_lock);
        return 0;
    }
    nmaking++;
    pthread_mutex_unlock(&pool_lock);
    /* Connecting can wait for the registry: not under the lock. */
    benchfs_t *fs = connect_cluster();
    int err = fs ? 0 : -errno;
    pthread_mutex_lock(&pool_lock);
    nmaking--;
    if (fs)
        pool[npool++] = fs;
    pthread_mutex_unlock(&pool_lock);
    ts->fs = fs;
    ts->owned = fs != NULL;
    return err;
}

static int64_t ms_since(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)(now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

/* Act as the process that made the current request. The supplementary groups are read from
 * /proc (fuse_getgroups); a thread keeps them for a second for the same process. */
static int set_identity(struct thread_state *ts)
{
    const struct fuse_context *fc = fuse_get_context();
    if (ts->have_cred && ts->pid == fc->pid && ts->uid == fc->uid && ts->gid == fc->gid &&
        ms_since(&ts->when) < 1000)
        return 0;
    gid_t groups[BENCHFS_MAX_GROUPS];
    int n = fc->pid > 0 ? fuse_getgroups(BENCHFS_MAX_GROUPS, groups) : 0;
    if (n < 0)
        n = 0; /* the process is gone already: its uid and gid alone */
    if (n > BENCHFS_MAX_GROUPS)
        n = BENCHFS_MAX_GROUPS;
    benchfs_cred_t cred = {.uid = fc->uid, .gid = fc->gid, .ngroups = n, .groups = groups};
    if (benchfs_set_thread_cred(&cred) != 0) {
        ts->have_cred = 0;
        return -bfuse_errno(errno);
    }
    ts->have_cred = 1;
    ts->pid = fc->pid;
    ts->uid = fc->uid;
    ts->gid = fc->gid;
    clock_gettime(CLOCK_MONOTONIC, &ts->when);
    return 0;
}

benchfs_t *bfuse_begin(int *err)
{
    if (!self) {
        pthread_once(&key_once, make_key);
        self = calloc(1, sizeof *self);
        if (!self) {
            *err = -ENOMEM;
            return NULL;
        }
        pthread_setspecific(state_key, self);
    }
    if (!self->fs) {
        int e = take_context(self);
        if (e) {
            *err = -bfuse_errno(-e);
            return NULL;
        }
    }
    int e = set_identity(self);
    if (e) {
        *err = e;
        return NULL;
    }
    return self->fs;
}

int bfuse_act_as_kernel(void)
{
    benchfs_cred_t root = {.uid = 0, .gid = 0, .ngroups = 0, .groups = NULL};
    if (self)
        self->have_cred = 0; /* the next request sets its requester's identity again */
    return benchfs_set_thread_cred(&root) == 0 ? 0 : -bfuse_errno(errno);
}

void bfuse_contexts_term(void)
{
    pthread_mutex_lock(&pool_lock);
    for (unsigned i = 0; i < npool; i++)
        benchfs_term(pool[i]);
    npool = nfree = 0;
    pthread_mutex_unlock(&pool_lock);
}

void bfuse_fill_stat(const benchfs_stat_t *b, struct stat *st)
{
    memset(st, 0, sizeof *st);
    st->st_ino = b->ino ? b->ino : 1; /* the root's file id is 0 */
    st->st_mode = b->mode;
    st->st_nlink = b->nlink ? b->nlink : 1;
    st->st_uid = b->uid;
    st->st_gid = b->gid;
    st->st_size = (off_t)b->size;
    st->st_blocks = (blkcnt_t)b->blocks;
    st->st_blksize = b->blksize ? (blksize_t)b->blksize : 4096;
    st->st_atim.tv_sec = b->atime_ns / 1000000000;
    st->st_atim.tv_nsec = b->atime_ns % 1000000000;
    st->st_mtim.tv_sec = b->mtime_ns / 1000000000;
    st->st_mtim.tv_nsec = b->mtime_ns % 1000000000;
    st->st_ctim.tv_sec = b->ctime_ns / 1000000000;
    st->st_ctim.tv_nsec = b->ctime_ns % 1000000000;
    st->st_rdev = (dev_t)b->rdev;
}
