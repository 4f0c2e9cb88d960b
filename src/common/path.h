/* SPDX-License-Identifier: BSD-3-Clause */
/* path.h — BenchFS path rules: absolute, normalised, bounded. */
#ifndef BFS_PATH_H
#define BFS_PATH_H

#include <stddef.h>

#define BFS_PATH_MAX 4096 /* bytes, including the terminating NUL */
#define BFS_NAME_MAX 255  /* bytes of one component */

/* Normalise `in` into `out` (capacity BFS_PATH_MAX): collapse "//", drop ".", resolve ".."
 * (".." at the root stays at the root), drop a trailing "/". Returns 0, or -errno:
 * EINVAL (NULL, empty or relative path), ENAMETOOLONG (a component over 255 bytes or the
 * whole path over 4095 bytes). */
int bfs_path_normalize(const char *in, char *out);

/* Split a normalised path into its parent (written to `parent`, capacity BFS_PATH_MAX) and
 * returns a pointer to the last component inside `path`. The root has no parent: returns NULL. */
const char *bfs_path_split(const char *path, char *parent);

/* True if `path` equals `dir` or lies below it (both normalised). */
int bfs_path_is_within(const char *path, const char *dir);

#endif
