/* SPDX-License-Identifier: BSD-3-Clause */
/* hello — the smallest BenchFS program: write a file, read it back, list the directory.
 * Usage: BENCHFS_REGISTRY=/path/to/registry ./hello */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include <benchfs.h>

int main(void)
{
    benchfs_t *fs = benchfs_init(NULL); /* registry from $BENCHFS_REGISTRY */
    if (!fs) {
        fprintf(stderr, "benchfs_init: %s\n", benchfs_strerror());
        return 1;
    }
    benchfs_mkdir(fs, "/hello", 0755); /* EEXIST on a second run is fine */
    int fd = benchfs_open(fs, "/hello/greeting.txt", O_CREAT | O_TRUNC | O_WRONLY, 0644);
    const char msg[] = "Hello from BenchFS!\n";
    if (fd < 0 || benchfs_write(fs, fd, msg, sizeof msg - 1) < 0 || benchfs_close(fs, fd) < 0) {
        fprintf(stderr, "write: %s\n", benchfs_strerror());
        return 1;
    }
    char buf[64] = {0};
    fd = benchfs_open(fs, "/hello/greeting.txt", O_RDONLY, 0);
    ssize_t n = fd < 0 ? -1 : benchfs_read(fs, fd, buf, sizeof buf - 1);
    if (n < 0) {
        fprintf(stderr, "read: %s\n", benchfs_strerror());
        return 1;
    }
    benchfs_close(fs, fd);
    printf("read back %zd bytes: %s", n, buf);
    benchfs_dir_t *d = benchfs_opendir(fs, "/hello");
    for (const benchfs_dirent_t *e; d && (e = benchfs_readdir(d));)
        printf("  /hello/%s\n", e->name);
    if (d)
        benchfs_closedir(d);
    benchfs_statfs_t sf;
    if (benchfs_statfs(fs, &sf) == 0)
        printf("%u servers, %.1f GiB free\n", sf.nservers, (double)sf.free_bytes / (1 << 30));
    return benchfs_term(fs) == 0 ? 0 : 1;
}
