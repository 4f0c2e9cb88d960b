/* SPDX-License-Identifier: BSD-3-Clause */
/* util.h — small helpers shared by every layer. */
#ifndef BFS_UTIL_H
#define BFS_UTIL_H

#include <stddef.h>
#include <stdint.h>

int64_t bfs_now_ns(void);      /* wall clock, for file times */
int64_t bfs_mono_ms(void);     /* monotonic, for timeouts */
int64_t bfs_mono_ns(void);
/* "4096", "64K", "4M", "2G", "1T" (binary units) -> bytes; -1 if malformed. */
int64_t bfs_parse_size(const char *s);
/* Is the switch $name turned off (0, no, false, off, as bfs_env_bool reads it)? Unset,
 * on or malformed: no (tools that only ask what the library will do; the library itself
 * refuses a malformed value). */
int bfs_env_off(const char *name);
/* Strict forms for settings a user must not get silently wrong (the client's BENCHFS_*):
 * unset or empty gives `def`; a value that does not parse is -EINVAL, never the default.
 * bfs_env_int: decimal digits only, min..max; bfs_env_bytes: a size as bfs_parse_size
 * ("64K", "4M"), min..max; bfs_env_bool: 1/0, yes/no, true/false, on/off (any case).
 * 0 with *out set, or -EINVAL (*out untouched). */
int bfs_env_int(const char *name, int64_t def, int64_t min, int64_t max, int64_t *out);
int bfs_env_bytes(const char *name, int64_t def, int64_t min, int64_t max, int64_t *out);
int bfs_env_bool(const char *name, int def, int *out);

/* Lower-case hex of n bytes into out (2n + 1 bytes, NUL-terminated). */
void bfs_hex_encode(const uint8_t *in, size_t n, char *out);
/* hexlen / 2 bytes from hex digits: 0, or -1 if a pair is not hex. */
int bfs_hex_decode(const char *hex, size_t hexlen, uint8_t *out);
/* Write text to dir/name through a temporary file (fsync'd), renamed into place, or with
 * `exclusive` linked (-EEXIST if name exists): a reader never sees part of it. 0 or -errno. */
int bfs_write_file_atomic(const char *dir, const char *name, const char *text, int exclusive);
/* A small file into buf, NUL-terminated (at most cap - 1 bytes): its length, or -errno. */
int bfs_read_small(const char *path, char *buf, size_t cap);

#endif
