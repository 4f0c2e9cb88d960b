/* SPDX-License-Identifier: BSD-3-Clause */
/* registry.h — server discovery through a shared directory.
 *
 * Layout of the registry directory (mode 0700, files 0600: only the job owner may read the
 * cluster key):
 *   key          32 hex digits: the per-cluster key every request must carry
 *   server.<id>  "id=..\nnservers=..\npid=..\nhost=..\nlisten=IP:PORT\nlocal=@NAME\n"
 * `listen` is the server's UCX listener (clients on other hosts connect to it); `local` names
 * its abstract AF_UNIX socket, reachable from its own network namespace only (same-host
 * clients use it instead of UCX).
 * Every file is written to a temporary name and renamed into place, so readers never see a
 * partial entry; the key is created with link(), so concurrent servers agree on one key. */
#ifndef BFS_REGISTRY_H
#define BFS_REGISTRY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/wire.h"

struct bfs_registry_entry {
    uint32_t id;
    uint32_t nservers;
    pid_t pid;
    char host[64];
    char listen[64];  /* "IPv4:port" of the UCX listener */
    char local[108];  /* abstract socket name without its leading NUL; "" if none */
};

/* Read the key, creating the directory and a fresh random key if there is none. */
int bfs_registry_key_ensure(const char *dir, uint8_t key[BFS_KEY_LEN]);
int bfs_registry_key_read(const char *dir, uint8_t key[BFS_KEY_LEN]);
int bfs_registry_publish(const char *dir, const struct bfs_registry_entry *e);
int bfs_registry_unpublish(const char *dir, uint32_t id);
/* Returns 0, -ENOENT if the entry is absent, -EBADMSG if it is malformed. */
int bfs_registry_read(const char *dir, uint32_t id, struct bfs_registry_entry *e);
/* A hash naming one incarnation of a server (its addresses and pid): a restarted server has
 * another. */
uint64_t bfs_registry_incarnation(const struct bfs_registry_entry *e);
/* Can this process use the registry directory at all? 0 if it exists and can be read (its
 * key and entries may still be missing: servers still starting), else -ENOENT, -ENOTDIR or
 * -EACCES (also for a key that exists but is not ours to read). One open(2), no waiting: a
 * client checks this before bfs_registry_wait so a wrong path fails at once. */
int bfs_registry_check(const char *dir);
/* Wait until the key and server.0 .. server.N-1 exist, N being `expected` or, if 0, what
 * server.0 announces. Returns N, or -ETIMEDOUT after timeout_ms. */
int bfs_registry_wait(const char *dir, int expected, int timeout_ms);

#endif
