/* SPDX-License-Identifier: BSD-3-Clause */
/* find_filter.c — encoding, checking and applying the tests of a FIND request
 * (find_filter.h). */
#include "find_filter.h"

#include <errno.h>
#include <fnmatch.h>
#include <string.h>
#include <sys/stat.h>

void bfs_find_filter_put(struct bfs_wbuf *w, const struct bfs_find_filter *f)
{
    bfs_wb_u32(w, f->flags);
    bfs_wb_str(w, f->name);
    bfs_wb_u64(w, (uint64_t)f->newer_ns);
    bfs_wb_u64(w, f->size);
    bfs_wb_u64(w, f->size_unit);
    bfs_wb_u32(w, f->size_cmp);
    bfs_wb_u32(w, f->types);
}

int bfs_find_filter_check(const struct bfs_find_filter *f)
{
    if (f->flags & ~BFS_FIND_ALL)
        return -EINVAL;
    if ((f->flags & BFS_FIND_SIZE) && (f->size_unit == 0 || f->size_cmp > BFS_FIND_SIZE_LT))
        return -EINVAL;
    if ((f->flags & BFS_FIND_TYPE) && (f->types == 0 || (f->types & ~BFS_FIND_T_ALL)))
        return -EINVAL;
    if ((f->flags & BFS_FIND_NAME) && f->name[0] == '\0')
        return -EINVAL;
    return 0;
}

int bfs_find_filter_get(struct bfs_rbuf *r, struct bfs_find_filter *f)
{
    f->flags = bfs_rb_u32(r);
    bfs_rb_str(r, f->name, sizeof f->name);
    f->newer_ns = (int64_t)bfs_rb_u64(r);
    f->size = bfs_rb_u64(r);
    f->size_unit = bfs_rb_u64(r);
    f->size_cmp = bfs_rb_u32(r);
    f->types = bfs_rb_u32(r);
    if (r->err)
        return -EPROTO;
    return bfs_find_filter_check(f);
}

int bfs_find_size_match(uint64_t bytes, uint64_t n, uint64_t unit, uint32_t cmp)
{
    uint64_t units = bytes / unit + (bytes % unit != 0);
    switch (cmp) {
    case BFS_FIND_SIZE_GT: return units > n;
    case BFS_FIND_SIZE_LT: return units < n;
    default: return units == n;
    }
}

int bfs_find_match(const struct bfs_find_filter *f, const char *name,
                   const struct bfs_inode *ino)
{
    if (f->flags & BFS_FIND_TYPE) {
        uint32_t t = S_ISDIR(ino->mode)   ? BFS_FIND_T_DIR
                     : S_ISLNK(ino->mode) ? BFS_FIND_T_LINK
                     : S_ISREG(ino->mode) ? BFS_FIND_T_FILE
                                          : 0;
        if (!(t & f->types))
            return 0;
    }
    if ((f->flags & BFS_FIND_NEWER) && !(ino->mtime_ns > f->newer_ns))
        return 0;
    if ((f->flags & BFS_FIND_SIZE) &&
        !bfs_find_size_match(ino->size, f->size, f->size_unit, f->size_cmp))
        return 0;
    if ((f->flags & BFS_FIND_NAME) && fnmatch(f->name, name, 0) != 0)
        return 0;
    return 1;
}
