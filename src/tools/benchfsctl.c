/* SPDX-License-Identifier: BSD-3-Clause */
/* benchfsctl — start, stop, inspect and wait for a BenchFS cluster (docs/benchfsctl.md).
 *
 *   benchfsctl start -n N -d DIR [-r REG] [-c SIZE] [-t SEC] [-- benchfsd flags]
 *   benchfsctl start --hostfile FILE -d DIR -r REG [-n N] ...      (through mpirun)
 *   benchfsctl stop   [-r REG] [-t SEC]
 *   benchfsctl status [-r REG] [-t SEC] [-v]
 *   benchfsctl wait   [-r REG] [-n N] [-t SEC]
 *
 * Besides the servers' own files (key, server.<id>), benchfsctl keeps in the registry
 * directory a state file (how the cluster was started: local pids or the mpirun, its hostfile
 * and arguments); the servers' logs go to a log directory (REGISTRY.logs by default) that
 * outlives the registry, so they can be read after a failed start or stop. This file: main,
 * usage and option values; benchfsctl.h lists the others. */
#include "benchfsctl.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "benchfs.h"

static const char *prog = "benchfsctl";

void msg(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void usage(FILE *f)
{
    fprintf(f,
            "Usage: benchfsctl COMMAND [options]\n"
            "\n"
            "Commands:\n"
            "  start   start a cluster: N local servers, or one per host of a hostfile (mpirun)\n"
            "  stop    stop every server cleanly (SIGTERM) and remove the registry directory\n"
            "  status  show each server: up/down, host, pid, address, capacity, used, counters\n"
            "  wait    wait until every server is registered and answers\n"
            "\n"
            "start options:\n"
            "  -n, --nservers N      servers to start (local default 1; hostfile: one per host)\n"
            "  -d, --data-dir DIR    data directory; server i uses DIR/rank<i> (required)\n"
            "  -r, --registry DIR    registry directory (default $BENCHFS_REGISTRY)\n"
            "  -c, --capacity SIZE   capacity of each server (K/M/G/T; default: disk limit)\n"
            "  -t, --timeout T       how long to wait for the servers to register (60 s)\n"
            "  -l, --log-dir DIR     the servers' (or mpirun's) logs, kept after stop and after\n"
            "                        a failed start (default REGISTRY.logs, next to it)\n"
            "      --hostfile FILE   start through mpirun over the hosts of FILE (backgrounded)\n"
            "      --mpirun CMD      the MPI launcher (default $MPIRUN or mpirun)\n"
            "      --mpirun-args STR extra launcher arguments, split at blanks\n"
            "      --benchfsd PATH   the server binary (default $BENCHFSD, the benchfsd next to\n"
            "                        benchfsctl, or benchfsd in PATH)\n"
            "  -- FLAGS...           further benchfsd flags (see benchfsd --help)\n"
            "  On success prints 'export BENCHFS_REGISTRY=DIR' (shell-quoted) for eval.\n"
            "\n"
            "stop options:    -r DIR, -t T (how long servers get to exit; 60 s); servers on\n"
            "                 other hosts are stopped through the launcher (--mpirun CMD,\n"
            "                 --mpirun-args STR; default: what start used, else $MPIRUN/mpirun)\n"
            "status options:  -r DIR, -t T (per-server RPC timeout; 2 s), -v (every counter)\n"
            "wait options:    -r DIR, -n N (servers; default as registered), -t T (60 s)\n"
            "\n"
            "-t takes seconds for every command (\"60\", \"0.5\"), or a unit: 500ms, 2s, 3m.\n"
            "Exit status: 0 success; 1 failure; 2 bad usage; 3 (status) a server is down.\n"
            "See docs/benchfsctl.md.\n");
}

/* ---- option values ---- */

int parse_uint(const char *s, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 0 || v > max)
        return -1;
    *out = v;
    return 0;
}

int parse_timeout(const char *s, long *ms)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0)
        return -1;
    if (strcmp(end, "ms") == 0)
        v /= 1000;
    else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
        v *= 60;
    else if (strcmp(end, "h") == 0)
        v *= 3600;
    else if (*end && strcmp(end, "s") != 0)
        return -1;
    if (v > 86400.0 * 365)
        return -1;
    *ms = (long)(v * 1000.0 + 0.5);
    return 0;
}

int absolute(const char *in, char *out, size_t cap)
{
    char cwd[PATH_MAX];
    int n;
    if (in[0] == '/') {
        n = snprintf(out, cap, "%s", in);
    } else {
        if (!getcwd(cwd, sizeof cwd))
            return -1;
        n = snprintf(out, cap, "%s/%s", cwd, in);
    }
    if (n < 0 || (size_t)n >= cap)
        return -1;
    while (n > 1 && out[n - 1] == '/')
        out[--n] = '\0';
    return 0;
}

int mkdir_p(const char *path, mode_t mode)
{
    char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *s = buf + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;
            *s = '\0';
            if (mkdir(buf, mode) != 0 && errno != EEXIST)
                return -1;
            *s = c;
            if (!c)
                break;
        }
    }
    return 0;
}

char *shell_quote(const char *s)
{
    static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                               "0123456789_/.,:@%+=-";
    if (*s && strspn(s, safe) == strlen(s))
        return strdup(s);
    /* '...' with every ' written as '\'' */
    size_t n = 3;
    for (const char *p = s; *p; p++)
        n += *p == '\'' ? 4 : 1;
    char *out = malloc(n), *o = out;
    if (!out)
        return NULL;
    *o++ = '\'';
    for (const char *p = s; *p; p++) {
        if (*p == '\'') {
            memcpy(o, "'\\''", 4);
            o += 4;
        } else {
            *o++ = *p;
        }
    }
    *o++ = '\'';
    *o = '\0';
    return out;
}

char **split_args(const char *s, char **store, int *n)
{
    *n = 0;
    *store = strdup(s ? s : "");
    char **v = calloc(strlen(*store) / 2 + 2, sizeof *v);
    if (!*store || !v) {
        free(*store);
        free(v);
        *store = NULL;
        return NULL;
    }
    char *save = NULL;
    for (char *t = strtok_r(*store, " \t", &save); t; t = strtok_r(NULL, " \t", &save))
        v[(*n)++] = t;
    return v;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
        printf("benchfsctl %s\n", benchfs_version());
        return 0;
    }
    if (strcmp(cmd, "start") == 0)
        return cmd_start(argc - 1, argv + 1);
    if (strcmp(cmd, "stop") == 0)
        return cmd_stop(argc - 1, argv + 1);
    if (strcmp(cmd, "stop-local") == 0) /* internal: what `stop` runs on other hosts */
        return cmd_stop_local(argc - 1, argv + 1);
    if (strcmp(cmd, "status") == 0)
        return cmd_status(argc - 1, argv + 1);
    if (strcmp(cmd, "wait") == 0)
        return cmd_wait(argc - 1, argv + 1);
    msg("unknown command '%s' (start, stop, status, wait; see --help)", cmd);
    return EXIT_USAGE;
}
