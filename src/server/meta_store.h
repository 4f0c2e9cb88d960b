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

/* Small files (meta_inline.c): a file whose inode has BFS_INO_INLINE or BFS_INO_MOVING keeps
 * its inode.size bytes of data here, in a second database under the same key. A buffer
 * `data` holds BFS_INLINE_MAX bytes. */
/* The inode and, if it is inline, its data (*len = inode.size bytes; 0 otherwise); a link's
 * target as meta_get's. */
int meta_get_data(struct meta_store *m, const char *path, struct bfs_inode *ino, char *target,
                  uint8_t *data, size_t *len);
/* Write [off, off+len) of an inline file, and its size and mtime, in one commit. -ESTALE
 * (another file id), -EXDEV (not inline, or past BFS_INLINE_MAX), -EAGAIN (MOVING). */
int meta_inline_write(struct meta_store *m, const char *path, uint64_t fileid, uint64_t off,
                      const void *buf, size_t len, int64_t mtime, struct bfs_inode *out);
/* Start moving an inline file to chunks: INLINE (or MOVING whose mover started before
 * `stale_before`, taken over) -> MOVING by `mover`; *copy = 1 and the data to copy in
 * data/len. A chunked file: *copy = 0. An empty inline file is made chunked at once (*copy =
 * 0). -EAGAIN: another mover is at it. */
int meta_move_begin(struct meta_store *m, const char *path, uint64_t fileid, uint64_t mover,
                    int64_t now, int64_t stale_before, struct bfs_inode *out, uint8_t *data,
                    size_t *len, int *copy);
/* End the move of `mover`: the file is chunked, its inline data dropped. -EAGAIN if the move
 * is not (any more) this mover's; a chunked file: 0. */
int meta_move_end(struct meta_store *m, const char *path, uint64_t fileid, uint64_t mover,
                  struct bfs_inode *out);

#endif
