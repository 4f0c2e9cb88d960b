/* SPDX-License-Identifier: BSD-3-Clause */
/* find_filter.h — the tests of a FIND request (name glob, newer-than, size, type), as they
 * travel on the wire and as the server applies them to each entry it scans. Shared by the
 * client (which encodes them from benchfs_find_spec_t) and the server (which decodes, checks
 * and applies them), so both agree on find(1)'s semantics in one place. */
#ifndef BFS_FIND_FILTER_H
#define BFS_FIND_FILTER_H

#include <stdint.h>

#include "common/proto.h"
#include "common/wire.h"

#define BFS_FIND_NAME 1u  /* fnmatch(name, last component, 0), as find -name */
#define BFS_FIND_NEWER 2u /* mtime_ns > newer_ns, as find -newer */
#define BFS_FIND_SIZE 4u  /* find -size [+-]N[unit] */
#define BFS_FIND_TYPE 8u  /* the entry's type is in `types` */
#define BFS_FIND_ALL 15u

#define BFS_FIND_T_FILE 1u
#define BFS_FIND_T_DIR 2u
#define BFS_FIND_T_LINK 4u
#define BFS_FIND_T_ALL 7u

/* size_cmp */
#define BFS_FIND_SIZE_EQ 0u
#define BFS_FIND_SIZE_GT 1u
#define BFS_FIND_SIZE_LT 2u

#define BFS_FIND_GLOB_MAX 1024 /* bytes of the name pattern, with its NUL */

struct bfs_find_filter {
    uint32_t flags;
    char name[BFS_FIND_GLOB_MAX];
    int64_t newer_ns;
    uint64_t size, size_unit; /* size in units of size_unit bytes, each rounded up */
    uint32_t size_cmp;
    uint32_t types;
};

/* Wire form: u32 flags, str name, u64 newer_ns, u64 size, u64 size_unit, u32 size_cmp,
 * u32 types (every field present whatever the flags). */
void bfs_find_filter_put(struct bfs_wbuf *w, const struct bfs_find_filter *f);
/* Read and check: 0, -EPROTO (short), or -EINVAL (a flag, unit, comparison or type that
 * means nothing: refused rather than guessed). */
int bfs_find_filter_get(struct bfs_rbuf *r, struct bfs_find_filter *f);
/* 0 or -EINVAL, the checks bfs_find_filter_get makes. */
int bfs_find_filter_check(const struct bfs_find_filter *f);
/* Does the entry (its last component `name`, its inode) pass every test? 1 or 0. */
int bfs_find_match(const struct bfs_find_filter *f, const char *name,
                   const struct bfs_inode *ino);
/* find -size: does a file of `bytes` bytes, counted in units of `unit` bytes rounded up,
 * compare to n as cmp says? */
int bfs_find_size_match(uint64_t bytes, uint64_t n, uint64_t unit, uint32_t cmp);

#endif
