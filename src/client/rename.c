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
};

struct moved_list {
    struct moved *v;
    size_t n, cap;
};

static int push(struct moved_list *l, const char *path, const struct bfs_inode *ino)
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
    if (!l->v[l->n].path)
        return -ENOMEM;
    l->v[l->n++].ino = *ino;
    return 0;
}

static void list_free(struct moved_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].path);
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
                char path[BFS_PATH_MAX];
                struct bfs_inode ino;
                bfs_rb_str(&r, path, sizeof path);
                bfs_inode_get(&r, &ino);
                if (r.err)
                    err = -EPROTO;
                else
                    err = push(out, path, &ino);
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
            if (list.v[i].ino.fileid == fileid && !S_ISDIR(list.v[i].ino.mode)) {
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
        err = ns_put_entry(fs, to, src, BFS_PUT_NOREPLACE, &replaced, &old);
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
            err = ns_put_entry(fs, np, &list.v[i].ino, 0, &replaced, &old);
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
    if (ns_normalize(oldpath, from) || ns_normalize(newpath, to))
        LEAVE(fs, -1);
    if (strcmp(from, "/") == 0 || strcmp(to, "/") == 0)
        LEAVE(fs, bfs_fail(EBUSY, "rename %s -> %s: the root cannot move", from, to));
    /* Parents first: "/file" -> "/file/x" is ENOTDIR (a file is no prefix of anything). */
    if (ns_check_parent(fs, from) || ns_check_parent(fs, to))
        LEAVE(fs, -1);
    if (strcmp(from, to) != 0 && bfs_path_is_within(to, from))
        LEAVE(fs, bfs_fail(EINVAL, "rename %s -> %s: into itself", from, to));
    struct bfs_inode src, dst;
    int err = ns_lookup(fs, from, &src);
    if (err)
        LEAVE(fs, bfs_fail(-err, "rename %s", from));
    if (strcmp(from, to) == 0)
        LEAVE(fs, 0);
    err = ns_lookup_entry(fs, to, &dst); /* its parent is a directory: checked above */
    int exists = err == 0;
    if (err && err != -ENOENT)
        LEAVE(fs, bfs_fail(-err, "rename: %s", to));
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
        struct bfs_inode old;
        /* Inline data stays with its server: to chunks first (small_file.c). */
        err = src.flags ? small_move(fs, from, &src) : 0;
        if (!err)
            err = ns_put_entry(fs, to, &src, 0, &replaced, &old);
        if (!err)
            err = ns_remove_entry(fs, from, BFS_REMOVE_FILE, src.fileid, NULL);
        /* The file that was replaced loses its data, as after unlink. */
        if (!err && replaced && old.fileid != src.fileid && !S_ISDIR(old.mode) &&
            !(old.flags & BFS_INO_INLINE))
            err = ns_chunks_broadcast(fs, BFS_OP_CHUNK_REMOVE, old.fileid, 0, 0);
    }
    if (err)
        LEAVE(fs, bfs_fail(-err, "rename %s -> %s", from, to));
    file_renamed(fs, from, to);
    LEAVE(fs, 0);
}
