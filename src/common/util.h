/* util.h — small helpers shared by every layer. */
#ifndef BFS_UTIL_H
#define BFS_UTIL_H

#include <stdint.h>

int64_t bfs_now_ns(void);      /* wall clock, for file times */
int64_t bfs_mono_ms(void);     /* monotonic, for timeouts */
int64_t bfs_mono_ns(void);
/* "4096", "64K", "4M", "2G", "1T" (binary units) -> bytes; -1 if malformed. */
int64_t bfs_parse_size(const char *s);
/* Integer environment variable, or `def` if unset/malformed (sizes accept K/M/G). */
int64_t bfs_env_size(const char *name, int64_t def);

#endif
