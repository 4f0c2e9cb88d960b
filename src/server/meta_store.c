/* SPDX-License-Identifier: BSD-3-Clause */
#include "meta_store.h"

#include <errno.h>
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "common/path.h"
#include "common/ring.h"
#include "meta_store_txn.h"

/* A link's target follows the path (S_IFLNK only). */
#define VAL_MAX (BFS_INODE_WIRE_LEN + 2 + BFS_PATH_MAX + 2 + BFS_SYMLINK_MAX)

/* Value: the base inode record, the path, the chunk extent (u64), the flags (u32), then a
 * link's target (str, S_IFLNK only). Records written before the extent existed end after the
 * path: their extent is unknown (any chunk may exist), their flags 0; no such record is a
 * link (links came after the extent). Records written before the flags existed end after the
 * extent, or (links) hold the target right after it: their flags are 0. */

int lmdb_errno(int rc)
{
    switch (rc) {
    case 0: return 0;
    case MDB_NOTFOUND: return -ENOENT;
    case MDB_MAP_FULL: return -ENOSPC;
    case MDB_KEYEXIST: return -EEXIST;
    default:
        if (rc > 0 && rc < 200)
            return -rc; /* LMDB passes system errnos through */
        LOG_ERR("lmdb: %s", mdb_strerror(rc));
        return -EIO;
    }
}

/* Key of a child `name` of a directory whose path hashes to `phash`. */
static size_t make_key_h(uint8_t *key, uint64_t phash, const char *name)
{
    for (int i = 0; i < 8; i++)
        key[i] = (uint8_t)(phash >> (56 - 8 * i));
    size_t n = strlen(name);
    memcpy(key + 8, name, n);
    return 8 + n;
}

static int make_key(uint8_t *key, size_t *len, const char *path)
{
    char parent[BFS_PATH_MAX];
    const char *name = bfs_path_split(path, parent);
    if (!name || !*name)
        return -EINVAL; /* the root is implicit, never stored */
    if (strlen(name) > BFS_NAME_MAX)
        return -EINVAL; /* would overflow the key (SUBTREE after-paths come from the wire) */
    *len = make_key_h(key, bfs_hash_path(parent), name);
    return 0;
}

static size_t encode_val(uint8_t *buf, const char *path, const struct bfs_inode *ino,
                         const char *target)
{
    struct bfs_wbuf w;
    bfs_wb_init(&w, buf, VAL_MAX);
    bfs_inode_put_base(&w, ino);
    bfs_wb_str(&w, path);
    bfs_wb_u64(&w, ino->extent);
    bfs_wb_u32(&w, ino->flags);
    if (S_ISLNK(ino->mode))
        bfs_wb_str(&w, target ? target : "");
    return w.len;
}

/* Decode a stored value; path and target (BFS_SYMLINK_MAX + 1 bytes) are optional; the
 * target is "" unless the inode is a link. Corrupt values read as -EIO. */
static int decode_val(const MDB_val *v, struct bfs_inode *ino, char *path, char *target)
{
    struct bfs_rbuf r;
    bfs_rb_init(&r, v->mv_data, v->mv_size);
    bfs_inode_get_base(&r, ino);
    char tmp[BFS_PATH_MAX];
    bfs_rb_str(&r, path ? path : tmp, BFS_PATH_MAX);
    ino->extent = r.err || bfs_rb_done(&r) ? BFS_EXTENT_UNKNOWN : bfs_rb_u64(&r);
    /* No flags: the record ends here, or a link's target (str of inode.size bytes) follows. */
    size_t rest = r.err ? 0 : r.len - r.off;
    int no_flags = rest == 0 || (S_ISLNK(ino->mode) && rest == 2 + ino->size);
    ino->flags = no_flags ? 0 : bfs_rb_u32(&r);
    char ttmp[BFS_SYMLINK_MAX + 1];
    char *t = target ? target : ttmp;
    t[0] = '\0';
    if (S_ISLNK(ino->mode))
        bfs_rb_str(&r, t, BFS_SYMLINK_MAX + 1);
    return bfs_rb_done(&r) ? 0 : -EIO;
}

int meta_open(struct meta_store **out, const char *dir, uint64_t map_size)
{
    struct meta_store *m = calloc(1, sizeof *m);
    if (!m)
        return -ENOMEM;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        free(m);
        return -errno;
    }
    int rc = mdb_env_create(&m->env);
    if (!rc)
        rc = mdb_env_set_mapsize(m->env, map_size);
    if (!rc)
        rc = mdb_env_set_maxdbs(m->env, 2); /* the inline data (meta_inline.c) */
    if (!rc)
        rc = mdb_env_open(m->env, dir, MDB_NOSYNC | MDB_NOTLS, 0600);
    MDB_txn *txn = NULL;
    if (!rc)
        rc = mdb_txn_begin(m->env, NULL, 0, &txn);
    if (!rc)
        rc = mdb_dbi_open(txn, NULL, 0, &m->dbi);
    if (!rc)
        rc = mdb_dbi_open(txn, "inline", MDB_CREATE, &m->idbi);
    if (!rc)
        rc = mdb_txn_commit(txn);
    else if (txn)
        mdb_txn_abort(txn);
    if (rc) {
        LOG_ERR("metadata store %s: %s", dir, mdb_strerror(rc));
        if (m->env)
            mdb_env_close(m->env);
        free(m);
        return lmdb_errno(rc);
    }
    *out = m;
    return 0;
}

void meta_close(struct meta_store *m)
{
    if (!m)
        return;
    mdb_env_sync(m->env, 1);
    mdb_env_close(m->env);
    free(m);
}

int meta_sync(struct meta_store *m) { return lmdb_errno(mdb_env_sync(m->env, 1)); }

int wtxn_begin(struct meta_store *m, struct wtxn *t, const char *path, int write)
{
    size_t klen;
    int err = make_key(t->key, &klen, path);
    if (err)
        return err;
    t->k.mv_data = t->key;
    t->k.mv_size = klen;
    return lmdb_errno(mdb_txn_begin(m->env, NULL, write ? 0 : MDB_RDONLY, &t->txn));
}

int wtxn_end(struct wtxn *t, int err)
{
    if (err) {
        mdb_txn_abort(t->txn);
        return err;
    }
    return lmdb_errno(mdb_txn_commit(t->txn));
}

int txn_get(struct meta_store *m, struct wtxn *t, struct bfs_inode *ino, char *target)
{
    MDB_val v;
    int rc = mdb_get(t->txn, m->dbi, &t->k, &v);
    if (rc)
        return lmdb_errno(rc);
    return decode_val(&v, ino, NULL, target);
}

int txn_put(struct meta_store *m, struct wtxn *t, const char *path, const struct bfs_inode *ino,
            const char *target)
{
    uint8_t buf[VAL_MAX];
    MDB_val v = {.mv_size = encode_val(buf, path, ino, target), .mv_data = buf};
    return lmdb_errno(mdb_put(t->txn, m->dbi, &t->k, &v, 0));
}

int meta_get(struct meta_store *m, const char *path, struct bfs_inode *out, char *target)
{
    struct wtxn t;
    int err = wtxn_begin(m, &t, path, 0);
    if (err)
        return err;
    err = txn_get(m, &t, out, target);
    mdb_txn_abort(t.txn);
    return err;
}

int meta_create(struct meta_store *m, const char *path, const struct bfs_inode *ino,
                const char *target, int excl, struct bfs_inode *out, int *created)
{
    struct wtxn t;
    int err = wtxn_begin(m, &t, path, 1);
    if (err)
        return err;
    *created = 0;
    err = txn_get(m, &t, out, NULL);
    if (err == 0) {
        if (excl)
            err = -EEXIST;
        else if (S_ISDIR(out->mode) && !S_ISDIR(ino->mode))
            err = -EISDIR;
        else if (S_ISDIR(ino->mode))
            err = -EEXIST;
        if (err)
            return wtxn_end(&t, err);
        mdb_txn_abort(t.txn);
        return 0;
    }
    if (err != -ENOENT)
        return wtxn_end(&t, err);
    err = txn_put(m, &t, path, ino, target);
    if (!err) {
        *out = *ino;
        *created = 1;
    }
    return wtxn_end(&t, err);
}

int meta_put(struct meta_store *m, const char *path, const struct bfs_inode *ino,
             const char *target, int noreplace, struct bfs_inode *old, int *replaced)
{
    struct wtxn t;
    int err = wtxn_begin(m, &t, path, 1);
    if (err)
        return err;
    err = txn_get(m, &t, old, NULL);
    *replaced = err == 0;
    if (err == 0 && noreplace)
        return wtxn_end(&t, -EEXIST);
    if (err && err != -ENOENT)
        return wtxn_end(&t, err);
    if (ino->flags)
        return wtxn_end(&t, -EINVAL); /* inline data does not travel with META_PUT */
    err = *replaced ? inline_drop(m, &t) : 0;
    return wtxn_end(&t, err ? err : txn_put(m, &t, path, ino, target));
}

int meta_setattr(struct meta_store *m, const char *path, uint32_t mask, uint32_t mode,
                 uint32_t uid, uint32_t gid, int64_t mtime, int64_t atime, int64_t ctime,
                 struct bfs_inode *out)
{
    struct wtxn t;
    int err = wtxn_begin(m, &t, path, 1);
    if (err)
        return err;
    char target[BFS_SYMLINK_MAX + 1];
    err = txn_get(m, &t, out, target);
    if (!err) {
        if (mask & BFS_SETATTR_MODE)
            out->mode = (out->mode & S_IFMT) | (mode & 07777);
        if (mask & BFS_SETATTR_UID)
            out->uid = uid;
        if (mask & BFS_SETATTR_GID)
            out->gid = gid;
        if (mask & BFS_SETATTR_MTIME)
            out->mtime_ns = mtime;
        if (mask & BFS_SETATTR_ATIME)
            out->atime_ns = atime;
        out->ctime_ns = ctime;
        err = txn_put(m, &t, path, out, target);
    }
    return wtxn_end(&t, err);
}

int meta_set_size(struct meta_store *m, const char *path, uint64_t fileid, uint64_t size,
                  uint32_t how, int64_t mtime, struct bfs_inode *out)
{
    struct wtxn t;
    int err = wtxn_begin(m, &t, path, 1);
    if (err)
        return err;
    err = txn_get(m, &t, out, NULL);
    if (!err && S_ISDIR(out->mode) && how != BFS_SIZE_QUERY)
        err = -EISDIR;
    if (!err && !S_ISREG(out->mode) && !S_ISDIR(out->mode))
        err = -EINVAL; /* a link has no data (clients size what it points at), nor has a
                          special file (its extent is a device number) */
    if (!err && fileid && out->fileid != fileid)
        err = -ESTALE;
    if (!err && how == BFS_SIZE_QUERY) {
        mdb_txn_abort(t.txn);
        return 0;
    }
    if (!err && how == BFS_SIZE_RESERVE) {
        if (out->extent != BFS_EXTENT_UNKNOWN && size > out->extent)
            out->extent = size;
        else {
            mdb_txn_abort(t.txn); /* already covered: nothing to write */
            return 0;
        }
    } else if (!err && out->flags && (how == BFS_SIZE_SET || size > out->size)) {
        err = inline_resize(m, &t, out, size);
    }
    if (!err && how != BFS_SIZE_RESERVE) {
        if (how == BFS_SIZE_SET || size > out->size)
            out->size = size;
        if (mtime > out->mtime_ns)
            out->mtime_ns = mtime;
        out->ctime_ns = out->mtime_ns;
    }
    if (!err)
        err = txn_put(m, &t, path, out, NULL);
    return wtxn_end(&t, err);
}

/* A read-only transaction and a cursor on the entries; 0 or -errno (nothing to release). */
static int read_cursor(struct meta_store *m, MDB_txn **txn, MDB_cursor **cur)
{
    int rc = mdb_txn_begin(m->env, NULL, MDB_RDONLY, txn);
    if (!rc && (rc = mdb_cursor_open(*txn, m->dbi, cur)) != 0)
        mdb_txn_abort(*txn);
    return lmdb_errno(rc);
}

/* Is this key an entry's (parent hash + name), not the name of a sub-database
 * (meta_inline.c) or anything else this store never writes? */
static int is_entry_key(const MDB_val *k) { return k->mv_size > 8 && k->mv_size <= KEY_MAX; }

int meta_remove(struct meta_store *m, const char *path, uint32_t kind, uint64_t fileid,
                struct bfs_inode *old)
{
    struct wtxn t;
    int err = wtxn_begin(m, &t, path, 1);
    if (err)
        return err;
    err = txn_get(m, &t, old, NULL);
    if (!err && kind == BFS_REMOVE_FILE && S_ISDIR(old->mode))
        err = -EISDIR;
    if (!err && kind == BFS_REMOVE_DIR && !S_ISDIR(old->mode))
        err = -ENOTDIR;
    if (!err && fileid && old->fileid != fileid)
        err = -ESTALE;
    if (!err)
        err = lmdb_errno(mdb_del(t.txn, m->dbi, &t.k, NULL));
    if (!err && old->flags)
        err = inline_drop(m, &t);
    return wtxn_end(&t, err);
}

/* Shared cursor walk for readdir and subtree. */
static int walk(struct meta_store *m, const uint8_t *start, size_t start_len, int skip_equal,
                int (*accept)(void *ctx, const MDB_val *k, const char *path,
                              const struct bfs_inode *ino, const char *target, int dry,
                              int *stop),
                void *ctx, uint32_t max, int *more)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    int rc = read_cursor(m, &txn, &cur);
    if (rc)
        return rc;
    MDB_val k = {.mv_size = start_len, .mv_data = (void *)start}, v;
    int count = 0, err = 0;
    *more = 0;
    rc = mdb_cursor_get(cur, &k, &v, start_len ? MDB_SET_RANGE : MDB_FIRST);
    if (rc == 0 && skip_equal && k.mv_size == start_len && memcmp(k.mv_data, start, start_len) == 0)
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    char path[BFS_PATH_MAX], target[BFS_SYMLINK_MAX + 1];
    struct bfs_inode ino;
    while (rc == 0) {
        if (!is_entry_key(&k)) {
            /* not an entry */
        } else if (decode_val(&v, &ino, path, target) != 0) {
            LOG_WARN("metadata store: skipping a corrupt record");
        } else {
            int stop = 0;
            if ((uint32_t)count >= max) {
                /* Only report "more" if the next entry would have been accepted. */
                int more_here = accept(ctx, &k, path, &ino, target, 1, &stop) > 0 && !stop;
                if (!more_here && !stop) {
                    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
                    continue; /* skipped entry: keep probing */
                }
                *more = more_here;
                break;
            }
            int r = accept(ctx, &k, path, &ino, target, 0, &stop);
            if (stop)
                break;
            if (r > 0)
                count++;
            else if (r < 0) {
                err = r;
                break;
            }
        }
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    if (rc && rc != MDB_NOTFOUND)
        err = lmdb_errno(rc);
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return err ? err : count;
}

struct walk_ctx {
    const char *dir;
    uint8_t prefix[8];
    meta_visit_fn fn;
    void *arg;
};

/* accept() returns 1 when counted, 0 when skipped; sets *stop to end the walk. */
static int accept_child(void *vctx, const MDB_val *k, const char *path,
                        const struct bfs_inode *ino, const char *target, int dry, int *stop)
{
    struct walk_ctx *c = vctx;
    if (k->mv_size < 8 || memcmp(k->mv_data, c->prefix, 8) != 0) {
        *stop = 1;
        return 0;
    }
    char parent[BFS_PATH_MAX];
    const char *name = bfs_path_split(path, parent);
    if (!name || strcmp(parent, c->dir) != 0)
        return 0; /* a hash collision with another directory */
    return dry ? 1 : (c->fn(c->arg, path, name, ino, target) < 0 ? -EIO : 1);
}

int meta_readdir(struct meta_store *m, const char *dir, const char *after, uint32_t max,
                 meta_visit_fn fn, void *arg, int *more)
{
    struct walk_ctx c = {.dir = dir, .fn = fn, .arg = arg};
    uint8_t start[KEY_MAX];
    size_t len = make_key_h(start, bfs_hash_path(dir), after);
    memcpy(c.prefix, start, 8);
    return walk(m, start, len, after[0] != '\0', accept_child, &c, max, more);
}

static int accept_below(void *vctx, const MDB_val *k, const char *path,
                        const struct bfs_inode *ino, const char *target, int dry, int *stop)
{
    (void)k;
    (void)stop;
    struct walk_ctx *c = vctx;
    if (strcmp(path, c->dir) == 0 || !bfs_path_is_within(path, c->dir))
        return 0;
    char parent[BFS_PATH_MAX];
    const char *name = bfs_path_split(path, parent);
    return dry ? 1 : (c->fn(c->arg, path, name, ino, target) < 0 ? -EIO : 1);
}

int meta_subtree(struct meta_store *m, const char *dir, const char *after_path, uint32_t max,
                 meta_visit_fn fn, void *arg, int *more)
{
    struct walk_ctx c = {.dir = dir, .fn = fn, .arg = arg};
    uint8_t start[KEY_MAX];
    size_t len = 0;
    if (after_path[0] && make_key(start, &len, after_path) != 0)
        return -EINVAL;
    return walk(m, start, len, len != 0, accept_below, &c, max, more);
}

uint64_t meta_count(struct meta_store *m)
{
    MDB_stat st;
    MDB_txn *txn;
    if (mdb_txn_begin(m->env, NULL, MDB_RDONLY, &txn))
        return 0;
    int rc = mdb_stat(txn, m->dbi, &st);
    mdb_txn_abort(txn);
    return rc || st.ms_entries < 1 ? 0 : st.ms_entries - 1; /* less the "inline" database */
}

int meta_scan(struct meta_store *m, const uint8_t *after, size_t after_len, uint32_t budget,
              meta_scan_fn fn, void *arg, uint8_t *last, size_t *last_len, int *end)
{
    if (after_len > KEY_MAX)
        return -EINVAL;
    MDB_txn *txn;
    MDB_cursor *cur;
    int rc = read_cursor(m, &txn, &cur);
    if (rc)
        return rc;
    /* The cursor is the key of the last record consumed: resume strictly after it (it may
     * have been removed since; SET_RANGE then lands on its successor). */
    MDB_val k = {.mv_size = after_len, .mv_data = (void *)after}, v;
    rc = mdb_cursor_get(cur, &k, &v, after_len ? MDB_SET_RANGE : MDB_FIRST);
    if (rc == 0 && after_len && k.mv_size == after_len && memcmp(k.mv_data, after, after_len) == 0)
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    if (after_len)
        memcpy(last, after, after_len);
    *last_len = after_len;
    *end = 0;
    int count = 0, err = 0;
    char path[BFS_PATH_MAX];
    struct bfs_inode ino;
    while (rc == 0 && (uint32_t)count < budget) {
        if (!is_entry_key(&k)) {
            rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
            continue;
        }
        if (decode_val(&v, &ino, path, NULL) != 0) {
            LOG_WARN("metadata store: skipping a corrupt record");
        } else {
            char parent[BFS_PATH_MAX];
            const char *name = bfs_path_split(path, parent);
            int r = fn(arg, path, name ? name : path, &ino);
            if (r < 0) {
                err = r;
                break;
            }
            if (r > 0)
                break; /* not consumed: the next call starts with it */
        }
        memcpy(last, k.mv_data, k.mv_size);
        *last_len = k.mv_size;
        count++;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    if (rc == MDB_NOTFOUND)
        *end = 1;
    else if (rc && !err)
        err = lmdb_errno(rc);
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return err ? err : count;
}
