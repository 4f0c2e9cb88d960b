/* SPDX-License-Identifier: BSD-3-Clause */
/* stats.h — per-server counters: requests, errors, bytes and latency per RPC type.
 * Latency goes into log2 buckets of microseconds, enough for p50/p99 without storing samples. */
#ifndef BFS_STATS_H
#define BFS_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "common/proto.h"

#define STATS_BUCKETS 32

struct op_stats {
    uint64_t count, errors, bytes_in, bytes_out, lat_sum_ns;
    uint64_t lat_hist[STATS_BUCKETS]; /* bucket b: latency < 2^b microseconds */
};

struct server_stats {
    struct op_stats ops[BFS_OP__COUNT];
    uint64_t rejected_frames; /* malformed, wrong version, unknown op */
    uint64_t rejected_key;    /* wrong cluster key */
    int64_t started_ns;
};

void stats_record(struct server_stats *s, int op, int status, uint64_t in, uint64_t out,
                  int64_t latency_ns);
/* Render as "name value" lines; returns bytes written (truncated to cap). */
size_t stats_format(const struct server_stats *s, uint64_t used, uint64_t capacity,
                    uint64_t entries, char *buf, size_t cap);

#endif
