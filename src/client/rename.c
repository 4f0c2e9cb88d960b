/* SPDX-License-Identifier: BSD-3-Clause */
/* rename.c — rename of files (two metadata RPCs: chunks are keyed by file id, so no data
 * moves) and of directories (every entry below moves to the owner of its new path; the slow
 * path, not atomic: see docs/DESIGN.md). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

struct moved {
    char *path;
    struct bfs_inode ino;
    char *target; /* links only */
};

struct moved_list {
    struct moved *v;
    size_t n, cap;
};

static int push(struct moved_list *l, const char *path, const struct bfs_inode *ino,
                const char *target)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        struct moved *g = realloc(l->v, cap * sizeof *g);
        if (!g)
            return -ENOMEM;
        l->v = g;
        l->cap = cap;
    }
    l->v[l->n].path = strdup(path);
    l->v[l->n].target = S_ISLNK(ino->mode) ? strdup(target) : NULL;
    if (!l->v[l->n].path || (S_ISLNK(ino->mode) && !l->v[l->n].target)) {
        free(l->v[l->n].path);
        free(l->v[l->n].target);
        return -ENOMEM;
    }
    l->v[l->n++].ino = *ino;
    return 0;
}

static void list_free(struct moved_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].path);
        free(l->v[i].target);
    }
    free(l->v);
}

/* Every entry strictly below `dir`, from every server. */
static int subtree(benchfs_t *fs, const char *dir, struct moved_list *out)
{
    for (uint32_t s = 0; s < fs->nservers; s++) {
        char after[BFS_PATH_MAX] = "";
        for (;;) {
            uint8_t args[2 * BFS_PATH_MAX + 64];
            struct bfs_wbuf w;
            bfs_wb_init(&w, args, sizeof args);
            bfs_wb_str(&w, dir);
            bfs_wb_u32(&w, 256);
            bfs_wb_str(&w, after);
            struct rpc c = {.server = s, .op = BFS_OP_SUBTREE, .args = args, .args_len = w.len};
            int err = rpc_call(fs, &c);
            if (err) {
                rpc_release(&c);
                return err;
            }
            struct bfs_rbuf r;
            bfs_rb_init(&r, c.rargs, c.rargs_len);
            uint32_t count = bfs_rb_u32(&r);
            int more = bfs_rb_u8(&r);
            bfs_rb_init(&r, c.rdata, c.rdata_len);
            for (uint32_t k = 0; k < count && !err; k++) {
                char path[BFS_PATH_MAX], target[BFS_SYMLINK_MAX + 1] = "";
                struct bfs_inode ino;
                bfs_rb_str(&r, path, sizeof path);
                bfs_inode_get(&r, &ino);
                if (!r.err && S_ISLNK(ino.mode)) /* a link travels with its target */
                    bfs_rb_str(&r, target, sizeof target);
                if (r.err)
                    err = -EPROTO;
                else if (bfs_inode_check(&ino) ||
                         (S_ISLNK(ino.mode) && bfs_symlink_target_check(target, strlen(target))))
                    err = -EIO;
                else
                    err = push(out, path, &ino, target);
                strcpy(after, path);
            }
            rpc_release(&c);
            if (err)
                return err;
            if (!more || count == 0)
                break;
        }
    }
    return 0;
}

int ns_find_fileid(benchfs_t *fs, uint64_t fileid, char *path_out)
{
    /* A full scan of every server: only for the rare case of a file renamed by another
     * client while this one still had unpublished writes to it. */
    struct moved_list list = {0};
    int err = subtree(fs, "/", &list);
    if (!err) {
        err = -ENOENT;
        for (size_t i = 0; i < list.n; i++) {
            if (list.v[i].ino.fileid == fileid && S_ISREG(list.v[i].ino.mode)) {
                strcpy(path_out, list.v[i].path);
                err = 0;
                break;
            }
        }
    }
    list_free(&list);
    return err;
}

/* Shorter paths first, so parents are in place before their children. */
static int by_depth(const void *a, const void *b)
{
    size_t x = strlen(((const struct moved *)a)->path), y = strlen(((const struct moved *)b)->path);
    return x < y ? -1 : x > y;
}

static int rename_dir(benchfs_t *fs, const char *from, const char *to,
                      const struct bfs_inode *src)
{
    struct moved_list list = {0};
    int err = subtree(fs, from, &list);
    int replaced;
    struct bfs_inode old;
    if (!err)
        err = ns_put_entry(fs, to, src, NULL, BFS_PUT_NOREPLACE, &replaced, &old);
    if (!err)
        qsort(list.v, list.n, sizeof *list.v, by_depth);
    size_t flen = strlen(from);
    for (size_t i = 0; i < list.n && !err; i++) {
        char np[BFS_PATH_MAX];
        if (strlen(to) + strlen(list.v[i].path) - flen >= BFS_PATH_MAX) {
            err = -ENAMETOOLONG;
            break;
        }
        strcpy(np, to);
        strcat(np, list.v[i].path + flen);
        if (list.v[i].ino.flags) /* inline data stays with its server: to chunks first */
            err = small_move(fs, list.v[i].path, &list.v[i].ino);
        if (!err)
            err = ns_put_entry(fs, np, &list.v[i].ino, list.v[i].target, 0, &replaced, &old);
    }
    /* Only once the new tree is complete does the old one go, deepest first. */
    for (size_t i = list.n; i-- > 0 && !err;)
        err = ns_remove_entry(fs, list.v[i].path, 0, list.v[i].ino.fileid, NULL);
    if (!err)
        err = ns_remove_entry(fs, from, BFS_REMOVE_DIR, src->fileid, NULL);
    list_free(&list);
    return err;
}

BFS_API int benchfs_rename(benchfs_t *fs, const char *oldpath, const char *newpath)
{
    char from[BFS_PATH_MAX], to[BFS_PATH_MAX];
    ENTER(fs);
    /* Both paths are checked before either parent is looked up. */
    if (ns_check_user_path(oldpath) || ns_check_user_path(newpath))
        LEAVE(fs, -1);
    dircache_clear(fs); /* a directory may move or be replaced */
    /* Parents first: "/file" -> "/file/x" is ENOTDIR (a file is no prefix of anything). A link
     * in the last component is renamed itself, not what it points at. */
    struct bfs_inode from_dir, to_dir;
    if (ns_parent_for_remove(fs, oldpath, from, "rename", &from_dir) ||
        ns_parent_for_remove(fs, newpath, to, "rename to", &to_dir))
        LEAVE(fs, -1);
    if (strcmp(from, "/") == 0 || strcmp(to, "/") == 0)
        LEAVE(fs, bfs_fail(EBUSY, "rename %s -> %s: the root cannot move", from, to));
    if (strcmp(from, to) != 0 && bfs_path_is_within(to, from))
        LEAVE(fs, bfs_fail(EINVAL, "rename %s -> %s: into itself", from, to));
    struct bfs_inode src, dst;
    char target[BFS_SYMLINK_MAX + 1];
    int err = ns_lookup_link(fs, from, &src, target);
    if (err)
        LEAVE(fs, bfs_fail(-err, "rename %s", from));
    if (strcmp(from, to) == 0)
        LEAVE(fs, 0);
    if (ns_sticky_permits(fs, &from_dir, &src, "rename", from))
        LEAVE(fs, -1);
    err = ns_lookup_link(fs, to, &dst, NULL); /* its parent is a directory: checked above */
    int exists = err == 0;
    if (err && err != -ENOENT)
        LEAVE(fs, bfs_fail(-err, "rename: %s", to));
    if (exists && ns_sticky_permits(fs, &to_dir, &dst, "rename over", to))
        LEAVE(fs, -1);
    if (exists) {
        if (S_ISDIR(src.mode) && !S_ISDIR(dst.mode))
            LEAVE(fs, bfs_fail(ENOTDIR, "rename %s -> %s", from, to));
        if (!S_ISDIR(src.mode) && S_ISDIR(dst.mode))
            LEAVE(fs, bfs_fail(EISDIR, "rename %s -> %s", from, to));
        if (S_ISDIR(dst.mode)) {
            err = dir_is_empty(fs, to);
            if (err <= 0)
                LEAVE(fs, bfs_fail(err ? -err : ENOTEMPTY, "rename %s -> %s", from, to));
            err = ns_remove_entry(fs, to, BFS_REMOVE_DIR, dst.fileid, NULL);
            if (err)
                LEAVE(fs, bfs_fail(-err, "rename %s -> %s", from, to));
        }
    }
    if (S_ISDIR(src.mode)) {
        err = rename_dir(fs, from, to, &src);
    } else {
        int replaced = 0;
        struct bfs_inode old, gone;
        /* Inline data stays with its server: to chunks first (small_file.c). */
        err = src.flags ? small_move(fs, from, &src) : 0;
        if (!err)
            err = ns_put_entry(fs, to, &src, target, 0, &replaced, &old);
        if (!err)
            err = ns_remove_entry(fs, from, BFS_REMOVE_FILE, src.fileid, &gone);
        /* A writer may have raised the extent at the old path since we read it: the new
         * entry must cover its chunks too, or unlink would leave them behind. */
        if (!err && S_ISREG(src.mode) && gone.extent != src.extent)
            err = ns_set_size(fs, to, src.fileid, gone.extent, BFS_SIZE_RESERVE, 0, NULL);
        /* The file that was replaced loses its data, as after unlink. */
        if (!err && replaced && old.fileid != src.fileid && S_ISREG(old.mode) &&
            !(old.flags & BFS_INO_INLINE))
            err = ns_chunks_op(fs, BFS_OP_CHUNK_REMOVE, &old, 0);
    }
    if (err)
        LEAVE(fs, bfs_fail(-err, "rename %s -> %s", from, to));
    file_renamed(fs, from, to);
    LEAVE(fs, 0);
}
