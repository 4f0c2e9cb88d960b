/* SPDX-License-Identifier: BSD-3-Clause */
/* namespace.c — path operations. Metadata of a path lives on ring(hash(path)); the client does
 * the cross-server steps itself (parent checks, chunk cleanup on every server, directory
 * rename entry by entry), so servers never talk to each other. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "internal.h"

#define ARGS_CAP (2 * BFS_PATH_MAX + 256)

int meta_owner(benchfs_t *fs, const char *path)
{
    return (int)bfs_ring_lookup(&fs->ring, bfs_hash_path(path));
}

int ns_normalize(const char *in, char *out)
{
    if (!in)
        return bfs_fail(EINVAL, "path is NULL");
    int err = bfs_path_normalize(in, out);
    if (err == -ENAMETOOLONG)
        return bfs_fail(ENAMETOOLONG, "path '%.64s...' has a name over %d bytes or is over %d "
                                      "bytes", in, BFS_NAME_MAX, BFS_PATH_MAX - 1);
    if (err)
        return bfs_fail(-err, "path '%.200s' must be absolute and non-empty", in);
    return 0;
}

static void root_inode(struct bfs_inode *ino)
{
    /* The root is implicit: it exists on no server, and anyone in the job may use it. */
    memset(ino, 0, sizeof *ino);
    ino->mode = S_IFDIR | 0777;
    ino->nlink = 2;
}

/* An inode from a server; one no server would have stored (a chunk size of 0, a size past
 * any offset...) is EIO: never a division by zero or a runaway loop further on. */
static int decode_inode(const struct rpc *c, size_t skip, struct bfs_inode *ino)
{
    struct bfs_rbuf r;
    bfs_rb_init(&r, c->rargs + skip, c->rargs_len - skip);
    bfs_inode_get(&r, ino);
    if (!bfs_rb_done(&r))
        return -EPROTO;
    return bfs_inode_check(ino) ? -EIO : 0;
}

/* A path-only request to the path's owner, answered with an inode. */
static int path_rpc(benchfs_t *fs, uint16_t op, const char *path, struct bfs_wbuf *w,
                    struct bfs_inode *ino)
{
    struct rpc c = {.server = (uint32_t)meta_owner(fs, path), .op = op,
                    .args = w->p, .args_len = w->len};
    if (w->err)
        return -EINVAL;
    int err = rpc_call(fs, &c);
    if (!err && ino)
        err = decode_inode(&c, 0, ino);
    rpc_release(&c);
    return err;
}

int ns_lookup_entry(benchfs_t *fs, const char *path, struct bfs_inode *ino)
{
    if (strcmp(path, "/") == 0) {
        root_inode(ino);
        return 0;
    }
    uint8_t args[ARGS_CAP];
    struct bfs_wbuf w;
    bfs_wb_init(&w, args, sizeof args);
    bfs_wb_str(&w, path);
    return path_rpc(fs, BFS_OP_LOOKUP, path, &w, ino);
}

int ns_lookup(benchfs_t *fs, const char *path, struct bfs_inode *ino)
{
    int err = ns_lookup_entry(fs, path, ino);
    if (err != -ENOENT)
        return err;
    /* A miss: POSIX wants ENOTDIR if a component of the prefix is an existing non-directory
     * ("/file/x"). Walk up to the nearest existing ancestor; hits pay nothing for this. */
    char cur[BFS_PATH_MAX], parent[BFS_PATH_MAX];
    strcpy(cur, path);
    while (bfs_path_split(cur, parent) && strcmp(parent, "/") != 0) {
        struct bfs_inode pi;
        int perr = ns_lookup_entry(fs, parent, &pi);
        if (perr == 0)
            return S_ISDIR(pi.mode) ? -ENOENT : -ENOTDIR;
        if (perr != -ENOENT)
            break;
        strcpy(cur, parent);
    }
    return -ENOENT;
}

int ns_permitted(benchfs_t *fs, const struct bfs_inode *ino, int want)
{
    want &= R_OK | W_OK | X_OK;
    if (fs->uid == 0) {
        /* root bypasses everything but needs one x bit to execute a file */
        if ((want & X_OK) && !S_ISDIR(ino->mode) && !(ino->mode & 0111))
            return -EACCES;
        return 0;
    }
    unsigned bits;
    if (ino->uid == fs->uid) {
        bits = (ino->mode >> 6) & 7;
    } else {
        int in_group = ino->gid == fs->gid;
        for (int i = 0; !in_group && i < fs->ngroups; i++)
            in_group = fs->groups[i] == ino->gid;
        bits = in_group ? (ino->mode >> 3) & 7 : ino->mode & 7;
    }
    return ((int)bits & want) == want ? 0 : -EACCES;
}

int ns_check_parent(benchfs_t *fs, const char *path)
{
    char parent[BFS_PATH_MAX];
    if (!bfs_path_split(path, parent))
        return bfs_fail(EBUSY, "'/' cannot be changed");
    struct bfs_inode pi;
    int err = ns_lookup(fs, parent, &pi);
    if (err)
        return bfs_fail(-err, "parent directory %s", parent);
    if (!S_ISDIR(pi.mode))
        return bfs_fail(ENOTDIR, "parent %s is not a directory", parent);
    if (ns_permitted(fs, &pi, W_OK | X_OK))
        return bfs_fail(EACCES, "no write permission on directory %s", parent);
    return 0;
}

int ns_set_size(benchfs_t *fs, const char *path, uint64_t fileid, uint64_t size, uint32_t how,
                int64_t mtime, struct bfs_inode *out)
{
    uint8_t args[ARGS_CAP];
    struct bfs_wbuf w;
    bfs_wb_init(&w, args, sizeof args);
    bfs_wb_str(&w, path);
    bfs_wb_u64(&w, fileid);
    bfs_wb_u64(&w, size);
    bfs_wb_u32(&w, how);
    bfs_wb_u64(&w, (uint64_t)mtime);
    return path_rpc(fs, BFS_OP_SIZE_UPDATE, path, &w, out);
}

int ns_chunks_broadcast(benchfs_t *fs, uint16_t op, uint64_t fileid, uint64_t size,
                        uint32_t chunk_size)
{
    uint8_t args[32];
    struct bfs_wbuf w;
    bfs_wb_init(&w, args, sizeof args);
    bfs_wb_u64(&w, fileid);
    if (op == BFS_OP_CHUNK_TRUNCATE) {
        bfs_wb_u64(&w, size);
        bfs_wb_u32(&w, chunk_size);
    }
    struct rpc *calls = calloc(fs->nservers, sizeof *calls);
    if (!calls)
        return -ENOMEM;
    for (uint32_t s = 0; s < fs->nservers; s++)
        calls[s] = (struct rpc){.server = s, .op = op, .args = args, .args_len = w.len};
    rpc_run(fs, calls, fs->nservers);
    int err = 0;
    for (uint32_t s = 0; s < fs->nservers && !err; s++)
        err = -calls[s].status;
    free(calls);
    return err;
}

static void fill_stat(const struct bfs_inode *ino, benchfs_stat_t *st)
{
    memset(st, 0, sizeof *st);
    st->ino = ino->fileid;
    st->mode = ino->mode;
    st->nlink = ino->nlink;
    st->uid = ino->uid;
    st->gid = ino->gid;
    st->size = ino->size;
    st->blocks = (ino->size + 511) / 512;
    st->chunk_size = ino->chunk_size;
    st->blksize = ino->chunk_size ? ino->chunk_size : BENCHFS_DEFAULT_CHUNK_SIZE;
    st->atime_ns = ino->atime_ns;
    st->mtime_ns = ino->mtime_ns;
    st->ctime_ns = ino->ctime_ns;
}

void ns_fill_stat(const struct bfs_inode *ino, benchfs_stat_t *st) { fill_stat(ino, st); }

BFS_API int benchfs_stat(benchfs_t *fs, const char *path, benchfs_stat_t *st)
{
    char p[BFS_PATH_MAX];
    if (!st)
        return bfs_fail(EINVAL, "stat buffer is NULL");
    ENTER(fs);
    if (ns_normalize(path, p))
        LEAVE(fs, -1);
    struct bfs_inode ino;
    int err = ns_lookup(fs, p, &ino);
    if (err)
        LEAVE(fs, bfs_fail(-err, "stat %s", p));
    fill_stat(&ino, st);
    LEAVE(fs, 0);
}

BFS_API int benchfs_mkdir(benchfs_t *fs, const char *path, mode_t mode)
{
    char p[BFS_PATH_MAX];
    ENTER(fs);
    if (ns_normalize(path, p))
        LEAVE(fs, -1);
    if (strcmp(p, "/") == 0)
        LEAVE(fs, bfs_fail(EEXIST, "mkdir /"));
    if (ns_check_parent(fs, p))
        LEAVE(fs, -1);
    uint8_t args[ARGS_CAP];
    struct bfs_wbuf w;
    bfs_wb_init(&w, args, sizeof args);
    bfs_wb_str(&w, p);
    bfs_wb_u32(&w, (uint32_t)mode & 07777);
    bfs_wb_u32(&w, fs->uid);
    bfs_wb_u32(&w, fs->gid);
    int err = path_rpc(fs, BFS_OP_MKDIR, p, &w, NULL);
    LEAVE(fs, err ? bfs_fail(-err, "mkdir %s", p) : 0);
}

int ns_remove_entry(benchfs_t *fs, const char *path, uint32_t kind, uint64_t fileid,
                        struct bfs_inode *old)
{
    uint8_t args[ARGS_CAP];
    struct bfs_wbuf w;
    bfs_wb_init(&w, args, sizeof args);
    bfs_wb_str(&w, path);
    bfs_wb_u32(&w, kind);
    bfs_wb_u64(&w, fileid);
    return path_rpc(fs, BFS_OP_REMOVE, path, &w, old);
}

BFS_API int benchfs_unlink(benchfs_t *fs, const char *path)
{
    char p[BFS_PATH_MAX];
    ENTER(fs);
    if (ns_normalize(path, p))
        LEAVE(fs, -1);
    if (strcmp(p, "/") == 0)
        LEAVE(fs, bfs_fail(EISDIR, "unlink /"));
    if (ns_check_parent(fs, p))
        LEAVE(fs, -1);
    struct bfs_inode old;
    int err = ns_remove_entry(fs, p, BFS_REMOVE_FILE, 0, &old);
    if (err)
        LEAVE(fs, bfs_fail(-err, "unlink %s", p));
    /* Chunks may sit on any server, including past the published size (unflushed writers).
     * An inline file never had any (small_file.c). */
    if (!(old.flags & BFS_INO_INLINE))
        err = ns_chunks_broadcast(fs, BFS_OP_CHUNK_REMOVE, old.fileid, 0, 0);
    LEAVE(fs, err ? bfs_fail(-err, "unlink %s: freeing chunks", p) : 0);
}

BFS_API int benchfs_rmdir(benchfs_t *fs, const char *path)
{
    char p[BFS_PATH_MAX];
    ENTER(fs);
    if (ns_normalize(path, p))
        LEAVE(fs, -1);
    if (strcmp(p, "/") == 0)
        LEAVE(fs, bfs_fail(EBUSY, "rmdir /"));
    if (ns_check_parent(fs, p))
        LEAVE(fs, -1);
    struct bfs_inode ino;
    int err = ns_lookup(fs, p, &ino);
    if (err)
        LEAVE(fs, bfs_fail(-err, "rmdir %s", p));
    if (!S_ISDIR(ino.mode))
        LEAVE(fs, bfs_fail(ENOTDIR, "rmdir %s", p));
    err = dir_is_empty(fs, p);
    if (err < 0)
        LEAVE(fs, bfs_fail(-err, "rmdir %s: listing", p));
    if (err == 0)
        LEAVE(fs, bfs_fail(ENOTEMPTY, "rmdir %s", p));
    err = ns_remove_entry(fs, p, BFS_REMOVE_DIR, ino.fileid, NULL);
    LEAVE(fs, err ? bfs_fail(-err, "rmdir %s", p) : 0);
}

int ns_put_entry(benchfs_t *fs, const char *path, const struct bfs_inode *ino, uint32_t flags,
                 int *replaced, struct bfs_inode *old)
{
    uint8_t args[ARGS_CAP];
    struct bfs_wbuf w;
    bfs_wb_init(&w, args, sizeof args);
    bfs_wb_str(&w, path);
    bfs_inode_put(&w, ino);
    bfs_wb_u32(&w, flags);
    struct rpc c = {.server = (uint32_t)meta_owner(fs, path), .op = BFS_OP_META_PUT,
                    .args = args, .args_len = w.len};
    int err = rpc_call(fs, &c);
    if (!err) {
        *replaced = c.rargs_len > 0 && c.rargs[0];
        if (*replaced)
            err = decode_inode(&c, 1, old);
    }
    rpc_release(&c);
    return err;
}

/* Truncate a file known by inode (shared by truncate, ftruncate and O_TRUNC). */
int ns_truncate_inode(benchfs_t *fs, const char *path, struct bfs_inode *ino, uint64_t length)
{
    int err = small_set_size(fs, path, ino, length); /* SIZE_UPDATE(SET); moves if it must */
    if (!err && !(ino->flags & BFS_INO_INLINE)) /* an inline file has no chunks */
        err = ns_chunks_broadcast(fs, BFS_OP_CHUNK_TRUNCATE, ino->fileid, length,
                                  ino->chunk_size);
    if (!err)
        file_truncated(fs, ino->fileid, length);
    return err;
}

BFS_API int benchfs_truncate(benchfs_t *fs, const char *path, off_t length)
{
    char p[BFS_PATH_MAX];
    ENTER(fs);
    if (ns_normalize(path, p))
        LEAVE(fs, -1);
    if (length < 0)
        LEAVE(fs, bfs_fail(EINVAL, "truncate %s to a negative length", p));
    struct bfs_inode ino;
    int err = ns_lookup(fs, p, &ino);
    if (err)
        LEAVE(fs, bfs_fail(-err, "truncate %s", p));
    if (S_ISDIR(ino.mode))
        LEAVE(fs, bfs_fail(EISDIR, "truncate %s", p));
    if (ns_permitted(fs, &ino, W_OK))
        LEAVE(fs, bfs_fail(EACCES, "truncate %s", p));
    err = ns_truncate_inode(fs, p, &ino, (uint64_t)length);
    LEAVE(fs, err ? bfs_fail(-err, "truncate %s", p) : 0);
}

BFS_API int benchfs_access(benchfs_t *fs, const char *path, int mode)
{
    char p[BFS_PATH_MAX];
    ENTER(fs);
    if (ns_normalize(path, p))
        LEAVE(fs, -1);
    if (mode & ~(R_OK | W_OK | X_OK))
        LEAVE(fs, bfs_fail(EINVAL, "access %s: bad mode %#x", p, mode));
    struct bfs_inode ino;
    int err = ns_lookup(fs, p, &ino);
    if (err)
        LEAVE(fs, bfs_fail(-err, "access %s", p));
    if (mode != F_OK && ns_permitted(fs, &ino, mode))
        LEAVE(fs, bfs_fail(EACCES, "access %s", p));
    LEAVE(fs, 0);
}

static int setattr(benchfs_t *fs, const char *path, uint32_t mask, uint32_t mode, uint32_t uid,
                   uint32_t gid)
{
    uint8_t args[ARGS_CAP];
    struct bfs_wbuf w;
    bfs_wb_init(&w, args, sizeof args);
    bfs_wb_str(&w, path);
    bfs_wb_u32(&w, mask);
    bfs_wb_u32(&w, mode);
    bfs_wb_u32(&w, uid);
    bfs_wb_u32(&w, gid);
    bfs_wb_u64(&w, 0);
    return path_rpc(fs, BFS_OP_SETATTR, path, &w, NULL);
}

BFS_API int benchfs_chmod(benchfs_t *fs, const char *path, mode_t mode)
{
    char p[BFS_PATH_MAX];
    ENTER(fs);
    if (ns_normalize(path, p))
        LEAVE(fs, -1);
    if (strcmp(p, "/") == 0)
        LEAVE(fs, bfs_fail(EPERM, "chmod /: the root is fixed"));
    struct bfs_inode ino;
    int err = ns_lookup(fs, p, &ino);
    if (err)
        LEAVE(fs, bfs_fail(-err, "chmod %s", p));
    if (fs->uid != 0 && fs->uid != ino.uid)
        LEAVE(fs, bfs_fail(EPERM, "chmod %s: not the owner", p));
    err = setattr(fs, p, BFS_SETATTR_MODE, (uint32_t)mode & 07777, 0, 0);
    LEAVE(fs, err ? bfs_fail(-err, "chmod %s", p) : 0);
}

BFS_API int benchfs_chown(benchfs_t *fs, const char *path, uid_t uid, gid_t gid)
{
    char p[BFS_PATH_MAX];
    ENTER(fs);
    if (ns_normalize(path, p))
        LEAVE(fs, -1);
    if (strcmp(p, "/") == 0)
        LEAVE(fs, bfs_fail(EPERM, "chown /: the root is fixed"));
    struct bfs_inode ino;
    int err = ns_lookup(fs, p, &ino);
    if (err)
        LEAVE(fs, bfs_fail(-err, "chown %s", p));
    uint32_t mask = 0;
    if (uid != (uid_t)-1 && uid != ino.uid)
        mask |= BFS_SETATTR_UID;
    if (gid != (gid_t)-1 && gid != ino.gid)
        mask |= BFS_SETATTR_GID;
    if (fs->uid != 0) {
        /* POSIX: only root gives files away; an owner may pick one of its own groups. */
        int own_group = gid == fs->gid;
        for (int i = 0; !own_group && i < fs->ngroups; i++)
            own_group = fs->groups[i] == gid;
        if ((mask & BFS_SETATTR_UID) || fs->uid != ino.uid ||
            ((mask & BFS_SETATTR_GID) && !own_group))
            LEAVE(fs, bfs_fail(EPERM, "chown %s", p));
    }
    if (!mask)
        LEAVE(fs, 0);
    err = setattr(fs, p, mask, 0, (uint32_t)uid, (uint32_t)gid);
    LEAVE(fs, err ? bfs_fail(-err, "chown %s", p) : 0);
}

BFS_API int benchfs_statfs(benchfs_t *fs, benchfs_statfs_t *st)
{
    if (!st)
        return bfs_fail(EINVAL, "statfs buffer is NULL");
    ENTER(fs);
    struct rpc *calls = calloc(fs->nservers, sizeof *calls);
    if (!calls)
        LEAVE(fs, bfs_fail(ENOMEM, "statfs"));
    for (uint32_t s = 0; s < fs->nservers; s++)
        calls[s] = (struct rpc){.server = s, .op = BFS_OP_STATFS};
    rpc_run(fs, calls, fs->nservers);
    memset(st, 0, sizeof *st);
    st->nservers = fs->nservers;
    int err = 0;
    for (uint32_t s = 0; s < fs->nservers; s++) {
        if (calls[s].status) {
            err = err ? err : calls[s].status;
            continue;
        }
        struct bfs_rbuf r;
        bfs_rb_init(&r, calls[s].rargs, calls[s].rargs_len);
        st->total_bytes += bfs_rb_u64(&r);
        st->free_bytes += bfs_rb_u64(&r);
        st->used_bytes += bfs_rb_u64(&r);
        st->nservers_up++;
    }
    free(calls);
    /* Capacity of an unreachable server is unknown: report it as an error, not as zero. */
    LEAVE(fs, err ? bfs_fail(err, "statfs: %u of %u servers answered", st->nservers_up,
                             st->nservers)
                  : 0);
}
