/* SPDX-License-Identifier: BSD-3-Clause */
/* context.c — benchfs_init / benchfs_term: registry, key, connections, ring. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "internal.h"
#include "net/registry.h"

static void destroy(benchfs_t *fs)
{
    if (fs->conns)
        rpc_disconnect_all(fs);
    if (fs->tp.worker)
        bfs_transport_fini(&fs->tp);
    bfs_ring_free(&fs->ring);
    free(fs->conns);
    free(fs->groups);
    free(fs->files);
    free(fs->small_stash);
    dircache_free(fs);
    pthread_mutex_destroy(&fs->lock);
    free(fs);
}

BFS_API benchfs_t *benchfs_init_opts(const benchfs_options_t *opts)
{
    benchfs_options_t o = {0};
    if (opts)
        o = *opts;
    const char *reg = o.registry ? o.registry : getenv("BENCHFS_REGISTRY");
    if (!reg || !*reg) {
        bfs_fail(EINVAL, "no registry: pass one or set BENCHFS_REGISTRY");
        return NULL;
    }
    if (strlen(reg) >= BFS_PATH_MAX) {
        bfs_fail(ENAMETOOLONG, "registry path");
        return NULL;
    }
    /* Settings first: a malformed BENCHFS_* variable is an error naming it, never the
     * default in silence (README, "Client-side settings"). Only what options leave open is
     * read from the environment. */
    int64_t rpc_ms = o.rpc_timeout_ms, wait_ms = o.wait_ms, cs = o.chunk_size,
            eager = (int64_t)o.eager_threshold;
    int same_host = 1, local_reads = 1, local_writes = 1, write_behind = 1;
    int64_t spin_us = 0, inline_max = 0, dircache_ms = 0;
    const char *bad = NULL, *want = NULL;
    if (rpc_ms <= 0 && bfs_env_int("BENCHFS_RPC_TIMEOUT_MS", 30000, 1, INT32_MAX, &rpc_ms))
        bad = "BENCHFS_RPC_TIMEOUT_MS", want = "milliseconds, 1..2147483647";
    else if (wait_ms <= 0 && bfs_env_int("BENCHFS_WAIT_MS", 30000, 1, INT32_MAX, &wait_ms))
        bad = "BENCHFS_WAIT_MS", want = "milliseconds, 1..2147483647";
    else if (!cs && bfs_env_bytes("BENCHFS_CHUNK_SIZE", BENCHFS_DEFAULT_CHUNK_SIZE, 0, INT64_MAX,
                                  &cs))
        bad = "BENCHFS_CHUNK_SIZE", want = "a size such as 64K or 4M";
    else if (!eager && bfs_env_bytes("BENCHFS_EAGER_THRESHOLD", 32 * 1024, 0, INT32_MAX, &eager))
        bad = "BENCHFS_EAGER_THRESHOLD", want = "a size such as 32K";
    else if (bfs_env_bool("BENCHFS_SAME_HOST", 1, &same_host))
        bad = "BENCHFS_SAME_HOST", want = "1 or 0 (yes/no, true/false, on/off)";
    else if (bfs_env_bool("BENCHFS_LOCAL_READS", 1, &local_reads))
        bad = "BENCHFS_LOCAL_READS", want = "1 or 0 (yes/no, true/false, on/off)";
    else if (bfs_env_bool("BENCHFS_LOCAL_WRITES", 1, &local_writes))
        bad = "BENCHFS_LOCAL_WRITES", want = "1 or 0 (yes/no, true/false, on/off)";
    else if (bfs_env_bool("BENCHFS_WRITE_BEHIND", 1, &write_behind))
        bad = "BENCHFS_WRITE_BEHIND", want = "1 or 0 (yes/no, true/false, on/off)";
    else if (bfs_env_int("BENCHFS_SPIN_US", RPC_SPIN_US_DEFAULT, 0, 1000000, &spin_us))
        bad = "BENCHFS_SPIN_US", want = "microseconds, 0..1000000";
    else if (bfs_env_bytes("BENCHFS_INLINE_MAX", SMALL_INLINE_DEFAULT, 0, BFS_INLINE_MAX,
                           &inline_max))
        bad = "BENCHFS_INLINE_MAX", want = "a size from 0 (off) to 64K";
    else if (bfs_env_int("BENCHFS_DIR_CACHE_MS", 0, 0, 3600000, &dircache_ms))
        bad = "BENCHFS_DIR_CACHE_MS", want = "milliseconds, 0 (off)..3600000";
    if (bad) {
        bfs_fail(EINVAL, "%s='%s' is not valid: expected %s", bad, getenv(bad), want);
        return NULL;
    }
    if (cs < BENCHFS_MIN_CHUNK_SIZE || cs > BENCHFS_MAX_CHUNK_SIZE) {
        bfs_fail(EINVAL, "chunk size %lld outside %u..%u%s", (long long)cs,
                 BENCHFS_MIN_CHUNK_SIZE, BENCHFS_MAX_CHUNK_SIZE,
                 o.chunk_size ? "" : " (BENCHFS_CHUNK_SIZE)");
        return NULL;
    }
    /* A registry that is not there, or not ours to read, fails now with its errno rather
     * than after the wait; a directory that exists but is still being filled by starting
     * servers is waited for. */
    /* Where programs see BenchFS: absolute link targets under it are BenchFS paths. */
    const char *mnt = o.mount_prefix ? o.mount_prefix : getenv("BENCHFS_MOUNT");
    char prefix[BFS_PATH_MAX] = "";
    if (mnt && *mnt) {
        if (bfs_path_normalize(mnt, prefix) != 0) {
            bfs_fail(EINVAL, "mount prefix '%.200s'%s must be an absolute path", mnt,
                     o.mount_prefix ? "" : " ($BENCHFS_MOUNT)");
            return NULL;
        }
        if (strcmp(prefix, "/") == 0)
            prefix[0] = '\0'; /* everything is under "/": nothing to strip */
    }
    int err = bfs_registry_check(reg);
    if (err) {
        bfs_fail(-err, "registry %s: %s%s", reg, strerror(-err),
                 err == -ENOENT    ? " (no server has started there: check BENCHFS_REGISTRY)"
                 : err == -EACCES ? " (it belongs to another user, or its mode forbids reading)"
                                  : "");
        return NULL;
    }
    benchfs_t *fs = calloc(1, sizeof *fs);
    if (!fs) {
        bfs_fail(ENOMEM, "benchfs_init");
        return NULL;
    }
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    /* Recursive: a readdir callback may call back into the library. */
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&fs->lock, &ma);
    pthread_mutexattr_destroy(&ma);
    strcpy(fs->registry, reg);
    strcpy(fs->mount_prefix, prefix);
    fs->rpc_timeout_ms = (int)rpc_ms;
    fs->chunk_size = (uint32_t)cs;
    fs->inline_max = (uint32_t)inline_max;
    fs->eager_threshold = (size_t)eager;
    /* A server whose local socket we can reach is on this host (the socket's name lives in
     * the network namespace); BENCHFS_SAME_HOST=0 makes every server remote (UCX). */
    fs->same_host = same_host;
    fs->pid = getpid();
    fs->local_reads = same_host && local_reads;
    fs->local_writes = same_host && local_writes;
    fs->write_behind = write_behind;
    fs->spin_us = (int)spin_us;
    fs->dircache_ms = (int)dircache_ms;

    int n = bfs_registry_wait(reg, o.nservers, (int)wait_ms);
    if (n < 0) {
        bfs_fail(ETIMEDOUT, "waited %d ms for %s servers in registry %s", (int)wait_ms,
                 o.nservers ? "all" : "the", reg);
        destroy(fs);
        return NULL;
    }
    err = bfs_registry_key_read(reg, fs->key);
    if (err) {
        bfs_fail(-err, "cluster key in %s", reg);
        destroy(fs);
        return NULL;
    }
    fs->nservers = (uint32_t)n;
    fs->conns = calloc((size_t)n, sizeof *fs->conns);
    if (!fs->conns || bfs_ring_init(&fs->ring, fs->nservers, 0) != 0) {
        bfs_fail(ENOMEM, "benchfs_init");
        destroy(fs);
        return NULL;
    }
    for (int i = 0; i < n; i++)
        fs->conns[i].fd = -1;
    /* UCX starts when a server on another host is first called (rpc.c). */
    /* The identity is read at each call (cred.c), never here. */
    return fs;
}

BFS_API benchfs_t *benchfs_init(const char *registry)
{
    benchfs_options_t o = {.registry = registry};
    return benchfs_init_opts(&o);
}

BFS_API int benchfs_term(benchfs_t *fs)
{
    if (!fs)
        return bfs_fail(EINVAL, "benchfs_term(NULL)");
    LOCK(fs);
    int rc = file_close_all(fs);
    UNLOCK(fs);
    destroy(fs);
    return rc;
}

BFS_API int benchfs_nservers(benchfs_t *fs) { return fs ? (int)fs->nservers : -1; }

BFS_API ssize_t benchfs_server_stats(benchfs_t *fs, int server, char *buf, size_t size)
{
    if (!fs || !buf || size == 0 || server < 0 || (uint32_t)server >= (fs ? fs->nservers : 0))
        return bfs_fail(EINVAL, "benchfs_server_stats: bad argument");
    LOCK(fs);
    struct rpc c = {.server = (uint32_t)server, .op = BFS_OP_STATS};
    int err = rpc_call(fs, &c);
    ssize_t n = -1;
    if (err) {
        bfs_fail(-err, "stats of server %d", server);
    } else {
        n = (ssize_t)(c.rdata_len < size - 1 ? c.rdata_len : size - 1);
        if (n)
            memcpy(buf, c.rdata, (size_t)n);
        buf[n] = '\0';
    }
    rpc_release(&c);
    UNLOCK(fs);
    return n;
}
