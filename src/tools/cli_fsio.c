/* SPDX-License-Identifier: BSD-3-Clause */
/* cli_fsio.c — the two sides of a copy, local POSIX and BenchFS, behind one set of calls, so
 * that the tree walk and the copy loop are written once for put, get, stage-in and stage-out. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools/cli.h"

int side_stat(const struct cli_side *s, const char *path, struct cli_attr *a)
{
    memset(a, 0, sizeof *a);
    if (s->kind == SIDE_BFS) {
        benchfs_stat_t st;
        if (benchfs_stat(s->fs, path, &st) != 0)
            return -1;
        a->mode = st.mode;
        a->size = st.size;
        a->ino = st.ino;
        return 0;
    }
    struct stat st;
    if (stat(path, &st) != 0) /* follows symlinks, as cp -L: BenchFS has none to copy them as */
        return -1;
    a->mode = (uint32_t)st.st_mode;
    a->size = (uint64_t)st.st_size;
    a->dev = (uint64_t)st.st_dev;
    a->ino = (uint64_t)st.st_ino;
    return 0;
}

int side_open(const struct cli_side *s, const char *path, int flags, uint32_t mode)
{
    if (s->kind == SIDE_BFS)
        return benchfs_open(s->fs, path, flags, (mode_t)mode);
    return open(path, flags | O_CLOEXEC, (mode_t)mode);
}

int side_close(const struct cli_side *s, int fd)
{
    return s->kind == SIDE_BFS ? benchfs_close(s->fs, fd) : close(fd);
}

ssize_t side_pread(const struct cli_side *s, int fd, void *buf, size_t n, uint64_t off)
{
    if (s->kind == SIDE_BFS)
        return benchfs_pread(s->fs, fd, buf, n, (off_t)off);
    ssize_t r;
    do
        r = pread(fd, buf, n, (off_t)off);
    while (r < 0 && errno == EINTR);
    return r;
}

ssize_t side_pwrite(const struct cli_side *s, int fd, const void *buf, size_t n, uint64_t off)
{
    if (s->kind == SIDE_BFS)
        return benchfs_pwrite(s->fs, fd, buf, n, (off_t)off);
    ssize_t r;
    do
        r = pwrite(fd, buf, n, (off_t)off);
    while (r < 0 && errno == EINTR);
    return r;
}

int side_mkdir(const struct cli_side *s, const char *path, uint32_t mode)
{
    return s->kind == SIDE_BFS ? benchfs_mkdir(s->fs, path, (mode_t)mode)
                               : mkdir(path, (mode_t)mode);
}

int side_chmod(const struct cli_side *s, const char *path, uint32_t mode)
{
    return s->kind == SIDE_BFS ? benchfs_chmod(s->fs, path, (mode_t)(mode & 07777))
                               : chmod(path, (mode_t)(mode & 07777));
}

int side_fchmod(const struct cli_side *s, int fd, const char *path, uint32_t mode)
{
    if (s->kind == SIDE_BFS) /* no umask in BenchFS: only needed when bits differ */
        return benchfs_chmod(s->fs, path, (mode_t)(mode & 07777));
    return fchmod(fd, (mode_t)(mode & 07777));
}

struct bfs_list_adapter {
    int (*fn)(const char *, void *);
    void *arg;
};

static int bfs_list_one(const benchfs_dirent_t *e, void *arg)
{
    struct bfs_list_adapter *a = arg;
    return a->fn(e->name, a->arg);
}

int side_list(const struct cli_side *s, const char *path, int (*fn)(const char *name, void *arg),
              void *arg)
{
    if (s->kind == SIDE_BFS) {
        struct bfs_list_adapter a = {fn, arg};
        return benchfs_readdir_cb(s->fs, path, bfs_list_one, &a);
    }
    DIR *d = opendir(path);
    if (!d)
        return -1;
    struct dirent *e;
    int rc = 0;
    errno = 0;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if ((rc = fn(e->d_name, arg)) != 0)
            break;
        errno = 0;
    }
    int e2 = errno;
    closedir(d);
    if (!rc && e2) {
        errno = e2;
        return -1;
    }
    return 0;
}

void side_err(const struct cli_side *s, const char *cmd, const char *path)
{
    if (s->kind == SIDE_BFS)
        cli_err_bfs(cmd, path);
    else
        cli_err_sys(cmd, path);
}

int side_mkdir_p(const struct cli_side *s, const char *path, uint32_t mode)
{
    char p[8192];
    if (snprintf(p, sizeof p, "%s", path) >= (int)sizeof p) {
        errno = ENAMETOOLONG;
        return -1;
    }
    size_t len = strlen(p);
    while (len > 1 && p[len - 1] == '/')
        p[--len] = '\0';
    /* Each prefix in turn; an existing directory is fine, anything else in the way is not. */
    for (char *q = p + 1;; q++) {
        if (*q != '/' && *q != '\0')
            continue;
        char saved = *q;
        *q = '\0';
        if (side_mkdir(s, p, mode) != 0) {
            int e = errno;
            struct cli_attr a;
            if (e != EEXIST || side_stat(s, p, &a) != 0 || !S_ISDIR(a.mode)) {
                errno = e == EEXIST ? ENOTDIR : e;
                return -1;
            }
        }
        *q = saved;
        if (!saved)
            return 0;
    }
}
