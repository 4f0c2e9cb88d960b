/* SPDX-License-Identifier: BSD-3-Clause */
#include "chunk_store.h"

#include "common/chunk_layout.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/log.h"
#include "common/proto.h"

#define NBUCKETS 4096

#define BLK 4096u /* allocation granule assumed for rounding (ext4, xfs, tmpfs) */

struct chunk_store {
    char root[4096]; /* <data>/chunks */
    uint64_t capacity;
    uint64_t used;   /* sum of st_blocks * 512 over the chunk files */
    int no_falloc;   /* the file system has no fallocate: reservations are not held */
    uint32_t max_open, nopen;
    struct chunk_file *buckets[NBUCKETS];
    struct chunk_file lru; /* sentinel: lru.lru_next is the most recently used */
};

static size_t bucket_of(uint64_t fileid, uint64_t index)
{
    uint64_t h = fileid * 0x9E3779B97F4A7C15ull ^ (index + 0x632BE59BD9B4E019ull) * 0xBF58476D1CE4E5B9ull;
    return (size_t)(h >> 52) % NBUCKETS;
}

static void file_dir(const struct chunk_store *cs, uint64_t fileid, char *out, size_t cap)
{
    bfs_chunk_dir(out, cap, cs->root, fileid);
}

static void lru_unlink(struct chunk_file *cf)
{
    cf->lru_prev->lru_next = cf->lru_next;
    cf->lru_next->lru_prev = cf->lru_prev;
}

static void lru_push_front(struct chunk_store *cs, struct chunk_file *cf)
{
    cf->lru_next = cs->lru.lru_next;
    cf->lru_prev = &cs->lru;
    cs->lru.lru_next->lru_prev = cf;
    cs->lru.lru_next = cf;
}

static void hash_remove(struct chunk_store *cs, struct chunk_file *cf)
{
    struct chunk_file **pp = &cs->buckets[bucket_of(cf->fileid, cf->index)];
    while (*pp && *pp != cf)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = cf->hnext;
}

static void entry_close(struct chunk_store *cs, struct chunk_file *cf)
{
    hash_remove(cs, cf);
    lru_unlink(cf);
    close(cf->fd);
    cs->nopen--;
    free(cf);
}

/* What a file occupies on disk; an unlinked one no longer counts (its removal was). */
static uint64_t st_alloc(const struct stat *st)
{
    return st->st_nlink ? (uint64_t)st->st_blocks * 512 : 0;
}

static void used_add(struct chunk_store *cs, uint64_t before, uint64_t after)
{
    if (after >= before)
        cs->used += after - before;
    else
        cs->used -= before - after < cs->used ? before - after : cs->used;
}

/* Fold the change of cf's allocation since it was last counted into the total. */
static void fold(struct chunk_store *cs, struct chunk_file *cf, const struct stat *st)
{
    uint64_t now = st_alloc(st);
    used_add(cs, cf->alloc, now);
    cf->alloc = now;
}

/* Sum what all chunk files occupy: the used-bytes counter after a restart. */
static uint64_t scan_used(const char *root)
{
    uint64_t total = 0;
    DIR *d1 = opendir(root);
    if (!d1)
        return 0;
    struct dirent *e1;
    char p1[4400], p2[4700], p3[5000];
    while ((e1 = readdir(d1))) {
        if (e1->d_name[0] == '.')
            continue;
        snprintf(p1, sizeof p1, "%s/%s", root, e1->d_name);
        DIR *d2 = opendir(p1);
        if (!d2)
            continue;
        struct dirent *e2;
        while ((e2 = readdir(d2))) {
            if (e2->d_name[0] == '.')
                continue;
            snprintf(p2, sizeof p2, "%s/%s", p1, e2->d_name);
            DIR *d3 = opendir(p2);
            if (!d3)
                continue;
            struct dirent *e3;
            while ((e3 = readdir(d3))) {
                struct stat st;
                snprintf(p3, sizeof p3, "%s/%s", p2, e3->d_name);
                if (e3->d_name[0] != '.' && stat(p3, &st) == 0 && S_ISREG(st.st_mode))
                    total += st_alloc(&st);
            }
            closedir(d3);
        }
        closedir(d2);
    }
    closedir(d1);
    return total;
}

int chunk_store_open(struct chunk_store **out, const char *data_dir, uint64_t capacity,
                     uint32_t max_open)
{
    struct chunk_store *cs = calloc(1, sizeof *cs);
    if (!cs)
        return -ENOMEM;
    snprintf(cs->root, sizeof cs->root, "%s/" BFS_CHUNK_SUBDIR, data_dir);
    if (mkdir(cs->root, 0700) != 0 && errno != EEXIST) {
        int err = -errno;
        free(cs);
        return err;
    }
    cs->capacity = capacity;
    cs->max_open = max_open;
    cs->lru.lru_next = cs->lru.lru_prev = &cs->lru;
    cs->used = scan_used(cs->root);
    *out = cs;
    return 0;
}

void chunk_store_close(struct chunk_store *cs)
{
    if (!cs)
        return;
    while (cs->lru.lru_next != &cs->lru)
        entry_close(cs, cs->lru.lru_next);
    free(cs);
}

/* Close unpinned descriptors, least recently used first, until fewer than `limit` are open. */
static void evict_to(struct chunk_store *cs, uint32_t limit)
{
    /* Walk from the least recently used end; pinned entries stay. */
    struct chunk_file *cf = cs->lru.lru_prev;
    while (cs->nopen >= limit && cf != &cs->lru) {
        struct chunk_file *prev = cf->lru_prev;
        if (cf->refs == 0)
            entry_close(cs, cf);
        cf = prev;
    }
}

/* Room for one more descriptor within the cache's limit. */
static void evict(struct chunk_store *cs) { evict_to(cs, cs->max_open); }

static struct chunk_file *lookup(struct chunk_store *cs, uint64_t fileid, uint64_t index)
{
    for (struct chunk_file *cf = cs->buckets[bucket_of(fileid, index)]; cf; cf = cf->hnext)
        if (cf->fileid == fileid && cf->index == index && !cf->stale)
            return cf;
    return NULL;
}

int chunk_get(struct chunk_store *cs, uint64_t fileid, uint64_t index, int create,
              struct chunk_file **out)
{
    struct chunk_file *cf = lookup(cs, fileid, index);
    if (cf) {
        lru_unlink(cf);
        lru_push_front(cs, cf);
        cf->refs++;
        *out = cf;
        return 0;
    }
    char dir[4200], path[4600];
    file_dir(cs, fileid, dir, sizeof dir);
    snprintf(path, sizeof path, "%s/%llu", dir, (unsigned long long)index);
    int fd = open(path, O_RDWR | (create ? O_CREAT : 0), 0600);
    if (fd < 0 && errno == ENOENT && create) {
        /* First chunk of this file here: make <xx>/ and <fileid>/ then retry. */
        char sub[4200];
        snprintf(sub, sizeof sub, "%s/%02x", cs->root, (unsigned)(fileid & 0xff));
        if (mkdir(sub, 0700) != 0 && errno != EEXIST)
            return -errno;
        if (mkdir(dir, 0700) != 0 && errno != EEXIST)
            return -errno;
        fd = open(path, O_RDWR | O_CREAT, 0600);
    }
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    evict(cs);
    cf = calloc(1, sizeof *cf);
    if (!cf) {
        close(fd);
        return -ENOMEM;
    }
    cf->fileid = fileid;
    cf->index = index;
    cf->fd = fd;
    cf->alloc = st_alloc(&st); /* counted already: at start-up or when it was last open */
    cf->refs = 1;
    size_t b = bucket_of(fileid, index);
    cf->hnext = cs->buckets[b];
    cs->buckets[b] = cf;
    lru_push_front(cs, cf);
    cs->nopen++;
    *out = cf;
    return 0;
}

void chunk_put(struct chunk_store *cs, struct chunk_file *cf)
{
    if (--cf->refs != 0)
        return;
    if (cf->stale)
        entry_close(cs, cf);
    else if (cs->nopen > cs->max_open) /* opened past the limit while all were pinned */
        evict_to(cs, cs->max_open + 1);
}

void chunk_account(struct chunk_store *cs, struct chunk_file *cf)
{
    struct stat st;
    if (fstat(cf->fd, &st) == 0)
        fold(cs, cf, &st);
}

/* Call fn for each range of [lo, hi) that SEEK_DATA skips: holes, and fallocated blocks no
 * write has reached (ext4, xfs and tmpfs report those as holes unless the page cache holds
 * data for them). Stops at fn's first error, which it returns. */
static int each_unwritten(int fd, uint64_t lo, uint64_t hi,
                          int (*fn)(int fd, uint64_t from, uint64_t to, void *arg), void *arg)
{
    uint64_t pos = lo;
    while (pos < hi) {
        off_t d = lseek(fd, (off_t)pos, SEEK_DATA); /* ENXIO: no data from pos on */
        uint64_t end = d < 0 || (uint64_t)d > hi ? hi : (uint64_t)d;
        int err = end > pos ? fn(fd, pos, end, arg) : 0;
        if (err || d < 0 || (uint64_t)d >= hi)
            return err;
        off_t h = lseek(fd, d, SEEK_HOLE);
        if (h <= d)
            return 0;
        pos = (uint64_t)h;
    }
    return 0;
}

static int add_len(int fd, uint64_t from, uint64_t to, void *arg)
{
    (void)fd;
    *(uint64_t *)arg += to - from;
    return 0;
}

/* Bytes of [lo, hi) that may need new space: all but what SEEK_DATA calls data. Unwritten
 * (fallocated) ranges count as holes, so this over-estimates, never under. */
static uint64_t unwritten_bytes(int fd, uint64_t lo, uint64_t hi)
{
    uint64_t need = 0;
    each_unwritten(fd, lo, hi, add_len, &need);
    return need;
}

static int punch(int fd, uint64_t from, uint64_t to, void *arg)
{
    (void)arg;
    if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)from,
                  (off_t)(to - from)) != 0 && errno != EOPNOTSUPP)
        return -errno;
    return 0;
}

/* Free what is allocated but unwritten in [lo, hi) (BLK multiples); written bytes are never
 * touched. Used to give back a reservation. */
static int punch_unwritten(int fd, uint64_t lo, uint64_t hi)
{
    return each_unwritten(fd, lo, hi, punch, NULL);
}

int chunk_reserve(struct chunk_store *cs, struct chunk_file *cf, uint64_t off, uint64_t len)
{
    if (len == 0)
        return 0;
    struct stat st;
    if (fstat(cf->fd, &st) != 0)
        return -errno;
    fold(cs, cf, &st);
    uint64_t lo = off / BLK * BLK, hi = (off + len + BLK - 1) / BLK * BLK;
    /* Far from the limit the whole range may be new and still fit. Nearer, count what is
     * not written yet (over-estimated: reserved but unwritten bytes count too); only when
     * even that does not fit is the allocation's own growth the judge (below). */
    int near = cs->capacity && cs->used + (hi - lo) > cs->capacity &&
               cs->used + unwritten_bytes(cf->fd, lo, hi) > cs->capacity;
    if (cs->no_falloc)
        return near ? -ENOSPC : -EOPNOTSUPP;
    uint64_t used_before = cs->used;
    /* Mode 0, not KEEP_SIZE: the chunk file grows to the reserved end (zeros up to it; no
     * reader reads past the size the metadata owner knows), so that a reservation can be
     * punched out again: ext4 ignores hole punching past a file's end. */
    if (fallocate(cf->fd, 0, (off_t)off, (off_t)len) != 0) {
        int err = -errno;
        if (err == -EOPNOTSUPP || err == -ENOSYS) {
            LOG_WARN("chunk store: no fallocate here (%s): capacity is checked but not held "
                     "for direct writers, which therefore write through the server",
                     strerror(-err));
            cs->no_falloc = 1;
            return near ? -ENOSPC : -EOPNOTSUPP;
        }
        /* Disk full (or worse): keep nothing of what it allocated. */
        punch_unwritten(cf->fd, lo, hi);
        chunk_account(cs, cf);
        return err;
    }
    chunk_account(cs, cf);
    if (near && cs->used > cs->capacity && cs->used > used_before) {
        /* New space past the capacity: give it back (written bytes stay). */
        punch_unwritten(cf->fd, lo, hi);
        chunk_account(cs, cf);
        return -ENOSPC;
    }
    return 0;
}

int chunk_release(struct chunk_store *cs, uint64_t fileid, uint64_t index, uint64_t off,
                  uint64_t len)
{
    struct chunk_file *cf;
    int err = chunk_get(cs, fileid, index, 0, &cf);
    if (err)
        return err == -ENOENT ? 0 : err;
    struct stat st;
    if (fstat(cf->fd, &st) != 0) {
        err = -errno;
    } else {
        fold(cs, cf, &st);
        if (!cs->no_falloc)
            err = punch_unwritten(cf->fd, off / BLK * BLK, (off + len + BLK - 1) / BLK * BLK);
        chunk_account(cs, cf);
    }
    chunk_put(cs, cf);
    return err;
}

/* Forget the cached descriptor of a chunk about to be unlinked: its allocation is
 * subtracted by the caller, so I/O still in flight on it counts nothing more. */
static void invalidate(struct chunk_store *cs, uint64_t fileid, uint64_t index)
{
    struct chunk_file *cf = lookup(cs, fileid, index);
    if (!cf)
        return;
    cf->alloc = 0;
    if (cf->refs == 0)
        entry_close(cs, cf);
    else
        cf->stale = 1;
}

static int parse_index(const char *name, uint64_t *index)
{
    char *end;
    if (name[0] < '0' || name[0] > '9')
        return -1;
    *index = strtoull(name, &end, 10);
    return *end ? -1 : 0;
}

int chunk_list(struct chunk_store *cs, uint64_t fileid, uint64_t **out, size_t *n)
{
    char dir[4200];
    file_dir(cs, fileid, dir, sizeof dir);
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : -errno;
    size_t cap = 0;
    struct dirent *e;
    int err = 0;
    errno = 0;
    while ((e = readdir(d))) {
        uint64_t index;
        if (parse_index(e->d_name, &index) != 0)
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            uint64_t *grown = realloc(*out, cap * sizeof **out);
            if (!grown) {
                err = -ENOMEM;
                break;
            }
            *out = grown;
        }
        (*out)[(*n)++] = index;
        errno = 0;
    }
    if (!err && errno) /* readdir failed part way: the list would be short */
        err = -errno;
    closedir(d);
    if (err) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return err;
}

int chunk_dir_open(struct chunk_store *cs, uint64_t fileid)
{
    char dir[4200];
    file_dir(cs, fileid, dir, sizeof dir);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    return fd >= 0 ? fd : -errno;
}

int chunk_get_bounded(struct chunk_store *cs, uint64_t fileid, uint64_t index,
                      struct chunk_file **out)
{
    if (!lookup(cs, fileid, index)) {
        evict(cs);
        if (cs->nopen >= cs->max_open)
            return -EAGAIN; /* every cached descriptor has I/O in flight */
    }
    return chunk_get(cs, fileid, index, 0, out);
}

uint32_t chunk_batch_max(const struct chunk_store *cs)
{
    return cs->max_open / 2 ? cs->max_open / 2 : 1;
}

int chunk_truncate(struct chunk_store *cs, uint64_t fileid, uint64_t size, uint32_t chunk_size)
{
    if (chunk_size == 0)
        return -EINVAL;
    char dir[4200], path[4600];
    file_dir(cs, fileid, dir, sizeof dir);
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : -errno;
    struct dirent *e;
    int err = 0;
    while ((e = readdir(d))) {
        uint64_t index;
        if (parse_index(e->d_name, &index) != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        uint64_t start = index <= UINT64_MAX / chunk_size ? index * chunk_size : UINT64_MAX;
        if (start >= size) {
            invalidate(cs, fileid, index);
            if (unlink(path) == 0)
                used_add(cs, st_alloc(&st), 0);
            else
                err = -errno;
        } else if (size - start < (uint64_t)st.st_size) {
            /* The chunk the file now ends in (reservations grow chunk files too). */
            uint64_t keep = size - start;
            struct stat now;
            if (truncate(path, (off_t)keep) != 0)
                err = -errno;
            else if (stat(path, &now) == 0) {
                used_add(cs, st_alloc(&st), st_alloc(&now));
                struct chunk_file *cf = lookup(cs, fileid, index);
                if (cf)
                    cf->alloc = st_alloc(&now);
            }
        }
    }
    closedir(d);
    return err;
}

int chunk_remove(struct chunk_store *cs, uint64_t fileid)
{
    int err = chunk_truncate(cs, fileid, 0, 1);
    char dir[4200];
    file_dir(cs, fileid, dir, sizeof dir);
    if (rmdir(dir) != 0 && errno != ENOENT && !err)
        err = -errno;
    return err;
}

uint64_t chunk_used(const struct chunk_store *cs) { return cs->used; }

void chunk_statfs(const struct chunk_store *cs, uint64_t *total, uint64_t *avail)
{
    struct statvfs sv;
    uint64_t disk_total = 0, disk_avail = 0;
    if (statvfs(cs->root, &sv) == 0) {
        disk_total = (uint64_t)sv.f_blocks * sv.f_frsize;
        disk_avail = (uint64_t)sv.f_bavail * sv.f_frsize;
    }
    if (cs->capacity) {
        *total = cs->capacity;
        uint64_t left = cs->capacity > cs->used ? cs->capacity - cs->used : 0;
        *avail = left < disk_avail ? left : disk_avail;
    } else {
        *total = disk_total;
        *avail = disk_avail;
    }
}

int chunk_syncfs(struct chunk_store *cs)
{
    int fd = open(cs->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int err = syncfs(fd) == 0 ? 0 : -errno;
    close(fd);
    return err;
}
