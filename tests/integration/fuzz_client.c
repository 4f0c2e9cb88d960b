/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_client.c — the frame fuzzer's checks from outside the raw peer (test_fuzz_frames.c):
 * between batches a normal client (benchfs.h) writes, reads back and stats a file of its own
 * and lists, stats and reads whatever the fuzzed frames left in the namespace, since a stored
 * mutated inode must cost an error, not a crash; and a snapshot of the cluster's directory,
 * to prove that nothing outside the data directories changed and that inside them only
 * chunk files appeared. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <string.h>
#include <sys/stat.h>

#include "common/chunk_layout.h"
#include "fuzz_frames.h"

char *g_check_buf, *g_back;
unsigned long g_entries_seen, g_entries_err, g_files_read;

static void check_entries(benchfs_t *fs, const char *dir, int depth)
{
    benchfs_dir_t *d = benchfs_opendir(fs, dir);
    if (!d)
        return; /* the fuzzer may have replaced it by something else: an error is fine */
    char names[64][300];
    int nn = 0;
    for (const benchfs_dirent_t *e; (e = benchfs_readdir(d)) != NULL;)
        if (nn < 64)
            snprintf(names[nn++], sizeof names[0], "%s%s%s", dir, strcmp(dir, "/") ? "/" : "",
                     e->name);
    benchfs_closedir(d);
    for (int i = 0; i < nn; i++) {
        benchfs_stat_t st;
        g_entries_seen++;
        if (benchfs_stat(fs, names[i], &st) != 0) {
            g_entries_err++;
            continue;
        }
        if (S_ISDIR(st.mode)) {
            if (depth < 2)
                check_entries(fs, names[i], depth + 1);
            continue;
        }
        int fd = benchfs_open(fs, names[i], O_RDONLY, 0);
        if (fd < 0)
            continue;
        g_files_read++;
        char buf[4096];
        (void)benchfs_pread(fs, fd, buf, sizeof buf, 0);
        if (st.size > 0)
            (void)benchfs_pread(fs, fd, buf, 1, (off_t)(st.size - 1 < (uint64_t)INT64_MAX
                                                             ? st.size - 1
                                                             : INT64_MAX - 1));
        (void)benchfs_pread(fs, fd, buf, sizeof buf, (off_t)st.chunk_size * 3 + 17);
        benchfs_close(fs, fd);
    }
}

void client_step(benchfs_t *fs, int step)
{
    char path[96];
    snprintf(path, sizeof path, "/okdir-normal-client/file-%d", step);
    size_t len = 70000 + (size_t)step * 911 % 300000;
    for (size_t i = 0; i < len; i++)
        g_check_buf[i] = (char)(i * 131 + (size_t)step);
    int fd = benchfs_open(fs, path, O_CREAT | O_EXCL | O_RDWR, 0644);
    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK(benchfs_pwrite(fs, fd, g_check_buf, len, 0) == (ssize_t)len);
        memset(g_back, 0, len);
        CHECK(benchfs_pread(fs, fd, g_back, len, 0) == (ssize_t)len);
        CHECK(memcmp(g_back, g_check_buf, len) == 0);
        CHECK_OK(benchfs_close(fs, fd));
    }
    benchfs_stat_t st;
    CHECK_OK(benchfs_stat(fs, path, &st));
    CHECK(st.size == len);
    if (step % 3 == 0)
        CHECK_OK(benchfs_unlink(fs, path));
    check_entries(fs, "/", 0);
}

/* ---- the file system outside the data directories ---- */

struct snap_ent *g_snap;
size_t g_nsnap;
static size_t g_capsnap;
static const struct cluster *g_snap_cluster;
int g_snap_bad;
static const char *g_walk_data;

static int snap_cb(const char *fpath, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)type;
    (void)ftw;
    for (int i = 0; i < g_snap_cluster->n; i++) {
        size_t dl = strlen(g_snap_cluster->data[i]);
        if (strncmp(fpath, g_snap_cluster->data[i], dl) == 0 &&
            (fpath[dl] == '\0' || fpath[dl] == '/'))
            return 0; /* walked separately */
    }
    if (g_nsnap == g_capsnap) {
        g_capsnap = g_capsnap ? 2 * g_capsnap : 64;
        g_snap = realloc(g_snap, g_capsnap * sizeof *g_snap);
        if (!g_snap)
            exit(2);
    }
    struct snap_ent *e = &g_snap[g_nsnap++];
    snprintf(e->path, sizeof e->path, "%s", fpath);
    e->mode = sb->st_mode;
    e->size = S_ISDIR(sb->st_mode) ? 0 : sb->st_size;
    e->mtime = S_ISDIR(sb->st_mode) ? (struct timespec){0, 0} : sb->st_mtim;
    return 0;
}

/* Inside a data directory: top-level entries as at the start, and under chunks/ only
 * <2 hex>/<16 hex>/<decimal> regular files. */
static char g_top[CLUSTER_MAX][32][64];
static int g_ntop[CLUSTER_MAX];
static int g_walk_id, g_walk_record;

static int all_of(const char *s, const char *set, size_t n)
{
    if (strlen(s) != n && n)
        return 0;
    for (; *s; s++)
        if (!strchr(set, *s))
            return 0;
    return 1;
}

static int data_cb(const char *fpath, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)type;
    const char *rel = fpath + strlen(g_walk_data);
    if (*rel == '/')
        rel++;
    if (ftw->level == 0)
        return 0;
    if (S_ISLNK(sb->st_mode) || !(S_ISREG(sb->st_mode) || S_ISDIR(sb->st_mode))) {
        fprintf(stderr, "FAIL: %s is neither a file nor a directory\n", fpath);
        g_snap_bad++;
        return 0;
    }
    if (ftw->level == 1) {
        if (g_walk_record) {
            if (g_ntop[g_walk_id] < 32)
                snprintf(g_top[g_walk_id][g_ntop[g_walk_id]++], 64, "%s", rel);
            return 0;
        }
        for (int i = 0; i < g_ntop[g_walk_id]; i++)
            if (strcmp(g_top[g_walk_id][i], rel) == 0)
                return 0;
        if (strcmp(rel, BFS_CHUNK_SUBDIR) == 0)
            return 0;
        fprintf(stderr, "FAIL: new entry in a data directory: %s\n", fpath);
        g_snap_bad++;
        return 0;
    }
    if (strncmp(rel, BFS_CHUNK_SUBDIR "/", strlen(BFS_CHUNK_SUBDIR) + 1) != 0)
        return 0; /* the metadata store's own files */
    const char *name = fpath + ftw->base;
    int ok = ftw->level == 2   ? S_ISDIR(sb->st_mode) && all_of(name, "0123456789abcdef", 2)
             : ftw->level == 3 ? S_ISDIR(sb->st_mode) && all_of(name, "0123456789abcdef", 16)
             : ftw->level == 4 ? S_ISREG(sb->st_mode) && all_of(name, "0123456789", 0) && *name
                               : 0;
    if (!ok) {
        fprintf(stderr, "FAIL: unexpected entry among the chunk files: %s\n", fpath);
        g_snap_bad++;
    }
    return 0;
}

void walk_data(const struct cluster *c, int record)
{
    g_walk_record = record;
    for (int i = 0; i < c->n; i++) {
        g_walk_id = i;
        g_walk_data = c->data[i];
        nftw(c->data[i], data_cb, 16, FTW_PHYS);
    }
}

void snapshot(const struct cluster *c)
{
    g_snap_cluster = c;
    g_nsnap = 0;
    nftw(c->root, snap_cb, 16, FTW_PHYS);
}
