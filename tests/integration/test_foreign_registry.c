/* SPDX-License-Identifier: BSD-3-Clause */
/* test_foreign_registry — registry entries owned by another user (NFS root_squash, a failed
 * idmap) must not change how a client reaches its servers.
 *
 * With UCX shared memory the client chose its transport from the entry's owner and told the
 * server in its HELLO; a mismatch left every call to a same-host server timing out, and a
 * HELLO that claimed the wrong thing wedged the server. Now the client simply connects to the
 * server's local socket, and the kernel tells the server who connected: the owner of the
 * entry plays no part. Needs root (to chown); skipped otherwise.
 *
 * usage: test_foreign_registry NSERVERS */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "cluster.h"

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2;
    if (geteuid() != 0) {
        printf("SKIP: needs root to give the registry entries to another user\n");
        return 77;
    }
    struct cluster c;
    cluster_start(&c, n, NULL);
    for (int i = 0; i < n; i++) {
        char path[400];
        snprintf(path, sizeof path, "%s/server.%d", c.registry, i);
        CHECK(chown(path, 65534, 65534) == 0);
    }
    benchfs_t *fs = cluster_client(&c, 3000);
    size_t len = 9u << 20; /* over every server */
    char *buf = malloc(len), *back = malloc(len);
    for (size_t i = 0; i < len; i++)
        buf[i] = (char)(i * 13 + 1);
    int fd = benchfs_open(fs, "/f", O_CREAT | O_RDWR, 0644);
    CHECK(fd >= 0);
    CHECK(benchfs_pwrite(fs, fd, buf, len, 0) == (ssize_t)len);
    CHECK_OK(benchfs_close(fs, fd));
    fd = benchfs_open(fs, "/f", O_RDONLY, 0);
    CHECK(fd >= 0);
    CHECK(benchfs_pread(fs, fd, back, len, 0) == (ssize_t)len);
    CHECK(memcmp(buf, back, len) == 0);
    CHECK_OK(benchfs_close(fs, fd));
    for (int i = 0; i < 50; i++) { /* metadata on every server, each call well inside 3 s */
        char p[32];
        snprintf(p, sizeof p, "/d%d", i);
        CHECK_OK(benchfs_mkdir(fs, p, 0755));
    }
    /* A second client, started after the change, too. */
    benchfs_t *fs2 = cluster_client(&c, 3000);
    benchfs_stat_t st;
    CHECK_OK(benchfs_stat(fs2, "/f", &st));
    CHECK(st.size == len);
    benchfs_term(fs2);
    benchfs_term(fs);
    free(buf);
    free(back);
    cluster_stop(&c);
    return test_finish("foreign_registry");
}
