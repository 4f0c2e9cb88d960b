/* SPDX-License-Identifier: BSD-3-Clause */
#include "registry.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/ring.h"
#include "common/util.h"

int bfs_registry_key_read(const char *dir, uint8_t key[BFS_KEY_LEN])
{
    char path[4200], buf[128];
    snprintf(path, sizeof path, "%s/key", dir);
    int n = bfs_read_small(path, buf, sizeof buf);
    if (n < 0)
        return n;
    if (n < 2 * BFS_KEY_LEN || bfs_hex_decode(buf, 2 * BFS_KEY_LEN, key) != 0)
        return -EBADMSG;
    return 0;
}

int bfs_registry_key_ensure(const char *dir, uint8_t key[BFS_KEY_LEN])
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return -errno;
    int err = bfs_registry_key_read(dir, key);
    if (err != -ENOENT)
        return err;
    uint8_t fresh[BFS_KEY_LEN];
    if (getrandom(fresh, sizeof fresh, 0) != (ssize_t)sizeof fresh)
        return -EIO;
    char text[2 * BFS_KEY_LEN + 2];
    bfs_hex_encode(fresh, BFS_KEY_LEN, text);
    strcat(text, "\n");
    err = bfs_write_file_atomic(dir, "key", text, 1);
    if (err && err != -EEXIST)
        return err;
    return bfs_registry_key_read(dir, key); /* whoever won the race, use their key */
}

int bfs_registry_publish(const char *dir, const struct bfs_registry_entry *e)
{
    char text[512];
    snprintf(text, sizeof text, "id=%u\nnservers=%u\npid=%ld\nhost=%s\nlisten=%s\nlocal=%s\n",
             e->id, e->nservers, (long)e->pid, e->host, e->listen, e->local);
    char name[64];
    snprintf(name, sizeof name, "server.%u", e->id);
    return bfs_write_file_atomic(dir, name, text, 0);
}

int bfs_registry_unpublish(const char *dir, uint32_t id)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/server.%u", dir, id);
    return unlink(path) == 0 ? 0 : -errno;
}

uint64_t bfs_registry_incarnation(const struct bfs_registry_entry *e)
{
    char text[256];
    int n = snprintf(text, sizeof text, "%ld %s %s", (long)e->pid, e->listen, e->local);
    return bfs_hash_bytes(text, (size_t)n < sizeof text ? (size_t)n : sizeof text - 1);
}

int bfs_registry_read(const char *dir, uint32_t id, struct bfs_registry_entry *e)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/server.%u", dir, id);
    char buf[1024];
    int n = bfs_read_small(path, buf, sizeof buf);
    if (n < 0)
        return n;
    memset(e, 0, sizeof *e);
    int err = -EBADMSG;
    char *save = NULL;
    int have_id = 0;
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "id=", 3) == 0) {
            e->id = (uint32_t)strtoul(line + 3, NULL, 10);
            have_id = 1;
        } else if (strncmp(line, "nservers=", 9) == 0) {
            e->nservers = (uint32_t)strtoul(line + 9, NULL, 10);
        } else if (strncmp(line, "pid=", 4) == 0) {
            e->pid = (pid_t)strtol(line + 4, NULL, 10);
        } else if (strncmp(line, "host=", 5) == 0) {
            snprintf(e->host, sizeof e->host, "%s", line + 5);
        } else if (strncmp(line, "listen=", 7) == 0) {
            err = snprintf(e->listen, sizeof e->listen, "%s", line + 7) < (int)sizeof e->listen &&
                  strchr(e->listen, ':') ? 0 : -EBADMSG;
        } else if (strncmp(line, "local=", 6) == 0) {
            if (snprintf(e->local, sizeof e->local, "%s", line + 6) >= (int)sizeof e->local)
                e->local[0] = '\0';
        }
    }
    if (err || !have_id || e->id != id || e->nservers == 0)
        return -EBADMSG;
    return 0;
}

int bfs_registry_check(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int err = 0;
    /* Listing it is what the wait does; the key must be readable once it is there. */
    if (faccessat(fd, ".", R_OK | X_OK, AT_EACCESS) != 0)
        err = -errno;
    else if (faccessat(fd, "key", R_OK, AT_EACCESS) != 0 && errno != ENOENT)
        err = -errno;
    close(fd);
    return err;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

int bfs_registry_wait(const char *dir, int expected, int timeout_ms)
{
    long deadline = now_ms() + timeout_ms;
    for (;;) {
        uint8_t key[BFS_KEY_LEN];
        int n = expected;
        int ready = bfs_registry_key_read(dir, key) == 0;
        if (ready && n <= 0) {
            struct bfs_registry_entry e;
            ready = bfs_registry_read(dir, 0, &e) == 0;
            if (ready)
                n = (int)e.nservers;
        }
        for (int i = 0; ready && i < n; i++) {
            char path[4200];
            snprintf(path, sizeof path, "%s/server.%d", dir, i);
            ready = access(path, R_OK) == 0;
        }
        if (ready)
            return n;
        if (now_ms() >= deadline)
            return -ETIMEDOUT;
        usleep(20000);
    }
}
