/* SPDX-License-Identifier: BSD-3-Clause */
/* meta_store_txn.h — the metadata store's LMDB handles and one-record transaction helpers,
 * shared by meta_store.c (the namespace) and meta_inline.c (small files' data, kept in a
 * second database under the same key so that it is written in the same transaction as its
 * inode). Private to those two files. */
#ifndef BFS_META_STORE_TXN_H
#define BFS_META_STORE_TXN_H

#include <lmdb.h>

#include "common/path.h"
#include "meta_store.h"

struct meta_store {
    MDB_env *env;
    MDB_dbi dbi;  /* key -> inode record (meta_store.h) */
    MDB_dbi idbi; /* key -> inline data record (meta_inline.c) */
};

#define KEY_MAX (8 + BFS_NAME_MAX)

/* One transaction over the record of one path: t->k is its key. */
struct wtxn {
    MDB_txn *txn;
    uint8_t key[KEY_MAX];
    MDB_val k;
};

int lmdb_errno(int rc);
int wtxn_begin(struct meta_store *m, struct wtxn *t, const char *path, int write);
/* Commits when err is 0, else aborts; returns err or the commit's error. */
int wtxn_end(struct wtxn *t, int err);
/* target: a link's (BFS_SYMLINK_MAX + 1 bytes), optional on get, NULL for anything else. */
int txn_get(struct meta_store *m, struct wtxn *t, struct bfs_inode *ino, char *target);
int txn_put(struct meta_store *m, struct wtxn *t, const char *path, const struct bfs_inode *ino,
            const char *target);

/* meta_inline.c: hooks inside meta_store.c's transactions. */
/* The file's inline data goes with its record (remove, or replaced by META_PUT). */
int inline_drop(struct meta_store *m, struct wtxn *t);
/* A size change of an inline file (ino->flags set): cut the kept bytes to `size`; -EXDEV
 * past BFS_INLINE_MAX (the client moves the data to chunks first), -EAGAIN while MOVING. */
int inline_resize(struct meta_store *m, struct wtxn *t, const struct bfs_inode *ino,
                  uint64_t size);

#endif
