/* SPDX-License-Identifier: BSD-3-Clause */
/* directory.c — benchfs-fuse listings. opendir takes the library's snapshot of the directory
 * (every server's share of it, permission checked as the caller); readdir hands the whole
 * snapshot to libfuse at once (offsets are libfuse's), with each entry's attributes when the
 * kernel asks for readdirplus, so `ls -l` and `find` need no lookup per entry. A readdir at
 * offset 0 after the first (rewinddir) takes a new snapshot. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bfuse.h"

struct bfuse_dir {
    benchfs_dir_t *d;
    int listed; /* the snapshot was handed out: the next listing needs a new one */
};

int bfuse_opendir(const char *path, struct fuse_file_info *fi)
{
    int err;
    benchfs_t *fs = bfuse_begin(&err);
    if (!fs)
        return err;
    struct bfuse_dir *dh = calloc(1, sizeof *dh);
    if (!dh)
        return -ENOMEM;
    dh->d = benchfs_opendir(fs, path);
    if (!dh->d) {
        err = BFUSE_FAIL();
        free(dh);
        return err;
    }
    fi->fh = (uint64_t)(uintptr_t)dh;
    return 0;
}

int bfuse_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
                  struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
    (void)off;
    struct bfuse_dir *dh = (struct bfuse_dir *)(uintptr_t)fi->fh;
    int err;
    benchfs_t *fs = bfuse_begin(&err);
    if (!fs)
        return err;
    if (dh->listed) {
        benchfs_closedir(dh->d);
        dh->d = benchfs_opendir(fs, path);
        if (!dh->d)
            return BFUSE_FAIL();
    }
    dh->listed = 1;
    struct stat st;
    memset(&st, 0, sizeof st);
    st.st_mode = S_IFDIR;
    st.st_ino = 1; /* not 0: readdir(3) skips entries whose inode number is 0 */
    if (fill(buf, ".", &st, 0, 0) || fill(buf, "..", &st, 0, 0))
        return 0;
    int plus = (flags & FUSE_READDIR_PLUS) != 0;
    for (;;) { /* bounded by the snapshot's length */
        benchfs_stat_t b;
        const benchfs_dirent_t *e = plus ? benchfs_readdirplus(dh->d, &b) : benchfs_readdir(dh->d);
        if (!e)
            break;
        if (plus) {
            bfuse_fill_stat(&b, &st);
            if (S_ISREG(b.mode)) {
                int64_t mine = bfuse_open_size(b.ino);
                if (mine > st.st_size)
                    st.st_size = mine;
            }
        } else {
            memset(&st, 0, sizeof st);
            st.st_ino = e->ino ? e->ino : 1;
            st.st_mode = e->mode;
        }
        if (fill(buf, e->name, &st, 0, plus ? FUSE_FILL_DIR_PLUS : 0))
            break;
    }
    return 0;
}

int bfuse_releasedir(const char *path, struct fuse_file_info *fi)
{
    (void)path;
    struct bfuse_dir *dh = (struct bfuse_dir *)(uintptr_t)fi->fh;
    if (dh->d)
        benchfs_closedir(dh->d);
    free(dh);
    return 0;
}

/* Directory entries are made durable by the next fsync of a file (the library's fsync
 * syncs every server's metadata store); nothing to do per directory. */
int bfuse_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi)
{
    (void)path, (void)datasync, (void)fi;
    return 0;
}
