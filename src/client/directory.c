/* SPDX-License-Identifier: BSD-3-Clause */
/* directory.c — listings. The entries of a directory are spread over every server (each
 * entry lives with the hash of its own path, so creates in one directory do not funnel
 * through one server); a listing asks all servers at once, page by page, and merges.
 * A directory stream (opendir) lists with READDIRPLUS: every entry comes with its inode, so
 * readdirplus costs no call per entry. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

struct benchfs_dir {
    benchfs_dirent_t *ents;
    benchfs_stat_t *stats; /* ents[i]'s attributes */
    size_t n, cap, pos;
};

int dir_list(benchfs_t *fs, const char *dir, uint32_t page, list_fn fn, void *arg)
{
    return dir_list_op(fs, dir, page, BFS_OP_READDIR, fn, arg);
}

int dir_list_op(benchfs_t *fs, const char *dir, uint32_t page, uint16_t op, list_fn fn,
                void *arg)
{
    uint32_t ns = fs->nservers;
    struct rpc *calls = calloc(ns, sizeof *calls);
    uint8_t (*args)[2 * BFS_PATH_MAX + 64] = calloc(ns, sizeof *args);
    char (*after)[BFS_NAME_MAX + 1] = calloc(ns, sizeof *after);
    int *more = calloc(ns, sizeof *more);
    int err = 0, stop = 0;
    if (!calls || !args || !after || !more)
        err = -ENOMEM;
    for (uint32_t s = 0; s < ns && !err; s++)
        more[s] = 1;
    while (!err && !stop) {
        /* One page from every server that still has entries. */
        size_t n = 0;
        for (uint32_t s = 0; s < ns; s++) {
            if (!more[s])
                continue;
            struct bfs_wbuf w;
            bfs_wb_init(&w, args[s], sizeof args[s]);
            bfs_wb_str(&w, dir);
            bfs_wb_u32(&w, page);
            bfs_wb_str(&w, after[s]);
            calls[n++] = (struct rpc){.server = s, .op = op, .args = args[s],
                                      .args_len = w.len};
        }
        if (n == 0)
            break;
        rpc_run(fs, calls, n);
        for (size_t i = 0; i < n; i++) {
            struct rpc *c = &calls[i];
            uint32_t s = c->server;
            more[s] = 0;
            if (c->status) {
                err = err ? err : -c->status;
                rpc_release(c);
                continue;
            }
            struct bfs_rbuf r;
            bfs_rb_init(&r, c->rargs, c->rargs_len);
            uint32_t count = bfs_rb_u32(&r);
            int has_more = bfs_rb_u8(&r);
            if (!bfs_rb_done(&r))
                err = err ? err : -EPROTO;
            bfs_rb_init(&r, c->rdata, c->rdata_len);
            for (uint32_t k = 0; k < count && !err && !r.err; k++) {
                benchfs_dirent_t ent;
                struct bfs_inode ino, *inop = NULL;
                if (op == BFS_OP_READDIRPLUS) {
                    bfs_rb_str(&r, ent.name, sizeof ent.name);
                    bfs_inode_get(&r, &ino);
                    if (!r.err && bfs_inode_check(&ino)) {
                        err = -EIO; /* see decode_inode (namespace.c) */
                        break;
                    }
                    ent.ino = ino.fileid;
                    ent.mode = ino.mode;
                    inop = &ino;
                } else {
                    ent.ino = bfs_rb_u64(&r);
                    ent.mode = bfs_rb_u32(&r);
                    bfs_rb_str(&r, ent.name, sizeof ent.name);
                }
                if (r.err)
                    break;
                strcpy(after[s], ent.name);
                if (!stop && fn(arg, &ent, inop) != 0)
                    stop = 1;
            }
            if (!bfs_rb_done(&r))
                err = err ? err : -EPROTO;
            more[s] = has_more && !err;
            rpc_release(c);
        }
    }
    free(calls);
    free(args);
    free(after);
    free(more);
    return err;
}

int dir_is_empty(benchfs_t *fs, const char *dir)
{
    uint8_t args[BFS_PATH_MAX + 64];
    struct bfs_wbuf w;
    bfs_wb_init(&w, args, sizeof args);
    bfs_wb_str(&w, dir);
    bfs_wb_u32(&w, 1);
    bfs_wb_str(&w, "");
    struct rpc *calls = calloc(fs->nservers, sizeof *calls);
    if (!calls)
        return -ENOMEM;
    for (uint32_t s = 0; s < fs->nservers; s++)
        calls[s] = (struct rpc){.server = s, .op = BFS_OP_READDIR, .args = args,
                                .args_len = w.len};
    rpc_run(fs, calls, fs->nservers);
    int result = 1;
    for (uint32_t s = 0; s < fs->nservers; s++) {
        if (calls[s].status) {
            result = -calls[s].status;
        } else if (result == 1) {
            struct bfs_rbuf r;
            bfs_rb_init(&r, calls[s].rargs, calls[s].rargs_len);
            if (bfs_rb_u32(&r) > 0)
                result = 0;
        }
        rpc_release(&calls[s]);
    }
    free(calls);
    return result;
}

/* One entry and its attributes, sorted together. */
struct plus_ent {
    benchfs_dirent_t ent;
    benchfs_stat_t st;
};

struct collector {
    struct plus_ent *v;
    size_t n, cap;
    int err;
};

static int collect(void *arg, const benchfs_dirent_t *ent, const struct bfs_inode *ino)
{
    struct collector *c = arg;
    if (!ino) {
        c->err = -EPROTO; /* READDIRPLUS always says */
        return -1;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64;
        struct plus_ent *g = realloc(c->v, cap * sizeof *g);
        if (!g) {
            c->err = -ENOMEM; /* a stop, not the end of the listing */
            return -1;
        }
        c->v = g;
        c->cap = cap;
    }
    c->v[c->n].ent = *ent;
    ns_fill_stat(ino, &c->v[c->n].st);
    c->n++;
    return 0;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(((const struct plus_ent *)a)->ent.name, ((const struct plus_ent *)b)->ent.name);
}

/* Resolve `path` to a directory the caller may list, into p. */
static int check_listable(benchfs_t *fs, const char *path, char *p)
{
    struct ns_res *r = malloc(sizeof *r);
    if (!r)
        return bfs_fail(ENOMEM, "opendir");
    int err = ns_resolve(fs, path, 1, r);
    struct bfs_inode ino = r->ino;
    if (!err)
        strcpy(p, r->path);
    free(r);
    if (err)
        return ns_fail_path(err, "opendir", path);
    if (!S_ISDIR(ino.mode))
        return bfs_fail(ENOTDIR, "opendir %s", p);
    if (ns_permitted(fs, &ino, R_OK))
        return bfs_fail(EACCES, "opendir %s", p);
    return 0;
}

/* The sorted listing into d (entries and attributes apart: readdir hands out entries). */
static int dir_snapshot(benchfs_t *fs, const char *p, benchfs_dir_t *d)
{
    struct collector c = {0};
    int err = dir_list_op(fs, p, 1024, BFS_OP_READDIRPLUS, collect, &c);
    if (!err)
        err = c.err;
    if (err) {
        free(c.v);
        return err;
    }
    /* A stable order, whatever the servers' interleaving. (An empty directory has v == NULL,
     * which qsort must not be given, even with 0 entries.) */
    if (c.n)
        qsort(c.v, c.n, sizeof *c.v, name_cmp);
    d->ents = malloc((c.n ? c.n : 1) * sizeof *d->ents);
    d->stats = malloc((c.n ? c.n : 1) * sizeof *d->stats);
    if (!d->ents || !d->stats) {
        free(c.v);
        return -ENOMEM;
    }
    for (size_t i = 0; i < c.n; i++) {
        d->ents[i] = c.v[i].ent;
        d->stats[i] = c.v[i].st;
    }
    d->n = d->cap = c.n;
    free(c.v);
    return 0;
}

BFS_API benchfs_dir_t *benchfs_opendir(benchfs_t *fs, const char *path)
{
    char p[BFS_PATH_MAX];
    if (!fs) {
        bfs_fail(EINVAL, "BenchFS context is NULL");
        return NULL;
    }
    LOCK(fs);
    cred_load(fs);
    benchfs_dir_t *d = NULL;
    if (check_listable(fs, path, p) == 0) {
        d = calloc(1, sizeof *d);
        if (!d) {
            bfs_fail(ENOMEM, "opendir %s", p);
        } else {
            int err = dir_snapshot(fs, p, d);
            if (err) {
                bfs_fail(-err, "opendir %s", p);
                free(d->ents);
                free(d->stats);
                free(d);
                d = NULL;
            }
        }
    }
    UNLOCK(fs);
    return d;
}

BFS_API const benchfs_dirent_t *benchfs_readdir(benchfs_dir_t *dir)
{
    if (!dir) {
        errno = EBADF;
        return NULL;
    }
    return dir->pos < dir->n ? &dir->ents[dir->pos++] : NULL;
}

BFS_API const benchfs_dirent_t *benchfs_readdirplus(benchfs_dir_t *dir, benchfs_stat_t *st)
{
    if (!dir) {
        errno = EBADF;
        return NULL;
    }
    if (dir->pos >= dir->n)
        return NULL;
    if (st)
        *st = dir->stats[dir->pos];
    return &dir->ents[dir->pos++];
}

BFS_API int benchfs_closedir(benchfs_dir_t *dir)
{
    if (!dir)
        return bfs_fail(EBADF, "closedir(NULL)");
    free(dir->ents);
    free(dir->stats);
    free(dir);
    return 0;
}

struct cb_adapter {
    int (*fn)(const benchfs_dirent_t *, void *);
    void *arg;
};

static int call_user(void *arg, const benchfs_dirent_t *ent, const struct bfs_inode *ino)
{
    (void)ino;
    struct cb_adapter *a = arg;
    return a->fn(ent, a->arg);
}

BFS_API int benchfs_readdir_cb(benchfs_t *fs, const char *path,
                               int (*fn)(const benchfs_dirent_t *ent, void *arg), void *arg)
{
    char p[BFS_PATH_MAX];
    if (!fn)
        return bfs_fail(EINVAL, "readdir callback is NULL");
    ENTER(fs);
    if (check_listable(fs, path, p))
        LEAVE(fs, -1);
    struct cb_adapter a = {fn, arg};
    int err = dir_list(fs, p, 1024, call_user, &a);
    LEAVE(fs, err ? bfs_fail(-err, "readdir %s", p) : 0);
}
