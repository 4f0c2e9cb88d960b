/* SPDX-License-Identifier: BSD-3-Clause */
/* log.h — leveled logging to stderr, shared by server, client and tools. */
#ifndef BFS_LOG_H
#define BFS_LOG_H

enum bfs_log_level { BFS_LOG_ERROR = 0, BFS_LOG_WARN, BFS_LOG_INFO, BFS_LOG_DEBUG };

/* Process-wide threshold; messages above it are dropped. Default: WARN, or $BENCHFS_LOG. */
void bfs_log_set_level(int level);
int bfs_log_parse_level(const char *name); /* "error".."debug" -> level, -1 if unknown */
void bfs_log_set_prefix(const char *prefix); /* e.g. "benchfsd[2]" */
void bfs_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A log line that a peer can trigger at will (a rejected frame) goes through a limiter: at most
 * `burst` lines per second, then one line a second saying how many were left out, so a
 * hostile or broken peer cannot fill the disk with logs. */
struct bfs_log_limit {
    const char *what; /* "rejected frames": names the summary line */
    unsigned burst;
    long long window_ms; /* start of the current one-second window */
    unsigned logged, suppressed;
};
#define BFS_LOG_LIMIT(what_, burst_) {.what = (what_), .burst = (burst_)}
void bfs_log_limited(struct bfs_log_limit *l, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define LOG_ERR(...) bfs_log(BFS_LOG_ERROR, __VA_ARGS__)
#define LOG_WARN(...) bfs_log(BFS_LOG_WARN, __VA_ARGS__)
#define LOG_INFO(...) bfs_log(BFS_LOG_INFO, __VA_ARGS__)
#define LOG_DEBUG(...) bfs_log(BFS_LOG_DEBUG, __VA_ARGS__)

#endif
