/* SPDX-License-Identifier: BSD-3-Clause */
/* buf_pool.h — reusable, pre-faulted I/O buffers for chunk payloads.
 *
 * Why: a fresh buffer per chunk request is a fresh mmap (malloc hands out large blocks that
 * way), and the first copy into it — io_uring reading from the page cache, or UCX pulling a
 * rendezvous payload — then takes a page fault every 4 KiB. On a virtual machine a fault
 * costs more than copying the page: a 1 MiB chunk read from the page cache took 3.4 ms with
 * fresh buffers. Buffers here come in power-of-two classes (4 KiB .. 64 MiB), are populated
 * once, and go back to a per-class free list; at most `max_cached` bytes stay cached. */
#ifndef BFS_BUF_POOL_H
#define BFS_BUF_POOL_H

#include <stddef.h>

#define BUF_POOL_MIN_SHIFT 12
#define BUF_POOL_MAX_SHIFT 26
#define BUF_POOL_CLASSES (BUF_POOL_MAX_SHIFT - BUF_POOL_MIN_SHIFT + 1)

struct buf_pool {
    void *free[BUF_POOL_CLASSES]; /* singly linked through each buffer's first word */
    size_t cached, max_cached;    /* bytes on the free lists, and their bound */
    size_t live;                  /* bytes handed out */
};

void buf_pool_init(struct buf_pool *p, size_t max_cached);
/* A page-aligned buffer of at least len (> 0, <= 64 MiB) bytes; its capacity in *cap, to
 * pass back to buf_pool_put. NULL if memory is exhausted. */
void *buf_pool_get(struct buf_pool *p, size_t len, size_t *cap);
void buf_pool_put(struct buf_pool *p, void *buf, size_t cap);
/* Unmap every cached buffer. */
void buf_pool_fini(struct buf_pool *p);

#endif
