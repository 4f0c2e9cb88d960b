/* SPDX-License-Identifier: BSD-3-Clause */
/* ring.h — consistent hashing (xxHash64, seed 0) with virtual nodes.
 *
 * The same ring places metadata (by path) and chunks (by file id and chunk index), so every
 * client and every server computes the same owner without asking anyone. */
#ifndef BFS_RING_H
#define BFS_RING_H

#include <stddef.h>
#include <stdint.h>

#define BFS_RING_DEFAULT_VNODES 150

struct bfs_ring_point {
    uint64_t hash;
    uint32_t server; /* index into the cluster's server list */
};

struct bfs_ring {
    struct bfs_ring_point *points; /* sorted by hash */
    size_t npoints;
    uint32_t nservers;
};

/* Build a ring of `nservers` servers named by their ids 0..nservers-1, `vnodes` points each
 * (0: default). Point i of server s sits at xxh64("<s>-<i>") (decimal server id, dash, vnode index;
 * measured in tests/unit/test_ring.c and docs/DESIGN.md). Returns 0, -EINVAL (no servers) or -ENOMEM. */
int bfs_ring_init(struct bfs_ring *r, uint32_t nservers, uint32_t vnodes);
void bfs_ring_free(struct bfs_ring *r);

/* Owner of a hash: the first point clockwise at or after it. */
uint32_t bfs_ring_lookup(const struct bfs_ring *r, uint64_t hash);

uint64_t bfs_hash_path(const char *path);
uint64_t bfs_hash_chunk(uint64_t fileid, uint64_t chunk_index);
uint64_t bfs_hash_bytes(const void *p, size_t n);

#endif
