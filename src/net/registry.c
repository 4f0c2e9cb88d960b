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
    size_t cap = 256 + 2 * e->addr_len;
    char *text = malloc(cap);
    if (!text)
        return -ENOMEM;
    int off = snprintf(text, cap, "id=%u\nnservers=%u\npid=%ld\nhost=%s\naddr=", e->id,
                       e->nservers, (long)e->pid, e->host);
    bfs_hex_encode(e->addr, e->addr_len, text + off);
    strcat(text + off, "\n");
    char name[64];
    snprintf(name, sizeof name, "server.%u", e->id);
    int err = bfs_write_file_atomic(dir, name, text, 0);
    free(text);
    return err;
}

int bfs_registry_unpublish(const char *dir, uint32_t id)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/server.%u", dir, id);
    return unlink(path) == 0 ? 0 : -errno;
}

void bfs_registry_entry_free(struct bfs_registry_entry *e)
{
    free(e->addr);
    e->addr = NULL;
    e->addr_len = 0;
}

int bfs_registry_read(const char *dir, uint32_t id, struct bfs_registry_entry *e)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/server.%u", dir, id);
    size_t cap = 16384;
    char *buf = malloc(cap);
    if (!buf)
        return -ENOMEM;
    int n = bfs_read_small(path, buf, cap);
    if (n < 0) {
        free(buf);
        return n;
    }
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
        } else if (strncmp(line, "addr=", 5) == 0) {
            size_t hl = strlen(line + 5);
            if (hl == 0 || hl % 2)
                break;
            e->addr = malloc(hl / 2);
            if (!e->addr || bfs_hex_decode(line + 5, hl, e->addr) != 0)
                break;
            e->addr_len = hl / 2;
            err = 0;
        }
    }
    free(buf);
    if (err || !have_id || e->id != id || e->nservers == 0) {
        bfs_registry_entry_free(e);
        return -EBADMSG;
    }
    return 0;
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
            if (ready) {
                n = (int)e.nservers;
                bfs_registry_entry_free(&e);
            }
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
