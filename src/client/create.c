/* SPDX-License-Identifier: BSD-3-Clause */
/* create.c — open with O_CREAT. A file's entry lives on ring(hash(path)) and its directory's on
 * ring(hash(parent)), usually another server, and servers never talk to each other: the client
 * checks the directory (exists, is one, may be written) and creates the entry.
 *
 * Done one after the other that is two round trips, and a round trip is what a metadata
 * operation costs. So a plain path (no "." or "..", no trailing "/") sends both at once: the
 * parent's LOOKUP beside the CREATE. Entries are only ever stored under link-free directory
 * paths, so a LOOKUP that finds a directory at the lexical parent proves the CREATE landed
 * where resolution would have put it. Anything else (no parent, a link on the way, no write
 * permission, a link at the name) takes back a file the CREATE made, compared by file id so
 * nobody else's file is touched, and goes the careful way: resolve, check, then create. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define CREATE_ARGS_CAP (BFS_PATH_MAX + 64)

static size_t create_args(benchfs_t *fs, uint8_t *args, const char *p, int flags, mode_t mode)
{
    struct bfs_wbuf w;
    bfs_wb_init(&w, args, CREATE_ARGS_CAP);
    bfs_wb_str(&w, p);
    bfs_wb_u32(&w, (uint32_t)mode & 07777);
    bfs_wb_u32(&w, fs->uid);
    bfs_wb_u32(&w, fs->gid);
    bfs_wb_u32(&w, fs->chunk_size);
    bfs_wb_u32(&w, ((flags & O_EXCL) ? BFS_CREATE_EXCL : 0) |
                       (fs->inline_max ? BFS_CREATE_INLINE : 0)); /* small_file.c */
    return w.len;
}

/* The CREATE reply: whether this call made the file, and its inode. */
static int create_decode(const struct rpc *c, struct bfs_inode *ino, int *created)
{
    struct bfs_rbuf r;
    bfs_rb_init(&r, c->rargs, c->rargs_len);
    *created = bfs_rb_u8(&r);
    bfs_inode_get(&r, ino);
    if (!bfs_rb_done(&r))
        return -EPROTO;
    return bfs_inode_check(ino) ? -EIO : 0; /* not what any server stores (namespace.c) */
}

static int create_rpc(benchfs_t *fs, const char *p, int flags, mode_t mode, struct bfs_inode *ino,
                      int *created)
{
    uint8_t args[CREATE_ARGS_CAP];
    struct rpc c = {.server = (uint32_t)meta_owner(fs, p), .op = BFS_OP_CREATE, .args = args,
                    .args_len = create_args(fs, args, p, flags, mode)};
    int err = rpc_call(fs, &c);
    if (!err)
        err = create_decode(&c, ino, created);
    rpc_release(&c);
    return err;
}

/* The parent check and the CREATE at once. Returns 0 (done: *ino, *created, out set), -1 (a
 * failure the careful way would report the same: errno set), or 1 (go the careful way). */
static int create_together(benchfs_t *fs, const char *in, int flags, mode_t mode,
                           struct bfs_inode *ino, int *created, char *out)
{
    char parent[BFS_PATH_MAX];
    if (in[strlen(in) - 1] == '/' || ns_lexical_path(in, out) != 0)
        return 1; /* its parent may not be what it lexically is */
    bfs_path_split(out, parent);
    struct bfs_inode pi;
    if (strcmp(parent, "/") == 0 || dircache_get(fs, parent, &pi) == 0)
        return 1; /* the careful way costs one trip too: the root or a cached directory */
    uint8_t largs[BFS_PATH_MAX + 8], cargs[CREATE_ARGS_CAP];
    struct bfs_wbuf w;
    bfs_wb_init(&w, largs, sizeof largs);
    bfs_wb_str(&w, parent);
    struct rpc calls[2] = {
        {.server = (uint32_t)meta_owner(fs, parent), .op = BFS_OP_LOOKUP, .args = largs,
         .args_len = w.len},
        {.server = (uint32_t)meta_owner(fs, out), .op = BFS_OP_CREATE, .args = cargs,
         .args_len = create_args(fs, cargs, out, flags, mode)},
    };
    rpc_run(fs, calls, 2);
    int perr = -calls[0].status, cerr = -calls[1].status;
    if (!perr)
        perr = ns_lookup_decode(&calls[0], &pi, NULL);
    if (!cerr)
        cerr = create_decode(&calls[1], ino, created);
    rpc_release(&calls[0]);
    rpc_release(&calls[1]);
    if (!perr && S_ISDIR(pi.mode))
        dircache_put(fs, parent, &pi); /* found at the lexical parent: link-free */
    int parent_ok = !perr && S_ISDIR(pi.mode) && ns_permitted(fs, &pi, W_OK | X_OK) == 0;
    if (parent_ok && cerr && cerr != -EIO && cerr != -EPROTO)
        return bfs_fail(-cerr, "open %s", out); /* EEXIST, ENOSPC...: as the careful way */
    if (parent_ok && !cerr && !S_ISLNK(ino->mode))
        return 0;
    if (!cerr && *created) {
        /* Made where it must not stay: take back exactly the file this call made. */
        int err = ns_remove_entry(fs, out, BFS_REMOVE_FILE, ino->fileid, NULL);
        if (err && err != -ENOENT && err != -ESTALE)
            return bfs_fail(-err, "open %s: taking back a file created under no directory", out);
    }
    *created = 0;
    return 1;
}

int file_open_create(benchfs_t *fs, const char *in, int flags, mode_t mode,
                     struct bfs_inode *ino, int *created, char *out)
{
    char cur[BFS_PATH_MAX];
    if (ns_check_user_path(in))
        return -1;
    int fast = create_together(fs, in, flags, mode, ino, created, out);
    if (fast <= 0)
        return fast;
    /* The careful way. A link at the name is followed (unless O_EXCL or O_NOFOLLOW): the
     * create goes on at its target, a dangling link's target being created as POSIX says. */
    strcpy(cur, in);
    for (int hops = 0;; hops++) {
        struct bfs_inode pi;
        int err = ns_resolve_parent(fs, cur, out, &pi);
        if (err)
            return ns_fail_path(err, "open", cur);
        if (strcmp(out, "/") == 0)
            return bfs_fail(EISDIR, "open /: is a directory");
        char parent[BFS_PATH_MAX], target[BFS_SYMLINK_MAX + 1];
        bfs_path_split(out, parent);
        if (ns_permitted(fs, &pi, W_OK | X_OK) == 0) {
            err = create_rpc(fs, out, flags, mode, ino, created);
            if (!err && S_ISLNK(ino->mode))
                err = ns_lookup_link(fs, out, ino, target); /* the target, to follow it */
        } else {
            /* Without write permission on the parent, only an existing file may be opened. */
            err = ns_lookup_link(fs, out, ino, target);
            if (err == -ENOENT)
                return bfs_fail(EACCES, "open %s: no write permission on %s", out, parent);
            if (!err && (flags & O_EXCL))
                err = -EEXIST;
        }
        if (err)
            return bfs_fail(-err, "open %s", out);
        if (!S_ISLNK(ino->mode))
            return 0;
        if (flags & O_EXCL)
            return bfs_fail(EEXIST, "open %s: a symbolic link (O_EXCL)", out);
        if (flags & O_NOFOLLOW)
            return bfs_fail(ELOOP, "open %s: a symbolic link (O_NOFOLLOW)", out);
        if (hops >= 40)
            return bfs_fail(ELOOP, "open %.200s: too many symbolic links", in);
        err = ns_link_join(fs, parent, target, cur, sizeof cur);
        if (err)
            return ns_fail_path(err, "open", out);
    }
}
