/* SPDX-License-Identifier: BSD-3-Clause */
/* chunk_store.h — chunk files on this server's local storage.
 *
 * Chunk k of file F lives in <data>/chunks/<F mod 256>/<F as 16 hex>/<k> (chunk_layout.h):
 * a plain file of at most chunk_size bytes, so a missing chunk or a short one reads as zeros
 * (holes) and unlinking a file is one directory removal. Open descriptors are cached (LRU)
 * because the same chunks are hit again and again by sequential I/O; a descriptor with I/O in
 * flight is never closed. The actual reads and writes go through io_uring in loop.c.
 *
 * Capacity is counted as what the chunk files occupy on disk (st_blocks * 512), summed at
 * start-up and kept up to date from each file's allocation before and after every change the
 * server makes. A write's range is allocated before it is written (fallocate; the chunk file
 * grows to the range's end, zeros, which no reader reads past the file's size):
 * that is the capacity check (ENOSPC leaves nothing written) and, for a same-host client's
 * direct write, the reservation itself, so nothing a dead client leaves behind can drift
 * from the disk: its allocation goes with the file's truncate or removal. */
#ifndef BFS_CHUNK_STORE_H
#define BFS_CHUNK_STORE_H

#include <stddef.h>
#include <stdint.h>

struct chunk_store;

struct chunk_file {
    uint64_t fileid, index;
    int fd;
    uint64_t alloc; /* bytes it occupies on disk, as last counted in the store's total */
    int refs;       /* I/O in flight */
    int stale;     /* unlinked: close when refs drops to 0 */
    struct chunk_file *hnext, *lru_prev, *lru_next;
};

int chunk_store_open(struct chunk_store **cs, const char *data_dir, uint64_t capacity,
                     uint32_t max_open);
void chunk_store_close(struct chunk_store *cs);

/* Get (and pin) the chunk file; -ENOENT if absent and !create. */
int chunk_get(struct chunk_store *cs, uint64_t fileid, uint64_t index, int create,
              struct chunk_file **out);
void chunk_put(struct chunk_store *cs, struct chunk_file *cf);
/* Allocate [off, off+len) of the chunk file and count it: -ENOSPC (nothing kept) if it could
 * pass the capacity or the disk is full; -EOPNOTSUPP if the file system cannot allocate
 * ahead (the capacity was checked, nothing is held: the caller's write allocates). Bytes
 * already written need no new space: overwriting them never fails. */
int chunk_reserve(struct chunk_store *cs, struct chunk_file *cf, uint64_t off, uint64_t len);
/* Count what the chunk file occupies now (after a write). */
void chunk_account(struct chunk_store *cs, struct chunk_file *cf);
/* Give back what is allocated but unwritten in [off, off+len) (the reservation of a write
 * that failed elsewhere); written bytes are left alone. */
int chunk_release(struct chunk_store *cs, uint64_t fileid, uint64_t index, uint64_t off,
                  uint64_t len);

/* For fsync, which walks every chunk file of a file a batch at a time so that it never holds
 * more descriptors than the cache allows (--max-open-chunks):
 * chunk_list gives the chunk indices of `fileid` held here (*idx malloc'd; *n may be 0), or
 * -errno if its directory cannot be read (never a short list);
 * chunk_get_bounded is chunk_get without create that opens nothing past the cache's limit:
 * -EAGAIN when every cached descriptor is pinned (release what you hold, then go on), and
 * -errno (EMFILE, ...) if the chunk file cannot be opened;
 * chunk_batch_max is how many one walk should pin at once (half the cache, >= 1);
 * chunk_dir_open opens the file's chunk directory (to fsync its entries): fd or -errno. */
int chunk_list(struct chunk_store *cs, uint64_t fileid, uint64_t **idx, size_t *n);
int chunk_get_bounded(struct chunk_store *cs, uint64_t fileid, uint64_t index,
                      struct chunk_file **out);
uint32_t chunk_batch_max(const struct chunk_store *cs);
int chunk_dir_open(struct chunk_store *cs, uint64_t fileid);
/* Cut the file to `size` bytes: drop chunks past it, shorten the one it ends in (and free
 * what is allocated in it past `size`: reservations never written). */
int chunk_truncate(struct chunk_store *cs, uint64_t fileid, uint64_t size, uint32_t chunk_size);
/* Remove every chunk of `fileid` held here. */
int chunk_remove(struct chunk_store *cs, uint64_t fileid);
/* syncfs(2) of the file system the chunks are on: every chunk file written, durable. */
int chunk_syncfs(struct chunk_store *cs);

uint64_t chunk_used(const struct chunk_store *cs);
/* Capacity seen by clients: the configured limit, bounded by the disk's own free space. */
void chunk_statfs(const struct chunk_store *cs, uint64_t *total, uint64_t *avail);

#endif
