/* SPDX-License-Identifier: BSD-3-Clause */
/* test_durability — what was written survives the servers' death.
 *
 * Round 1: files of different sizes (empty, tiny, multi-chunk, with holes, truncated), a
 * directory tree and chmod'ed modes, all fsync'd; then one more file, a chmod and a mkdir
 * that are only closed (never fsync'd). Every server is killed with SIGKILL and restarted on
 * its data directory: a new client must find every byte, size, mode and directory entry
 * (a process crash keeps the page cache, so the unsynced changes must survive too), and the
 * space accounting must be what it was. Round 2: new writes, an unlink, and a clean restart
 * (SIGTERM) of every server; everything is checked again.
 *
 * usage: test_durability NSERVERS */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster.h"
#include "data_util.h"

#define CHUNK 16384u
#define MAXF 16
#define MAXD 16

struct efile {
    const char *path;
    uint32_t mode;   /* permission bits expected after the restart */
    uint8_t *data;   /* expected content */
    uint64_t size;
    int gone;        /* unlinked in round 2 */
};

struct edir {
    const char *path;
    uint32_t mode;
    const char *entries[8]; /* expected names, NULL-terminated */
};

static struct efile files[MAXF];
static int nfiles;
static struct edir dirs[MAXD];
static int ndirs;

static struct efile *add_file(const char *path, uint32_t mode, uint64_t size)
{
    struct efile *f = &files[nfiles++];
    f->path = path;
    f->mode = mode;
    f->size = size;
    f->data = calloc(1, size + 1);
    return f;
}

/* Create `f` (mode 0644 first: the final mode is set by chmod), write `f->data` in pieces,
 * optionally fsync, close. */
static void write_file(benchfs_t *fs, struct efile *f, int do_fsync)
{
    int fd = benchfs_open(fs, f->path, O_CREAT | O_EXCL | O_RDWR, 0644);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    /* Skip runs of zeros so that holes stay holes; write the rest in 40000-byte pieces. */
    for (uint64_t pos = 0; pos < f->size;) {
        size_t len = f->size - pos < 40000 ? (size_t)(f->size - pos) : 40000;
        int zero = 1;
        for (size_t i = 0; i < len && zero; i++)
            zero = f->data[pos + i] == 0;
        if (!zero)
            CHECK_OK(bfs_pwrite_all(fs, fd, f->data + pos, len, (off_t)pos));
        pos += len;
    }
    CHECK_OK(benchfs_ftruncate(fs, fd, (off_t)f->size)); /* trailing hole, if any */
    if (do_fsync)
        CHECK_OK(benchfs_fsync(fs, fd));
    CHECK_OK(benchfs_close(fs, fd));
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void verify(benchfs_t *fs, const char *when)
{
    for (int i = 0; i < nfiles; i++) {
        struct efile *f = &files[i];
        benchfs_stat_t st;
        if (f->gone) {
            CHECK_ERR(benchfs_stat(fs, f->path, &st), ENOENT);
            continue;
        }
        if (benchfs_stat(fs, f->path, &st) != 0) {
            fprintf(stderr, "FAIL %s: %s: stat: %s\n", when, f->path, benchfs_strerror());
            test_failures++;
            continue;
        }
        if (st.size != f->size || (st.mode & 07777) != f->mode || !S_ISREG(st.mode) ||
            st.chunk_size != CHUNK) {
            fprintf(stderr, "FAIL %s: %s: size %" PRIu64 " mode %#o chunk %u, expected size %"
                            PRIu64 " mode %#o chunk %u\n", when, f->path, st.size, st.mode,
                    st.chunk_size, f->size, S_IFREG | f->mode, CHUNK);
            test_failures++;
        }
        uint64_t size = 0;
        uint8_t *got = bfs_slurp(fs, f->path, &size);
        long d = got && size == f->size ? first_diff(got, f->data, (size_t)size) : -2;
        if (d != -1) {
            fprintf(stderr, "FAIL %s: %s: content differs at byte %ld (read %s)\n", when, f->path,
                    d, got ? "ok" : benchfs_strerror());
            test_failures++;
        }
        /* Nothing past the end either. */
        int fd = benchfs_open(fs, f->path, O_RDONLY, 0);
        CHECK(fd >= 0);
        if (fd >= 0) {
            char tail[16];
            CHECK(benchfs_pread(fs, fd, tail, sizeof tail, (off_t)f->size) == 0);
            CHECK_OK(benchfs_close(fs, fd));
        }
        free(got);
    }
    for (int i = 0; i < ndirs; i++) {
        struct edir *d = &dirs[i];
        benchfs_stat_t st;
        if (benchfs_stat(fs, d->path, &st) != 0) {
            fprintf(stderr, "FAIL %s: dir %s: stat: %s\n", when, d->path, benchfs_strerror());
            test_failures++;
            continue;
        }
        if (!S_ISDIR(st.mode) || (st.mode & 07777) != d->mode) {
            fprintf(stderr, "FAIL %s: dir %s: mode %#o, expected %#o\n", when, d->path, st.mode,
                    S_IFDIR | d->mode);
            test_failures++;
        }
        const char *want[8], *got[64];
        int nw = 0, ng = 0;
        for (; d->entries[nw]; nw++)
            want[nw] = d->entries[nw];
        char names[64][256];
        benchfs_dir_t *dh = benchfs_opendir(fs, d->path);
        CHECK(dh != NULL);
        for (const benchfs_dirent_t *e; dh && (e = benchfs_readdir(dh)) && ng < 64; ng++) {
            snprintf(names[ng], sizeof names[ng], "%s", e->name);
            got[ng] = names[ng];
        }
        if (dh)
            benchfs_closedir(dh);
        qsort(want, (size_t)nw, sizeof *want, name_cmp);
        qsort(got, (size_t)ng, sizeof *got, name_cmp);
        int same = nw == ng;
        for (int k = 0; same && k < nw; k++)
            same = strcmp(want[k], got[k]) == 0;
        if (!same) {
            fprintf(stderr, "FAIL %s: dir %s lists %d entries:", when, d->path, ng);
            for (int k = 0; k < ng; k++)
                fprintf(stderr, " %s", got[k]);
            fprintf(stderr, "; expected %d:", nw);
            for (int k = 0; k < nw; k++)
                fprintf(stderr, " %s", want[k]);
            fprintf(stderr, "\n");
            test_failures++;
        }
    }
}

static uint64_t used_bytes(benchfs_t *fs)
{
    benchfs_statfs_t sf;
    if (benchfs_statfs(fs, &sf) != 0) {
        fprintf(stderr, "FAIL: statfs: %s\n", benchfs_strerror());
        test_failures++;
        return UINT64_MAX;
    }
    CHECK(sf.nservers_up == sf.nservers);
    return sf.used_bytes;
}

static void restart_all(struct cluster *c, int sig)
{
    for (int i = 0; i < c->n; i++)
        cluster_kill(c, i, sig);
    for (int i = 0; i < c->n; i++)
        cluster_start_server(c, i);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* keep stdout and stderr lines in order */
    int n = argc > 1 ? atoi(argv[1]) : 2;
    struct cluster c;
    cluster_start(&c, n, NULL);
    watchdog_arm(&c, 240);
    benchfs_t *fs = data_client(&c, 10000, CHUNK);

    /* The tree (modes set by chmod after creation, so umask plays no part). */
    static const struct {
        const char *path;
        uint32_t mode;
    } mk[] = {{"/tree", 0755}, {"/tree/a", 0750}, {"/tree/a/b", 0700}, {"/tree/c", 01777},
              {"/tree/empty", 0711}};
    for (size_t i = 0; i < sizeof mk / sizeof mk[0]; i++) {
        CHECK_OK(benchfs_mkdir(fs, mk[i].path, 0777));
        CHECK_OK(benchfs_chmod(fs, mk[i].path, mk[i].mode));
    }

    /* Files, all fsync'd. */
    struct efile *f;
    f = add_file("/empty", 0600, 0);
    write_file(fs, f, 1);
    f = add_file("/small", 0640, 100);
    pattern_fill(1, 0, f->data, f->size);
    write_file(fs, f, 1);
    f = add_file("/tree/multi", 0604, (1u << 20) + 123); /* 65 chunks over every server */
    pattern_fill(2, 0, f->data, f->size);
    write_file(fs, f, 1);
    f = add_file("/tree/a/b/deep", 0755, (300u << 10) + 7);
    pattern_fill(3, 0, f->data, f->size);
    write_file(fs, f, 1);
    f = add_file("/tree/c/holey", 0600, 700000); /* data, a hole, data, a trailing hole */
    pattern_fill(4, 0, f->data, 100);
    pattern_fill(4, 500000, f->data + 500000, 100);
    write_file(fs, f, 1);
    f = add_file("/tree/a/exact", 02644, 4 * CHUNK); /* ends on a chunk boundary */
    pattern_fill(5, 0, f->data, f->size);
    write_file(fs, f, 1);
    /* Shrunk by truncate after writing, then fsync'd: the cut part must stay cut. */
    f = add_file("/tree/cut", 0644, 50000 + 3);
    struct efile *cut = f;
    {
        int fd = benchfs_open(fs, f->path, O_CREAT | O_EXCL | O_RDWR, 0644);
        CHECK(fd >= 0);
        uint8_t *big = malloc(200000);
        pattern_fill(6, 0, big, 200000);
        memcpy(f->data, big, f->size);
        CHECK_OK(bfs_pwrite_all(fs, fd, big, 200000, 0));
        CHECK_OK(benchfs_ftruncate(fs, fd, (off_t)f->size));
        CHECK_OK(benchfs_fsync(fs, fd));
        CHECK_OK(benchfs_close(fs, fd));
        free(big);
    }
    for (int i = 0; i < nfiles; i++)
        if (files[i].mode != 0644)
            CHECK_OK(benchfs_chmod(fs, files[i].path, files[i].mode));
    /* One more fsync so the chmods above are on disk too. */
    {
        int fd = benchfs_open(fs, "/small", O_RDONLY, 0);
        CHECK(fd >= 0);
        CHECK_OK(benchfs_fsync(fs, fd));
        CHECK_OK(benchfs_close(fs, fd));
    }

    /* Not fsync'd: only closed. A kill -9 leaves the page cache, so these must survive too. */
    f = add_file("/tree/nofsync", 0604, 3 * CHUNK + 999);
    pattern_fill(7, 0, f->data, f->size);
    write_file(fs, f, 0);
    CHECK_OK(benchfs_chmod(fs, "/tree/nofsync", 0604));
    CHECK_OK(benchfs_mkdir(fs, "/late", 0777));
    CHECK_OK(benchfs_chmod(fs, "/late", 0750));

    dirs[ndirs++] = (struct edir){"/", 0777, {"empty", "small", "tree", "late", NULL}};
    dirs[ndirs++] = (struct edir){"/tree", 0755, {"a", "c", "empty", "multi", "cut", "nofsync", NULL}};
    dirs[ndirs++] = (struct edir){"/tree/a", 0750, {"b", "exact", NULL}};
    dirs[ndirs++] = (struct edir){"/tree/a/b", 0700, {"deep", NULL}};
    dirs[ndirs++] = (struct edir){"/tree/c", 01777, {"holey", NULL}};
    dirs[ndirs++] = (struct edir){"/tree/empty", 0711, {NULL}};
    dirs[ndirs++] = (struct edir){"/late", 0750, {NULL}};

    verify(fs, "before the crash");
    uint64_t used_before = used_bytes(fs);
    CHECK_OK(benchfs_term(fs));

    /* Round 1: kill -9 every server, restart them all on their data directories. */
    int64_t t0 = now_ms();
    restart_all(&c, SIGKILL);
    printf("durability: killed and restarted %d servers in %lld ms\n", n,
           (long long)(now_ms() - t0));
    fs = data_client(&c, 10000, CHUNK);
    verify(fs, "after kill -9");
    uint64_t used_after = used_bytes(fs);
    if (used_after != used_before) {
        fprintf(stderr, "FAIL: used bytes %" PRIu64 " after the restart, %" PRIu64 " before\n",
                used_after, used_before);
        test_failures++;
    }

    /* The truncate of /tree/cut is as durable as its data: growing the file again after the
     * crash shows zeros, not the bytes that were cut off before it. */
    {
        int fd = benchfs_open(fs, "/tree/cut", O_RDWR, 0);
        CHECK(fd >= 0);
        CHECK_OK(benchfs_ftruncate(fs, fd, 100000));
        uint8_t *back = malloc(100000);
        CHECK(benchfs_pread(fs, fd, back, 100000, 0) == 100000);
        CHECK(memcmp(back, cut->data, cut->size) == 0);
        int zeros = 1;
        for (uint64_t i = cut->size; i < 100000; i++)
            zeros &= back[i] == 0;
        CHECK(zeros);
        CHECK_OK(benchfs_ftruncate(fs, fd, (off_t)cut->size));
        CHECK_OK(benchfs_close(fs, fd));
        free(back);
    }

    /* Round 2: the restarted cluster takes new work; then a clean restart. */
    f = add_file("/tree/a/after", 0644, 2 * CHUNK + 5);
    pattern_fill(8, 0, f->data, f->size);
    write_file(fs, f, 0);
    dirs[2].entries[2] = "after";
    /* Extend an old file in place (its chunks are found by the old file id). */
    for (int i = 0; i < nfiles; i++) {
        if (strcmp(files[i].path, "/tree/multi") != 0)
            continue;
        struct efile *m = &files[i];
        uint64_t add = 3 * CHUNK;
        uint8_t *grown = calloc(1, m->size + add + 1);
        memcpy(grown, m->data, m->size);
        pattern_fill(9, 0, grown + m->size, add);
        int fd = benchfs_open(fs, m->path, O_WRONLY | O_APPEND, 0);
        CHECK(fd >= 0);
        CHECK(benchfs_write(fs, fd, grown + m->size, add) == (ssize_t)add);
        CHECK_OK(benchfs_close(fs, fd));
        free(m->data);
        m->data = grown;
        m->size += add;
    }
    CHECK_OK(benchfs_unlink(fs, "/tree/cut"));
    for (int i = 0; i < nfiles; i++)
        files[i].gone |= strcmp(files[i].path, "/tree/cut") == 0;
    dirs[1].entries[4] = "nofsync";
    dirs[1].entries[5] = NULL;
    verify(fs, "after new work");
    uint64_t used_before2 = used_bytes(fs);
    CHECK(used_before2 < used_before + 5 * CHUNK); /* the unlinked file's space is gone */
    CHECK_OK(benchfs_term(fs));

    t0 = now_ms();
    restart_all(&c, SIGTERM);
    printf("durability: stopped and restarted %d servers in %lld ms\n", n,
           (long long)(now_ms() - t0));
    fs = data_client(&c, 10000, CHUNK);
    verify(fs, "after a clean restart");
    CHECK(used_bytes(fs) == used_before2);

    /* The same client survives one more crash of everything (it reconnects). */
    restart_all(&c, SIGKILL);
    verify(fs, "after a second kill -9 (same client)");

    for (int i = 0; i < nfiles; i++) {
        if (!files[i].gone)
            CHECK_OK(benchfs_unlink(fs, files[i].path));
        free(files[i].data);
    }
    CHECK(used_bytes(fs) == 0);
    CHECK_OK(benchfs_term(fs));
    alarm(0);
    cluster_stop(&c);
    return test_finish("durability");
}
