/* SPDX-License-Identifier: BSD-3-Clause */
/* chunk_layout.c — chunk file names (chunk_layout.h). */
#include "chunk_layout.h"

#include <stdio.h>

static int fits(int n, size_t cap) { return n < 0 || (size_t)n >= cap ? -1 : n; }

int bfs_chunk_dir(char *out, size_t cap, const char *root, uint64_t fileid)
{
    return fits(snprintf(out, cap, "%s/%02x/%016llx", root, (unsigned)(fileid & 0xff),
                         (unsigned long long)fileid),
                cap);
}

int bfs_chunk_path(char *out, size_t cap, const char *root, uint64_t fileid, uint64_t index)
{
    return fits(snprintf(out, cap, "%s/%02x/%016llx/%llu", root, (unsigned)(fileid & 0xff),
                         (unsigned long long)fileid, (unsigned long long)index),
                cap);
}
