/* SPDX-License-Identifier: BSD-3-Clause */
#include "ring.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

uint64_t bfs_hash_bytes(const void *p, size_t n) { return XXH64(p, n, 0); }

uint64_t bfs_hash_path(const char *path) { return XXH64(path, strlen(path), 0); }

uint64_t bfs_hash_chunk(uint64_t fileid, uint64_t chunk_index)
{
    /* Fixed little-endian layout so the placement is the same on every host. */
    uint8_t key[16];
    for (int i = 0; i < 8; i++) {
        key[i] = (uint8_t)(fileid >> (8 * i));
        key[8 + i] = (uint8_t)(chunk_index >> (8 * i));
    }
    return XXH64(key, sizeof key, 0);
}

static int point_cmp(const void *a, const void *b)
{
    const struct bfs_ring_point *x = a, *y = b;
    if (x->hash != y->hash)
        return x->hash < y->hash ? -1 : 1;
    return x->server < y->server ? -1 : (x->server > y->server);
}

int bfs_ring_init(struct bfs_ring *r, uint32_t nservers, uint32_t vnodes)
{
    if (vnodes == 0)
        vnodes = BFS_RING_DEFAULT_VNODES;
    memset(r, 0, sizeof *r);
    if (nservers == 0)
        return -EINVAL;
    r->points = calloc((size_t)nservers * vnodes, sizeof *r->points);
    if (!r->points)
        return -ENOMEM;
    char name[64];
    for (uint32_t s = 0; s < nservers; s++) {
        for (uint32_t v = 0; v < vnodes; v++) {
            int n = snprintf(name, sizeof name, "%u-%u", s, v);
            struct bfs_ring_point *pt = &r->points[r->npoints++];
            pt->hash = XXH64(name, (size_t)n, 0);
            pt->server = s;
        }
    }
    qsort(r->points, r->npoints, sizeof *r->points, point_cmp);
    r->nservers = nservers;
    return 0;
}

void bfs_ring_free(struct bfs_ring *r)
{
    free(r->points);
    memset(r, 0, sizeof *r);
}

uint32_t bfs_ring_lookup(const struct bfs_ring *r, uint64_t hash)
{
    size_t lo = 0, hi = r->npoints; /* first point with point.hash >= hash */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->points[mid].hash < hash)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == r->npoints)
        lo = 0; /* wrap around */
    return r->points[lo].server;
}
