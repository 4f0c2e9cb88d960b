/* SPDX-License-Identifier: BSD-3-Clause */
/* namespace.c — path operations. Metadata of a path lives on ring(hash(path)); the client does
 * the cross-server steps itself (parent checks, chunk cleanup on the servers that can hold the
 * file's chunks, directory rename entry by entry), so servers never talk to each other. */
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
    if (!*in)
        return bfs_fail(ENOENT, "empty path");
    int err = bfs_path_normalize(in, out);
    if (err == -ENAMETOOLONG)
        return bfs_fail(ENAMETOOLONG, "path '%.64s...' has a name over %d bytes or is over %d "
                                      "bytes", in, BFS_NAME_MAX, BFS_PATH_MAX - 1);
    if (err)
        return bfs_fail(-err, "path '%.200s' must be absolute and non-empty", in);
    return 0;
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

int ns_fail_path(int err, const char *what, const char *path)
{
    return bfs_fail(-err, "%s %.200s%s", what, path ? path : "(null)",
                    err == -EXDEV   ? ": a symbolic link on the way leads out of BenchFS"
                    : err == -ELOOP ? ": too many symbolic links"
                                    : "");
}

int ns_parent_for_change(benchfs_t *fs, const char *in, char *out, const char *what)
{
    struct bfs_inode pi;
    return ns_parent_for_remove(fs, in, out, what, &pi);
}

int ns_parent_for_remove(benchfs_t *fs, const char *in, char *out, const char *what,
                         struct bfs_inode *pi)
{
    int err = ns_resolve_parent(fs, in, out, pi);
    if (err)
        return ns_fail_path(err, what, in);
    if (strcmp(out, "/") == 0)
        return 0; /* the caller says what "/" means to it */
    if (ns_permitted(fs, pi, W_OK | X_OK)) {
        char parent[BFS_PATH_MAX];
        bfs_path_split(out, parent);
        return bfs_fail(EACCES, "%s %s: no write permission on directory %s", what, out, parent);
    }
    return 0;
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
        bits = cred_in_group(fs, ino->gid) ? (ino->mode >> 3) & 7 : ino->mode & 7;
    }
    return ((int)bits & want) == want ? 0 : -EACCES;
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

/* The distinct servers of chunks first..span-1 of a file (bfs_inode_chunk_span) into out[]
 * (nservers slots); returns their count. The walk stops once every server is found, or
 * after a bounded number of chunks (a file that large has chunks everywhere). */
static uint32_t chunk_servers(benchfs_t *fs, const struct bfs_inode *ino, uint64_t first,
                              uint32_t *out)
{
    uint64_t span = bfs_inode_chunk_span(ino);
    uint64_t walk_max = 64 * (uint64_t)fs->nservers + 1024;
    if (first >= span)
        return 0;
    if (span - first > walk_max) {
        for (uint32_t s = 0; s < fs->nservers; s++)
            out[s] = s;
        return fs->nservers;
    }
    uint8_t *seen = calloc(fs->nservers, 1);
    if (!seen) { /* all servers: correct, only dearer */
        for (uint32_t s = 0; s < fs->nservers; s++)
            out[s] = s;
        return fs->nservers;
    }
    uint32_t n = 0;
    for (uint64_t k = first; k < span && n < fs->nservers; k++) {
        uint32_t s = bfs_ring_lookup(&fs->ring, bfs_hash_chunk(ino->fileid, k));
        if (!seen[s]++)
            out[n++] = s;
    }
    free(seen);
    return n;
}

int ns_chunks_op(benchfs_t *fs, uint16_t op, const struct bfs_inode *ino, uint64_t size)
{
    uint8_t args[32];
    struct bfs_wbuf w;
    bfs_wb_init(&w, args, sizeof args);
    bfs_wb_u64(&w, ino->fileid);
    uint64_t first = 0;
    if (op == BFS_OP_CHUNK_TRUNCATE) {
        bfs_wb_u64(&w, size);
        bfs_wb_u32(&w, ino->chunk_size);
        if (bfs_chunk_size_valid(ino->chunk_size))
            first = size / ino->chunk_size; /* chunks before it stay whole */
    }
    uint32_t *servers = calloc(fs->nservers, sizeof *servers);
    struct rpc *calls = calloc(fs->nservers, sizeof *calls);
    if (!servers || !calls) {
        free(servers);
        free(calls);
        return -ENOMEM;
    }
    uint32_t n = chunk_servers(fs, ino, first, servers);
    for (uint32_t i = 0; i < n; i++)
        calls[i] = (struct rpc){.server = servers[i], .op = op, .args = args, .args_len = w.len};
    rpc_run(fs, calls, n);
    int err = 0;
    for (uint32_t i = 0; i < n && !err; i++)
        err = -calls[i].status;
    free(servers);
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
    st->rdev = bfs_inode_rdev(ino);
}

void ns_fill_stat(const struct bfs_inode *ino, benchfs_stat_t *st) { fill_stat(ino, st); }

int ns_stat_path(benchfs_t *fs, const char *path, int follow, benchfs_stat_t *st)
{
    if (!st)
        return bfs_fail(EINVAL, "stat buffer is NULL");
    ENTER(fs);
    struct ns_res r;
    int err = ns_resolve(fs, path, follow, &r);
    if (err)
        LEAVE(fs, ns_fail_path(err, follow ? "stat" : "lstat", path));
    fill_stat(&r.ino, st);
    LEAVE(fs, 0);
}

BFS_API int benchfs_stat(benchfs_t *fs, const char *path, benchfs_stat_t *st)
{
    return ns_stat_path(fs, path, 1, st);
}

BFS_API int benchfs_mkdir(benchfs_t *fs, const char *path, mode_t mode)
{
    char p[BFS_PATH_MAX];
    ENTER(fs);
    if (ns_parent_for_change(fs, path, p, "mkdir"))
        LEAVE(fs, -1);
    if (strcmp(p, "/") == 0)
        LEAVE(fs, bfs_fail(EEXIST, "mkdir /"));
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
    struct bfs_inode pi, old;
    ENTER(fs);
    if (ns_parent_for_remove(fs, path, p, "unlink", &pi))
        LEAVE(fs, -1);
    if (strcmp(p, "/") == 0)
        LEAVE(fs, bfs_fail(EISDIR, "unlink /"));
    uint64_t fileid = 0;
    if ((pi.mode & S_ISVTX) && fs->uid != 0 && fs->uid != pi.uid) {
        /* A sticky directory: whose the entry is decides; the REMOVE takes that very file. */
        int err = ns_lookup_link(fs, p, &old, NULL);
        if (err)
            LEAVE(fs, bfs_fail(-err, "unlink %s", p));
        if (ns_sticky_permits(fs, &pi, &old, "unlink", p))
            LEAVE(fs, -1);
        fileid = old.fileid;
    }
    int err = ns_remove_entry(fs, p, BFS_REMOVE_FILE, fileid, &old);
    if (err)
        LEAVE(fs, bfs_fail(-err, "unlink %s", p));
    if (!S_ISREG(old.mode) || (old.flags & BFS_INO_INLINE))
        LEAVE(fs, 0); /* a link or special file has no chunks, nor has an inline file */
    /* Chunks may sit past the published size (unflushed writers): the extent covers them. */
    err = ns_chunks_op(fs, BFS_OP_CHUNK_REMOVE, &old, 0);
    LEAVE(fs, err ? bfs_fail(-err, "unlink %s: freeing chunks", p) : 0);
}

BFS_API int benchfs_rmdir(benchfs_t *fs, const char *path)
{
    char p[BFS_PATH_MAX];
    struct bfs_inode pi;
    ENTER(fs);
    if (ns_parent_for_remove(fs, path, p, "rmdir", &pi))
        LEAVE(fs, -1);
    if (strcmp(p, "/") == 0)
        LEAVE(fs, bfs_fail(EBUSY, "rmdir /"));
    struct bfs_inode ino;
    int err = ns_lookup_link(fs, p, &ino, NULL); /* a link is not followed: ENOTDIR */
    if (err)
        LEAVE(fs, bfs_fail(-err, "rmdir %s", p));
    if (!S_ISDIR(ino.mode))
        LEAVE(fs, bfs_fail(ENOTDIR, "rmdir %s", p));
    if (ns_sticky_permits(fs, &pi, &ino, "rmdir", p))
        LEAVE(fs, -1);
    err = dir_is_empty(fs, p);
    if (err < 0)
        LEAVE(fs, bfs_fail(-err, "rmdir %s: listing", p));
    if (err == 0)
        LEAVE(fs, bfs_fail(ENOTEMPTY, "rmdir %s", p));
    dircache_clear(fs);
    err = ns_remove_entry(fs, p, BFS_REMOVE_DIR, ino.fileid, NULL);
    LEAVE(fs, err ? bfs_fail(-err, "rmdir %s", p) : 0);
}

int ns_put_entry(benchfs_t *fs, const char *path, const struct bfs_inode *ino,
                 const char *target, uint32_t flags, int *replaced, struct bfs_inode *old)
{
    uint8_t args[ARGS_CAP + BFS_SYMLINK_MAX];
    struct bfs_wbuf w;
    bfs_wb_init(&w, args, sizeof args);
    bfs_wb_str(&w, path);
    bfs_inode_put(&w, ino);
    bfs_wb_u32(&w, flags);
    if (S_ISLNK(ino->mode))
        bfs_wb_str(&w, target ? target : "");
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
        err = ns_chunks_op(fs, BFS_OP_CHUNK_TRUNCATE, ino, length);
    if (!err)
        file_truncated(fs, ino->fileid, length);
    /* As a write: someone else than root takes the set-id bits away (special.c). */
    uint32_t mode = ns_setid_cleared(fs, ino, 0);
    if (!err && mode != (ino->mode & 07777) &&
        ns_setattr(fs, path, BFS_SETATTR_MODE, mode, 0, 0, 0, 0) == 0)
        ino->mode = (ino->mode & S_IFMT) | mode;
    return err;
}

BFS_API int benchfs_truncate(benchfs_t *fs, const char *path, off_t length)
{
    ENTER(fs);
    if (length < 0)
        LEAVE(fs, bfs_fail(EINVAL, "truncate %.200s to a negative length", path ? path : ""));
    struct ns_res r;
    int err = ns_resolve(fs, path, 1, &r);
    if (err)
        LEAVE(fs, ns_fail_path(err, "truncate", path));
    const char *p = r.path;
    struct bfs_inode ino = r.ino;
    if (S_ISDIR(ino.mode))
        LEAVE(fs, bfs_fail(EISDIR, "truncate %s", p));
    if (!S_ISREG(ino.mode))
        LEAVE(fs, bfs_fail(EINVAL, "truncate %s: not a regular file", p));
    if (ns_permitted(fs, &ino, W_OK))
        LEAVE(fs, bfs_fail(EACCES, "truncate %s", p));
    err = ns_truncate_inode(fs, p, &ino, (uint64_t)length);
    LEAVE(fs, err ? bfs_fail(-err, "truncate %s", p) : 0);
}

BFS_API int benchfs_access(benchfs_t *fs, const char *path, int mode)
{
    ENTER(fs);
    if (mode & ~(R_OK | W_OK | X_OK))
        LEAVE(fs, bfs_fail(EINVAL, "access %.200s: bad mode %#x", path ? path : "", mode));
    struct ns_res r;
    int err = ns_resolve(fs, path, 1, &r);
    if (err)
        LEAVE(fs, ns_fail_path(err, "access", path));
    const char *p = r.path;
    struct bfs_inode ino = r.ino;
    if (mode != F_OK && ns_permitted(fs, &ino, mode))
        LEAVE(fs, bfs_fail(EACCES, "access %s", p));
    LEAVE(fs, 0);
}

int ns_setattr(benchfs_t *fs, const char *path, uint32_t mask, uint32_t mode, uint32_t uid,
               uint32_t gid, int64_t mtime, int64_t atime)
{
    dircache_clear(fs); /* it may be a cached directory's mode or owner */
    uint8_t args[ARGS_CAP];
    struct bfs_wbuf w;
    bfs_wb_init(&w, args, sizeof args);
    bfs_wb_str(&w, path);
    bfs_wb_u32(&w, mask);
    bfs_wb_u32(&w, mode);
    bfs_wb_u32(&w, uid);
    bfs_wb_u32(&w, gid);
    bfs_wb_u64(&w, (uint64_t)mtime);
    bfs_wb_u64(&w, (uint64_t)atime);
    return path_rpc(fs, BFS_OP_SETATTR, path, &w, NULL);
}

BFS_API int benchfs_chmod(benchfs_t *fs, const char *path, mode_t mode)
{
    ENTER(fs);
    struct ns_res r;
    int err = ns_resolve(fs, path, 1, &r);
    if (err)
        LEAVE(fs, ns_fail_path(err, "chmod", path));
    const char *p = r.path;
    struct bfs_inode ino = r.ino;
    if (strcmp(p, "/") == 0)
        LEAVE(fs, bfs_fail(EPERM, "chmod /: the root is fixed"));
    if (fs->uid != 0 && fs->uid != ino.uid)
        LEAVE(fs, bfs_fail(EPERM, "chmod %s: not the owner", p));
    uint32_t bits = (uint32_t)mode & 07777;
    if (fs->uid != 0 && !cred_in_group(fs, ino.gid))
        bits &= ~(uint32_t)S_ISGID; /* as Linux: no set-group-ID for a group one is not in */
    err = ns_setattr(fs, p, BFS_SETATTR_MODE, bits, 0, 0, 0, 0);
    LEAVE(fs, err ? bfs_fail(-err, "chmod %s", p) : 0);
}

/* chown (follow) and lchown (the link itself). */
static int chown_at(benchfs_t *fs, const char *path, uid_t uid, gid_t gid, int follow)
{
    ENTER(fs);
    struct ns_res r;
    int err = ns_resolve(fs, path, follow, &r);
    if (err)
        LEAVE(fs, ns_fail_path(err, "chown", path));
    const char *p = r.path;
    struct bfs_inode ino = r.ino;
    if (strcmp(p, "/") == 0)
        LEAVE(fs, bfs_fail(EPERM, "chown /: the root is fixed"));
    uint32_t mask = 0;
    if (uid != (uid_t)-1 && uid != ino.uid)
        mask |= BFS_SETATTR_UID;
    if (gid != (gid_t)-1 && gid != ino.gid)
        mask |= BFS_SETATTR_GID;
    if (fs->uid != 0) {
        /* POSIX: only root gives files away; an owner may pick one of its own groups. */
        int own_group = cred_in_group(fs, gid);
        if ((mask & BFS_SETATTR_UID) || fs->uid != ino.uid ||
            ((mask & BFS_SETATTR_GID) && !own_group))
            LEAVE(fs, bfs_fail(EPERM, "chown %s", p));
    }
    if (!mask)
        LEAVE(fs, 0);
    /* A new owner or group does not inherit set-id privileges (Linux: whoever changes it). */
    uint32_t mode = ns_setid_cleared(fs, &ino, 1);
    if (!S_ISLNK(ino.mode) && mode != (ino.mode & 07777))
        mask |= BFS_SETATTR_MODE;
    err = ns_setattr(fs, p, mask, mode, (uint32_t)uid, (uint32_t)gid, 0, 0);
    LEAVE(fs, err ? bfs_fail(-err, "chown %s", p) : 0);
}

BFS_API int benchfs_chown(benchfs_t *fs, const char *path, uid_t uid, gid_t gid)
{
    return chown_at(fs, path, uid, gid, 1);
}

BFS_API int benchfs_lchown(benchfs_t *fs, const char *path, uid_t uid, gid_t gid)
{
    return chown_at(fs, path, uid, gid, 0);
}

BFS_API int benchfs_statfs(benchfs_t *fs, benchfs_statfs_t *st)
{
    if (!st)
        return bfs_fail(EINVAL, "statfs buffer is NULL");
    ENTER(fs);
    struct rpc *calls = rpc_run_all(fs, BFS_OP_STATFS);
    if (!calls)
        LEAVE(fs, bfs_fail(ENOMEM, "statfs"));
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
