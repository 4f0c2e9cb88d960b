/* SPDX-License-Identifier: BSD-3-Clause */
/* test_ring.c — consistent hashing: balance, stability, wrap-around, determinism. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "common/ring.h"

#define NKEYS 120000u     /* keys of each kind (paths, chunks) */
#define BALANCE_TOL 0.15  /* keys per server within +-15% of the mean */
#define MOVED_MIN 0.12    /* 4 -> 5 servers: about 1/5 of the keys move */
#define MOVED_MAX 0.28

static uint64_t *path_keys, *chunk_keys;

static void make_keys(void)
{
    path_keys = malloc(NKEYS * sizeof *path_keys);
    chunk_keys = malloc(NKEYS * sizeof *chunk_keys);
    if (!path_keys || !chunk_keys) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    char name[64];
    for (uint32_t i = 0; i < NKEYS; i++) {
        snprintf(name, sizeof name, "/dir/file.%u", i);
        path_keys[i] = bfs_hash_path(name);
        /* 1200 files of 100 chunks each, file ids spread like a real allocator's would be. */
        chunk_keys[i] = bfs_hash_chunk(0x1000u + (uint64_t)(i / 100) * 7919u, i % 100);
    }
}

/* Worst relative deviation from the mean of keys per server; also checks every owner is in
 * range. */
static double max_deviation(const struct bfs_ring *r, const uint64_t *keys, size_t nkeys,
                            const char *what)
{
    size_t *count = calloc(r->nservers, sizeof *count);
    CHECK(count != NULL);
    if (!count)
        return 1.0;
    int out_of_range = 0;
    for (size_t i = 0; i < nkeys; i++) {
        uint32_t s = bfs_ring_lookup(r, keys[i]);
        if (s >= r->nservers)
            out_of_range++;
        else
            count[s]++;
    }
    CHECK_EQ_INT(out_of_range, 0);
    double mean = (double)nkeys / r->nservers, worst = 0;
    printf("  %-6s %u servers:", what, r->nservers);
    for (uint32_t s = 0; s < r->nservers; s++) {
        double dev = ((double)count[s] - mean) / mean;
        if (dev < 0 ? -dev > worst : dev > worst)
            worst = dev < 0 ? -dev : dev;
        printf(" %zu", count[s]);
        CHECK_MSG(dev <= BALANCE_TOL && dev >= -BALANCE_TOL,
                  "%s: server %u of %u owns %zu keys, mean %.0f, deviation %+.1f%% (limit "
                  "+-%.0f%%)",
                  what, s, r->nservers, count[s], mean, dev * 100, BALANCE_TOL * 100);
    }
    printf("  (max deviation %.2f%%)\n", worst * 100);
    free(count);
    return worst;
}

static void test_structure(void)
{
    struct bfs_ring r;
    CHECK_EQ_INT(bfs_ring_init(&r, 3, 10), 0);
    CHECK_EQ_U64(r.nservers, 3);
    CHECK_EQ_U64(r.npoints, 30);
    /* Sorted, each server has exactly `vnodes` points, and every point sits at
     * xxh64("<s>-<i>") for some i. */
    unsigned per[3] = {0, 0, 0};
    for (size_t i = 0; i < r.npoints; i++) {
        if (i > 0)
            CHECK_MSG(r.points[i - 1].hash <= r.points[i].hash, "points not sorted at %zu", i);
        CHECK(r.points[i].server < 3);
        if (r.points[i].server < 3)
            per[r.points[i].server]++;
    }
    for (uint32_t s = 0; s < 3; s++) {
        CHECK_EQ_U64(per[s], 10);
        for (uint32_t v = 0; v < 10; v++) {
            char name[64];
            int n = snprintf(name, sizeof name, "%u-%u", s, v);
            uint64_t h = bfs_hash_bytes(name, (size_t)n);
            int found = 0;
            for (size_t i = 0; i < r.npoints; i++)
                if (r.points[i].hash == h && r.points[i].server == s)
                    found = 1;
            CHECK_MSG(found, "no point for \"%s\"", name);
        }
    }
    bfs_ring_free(&r);
    CHECK(r.points == NULL);
    CHECK_EQ_U64(r.npoints, 0);

    /* vnodes 0 means the default. */
    CHECK_EQ_INT(bfs_ring_init(&r, 4, 0), 0);
    CHECK_EQ_U64(r.npoints, 4u * BFS_RING_DEFAULT_VNODES);
    bfs_ring_free(&r);

    /* One server owns everything. */
    CHECK_EQ_INT(bfs_ring_init(&r, 1, 0), 0);
    int not_zero = 0;
    for (size_t i = 0; i < 1000; i++)
        not_zero += bfs_ring_lookup(&r, path_keys[i]) != 0;
    CHECK_EQ_INT(not_zero, 0);
    bfs_ring_free(&r);
}

static void test_zero_servers(void)
{
    struct bfs_ring r;
    memset(&r, 0xa5, sizeof r);
    CHECK_EQ_INT(bfs_ring_init(&r, 0, 0), -EINVAL);
    CHECK_EQ_INT(bfs_ring_init(&r, 0, 150), -EINVAL);
    /* Left empty, so freeing it is harmless. */
    CHECK(r.points == NULL);
    CHECK_EQ_U64(r.npoints, 0);
    bfs_ring_free(&r);
}

static void test_hashes(void)
{
    /* xxHash64, seed 0: published reference values. These pin the placement across hosts
     * and library versions. */
    CHECK_EQ_U64(bfs_hash_bytes("", 0), 0xEF46DB3751D8E999ull);
    CHECK_EQ_U64(bfs_hash_path(""), 0xEF46DB3751D8E999ull);
    CHECK_EQ_U64(bfs_hash_path("abc"), bfs_hash_bytes("abc", 3));
    CHECK_EQ_U64(bfs_hash_path("/dir/file.1"), bfs_hash_bytes("/dir/file.1", 11));
    CHECK(bfs_hash_path("/a") != bfs_hash_path("/b"));

    /* Chunk keys: fileid then index, both 8-byte little-endian. */
    uint64_t fid = 0x0102030405060708ull, idx = 0x1112131415161718ull;
    uint8_t key[16] = {8, 7, 6, 5, 4, 3, 2, 1, 0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11};
    CHECK_EQ_U64(bfs_hash_chunk(fid, idx), bfs_hash_bytes(key, sizeof key));
    CHECK(bfs_hash_chunk(1, 2) != bfs_hash_chunk(2, 1));
    CHECK(bfs_hash_chunk(1, 0) != bfs_hash_chunk(1, 1));
}

static void test_balance(void)
{
    static const uint32_t sizes[] = {2, 4, 8};
    double worst = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        struct bfs_ring r;
        CHECK_EQ_INT(bfs_ring_init(&r, sizes[i], BFS_RING_DEFAULT_VNODES), 0);
        double d1 = max_deviation(&r, path_keys, NKEYS, "paths");
        double d2 = max_deviation(&r, chunk_keys, NKEYS, "chunks");
        if (d1 > worst)
            worst = d1;
        if (d2 > worst)
            worst = d2;
        bfs_ring_free(&r);
    }
    printf("ring balance: max deviation over 2/4/8 servers %.2f%%\n", worst * 100);
}

static void moved(const struct bfs_ring *a, const struct bfs_ring *b, const uint64_t *keys,
                  size_t nkeys, const char *what)
{
    size_t n_moved = 0, wrong_dest = 0;
    for (size_t i = 0; i < nkeys; i++) {
        uint32_t oa = bfs_ring_lookup(a, keys[i]), ob = bfs_ring_lookup(b, keys[i]);
        if (oa != ob) {
            n_moved++;
            /* Consistent hashing: adding server N only takes keys; nothing moves between the
             * old servers. */
            if (ob != a->nservers)
                wrong_dest++;
        }
    }
    double frac = (double)n_moved / (double)nkeys;
    printf("  %-6s %u -> %u servers: %.2f%% of keys moved\n", what, a->nservers, b->nservers,
           frac * 100);
    CHECK_MSG(frac >= MOVED_MIN && frac <= MOVED_MAX,
              "%s: %.3f of keys moved going %u -> %u servers, expected %.2f..%.2f", what, frac,
              a->nservers, b->nservers, MOVED_MIN, MOVED_MAX);
    CHECK_MSG(wrong_dest == 0, "%s: %zu of %zu moved keys went to an old server", what,
              wrong_dest, n_moved);
}

static void test_stability(void)
{
    struct bfs_ring r4, r5;
    CHECK_EQ_INT(bfs_ring_init(&r4, 4, BFS_RING_DEFAULT_VNODES), 0);
    CHECK_EQ_INT(bfs_ring_init(&r5, 5, BFS_RING_DEFAULT_VNODES), 0);
    moved(&r4, &r5, path_keys, NKEYS, "paths");
    moved(&r4, &r5, chunk_keys, NKEYS, "chunks");
    bfs_ring_free(&r4);
    bfs_ring_free(&r5);
}

/* Reference lookup: linear scan for the first point at or after h, else the first point. */
static uint32_t slow_lookup(const struct bfs_ring *r, uint64_t h)
{
    for (size_t i = 0; i < r->npoints; i++)
        if (r->points[i].hash >= h)
            return r->points[i].server;
    return r->points[0].server;
}

static void test_lookup(void)
{
    struct bfs_ring r;
    CHECK_EQ_INT(bfs_ring_init(&r, 4, BFS_RING_DEFAULT_VNODES), 0);
    const struct bfs_ring_point *first = &r.points[0], *last = &r.points[r.npoints - 1];

    /* Wrap-around: past the largest point belongs to the first point's server. */
    CHECK(last->hash < UINT64_MAX); /* else the case below cannot be built */
    CHECK_EQ_U64(bfs_ring_lookup(&r, last->hash + 1), first->server);
    CHECK_EQ_U64(bfs_ring_lookup(&r, UINT64_MAX), first->server);
    CHECK_EQ_U64(bfs_ring_lookup(&r, 0), first->server);
    CHECK_EQ_U64(bfs_ring_lookup(&r, last->hash), last->server);
    CHECK_EQ_U64(bfs_ring_lookup(&r, first->hash), first->server);

    /* Exactly on a point belongs to it; one past belongs to the next one. */
    size_t bad_at = 0, bad_next = 0;
    for (size_t i = 0; i + 1 < r.npoints; i++) {
        if (bfs_ring_lookup(&r, r.points[i].hash) != r.points[i].server)
            bad_at++;
        if (r.points[i].hash + 1 < r.points[i + 1].hash &&
            bfs_ring_lookup(&r, r.points[i].hash + 1) != r.points[i + 1].server)
            bad_next++;
    }
    CHECK_EQ_U64(bad_at, 0);
    CHECK_EQ_U64(bad_next, 0);

    /* Binary search agrees with a linear scan on random hashes. */
    uint64_t seed = 42;
    size_t disagree = 0;
    for (int i = 0; i < 20000; i++) {
        uint64_t h = check_rand(&seed);
        if (bfs_ring_lookup(&r, h) != slow_lookup(&r, h))
            disagree++;
    }
    CHECK_EQ_U64(disagree, 0);
    bfs_ring_free(&r);

    /* A hand-built ring makes the wrap-around unambiguous. */
    struct bfs_ring_point pts[3] = {{100, 7}, {200, 8}, {300, 9}};
    struct bfs_ring h = {pts, 3, 10};
    CHECK_EQ_U64(bfs_ring_lookup(&h, 0), 7);
    CHECK_EQ_U64(bfs_ring_lookup(&h, 100), 7);
    CHECK_EQ_U64(bfs_ring_lookup(&h, 101), 8);
    CHECK_EQ_U64(bfs_ring_lookup(&h, 200), 8);
    CHECK_EQ_U64(bfs_ring_lookup(&h, 250), 9);
    CHECK_EQ_U64(bfs_ring_lookup(&h, 300), 9);
    CHECK_EQ_U64(bfs_ring_lookup(&h, 301), 7);
    CHECK_EQ_U64(bfs_ring_lookup(&h, UINT64_MAX), 7);
}

static void test_determinism(void)
{
    static const uint32_t sizes[] = {1, 3, 4, 8};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        struct bfs_ring a, b;
        CHECK_EQ_INT(bfs_ring_init(&a, sizes[k], 0), 0);
        CHECK_EQ_INT(bfs_ring_init(&b, sizes[k], 0), 0);
        CHECK_EQ_U64(a.npoints, b.npoints);
        CHECK(a.npoints == b.npoints &&
              memcmp(a.points, b.points, a.npoints * sizeof *a.points) == 0);
        size_t disagree = 0;
        for (size_t i = 0; i < NKEYS; i++) {
            disagree += bfs_ring_lookup(&a, path_keys[i]) != bfs_ring_lookup(&b, path_keys[i]);
            disagree += bfs_ring_lookup(&a, chunk_keys[i]) != bfs_ring_lookup(&b, chunk_keys[i]);
        }
        CHECK_MSG(disagree == 0, "%zu keys disagree between two %u-server rings", disagree,
                  sizes[k]);
        bfs_ring_free(&a);
        bfs_ring_free(&b);
    }
}

int main(void)
{
    make_keys();
    test_zero_servers();
    test_hashes();
    test_structure();
    test_lookup();
    test_determinism();
    test_balance();
    test_stability();
    free(path_keys);
    free(chunk_keys);
    return check_report("test_ring");
}
