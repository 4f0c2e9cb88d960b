/* SPDX-License-Identifier: BSD-3-Clause */
#include "cluster.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef BENCHFSD_PATH
#error "BENCHFSD_PATH must point at the benchfsd binary"
#endif

int test_failures;

static void die(const char *what)
{
    fprintf(stderr, "cluster: %s: %s\n", what, strerror(errno));
    exit(2);
}

static void server_entry_path(struct cluster *c, int id, char *out, size_t cap)
{
    snprintf(out, cap, "%s/server.%d", c->registry, id);
}

void cluster_start_server(struct cluster *c, int id)
{
    char entry[400];
    server_entry_path(c, id, entry, sizeof entry);
    unlink(entry); /* a stale entry of a killed server must not count as "up" */
    char idbuf[16], nbuf[16];
    snprintf(idbuf, sizeof idbuf, "%d", id);
    snprintf(nbuf, sizeof nbuf, "%d", c->n);
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        char *argv[64];
        int a = 0;
        argv[a++] = (char *)BENCHFSD_PATH;
        argv[a++] = "--data-dir";
        argv[a++] = c->data[id];
        argv[a++] = "--registry";
        argv[a++] = c->registry;
        argv[a++] = "--id";
        argv[a++] = idbuf;
        argv[a++] = "--nservers";
        argv[a++] = nbuf;
        char extra[512];
        snprintf(extra, sizeof extra, "%s", c->extra);
        for (char *tok = strtok(extra, " "); tok && a < 62; tok = strtok(NULL, " "))
            argv[a++] = tok;
        argv[a] = NULL;
        execv(BENCHFSD_PATH, argv);
        _exit(127);
    }
    c->pids[id] = pid;
    for (int i = 0; i < 1000; i++) { /* up to 20 s */
        if (access(entry, R_OK) == 0)
            return;
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            fprintf(stderr, "cluster: benchfsd %d exited during start-up (status %d)\n", id, st);
            exit(2);
        }
        usleep(20000);
    }
    fprintf(stderr, "cluster: benchfsd %d did not register\n", id);
    exit(2);
}

void cluster_start(struct cluster *c, int n, const char *extra)
{
    memset(c, 0, sizeof *c);
    if (n < 1 || n > CLUSTER_MAX) {
        fprintf(stderr, "cluster: bad server count %d\n", n);
        exit(2);
    }
    c->n = n;
    snprintf(c->extra, sizeof c->extra, "%s", extra ? extra : "");
    const char *tmp = getenv("TMPDIR");
    snprintf(c->root, sizeof c->root, "%s/benchfs-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(c->root))
        die("mkdtemp");
    snprintf(c->registry, sizeof c->registry, "%s/registry", c->root);
    for (int i = 0; i < n; i++)
        snprintf(c->data[i], sizeof c->data[i], "%s/data%d", c->root, i);
    for (int i = 0; i < n; i++)
        cluster_start_server(c, i);
}

void cluster_kill(struct cluster *c, int id, int sig)
{
    if (c->pids[id] <= 0)
        return;
    kill(c->pids[id], sig);
    int st;
    waitpid(c->pids[id], &st, 0);
    c->pids[id] = 0;
}

void cluster_stop(struct cluster *c)
{
    for (int i = 0; i < c->n; i++)
        if (c->pids[i] > 0)
            kill(c->pids[i], SIGTERM);
    for (int i = 0; i < c->n; i++) {
        if (c->pids[i] <= 0)
            continue;
        int st = 0;
        /* Bounded wait: a server that ignores SIGTERM gets SIGKILL after 10 s. */
        for (int t = 0; t < 500 && waitpid(c->pids[i], &st, WNOHANG) == 0; t++)
            usleep(20000);
        if (waitpid(c->pids[i], &st, WNOHANG) == 0) {
            fprintf(stderr, "cluster: benchfsd %d ignored SIGTERM\n", i);
            test_failures++;
            kill(c->pids[i], SIGKILL);
            waitpid(c->pids[i], &st, 0);
        } else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "cluster: benchfsd %d ended badly (status %#x)\n", i, st);
            test_failures++;
        }
        c->pids[i] = 0;
    }
    if (!getenv("BENCHFS_KEEP_TEST_DIR")) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", c->root);
        if (system(cmd) != 0)
            fprintf(stderr, "cluster: could not remove %s\n", c->root);
    }
}

benchfs_t *cluster_client(struct cluster *c, int rpc_timeout_ms)
{
    benchfs_options_t o = {
        .registry = c->registry,
        .nservers = c->n,
        .wait_ms = 20000,
        .rpc_timeout_ms = rpc_timeout_ms > 0 ? rpc_timeout_ms : 5000,
    };
    benchfs_t *fs = benchfs_init_opts(&o);
    if (!fs) {
        fprintf(stderr, "cluster: benchfs_init: %s\n", benchfs_strerror());
        exit(2);
    }
    return fs;
}

int test_finish(const char *name)
{
    if (test_failures)
        printf("%s: %d check(s) failed\n", name, test_failures);
    else
        printf("%s: all checks passed\n", name);
    return test_failures ? 1 : 0;
}

long cluster_counter_one(benchfs_t *fs, int server, const char *name)
{
    static char buf[65536];
    char key[96];
    snprintf(key, sizeof key, "\n%s ", name); /* a whole key: not the tail of another */
    if (benchfs_server_stats(fs, server, buf, sizeof buf) < 0)
        return -1;
    const char *p = strstr(buf, key);
    return p ? strtol(p + strlen(key), NULL, 10) : 0;
}

long cluster_counter(benchfs_t *fs, int nservers, const char *name)
{
    long total = 0;
    for (int s = 0; s < nservers; s++) {
        long v = cluster_counter_one(fs, s, name);
        if (v < 0)
            return -1;
        total += v;
    }
    return total;
}
