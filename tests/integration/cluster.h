/* SPDX-License-Identifier: BSD-3-Clause */
/* cluster.h — test harness: a local BenchFS cluster of real benchfsd processes. */
#ifndef BFS_TEST_CLUSTER_H
#define BFS_TEST_CLUSTER_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

#include "benchfs.h"

#define CLUSTER_MAX 64

struct cluster {
    char root[256];     /* temporary directory holding everything */
    char registry[300];
    char data[CLUSTER_MAX][300];
    pid_t pids[CLUSTER_MAX];
    int n;
    char extra[512];    /* extra benchfsd flags, space separated */
};

/* Start n servers (extra: additional flags for every server, or NULL). Exits on failure. */
void cluster_start(struct cluster *c, int n, const char *extra);
/* (Re)start server `id` on its data directory and wait until it is registered. */
void cluster_start_server(struct cluster *c, int id);
/* Send `sig` to server id and reap it. */
void cluster_kill(struct cluster *c, int id, int sig);
/* Stop every server (SIGTERM) and remove the temporary directory. */
void cluster_stop(struct cluster *c);
/* Sum of one server counter ("chunk_read.count", ...: benchfs_server_stats) over servers
 * 0..nservers-1; -1 if a server cannot be asked. */
long cluster_counter(benchfs_t *fs, int nservers, const char *name);
/* The same counter of one server; -1 if it cannot be asked. */
long cluster_counter_one(benchfs_t *fs, int server, const char *name);
/* A client with a short RPC timeout (ms; 0: default 5000). Exits on failure. */
benchfs_t *cluster_client(struct cluster *c, int rpc_timeout_ms);

/* Tiny assertion helpers: print and count failures, never abort mid-run. */
extern int test_failures;
#define CHECK(cond)                                                                              \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            fprintf(stderr, "FAIL %s:%d: %s (errno %d: %s)\n", __FILE__, __LINE__, #cond, errno,  \
                    benchfs_strerror());                                                         \
            test_failures++;                                                                     \
        }                                                                                        \
    } while (0)
/* Expect rc == -1 with errno == e. */
#define CHECK_ERR(expr, e)                                                                       \
    do {                                                                                         \
        errno = 0;                                                                               \
        long rc_ = (long)(expr);                                                                 \
        if (rc_ != -1 || errno != (e)) {                                                         \
            fprintf(stderr, "FAIL %s:%d: %s returned %ld errno %d (%s), expected -1/%s\n",        \
                    __FILE__, __LINE__, #expr, rc_, errno, strerror(errno), #e);                  \
            test_failures++;                                                                     \
        }                                                                                        \
    } while (0)
#define CHECK_OK(expr)                                                                           \
    do {                                                                                         \
        errno = 0;                                                                               \
        long rc_ = (long)(expr);                                                                 \
        if (rc_ < 0) {                                                                           \
            fprintf(stderr, "FAIL %s:%d: %s returned %ld: %s\n", __FILE__, __LINE__, #expr, rc_, \
                    benchfs_strerror());                                                         \
            test_failures++;                                                                     \
        }                                                                                        \
    } while (0)
/* Print the summary line ctest logs, return the exit status. */
int test_finish(const char *name);

#endif
