/* SPDX-License-Identifier: BSD-3-Clause */
/* meta_store.h — this server's share of the namespace, in LMDB.
 *
 * Key:   8-byte big-endian xxh64(parent path) + the entry's name. All children of a directory
 *        that this server owns are adjacent, so a listing is one range scan; keys stay under
 *        LMDB's 511-byte limit however deep the path.
 * Value: the inode record (proto.h wire encoding) followed by the full path, which lets a
 *        listing reject hash collisions and a directory rename find whole subtrees, and for a
 *        symbolic link its target (str): one read serves a LOOKUP of a link.
 * Commits do not fsync (MDB_NOSYNC): a commit is in the page cache, so it survives kill -9 of
 * the server; FSYNC requests force it to disk with meta_sync(). */
#ifndef BFS_META_STORE_H
#define BFS_META_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "common/proto.h"

struct meta_store;

int meta_open(struct meta_store **m, const char *dir, uint64_t map_size);
void meta_close(struct meta_store *m);
int meta_sync(struct meta_store *m);

/* All return 0 or -errno. `target`: a link's target, BFS_SYMLINK_MAX + 1 bytes to read into
 * ("" unless the inode is a link), NULL when not wanted; given with S_IFLNK inodes only. */
int meta_get(struct meta_store *m, const char *path, struct bfs_inode *out, char *target);
/* Insert `ino` unless the path exists; then -EEXIST if excl, else 0 with *created = 0 and the
 * existing inode in *out (-EISDIR if the existing entry is a directory and `ino` is a file). */
int meta_create(struct meta_store *m, const char *path, const struct bfs_inode *ino,
                const char *target, int excl, struct bfs_inode *out, int *created);
/* Insert or replace; *replaced and *old tell what was there. */
int meta_put(struct meta_store *m, const char *path, const struct bfs_inode *ino,
             const char *target, int noreplace, struct bfs_inode *old, int *replaced);
/* Fields in mask (BFS_SETATTR_*) take the values given; ctime always. A link keeps its
 * target. */
int meta_setattr(struct meta_store *m, const char *path, uint32_t mask, uint32_t mode,
                 uint32_t uid, uint32_t gid, int64_t mtime, int64_t atime, int64_t ctime,
                 struct bfs_inode *out);
/* how: BFS_SIZE_EXTEND, SET, RESERVE (extent = max(extent, size)) or QUERY (no change).
 * -ESTALE if fileid does not match (the path now names another file); -EINVAL on a link. */
int meta_set_size(struct meta_store *m, const char *path, uint64_t fileid, uint64_t size,
                  uint32_t how, int64_t mtime, struct bfs_inode *out);
/* kind: BFS_REMOVE_FILE (-EISDIR on a dir), BFS_REMOVE_DIR (-ENOTDIR on a file), or 0. */
int meta_remove(struct meta_store *m, const char *path, uint32_t kind, uint64_t fileid,
                struct bfs_inode *old);

/* Visit up to `max` children of `dir` after the name `after` ("" from the start).
 * Returns the count visited, sets *more if entries remain. `target` is "" unless `ino` is a
 * link. */
typedef int (*meta_visit_fn)(void *arg, const char *path, const char *name,
                             const struct bfs_inode *ino, const char *target);
int meta_readdir(struct meta_store *m, const char *dir, const char *after, uint32_t max,
                 meta_visit_fn fn, void *arg, int *more);
/* Visit up to `max` entries strictly below `dir` in key order after the entry `after_path`. */
int meta_subtree(struct meta_store *m, const char *dir, const char *after_path, uint32_t max,
                 meta_visit_fn fn, void *arg, int *more);
/* Visit records in key order, strictly after the key `after` (after_len 0: from the first),
 * at most `budget` of them. fn returns 0 (consumed, go on), 1 (stop before this record: it
 * is not consumed) or -errno. The key of the last consumed record goes to last (up to
 * BFS_FIND_CURSOR_MAX bytes; `after` again if none was), and *end says the store has no
 * record after it. Returns the number consumed or -errno (-EINVAL: `after` too long). */
typedef int (*meta_scan_fn)(void *arg, const char *path, const char *name,
                            const struct bfs_inode *ino);
int meta_scan(struct meta_store *m, const uint8_t *after, size_t after_len, uint32_t budget,
              meta_scan_fn fn, void *arg, uint8_t *last, size_t *last_len, int *end);
/* Number of entries stored here. */
uint64_t meta_count(struct meta_store *m);

#endif
