/* log.h — leveled logging to stderr, shared by server, client and tools. */
#ifndef BFS_LOG_H
#define BFS_LOG_H

enum bfs_log_level { BFS_LOG_ERROR = 0, BFS_LOG_WARN, BFS_LOG_INFO, BFS_LOG_DEBUG };

/* Process-wide threshold; messages above it are dropped. Default: WARN, or $BENCHFS_LOG. */
void bfs_log_set_level(int level);
int bfs_log_parse_level(const char *name); /* "error".."debug" -> level, -1 if unknown */
void bfs_log_set_prefix(const char *prefix); /* e.g. "benchfsd[2]" */
void bfs_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define LOG_ERR(...) bfs_log(BFS_LOG_ERROR, __VA_ARGS__)
#define LOG_WARN(...) bfs_log(BFS_LOG_WARN, __VA_ARGS__)
#define LOG_INFO(...) bfs_log(BFS_LOG_INFO, __VA_ARGS__)
#define LOG_DEBUG(...) bfs_log(BFS_LOG_DEBUG, __VA_ARGS__)

#endif
