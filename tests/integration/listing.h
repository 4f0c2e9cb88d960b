/* SPDX-License-Identifier: BSD-3-Clause */
/* listing.h — directory listing helpers shared by the integration tests. */
#ifndef BFS_TEST_LISTING_H
#define BFS_TEST_LISTING_H

#include <stdlib.h>
#include <string.h>

#include "benchfs.h"

struct name_list {
    benchfs_dirent_t *v;
    size_t n, cap;
};

/* readdir_cb callback: append the entry. */
static inline int collect_cb(const benchfs_dirent_t *e, void *arg)
{
    struct name_list *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        benchfs_dirent_t *g = realloc(l->v, cap * sizeof *g);
        if (!g)
            return -1;
        l->v = g;
        l->cap = cap;
    }
    l->v[l->n++] = *e;
    return 0;
}

/* All entries of a directory through opendir/readdir; -1 if opendir failed. */
static inline int list_dir(benchfs_t *fs, const char *path, struct name_list *out)
{
    memset(out, 0, sizeof *out);
    benchfs_dir_t *d = benchfs_opendir(fs, path);
    if (!d)
        return -1;
    const benchfs_dirent_t *e;
    while ((e = benchfs_readdir(d)) != NULL)
        collect_cb(e, out);
    benchfs_closedir(d);
    return 0;
}

static inline const benchfs_dirent_t *find_name(const struct name_list *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].name, name) == 0)
            return &l->v[i];
    return NULL;
}

#endif
