/* SPDX-License-Identifier: BSD-3-Clause */
/* A first end-to-end check: create, write across chunks, read back, stat, list, unlink. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "cluster.h"

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2;
    struct cluster c;
    cluster_start(&c, n, NULL);
    benchfs_t *fs = cluster_client(&c, 5000);
    CHECK_OK(benchfs_mkdir(fs, "/d", 0755));
    int fd = benchfs_open(fs, "/d/f", O_CREAT | O_RDWR, 0644);
    CHECK(fd >= 0);
    size_t len = 3 * 1024 * 1024 + 12345;
    char *buf = malloc(len), *back = malloc(len);
    for (size_t i = 0; i < len; i++)
        buf[i] = (char)(i * 7 + 3);
    CHECK(benchfs_pwrite(fs, fd, buf, len, 100) == (ssize_t)len);
    CHECK_OK(benchfs_close(fs, fd));
    fd = benchfs_open(fs, "/d/f", O_RDONLY, 0);
    CHECK(fd >= 0);
    memset(back, 0x55, len);
    CHECK(benchfs_pread(fs, fd, back, len, 100) == (ssize_t)len);
    CHECK(memcmp(buf, back, len) == 0);
    char head[100];
    CHECK(benchfs_pread(fs, fd, head, 100, 0) == 100);
    int zeros = 1;
    for (int i = 0; i < 100; i++)
        zeros &= head[i] == 0;
    CHECK(zeros);
    benchfs_stat_t st;
    CHECK_OK(benchfs_stat(fs, "/d/f", &st));
    CHECK(st.size == len + 100);
    CHECK_OK(benchfs_close(fs, fd));
    benchfs_dir_t *d = benchfs_opendir(fs, "/d");
    CHECK(d != NULL);
    const benchfs_dirent_t *e = d ? benchfs_readdir(d) : NULL;
    CHECK(e && strcmp(e->name, "f") == 0);
    if (d)
        benchfs_closedir(d);
    CHECK_OK(benchfs_unlink(fs, "/d/f"));
    CHECK_ERR(benchfs_stat(fs, "/d/f", &st), ENOENT);
    CHECK_OK(benchfs_rmdir(fs, "/d"));
    free(buf);
    free(back);
    benchfs_term(fs);
    cluster_stop(&c);
    return test_finish("smoke");
}
