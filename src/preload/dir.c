/* SPDX-License-Identifier: BSD-3-Clause */
/* dir.c — listing BenchFS directories in libbenchfs-preload.so: opendir/fdopendir/readdir
 * (and the 64-bit, _r, tell/seek/rewind forms), getdents64 for programs that read a
 * descriptor directly, and scandir (glibc's would open the directory internally, out of our
 * reach). A DIR * of ours starts with its descriptor number, as glibc's DIR does, so the
 * number's table entry tells ours from libc's in one look. "." and ".." come first, as the
 * kernel lists them. */
#include "preload.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

_Static_assert(sizeof(struct dirent) == sizeof(struct dirent64), "dirent64 is dirent on LP64");

struct pl_dir {
    int fd; /* first, as in glibc's DIR */
    struct pl_file *file;
    benchfs_dir_t *d;
    long pos;                          /* entries returned so far, dots included */
    int pending;                       /* ent is read but not handed out (getdents64) */
    struct dirent64 ent;
};

void pl_dir_free(struct pl_dir *d)
{
    if (d->d)
        benchfs_closedir(d->d);
    free(d);
}

static struct pl_dir *dir_new(int fd, struct pl_file *f)
{
    benchfs_t *fs = pl_fs();
    if (!fs)
        return NULL;
    int isdir = pl_is_dir(f);
    if (isdir <= 0) {
        if (isdir == 0)
            errno = ENOTDIR;
        return NULL;
    }
    struct pl_dir *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->fd = fd;
    d->file = f;
    d->d = benchfs_opendir(fs, f->path);
    if (!d->d) {
        int e = errno;
        free(d);
        errno = e;
        return NULL;
    }
    return d;
}

static int rewind_dir(struct pl_dir *d)
{
    benchfs_t *fs = pl_fs();
    if (!fs)
        return -1;
    benchfs_dir_t *n = benchfs_opendir(fs, d->file->path);
    if (!n)
        return -1;
    benchfs_closedir(d->d);
    d->d = n;
    d->pos = 0;
    d->pending = 0;
    return 0;
}

static unsigned char dtype(uint32_t mode)
{
    return S_ISDIR(mode) ? DT_DIR : S_ISLNK(mode) ? DT_LNK : S_ISREG(mode) ? DT_REG : DT_UNKNOWN;
}

/* The next entry into d->ent, or NULL at the end. */
static struct dirent64 *next_entry(struct pl_dir *d)
{
    struct dirent64 *e = &d->ent;
    if (d->pending) {
        d->pending = 0;
        d->pos++;
        return e;
    }
    memset(e, 0, sizeof *e);
    if (d->pos < 2) {
        strcpy(e->d_name, d->pos == 0 ? "." : "..");
        e->d_type = DT_DIR;
        e->d_ino = 1; /* placeholder: BenchFS directories are not listed with their ids */
    } else {
        const benchfs_dirent_t *b = benchfs_readdir(d->d);
        if (!b)
            return NULL;
        e->d_ino = b->ino ? b->ino : 1;
        e->d_type = dtype(b->mode);
        snprintf(e->d_name, sizeof e->d_name, "%s", b->name);
    }
    d->pos++;
    e->d_off = d->pos;
    e->d_reclen = sizeof *e;
    return e;
}

/* Our DIR *, or NULL for libc's. */
static struct pl_dir *ours(DIR *dp)
{
    if (!dp)
        return NULL;
    struct pl_file *f = pl_file(*(int *)dp);
    return f && f->stream == (void *)dp ? (struct pl_dir *)dp : NULL;
}

PL_API DIR *fdopendir(int fd)
{
    struct pl_file *f = pl_file(fd);
    if (!f)
        return REAL(fdopendir)(fd);
    if (f->flags & O_PATH) {
        errno = EBADF;
        return NULL;
    }
    if (f->stream) {
        errno = EINVAL; /* one stream per description is what we track */
        return NULL;
    }
    struct pl_dir *d = dir_new(fd, f);
    if (!d)
        return NULL;
    f->stream = d;
    return (DIR *)d;
}

PL_API DIR *opendir(const char *path)
{
    if (!pl_maybe(AT_FDCWD, path))
        return REAL(opendir)(path);
    struct pl_path pp;
    enum pl_where w = pl_map(AT_FDCWD, path, &pp);
    if (w == PL_ERROR)
        return NULL;
    if (w == PL_LIBC)
        return REAL(opendir)(pp.real);
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    DIR *dp = fdopendir(fd);
    if (!dp) {
        int e = errno;
        close(fd);
        errno = e;
    }
    return dp;
}

PL_API int closedir(DIR *dp)
{
    struct pl_dir *d = ours(dp);
    if (!d)
        return REAL(closedir)(dp);
    d->file->stream = NULL;
    int fd = d->fd;
    pl_dir_free(d);
    return close(fd);
}

PL_API struct dirent *readdir(DIR *dp)
{
    struct pl_dir *d = ours(dp);
    return d ? (struct dirent *)next_entry(d) : REAL(readdir)(dp);
}
PL_API struct dirent64 *readdir64(DIR *dp)
{
    struct pl_dir *d = ours(dp);
    return d ? next_entry(d) : REAL(readdir64)(dp);
}

static int entry_r(struct pl_dir *d, struct dirent64 *entry, struct dirent64 **result)
{
    struct dirent64 *e = next_entry(d);
    if (e) {
        memcpy(entry, e, sizeof *e);
        *result = entry;
    } else {
        *result = NULL;
    }
    return 0;
}

/* Deprecated, still called by old programs. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
PL_API int readdir_r(DIR *dp, struct dirent *entry, struct dirent **result)
{
    struct pl_dir *d = ours(dp);
    if (!d)
        return REAL(readdir_r)(dp, entry, result);
    return entry_r(d, (struct dirent64 *)entry, (struct dirent64 **)result);
}
PL_API int readdir64_r(DIR *dp, struct dirent64 *entry, struct dirent64 **result)
{
    struct pl_dir *d = ours(dp);
    if (!d)
        return REAL(readdir64_r)(dp, entry, result);
    return entry_r(d, entry, result);
}
#pragma GCC diagnostic pop

PL_API void rewinddir(DIR *dp)
{
    struct pl_dir *d = ours(dp);
    if (!d) {
        REAL(rewinddir)(dp);
        return;
    }
    rewind_dir(d);
}

PL_API long telldir(DIR *dp)
{
    struct pl_dir *d = ours(dp);
    return d ? d->pos : REAL(telldir)(dp);
}

PL_API void seekdir(DIR *dp, long loc)
{
    struct pl_dir *d = ours(dp);
    if (!d) {
        REAL(seekdir)(dp, loc);
        return;
    }
    if (loc < d->pos && rewind_dir(d) != 0)
        return;
    while (d->pos < loc && next_entry(d))
        ;
}

PL_API int dirfd(DIR *dp)
{
    struct pl_dir *d = ours(dp);
    return d ? d->fd : REAL(dirfd)(dp);
}

/* ---- getdents64 ---- */

struct linux_dirent64_hdr {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

PL_API ssize_t getdents64(int fd, void *buf, size_t nbytes)
{
    struct pl_file *f = pl_file(fd);
    if (!f)
        return REAL(getdents64)(fd, buf, nbytes);
    if (f->flags & O_PATH)
        return pl_err(EBADF);
    if (!f->dir && !(f->dir = dir_new(fd, f)))
        return -1;
    struct pl_dir *d = f->dir;
    size_t used = 0;
    for (;;) {
        long before = d->pos;
        struct dirent64 *e = next_entry(d);
        if (!e)
            break;
        size_t nlen = strlen(e->d_name);
        size_t rec = (offsetof(struct linux_dirent64_hdr, d_name) + nlen + 1 + 7) & ~(size_t)7;
        if (used + rec > nbytes) {
            d->pending = 1; /* for the next call */
            d->pos = before;
            if (used == 0)
                return pl_err(EINVAL);
            break;
        }
        struct linux_dirent64_hdr *h = (void *)((char *)buf + used);
        h->d_ino = e->d_ino;
        h->d_off = e->d_off;
        h->d_reclen = (unsigned short)rec;
        h->d_type = e->d_type;
        memcpy(h->d_name, e->d_name, nlen + 1);
        used += rec;
    }
    return (ssize_t)used;
}

/* ---- scandir ---- */

typedef int (*filter_fn)(const struct dirent *);
typedef int (*compar_fn)(const struct dirent **, const struct dirent **);

static int bfs_scandir(DIR *dp, struct dirent ***list, filter_fn filter, compar_fn compar)
{
    size_t n = 0, cap = 0;
    struct dirent **v = NULL;
    struct dirent *e;
    while ((e = readdir(dp))) {
        if (filter && !filter(e))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            struct dirent **nv = realloc(v, cap * sizeof *v);
            if (!nv)
                goto nomem;
            v = nv;
        }
        if (!(v[n] = malloc(sizeof *e)))
            goto nomem;
        memcpy(v[n++], e, sizeof *e);
    }
    closedir(dp);
    if (compar && n > 1)
        qsort(v, n, sizeof *v, (int (*)(const void *, const void *))compar);
    *list = v;
    return (int)n;
nomem:
    while (n > 0)
        free(v[--n]);
    free(v);
    closedir(dp);
    return pl_err(ENOMEM);
}

PL_API int scandir(const char *path, struct dirent ***list, filter_fn filter, compar_fn compar)
{
    if (!pl_maybe(AT_FDCWD, path))
        return REAL(scandir)(path, list, filter, compar);
    struct pl_path pp;
    enum pl_where w = pl_map(AT_FDCWD, path, &pp);
    if (w == PL_ERROR)
        return -1;
    if (w == PL_LIBC)
        return REAL(scandir)(pp.real, list, filter, compar);
    DIR *dp = opendir(path);
    return dp ? bfs_scandir(dp, list, filter, compar) : -1;
}

PL_API int scandir64(const char *path, struct dirent64 ***list,
                     int (*filter)(const struct dirent64 *),
                     int (*compar)(const struct dirent64 **, const struct dirent64 **))
{
    if (!pl_maybe(AT_FDCWD, path))
        return REAL(scandir64)(path, list, filter, compar);
    return scandir(path, (struct dirent ***)list, (filter_fn)filter, (compar_fn)compar);
}
