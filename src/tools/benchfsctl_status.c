/* SPDX-License-Identifier: BSD-3-Clause */
/* benchfsctl_status.c — status and wait: ask every server for its counters. */
#include "benchfsctl.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "benchfs.h"
#include "common/util.h"
#include "net/registry.h"

struct srv_status {
    uint32_t id;
    int registered, up;
    pid_t pid;
    char host[64];
    char listen[64]; /* the UCX listener, "ip:port" */
    char why[160];
    char *stats; /* the server's counters ("key value" lines), when up */
};

static uint64_t stat_u64(const char *stats, const char *key)
{
    size_t kl = strlen(key);
    for (const char *p = stats; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, key, kl) == 0 && p[kl] == ' ')
            return strtoull(p + kl + 1, NULL, 10);
    return 0;
}

/* Sum of every "<op>.<suffix> N" line. */
static uint64_t stat_sum(const char *stats, const char *suffix)
{
    uint64_t sum = 0;
    size_t sl = strlen(suffix);
    for (const char *p = stats; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        const char *sp = strchr(p, ' ');
        const char *nl = strchr(p, '\n');
        if (!sp || (nl && sp > nl) || (size_t)(sp - p) <= sl)
            continue;
        if (strncmp(sp - sl, suffix, sl) == 0 && sp[-(long)sl - 1] == '.')
            sum += strtoull(sp + 1, NULL, 10);
    }
    return sum;
}

/* Probe servers 0..n-1: those registered and not known dead are put, renumbered, in a private
 * copy of the registry (key + their entries), so one client reaches them even while others are
 * missing (benchfs_init waits for a complete registry). Fills st[]; returns how many are up. */
static int probe(const char *reg, int n, struct srv_status *st, long rpc_timeout_ms)
{
    char host[256];
    my_host(host, sizeof host);
    int *cand = calloc((size_t)n, sizeof *cand), nc = 0, up = 0;
    if (!cand)
        return 0;
    for (int i = 0; i < n; i++) {
        struct srv_status *s = &st[i];
        memset(s, 0, sizeof *s);
        s->id = (uint32_t)i;
        struct bfs_registry_entry e;
        if (bfs_registry_read(reg, (uint32_t)i, &e) != 0) {
            snprintf(s->why, sizeof s->why, "not registered");
            continue;
        }
        s->registered = 1;
        s->pid = e.pid;
        snprintf(s->host, sizeof s->host, "%s", e.host);
        snprintf(s->listen, sizeof s->listen, "%s", e.listen);
        if (strcmp(s->host, host) == 0 && !alive(s->pid))
            snprintf(s->why, sizeof s->why, "process %ld is gone", (long)s->pid);
        else
            cand[nc++] = i;
    }
    char tmp[] = "/tmp/benchfsctl-probe.XXXXXX";
    uint8_t key[BFS_KEY_LEN];
    int ok = nc > 0 && bfs_registry_key_read(reg, key) == 0 && mkdtemp(tmp) != NULL;
    if (nc > 0 && !ok)
        for (int j = 0; j < nc; j++)
            snprintf(st[cand[j]].why, sizeof st[cand[j]].why, "cannot read the cluster key");
    if (ok) {
        /* The copy of the key: a 0700 directory of our own, removed below. */
        char path[PATH_MAX + 32], text[2 * BFS_KEY_LEN + 2];
        bfs_hex_encode(key, BFS_KEY_LEN, text);
        strcat(text, "\n");
        snprintf(path, sizeof path, "%s/key", tmp);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
        ok = fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text);
        if (fd >= 0)
            close(fd);
        for (int j = 0; ok && j < nc; j++) {
            struct bfs_registry_entry e;
            if (bfs_registry_read(reg, (uint32_t)cand[j], &e) != 0) {
                ok = 0;
                break;
            }
            e.id = (uint32_t)j;
            e.nservers = (uint32_t)nc;
            ok = bfs_registry_publish(tmp, &e) == 0;
        }
        benchfs_t *fs = NULL;
        if (ok) {
            benchfs_options_t o = {.registry = tmp, .nservers = nc, .wait_ms = 1000,
                                   .rpc_timeout_ms = (int)rpc_timeout_ms};
            fs = benchfs_init_opts(&o);
        }
        if (!fs) {
            for (int j = 0; j < nc; j++)
                snprintf(st[cand[j]].why, sizeof st[cand[j]].why, "client: %s",
                         benchfs_strerror());
        }
        char *buf = malloc(1 << 16);
        for (int j = 0; fs && buf && j < nc; j++) {
            struct srv_status *s = &st[cand[j]];
            ssize_t len = benchfs_server_stats(fs, j, buf, 1 << 16);
            if (len < 0) {
                snprintf(s->why, sizeof s->why, "%s", strerror(errno));
                continue;
            }
            s->up = 1;
            s->stats = strdup(buf);
            up++;
        }
        free(buf);
        if (fs)
            benchfs_term(fs);
        remove_registry(tmp);
    }
    free(cand);
    return up;
}

int cmd_status(int argc, char **argv)
{
    static const struct option lo[] = {{"registry", required_argument, NULL, 'r'},
                                       {"timeout", required_argument, NULL, 't'},
                                       {"verbose", no_argument, NULL, 'v'},
                                       {"help", no_argument, NULL, 'h'},
                                       {0}};
    const char *reg_arg = getenv("BENCHFS_REGISTRY");
    long rpc_ms = 2000;
    int verbose = 0, ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "r:t:vh", lo, NULL)) != -1) {
        switch (ch) {
        case 'r': reg_arg = optarg; break;
        case 't':
            if (parse_timeout(optarg, &rpc_ms) != 0 || rpc_ms < 1 || rpc_ms > 3600000) {
                msg("status: -t '%s': expected seconds (or 500ms), at most an hour", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'v': verbose = 1; break;
        case 'h': usage(stdout); return 0;
        default: msg("status: see benchfsctl --help"); return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        msg("status: unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
    }
    char reg[PATH_MAX];
    int rc = registry_arg(reg_arg, reg, sizeof reg, "status");
    if (rc)
        return rc;
    int n = cluster_size(reg);
    if (n <= 0) {
        msg("status: no server is registered in %s", reg);
        return EXIT_DOWN;
    }
    struct srv_status *st = calloc((size_t)n, sizeof *st);
    if (!st)
        return 1;
    int up = probe(reg, n, st, rpc_ms);
    printf("registry %s: %d server%s, %d up, %d down\n", reg, n, n == 1 ? "" : "s", up, n - up);
    printf("%-4s %-5s %-16s %-8s %-21s %9s %9s %8s %9s %6s %9s %9s %9s\n", "ID", "STATE", "HOST",
           "PID", "LISTEN", "CAPACITY", "USED", "ENTRIES", "OPS", "ERRORS", "IN", "OUT",
           "UPTIME");
    for (int i = 0; i < n; i++) {
        struct srv_status *s = &st[i];
        char addr[40] = "-", pid[16] = "-";
        if (s->registered) {
            snprintf(addr, sizeof addr, "%s", s->listen);
            snprintf(pid, sizeof pid, "%ld", (long)s->pid);
        }
        printf("%-4u %-5s %-16s %-8s %-21s", s->id, s->up ? "up" : "down",
               s->registered ? s->host : "-", pid, addr);
        if (s->up) {
            char cap[16], used[16], in[16], out[16];
            uint64_t c = stat_u64(s->stats, "capacity_bytes");
            if (c)
                human(c, cap, sizeof cap);
            else
                snprintf(cap, sizeof cap, "disk");
            human(stat_u64(s->stats, "used_bytes"), used, sizeof used);
            human(stat_sum(s->stats, "bytes_in"), in, sizeof in);
            human(stat_sum(s->stats, "bytes_out"), out, sizeof out);
            const char *up_line = strstr(s->stats, "uptime_s ");
            double uptime = up_line ? strtod(up_line + 9, NULL) : 0;
            printf(" %9s %9s %8llu %9llu %6llu %9s %9s %8.0fs\n", cap, used,
                   (unsigned long long)stat_u64(s->stats, "meta_entries"),
                   (unsigned long long)stat_sum(s->stats, "count"),
                   (unsigned long long)stat_sum(s->stats, "errors"), in, out, uptime);
        } else {
            printf("  (%s)\n", s->why);
        }
    }
    if (verbose)
        for (int i = 0; i < n; i++) {
            if (!st[i].up)
                continue;
            printf("\nserver %d:\n", i);
            for (char *line = st[i].stats; line && *line;) {
                char *nl = strchr(line, '\n');
                printf("  %.*s\n", (int)(nl ? nl - line : (long)strlen(line)), line);
                line = nl ? nl + 1 : NULL;
            }
        }
    for (int i = 0; i < n; i++)
        free(st[i].stats);
    free(st);
    return up == n ? 0 : EXIT_DOWN;
}

int cmd_wait(int argc, char **argv)
{
    static const struct option lo[] = {{"registry", required_argument, NULL, 'r'},
                                       {"nservers", required_argument, NULL, 'n'},
                                       {"timeout", required_argument, NULL, 't'},
                                       {"help", no_argument, NULL, 'h'},
                                       {0}};
    const char *reg_arg = getenv("BENCHFS_REGISTRY");
    long timeout_ms = 60000, n = 0;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "r:n:t:h", lo, NULL)) != -1) {
        switch (ch) {
        case 'r': reg_arg = optarg; break;
        case 'n':
            if (parse_uint(optarg, MAX_NSERVERS, &n) != 0 || n < 1) {
                msg("wait: -n '%s': expected a number of servers, 1..%ld", optarg, MAX_NSERVERS);
                return EXIT_USAGE;
            }
            break;
        case 't':
            if (parse_timeout(optarg, &timeout_ms) != 0) {
                msg("wait: -t '%s': expected seconds (or 500ms, 2m)", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: msg("wait: see benchfsctl --help"); return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        msg("wait: unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
    }
    if (!reg_arg || !*reg_arg) {
        msg("wait: no registry: pass -r DIR or set BENCHFS_REGISTRY");
        return EXIT_USAGE;
    }
    char reg[PATH_MAX];
    if (absolute(reg_arg, reg, sizeof reg) != 0) {
        msg("wait: registry path too long");
        return EXIT_USAGE;
    }
    /* The registry may not exist yet: the servers may still be starting. */
    int64_t deadline = bfs_mono_ms() + timeout_ms;
    char why[200] = "no registry yet";
    for (;;) {
        int want = n > 0 ? (int)n : 0;
        if (!want && access(reg, F_OK) == 0)
            want = cluster_size(reg);
        if (want > 0 && registry_complete(reg, want, NULL)) {
            struct srv_status *st = calloc((size_t)want, sizeof *st);
            int up = st ? probe(reg, want, st, 2000) : 0;
            for (int i = 0; st && i < want; i++) {
                if (!st[i].up && up < want)
                    snprintf(why, sizeof why, "server %d: %s", i, st[i].why);
                free(st[i].stats);
            }
            free(st);
            if (up == want) {
                msg("%d server%s up (registry %s)", want, want == 1 ? "" : "s", reg);
                return 0;
            }
        } else if (want > 0) {
            snprintf(why, sizeof why, "not all %d servers are registered", want);
        }
        if (bfs_mono_ms() >= deadline) {
            msg("wait: gave up after %.1f s: %s", (double)timeout_ms / 1000, why);
            return 1;
        }
        sleep_ms(200);
    }
}

