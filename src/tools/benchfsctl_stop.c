/* SPDX-License-Identifier: BSD-3-Clause */
/* benchfsctl_stop.c — stop every server of a cluster cleanly.
 *
 * Every server gets SIGTERM (it finishes the requests in flight, syncs, leaves the registry),
 * never its mpirun: Open MPI SIGKILLs ranks one second after mpirun gets SIGTERM
 * (docs/DESIGN.md, "MPI launch"). Servers of this host are signalled directly. Servers on
 * other hosts are signalled there by `benchfsctl stop-local`, run on every host through the
 * same launcher and hostfile `start` used (recorded in the state file), or, for a cluster
 * started some other way, over the hosts named in the registry entries. Their mpirun then
 * exits by itself once every rank has. */
#include "benchfsctl.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "net/registry.h"

/* Registry entries of servers on other hosts still present (they leave when they stop). */
static int remote_left(const char *reg, const char *host)
{
    uint32_t *ids;
    int n = list_entries(reg, &ids), left = 0;
    for (int i = 0; i < n; i++) {
        struct bfs_registry_entry e;
        left += bfs_registry_read(reg, ids[i], &e) == 0 && strcmp(e.host, host) != 0;
    }
    free(ids);
    return left;
}

/* A hostfile of the distinct hosts (other than ours) named in the registry: *count of them. */
static int hosts_from_registry(const char *reg, const char *host, const char *path, int *count)
{
    uint32_t *ids;
    int n = list_entries(reg, &ids);
    FILE *f = fopen(path, "w");
    if (!f) {
        free(ids);
        return -1;
    }
    char **seen = calloc((size_t)(n > 0 ? n : 1), sizeof *seen);
    int ns = 0;
    for (int i = 0; seen && i < n; i++) {
        struct bfs_registry_entry e;
        if (bfs_registry_read(reg, ids[i], &e) != 0 || strcmp(e.host, host) == 0)
            continue;
        int dup = 0;
        for (int j = 0; j < ns && !dup; j++)
            dup = strcmp(seen[j], e.host) == 0;
        if (!dup && (seen[ns] = strdup(e.host)) != NULL)
            fprintf(f, "%s\n", seen[ns++]);
    }
    for (int j = 0; j < ns; j++)
        free(seen[j]);
    free(seen);
    free(ids);
    *count = ns;
    return fclose(f) == 0 ? 0 : -1;
}

/* Run `stop-local -r REG [--kill]` on every host through the launcher and wait for it (until
 * the deadline): 0 if it ran and exited 0. */
static int run_on_hosts(const char *launcher, const char *args, const char *hostfile, int np,
                        const char *reg, int kill9, const char *log, int64_t deadline)
{
    char self[PATH_MAX], npbuf[24], *store = NULL;
    self_path(self, sizeof self);
    snprintf(npbuf, sizeof npbuf, "%d", np);
    int nargs = 0;
    char **margs = split_args(args, &store, &nargs);
    char **av = calloc((size_t)nargs + 16, sizeof *av);
    if (!margs || !av) {
        free(margs);
        free(av);
        free(store);
        return -1;
    }
    int k = 0;
    av[k++] = (char *)launcher;
    av[k++] = "--hostfile";
    av[k++] = (char *)hostfile;
    av[k++] = "-np";
    av[k++] = npbuf;
    av[k++] = "--map-by";
    av[k++] = "node";
    for (int j = 0; j < nargs; j++)
        av[k++] = margs[j];
    av[k++] = self;
    av[k++] = "stop-local";
    av[k++] = "-r";
    av[k++] = (char *)reg;
    if (kill9)
        av[k++] = "--kill";
    av[k] = NULL;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        allow_root_mpirun();
        int out = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (out >= 0) {
            dup2(out, 1);
            dup2(out, 2);
        }
        execvp(av[0], av);
        fprintf(stderr, "benchfsctl: cannot run %s: %s\n", av[0], strerror(errno));
        _exit(127);
    }
    free(margs);
    free(av);
    free(store);
    if (pid < 0)
        return -1;
    int status = 0;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR)
            return -1;
        if (bfs_mono_ms() >= deadline + 5000) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        sleep_ms(20);
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int cmd_stop(int argc, char **argv)
{
    static const struct option lo[] = {{"registry", required_argument, NULL, 'r'},
                                       {"timeout", required_argument, NULL, 't'},
                                       {"mpirun", required_argument, NULL, 'M'},
                                       {"mpirun-args", required_argument, NULL, 'A'},
                                       {"help", no_argument, NULL, 'h'},
                                       {0}};
    const char *reg_arg = getenv("BENCHFS_REGISTRY"), *mpirun = NULL, *mpirun_args = NULL;
    long timeout_ms = 60000;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "r:t:h", lo, NULL)) != -1) {
        switch (ch) {
        case 'r': reg_arg = optarg; break;
        case 't':
            if (parse_timeout(optarg, &timeout_ms) != 0) {
                msg("stop: -t '%s': expected seconds (or 500ms, 2m)", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'M': mpirun = optarg; break;
        case 'A': mpirun_args = optarg; break;
        case 'h': usage(stdout); return 0;
        default: msg("stop: see benchfsctl --help"); return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        msg("stop: unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
    }
    char reg[PATH_MAX];
    int rc = registry_arg(reg_arg, reg, sizeof reg, "stop");
    if (rc)
        return rc;

    static struct state st;
    int have_state = state_read(reg, &st) == 0;
    char host[256], logs[PATH_MAX];
    my_host(host, sizeof host);
    if (have_state && st.log_dir[0])
        snprintf(logs, sizeof logs, "%s", st.log_dir);
    else
        default_log_dir(reg, logs, sizeof logs);
    uint32_t *ids;
    int n = list_entries(reg, &ids);
    pid_t *local = calloc((size_t)(n > 0 ? n : 0) + (size_t)st.npids + 1, sizeof *local);
    if (!local)
        return 1;
    int nlocal = 0, remote = 0, stale = 0;
    for (int i = 0; i < n; i++) {
        struct bfs_registry_entry e;
        if (bfs_registry_read(reg, ids[i], &e) != 0)
            continue;
        if (strcmp(e.host, host) != 0) {
            if (!remote)
                msg("stop: server %u runs on %s: stopping the servers of other hosts there",
                    e.id, e.host);
            remote++;
        } else if (alive_as(e.pid, "benchfsd")) {
            local[nlocal++] = e.pid;
        } else {
            stale++;
        }
    }
    free(ids);
    /* Servers started by `benchfsctl start` that never registered. */
    if (have_state && strcmp(st.host, host) == 0)
        for (int i = 0; i < st.npids; i++) {
            int dup = 0;
            for (int j = 0; j < nlocal && !dup; j++)
                dup = local[j] == st.pids[i];
            if (!dup && alive_as(st.pids[i], "benchfsd"))
                local[nlocal++] = st.pids[i];
        }
    pid_t launcher = have_state && strcmp(st.host, host) == 0 ? st.mpirun_pid : 0;
    if (launcher > 0 && !alive(launcher))
        launcher = 0;

    /* SIGTERM: each server finishes what is in flight, leaves the registry, syncs its data. */
    for (int i = 0; i < nlocal; i++)
        kill(local[i], SIGTERM);
    int64_t deadline = bfs_mono_ms() + timeout_ms;
    char stop_log[PATH_MAX + 32], hostfile[PATH_MAX + 32];
    snprintf(stop_log, sizeof stop_log, "%s/stop.log", logs);
    const char *how = NULL;
    int np = 0, remote_ok = 1;
    if (remote) {
        /* The same launcher and hosts as start, else the hosts of the registry entries. */
        const char *run = mpirun ? mpirun : have_state && st.mpirun[0] ? st.mpirun : NULL;
        if (!run)
            run = getenv("MPIRUN") && *getenv("MPIRUN") ? getenv("MPIRUN") : "mpirun";
        const char *args = mpirun_args ? mpirun_args : have_state ? st.mpirun_args : "";
        if (have_state && st.hostfile[0] && st.nhosts > 0 && access(st.hostfile, R_OK) == 0) {
            snprintf(hostfile, sizeof hostfile, "%s", st.hostfile);
            np = st.nhosts;
        } else {
            snprintf(hostfile, sizeof hostfile, "%s/stop-hosts", reg);
            if (hosts_from_registry(reg, host, hostfile, &np) != 0)
                np = 0;
        }
        if (mkdir_p(logs, 0700) != 0)
            snprintf(stop_log, sizeof stop_log, "/dev/null");
        how = run;
        if (np <= 0 ||
            run_on_hosts(run, args, hostfile, np, reg, 0, stop_log, deadline) != 0) {
            remote_ok = 0;
            if (launcher) {
                msg("stop: %s could not run 'benchfsctl stop-local' on the other hosts (see "
                    "%s): sending SIGTERM to mpirun (pid %ld) instead, which kills ranks that "
                    "have not exited a second later",
                    run, stop_log, (long)launcher);
                kill(launcher, SIGTERM);
            } else {
                msg("stop: %d server%s on other hosts, and %s could not run 'benchfsctl "
                    "stop-local' there (see %s): stop them there (SIGTERM), or pass --mpirun; "
                    "the registry stays",
                    remote, remote > 1 ? "s" : "", run, stop_log);
            }
        }
    }
    int left;
    for (;;) {
        left = wait_gone(local, nlocal, bfs_mono_ms() + 100);
        /* Remote servers are gone when their entries are; or when their mpirun is (ranks it
         * killed leave stale entries); or, unreachable, they are not waited for. */
        int rleft = remote && (remote_ok || launcher) ? remote_left(reg, host) : 0;
        if (rleft && launcher && !alive(launcher))
            rleft = 0;
        if ((!left && !rleft) || bfs_mono_ms() >= deadline)
            break;
    }
    if (left) {
        msg("stop: %d server%s did not exit within %.1f s: killing (SIGKILL)", left,
            left > 1 ? "s" : "", (double)timeout_ms / 1000);
        for (int i = 0; i < nlocal; i++)
            if (alive(local[i]))
                kill(local[i], SIGKILL);
        wait_gone(local, nlocal, bfs_mono_ms() + 5000);
        rc = 1;
    }
    int rleft = remote && (remote_ok || launcher) ? remote_left(reg, host) : 0;
    if (rleft && launcher && !alive(launcher))
        rleft = 0;
    if (rleft) {
        msg("stop: %d server%s on other hosts did not exit within %.1f s: killing (SIGKILL)",
            rleft, rleft > 1 ? "s" : "", (double)timeout_ms / 1000);
        if (remote_ok)
            run_on_hosts(how, mpirun_args ? mpirun_args : have_state ? st.mpirun_args : "",
                         hostfile, np, reg, 1, stop_log, bfs_mono_ms() + 10000);
        rc = 1;
    }
    if (launcher) {
        /* With every rank gone mpirun exits by itself; give it a moment, then insist. */
        if (wait_gone(&launcher, 1, bfs_mono_ms() + 10000)) {
            kill(launcher, SIGTERM);
            if (wait_gone(&launcher, 1, bfs_mono_ms() + 5000)) {
                msg("stop: mpirun (pid %ld) did not exit: killing it", (long)launcher);
                kill(launcher, SIGKILL);
                wait_gone(&launcher, 1, bfs_mono_ms() + 5000);
                rc = 1;
            }
        }
    }
    free(local);
    free(st.pids);
    if (remote && !remote_ok && !launcher)
        return 1;
    /* Entries still present belong to servers that were not running (crashed or killed). */
    n = list_entries(reg, &ids);
    free(ids);
    if (stale || n > 0)
        msg("stop: %d server%s had already died (no clean stop)", n > stale ? n : stale,
            (n > stale ? n : stale) == 1 ? "" : "s");
    if (rc) {
        msg("stop: not every server stopped cleanly; keeping %s (logs in %s)", reg, logs);
        return rc;
    }
    if (remove_registry(reg) != 0)
        return 1;
    msg("stopped %d server%s%s; removed %s (logs in %s)", nlocal + remote,
        nlocal + remote == 1 ? "" : "s", launcher ? " and mpirun" : "", reg, logs);
    return 0;
}

/* Run on each host by `stop`: SIGTERM (--kill: SIGKILL) to the benchfsd servers of this
 * host named in the registry, and removal of the entries of this host's dead servers. */
int cmd_stop_local(int argc, char **argv)
{
    static const struct option lo[] = {{"registry", required_argument, NULL, 'r'},
                                       {"kill", no_argument, NULL, 'k'},
                                       {0}};
    const char *reg = NULL;
    int sig = SIGTERM, ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "r:", lo, NULL)) != -1) {
        switch (ch) {
        case 'r': reg = optarg; break;
        case 'k': sig = SIGKILL; break;
        default: return EXIT_USAGE;
        }
    }
    if (!reg || optind < argc)
        return EXIT_USAGE;
    char host[256];
    my_host(host, sizeof host);
    uint32_t *ids;
    int n = list_entries(reg, &ids), signalled = 0;
    if (n < 0) {
        msg("stop-local on %s: registry %s: %s", host, reg, strerror(errno));
        return 1;
    }
    for (int i = 0; i < n; i++) {
        struct bfs_registry_entry e;
        if (bfs_registry_read(reg, ids[i], &e) != 0 || strcmp(e.host, host) != 0)
            continue;
        if (alive_as(e.pid, "benchfsd")) {
            kill(e.pid, sig);
            signalled++;
        } else {
            bfs_registry_unpublish(reg, ids[i]); /* died without leaving */
        }
    }
    free(ids);
    msg("stop-local on %s: %s sent to %d server%s", host, sig == SIGKILL ? "SIGKILL" : "SIGTERM",
        signalled, signalled == 1 ? "" : "s");
    return 0;
}
