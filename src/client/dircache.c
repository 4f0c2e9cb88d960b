/* SPDX-License-Identifier: BSD-3-Clause */
/* dircache.c — directories this context looked up a moment ago ($BENCHFS_DIR_CACHE_MS, off by
 * default). Create, mkdir, unlink and rmdir check their parent directory first (it exists, is
 * one, may be written), and that LOOKUP goes to another server than the entry's: a second round
 * trip per operation, the same directory over and over in a job that fills or empties one.
 * With the cache on, the check uses the directory's inode as it was at most that long ago, the
 * relaxation a kernel's attribute cache (FUSE's attr_timeout, NFS's acdirmin) makes: another
 * client's chmod, chown or rmdir of the directory is seen when the entry expires. This
 * context's own rmdir, rename and attribute changes empty the cache at once.
 *
 * Only link-free directory paths are kept (what a LOOKUP found a directory at), so a hit
 * resolves the path exactly as a LOOKUP would. Direct-mapped by the path's ring hash: a
 * collision costs a LOOKUP, never a wrong answer. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/ring.h"
#include "common/util.h"
#include "internal.h"

#define DIRCACHE_SLOTS 256

struct dircache_slot {
    int64_t expires_ms; /* 0: empty */
    struct bfs_inode ino;
    char path[BFS_PATH_MAX];
};

int dircache_get(benchfs_t *fs, const char *path, struct bfs_inode *ino)
{
    if (!fs->dircache)
        return -1;
    struct dircache_slot *s = &fs->dircache[bfs_hash_path(path) % DIRCACHE_SLOTS];
    if (s->expires_ms == 0 || strcmp(s->path, path) != 0)
        return -1;
    if (bfs_mono_ms() >= s->expires_ms) {
        s->expires_ms = 0;
        return -1;
    }
    *ino = s->ino;
    return 0;
}

void dircache_put(benchfs_t *fs, const char *path, const struct bfs_inode *ino)
{
    if (fs->dircache_ms <= 0 || !S_ISDIR(ino->mode) || strlen(path) >= BFS_PATH_MAX)
        return;
    if (!fs->dircache) {
        fs->dircache = calloc(DIRCACHE_SLOTS, sizeof *fs->dircache);
        if (!fs->dircache)
            return; /* only slower */
    }
    struct dircache_slot *s = &fs->dircache[bfs_hash_path(path) % DIRCACHE_SLOTS];
    s->expires_ms = bfs_mono_ms() + fs->dircache_ms;
    s->ino = *ino;
    strcpy(s->path, path);
}

void dircache_clear(benchfs_t *fs)
{
    if (fs->dircache)
        for (int i = 0; i < DIRCACHE_SLOTS; i++)
            fs->dircache[i].expires_ms = 0;
}

void dircache_free(benchfs_t *fs)
{
    free(fs->dircache);
    fs->dircache = NULL;
}
