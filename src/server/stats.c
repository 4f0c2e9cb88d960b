/* SPDX-License-Identifier: BSD-3-Clause */
#include "stats.h"

#include <stdarg.h>
#include <stdio.h>

#include "common/util.h"

void stats_record(struct server_stats *s, int op, int status, uint64_t in, uint64_t out,
                  int64_t latency_ns)
{
    if (op <= 0 || op >= BFS_OP__COUNT)
        return;
    struct op_stats *o = &s->ops[op];
    o->count++;
    if (status)
        o->errors++;
    o->bytes_in += in;
    o->bytes_out += out;
    if (latency_ns < 0)
        latency_ns = 0;
    o->lat_sum_ns += (uint64_t)latency_ns;
    uint64_t us = (uint64_t)latency_ns / 1000;
    int b = 0;
    while (b < STATS_BUCKETS - 1 && us >= (1ull << b))
        b++;
    o->lat_hist[b]++;
}

/* Upper bound (µs) of the bucket holding the q-quantile. */
static uint64_t quantile_us(const struct op_stats *o, double q)
{
    uint64_t want = (uint64_t)(q * (double)o->count + 0.5), seen = 0;
    for (int b = 0; b < STATS_BUCKETS; b++) {
        seen += o->lat_hist[b];
        if (seen >= want && seen > 0)
            return 1ull << b;
    }
    return 0;
}

struct out {
    char *buf;
    size_t len, cap;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...)
{
    if (o->len >= o->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->len += (size_t)n < o->cap - o->len ? (size_t)n : o->cap - o->len - 1;
}

size_t stats_format(const struct server_stats *s, uint64_t used, uint64_t capacity,
                    uint64_t entries, char *buf, size_t cap)
{
    struct out o = {buf, 0, cap};
    if (cap)
        buf[0] = '\0';
    put(&o, "uptime_s %.1f\n", (double)(bfs_now_ns() - s->started_ns) / 1e9);
    put(&o, "used_bytes %llu\ncapacity_bytes %llu\nmeta_entries %llu\n",
        (unsigned long long)used, (unsigned long long)capacity, (unsigned long long)entries);
    put(&o, "rejected_frames %llu\nrejected_key %llu\n", (unsigned long long)s->rejected_frames,
        (unsigned long long)s->rejected_key);
    for (int op = 1; op < BFS_OP__COUNT; op++) {
        const struct op_stats *x = &s->ops[op];
        if (!x->count)
            continue;
        const char *n = bfs_op_name(op);
        put(&o, "%s.count %llu\n%s.errors %llu\n", n, (unsigned long long)x->count, n,
            (unsigned long long)x->errors);
        if (x->bytes_in || x->bytes_out)
            put(&o, "%s.bytes_in %llu\n%s.bytes_out %llu\n", n,
                (unsigned long long)x->bytes_in, n, (unsigned long long)x->bytes_out);
        put(&o, "%s.lat_avg_us %.1f\n%s.lat_p50_us_le %llu\n%s.lat_p99_us_le %llu\n", n,
            (double)x->lat_sum_ns / 1e3 / (double)x->count, n,
            (unsigned long long)quantile_us(x, 0.5), n, (unsigned long long)quantile_us(x, 0.99));
    }
    return o.len;
}
