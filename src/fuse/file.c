/* SPDX-License-Identifier: BSD-3-Clause */
/* file.c — open files of benchfs-fuse: create, open, read, write, flush, fsync, release,
 * truncate. A FUSE file handle holds a BenchFS descriptor of one context (the opener's); any
 * worker may use it, the library serialises it. Close-to-open across clients rests on two
 * things done here: a close(2) (FLUSH, the only close request the kernel waits for) publishes
 * the size written through the handle, and an open(2) drops the kernel's cached attributes of
 * the file so the size it then reads is the one published last. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "bfuse.h"

struct bfuse_file {
    benchfs_t *fs;
    int fd;
    int flags;
    uint64_t ino;
    pthread_rwlock_t io; /* I/O holds it shared; the descriptor swap of a flush exclusive */
    int dirty;           /* written since the size was last published (under table_lock) */
    int64_t size;        /* the size this handle's writes give the file (under table_lock) */
    struct bfuse_file *prev, *next;
};

/* Every open handle, for bfuse_open_size(). */
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct bfuse_file *table;

/* The version of each file whose pages the kernel may hold: what an open found when the
 * kernel last dropped them (size, mtime, ctime; a publish changes mtime and ctime). An open
 * that finds the same version lets the kernel keep its pages (as NFS revalidates at open); a
 * slot taken by another file only costs that file its cached pages. Under table_lock. */
#define SEEN_SLOTS 4096
struct seen {
    uint64_t ino;
    uint64_t size;
    int64_t mtime_ns, ctime_ns;
};
static struct seen seen[SEEN_SLOTS];

/* May the kernel keep the pages of this version? Records it as the one cached either way. */
static int same_version(const benchfs_stat_t *st)
{
    struct seen now = {st->ino, st->size, st->mtime_ns, st->ctime_ns};
    pthread_mutex_lock(&table_lock);
    struct seen *slot = &seen[st->ino % SEEN_SLOTS];
    int same = st->ino != 0 && memcmp(slot, &now, sizeof now) == 0;
    *slot = now;
    pthread_mutex_unlock(&table_lock);
    return same;
}

/* The pages of ino may hold what no version records (written through the mount). */
static void forget_version(uint64_t ino)
{
    pthread_mutex_lock(&table_lock);
    struct seen *slot = &seen[ino % SEEN_SLOTS];
    if (slot->ino == ino)
        slot->ino = 0;
    pthread_mutex_unlock(&table_lock);
}

static struct bfuse_file *handle(const struct fuse_file_info *fi)
{
    return (struct bfuse_file *)(uintptr_t)fi->fh;
}

int64_t bfuse_open_size(uint64_t ino)
{
    int64_t size = -1;
    pthread_mutex_lock(&table_lock);
    for (struct bfuse_file *f = table; f; f = f->next)
        if (f->ino == ino && f->dirty && f->size > size)
            size = f->size;
    pthread_mutex_unlock(&table_lock);
    return size;
}

/* The open flags the library takes (O_CREAT, O_EXCL, O_TRUNC only where the kernel asks). */
static int lib_flags(int flags, int extra)
{
    return (flags & (O_ACCMODE | O_APPEND)) | extra;
}

static int opened(benchfs_t *fs, int fd, int flags, struct fuse_file_info *fi,
                  benchfs_stat_t *stp)
{
    benchfs_stat_t st_buf, *stp_ = stp ? stp : &st_buf, st;
    struct bfuse_file *f = calloc(1, sizeof *f);
    if (!f) {
        benchfs_close(fs, fd);
        return -ENOMEM;
    }
    if (benchfs_fstat(fs, fd, &st) != 0) {
        int e = BFUSE_FAIL();
        benchfs_close(fs, fd);
        free(f);
        return e;
    }
    *stp_ = st;
    f->fs = fs;
    f->fd = fd;
    f->flags = flags;
    f->ino = st.ino;
    f->size = (int64_t)st.size;
    pthread_rwlock_init(&f->io, NULL);
    pthread_mutex_lock(&table_lock);
    f->next = table;
    if (table)
        table->prev = f;
    table = f;
    pthread_mutex_unlock(&table_lock);
    fi->fh = (uint64_t)(uintptr_t)f;
    return 0;
}

int bfuse_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    int err;
    benchfs_t *fs = bfuse_begin(&err);
    if (!fs)
        return err;
    int flags = lib_flags(fi->flags, O_CREAT | (fi->flags & (O_EXCL | O_TRUNC)));
    int fd = benchfs_open(fs, path, flags, mode & 07777);
    if (fd < 0)
        return BFUSE_FAIL();
    return opened(fs, fd, flags, fi, NULL);
}

int bfuse_open(const char *path, struct fuse_file_info *fi)
{
    int err;
    benchfs_t *fs = bfuse_begin(&err);
    if (!fs)
        return err;
    int flags = lib_flags(fi->flags, fi->flags & O_TRUNC);
    int fd = benchfs_open(fs, path, flags, 0);
    if (fd < 0)
        return BFUSE_FAIL();
    benchfs_stat_t st;
    err = opened(fs, fd, flags, fi, &st);
    if (err)
        return err;
    /* Close-to-open: the kernel would otherwise keep the size it cached (attr_timeout) and
     * stop a read at it, and its pages of an older version. A file the mount itself is
     * writing keeps what the kernel knows, which is newer; an unchanged one keeps its pages. */
    if (bfuse_open_size(st.ino) >= 0) {
        forget_version(st.ino);
    } else if (same_version(&st)) {
        fi->keep_cache = 1;
    } else {
        fuse_invalidate_path(fuse_get_context()->fuse, path);
    }
    return 0;
}

int bfuse_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
    (void)path;
    struct bfuse_file *f = handle(fi);
    if (!f)
        return -EBADF;
    size_t got = 0;
    int ret = 0;
    pthread_rwlock_rdlock(&f->io);
    while (got < size) { /* bounded: every pass reads at least one byte or stops */
        ssize_t n = benchfs_pread(f->fs, f->fd, buf + got, size - got, off + (off_t)got);
        if (n < 0) {
            ret = BFUSE_FAIL();
            break;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    pthread_rwlock_unlock(&f->io);
    return got > 0 || ret == 0 ? (int)got : ret;
}

int bfuse_write(const char *path, const char *buf, size_t size, off_t off,
                struct fuse_file_info *fi)
{
    (void)path;
    struct bfuse_file *f = handle(fi);
    if (!f)
        return -EBADF;
    size_t done = 0;
    int ret = 0;
    int64_t end = 0;
    pthread_rwlock_rdlock(&f->io);
    if (f->flags & O_APPEND) {
        /* After the end the metadata owner knows, not the kernel's (older) idea of it. */
        ssize_t n = benchfs_write(f->fs, f->fd, buf, size);
        if (n < 0)
            ret = BFUSE_FAIL();
        else {
            done = (size_t)n;
            end = benchfs_lseek(f->fs, f->fd, 0, SEEK_CUR);
        }
    } else {
        while (done < size) { /* bounded: every pass writes at least one byte or stops */
            ssize_t n = benchfs_pwrite(f->fs, f->fd, buf + done, size - done, off + (off_t)done);
            if (n <= 0) {
                ret = n < 0 ? BFUSE_FAIL() : -EIO;
                break;
            }
            done += (size_t)n;
        }
        end = off + (off_t)done;
    }
    pthread_rwlock_unlock(&f->io);
    if (done > 0) {
        forget_version(f->ino);
        pthread_mutex_lock(&table_lock);
        f->dirty = 1;
        if (end > f->size)
            f->size = end;
        pthread_mutex_unlock(&table_lock);
    }
    return done > 0 || ret == 0 ? (int)done : ret;
}

static int take_dirty(struct bfuse_file *f)
{
    pthread_mutex_lock(&table_lock);
    int dirty = f->dirty;
    f->dirty = 0;
    pthread_mutex_unlock(&table_lock);
    return dirty;
}

static void set_dirty(struct bfuse_file *f)
{
    pthread_mutex_lock(&table_lock);
    f->dirty = 1;
    pthread_mutex_unlock(&table_lock);
}

/* close(2) of one of the handle's descriptors: publish what was written, so a client that
 * opens the file after this close returns sees it. The library publishes a size at close or
 * fsync; the handle may still be used (dup, fork), and fsync would force every server's disk,
 * so the descriptor is closed and replaced by a new one on the same file. If the file cannot
 * be opened again as the same file (renamed away, no longer writable for this caller), fsync
 * publishes instead. */
int bfuse_flush(const char *path, struct fuse_file_info *fi)
{
    struct bfuse_file *f = handle(fi);
    if (!f)
        return -EBADF;
    if (!take_dirty(f))
        return 0;
    int err;
    if (!bfuse_begin(&err)) { /* the identity of the closing process, for the reopen */
        set_dirty(f);
        return err;
    }
    int ret = 0;
    pthread_rwlock_wrlock(&f->io);
    int nfd = path ? benchfs_open(f->fs, path, f->flags & (O_ACCMODE | O_APPEND), 0) : -1;
    benchfs_stat_t st;
    if (nfd >= 0 && (benchfs_fstat(f->fs, nfd, &st) != 0 || st.ino != f->ino)) {
        benchfs_close(f->fs, nfd);
        nfd = -1;
    }
    if (nfd >= 0) {
        if (benchfs_close(f->fs, f->fd) != 0)
            ret = BFUSE_FAIL();
        f->fd = nfd;
    } else if (benchfs_fsync(f->fs, f->fd) != 0) {
        ret = BFUSE_FAIL();
        set_dirty(f);
    }
    pthread_rwlock_unlock(&f->io);
    return ret;
}

int bfuse_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
    (void)path, (void)datasync;
    struct bfuse_file *f = handle(fi);
    if (!f)
        return -EBADF;
    int dirty = take_dirty(f);
    pthread_rwlock_rdlock(&f->io);
    int ret = benchfs_fsync(f->fs, f->fd) == 0 ? 0 : BFUSE_FAIL();
    pthread_rwlock_unlock(&f->io);
    if (ret && dirty)
        set_dirty(f);
    return ret;
}

int bfuse_release(const char *path, struct fuse_file_info *fi)
{
    (void)path;
    struct bfuse_file *f = handle(fi);
    if (!f)
        return -EBADF;
    pthread_mutex_lock(&table_lock);
    if (f->prev)
        f->prev->next = f->next;
    else
        table = f->next;
    if (f->next)
        f->next->prev = f->prev;
    pthread_mutex_unlock(&table_lock);
    int ret = benchfs_close(f->fs, f->fd) == 0 ? 0 : BFUSE_FAIL();
    pthread_rwlock_destroy(&f->io);
    free(f);
    return ret;
}

int bfuse_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
    int err;
    benchfs_t *fs = bfuse_begin(&err);
    if (!fs)
        return err;
    struct bfuse_file *f = fi ? handle(fi) : NULL;
    if (!f || (f->flags & O_ACCMODE) == O_RDONLY)
        return benchfs_truncate(fs, path, size) == 0 ? 0 : BFUSE_FAIL();
    pthread_rwlock_rdlock(&f->io);
    int ret = benchfs_ftruncate(f->fs, f->fd, size) == 0 ? 0 : BFUSE_FAIL();
    pthread_rwlock_unlock(&f->io);
    if (!ret) {
        pthread_mutex_lock(&table_lock);
        f->size = size;
        pthread_mutex_unlock(&table_lock);
    }
    return ret;
}
