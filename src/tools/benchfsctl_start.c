/* SPDX-License-Identifier: BSD-3-Clause */
/* benchfsctl_start.c — start: N local daemons, or one mpirun over a hostfile. */
#include "benchfsctl.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"

static void find_benchfsd(char *out, size_t cap)
{
    const char *env = getenv("BENCHFSD");
    if (env && *env) {
        snprintf(out, cap, "%s", env);
        return;
    }
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            int len = snprintf(out, cap, "%s/benchfsd", self);
            if (len > 0 && (size_t)len < cap && access(out, X_OK) == 0)
                return;
        }
    }
    snprintf(out, cap, "benchfsd");
}

/* Distinct host names in a hostfile (first word of each line; '#' starts a comment): as many
 * as it lists, no cap. -1 with errno if it cannot be read. */
static int count_hosts(const char *hostfile)
{
    FILE *f = fopen(hostfile, "r");
    if (!f)
        return -1;
    char *line = NULL, **hosts = NULL;
    size_t lcap = 0, n = 0, cap = 0;
    while (getline(&line, &lcap, f) > 0) {
        char *s = line + strspn(line, " \t");
        size_t len = strcspn(s, " \t\r\n#");
        if (!len)
            continue;
        s[len] = '\0';
        /* Sorted table: binary search, insert. */
        size_t lo = 0, hi = n;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            int c = strcmp(hosts[mid], s);
            if (c == 0) {
                lo = hi = SIZE_MAX;
                break;
            }
            if (c < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == SIZE_MAX)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            char **grown = realloc(hosts, cap * sizeof *grown);
            if (!grown)
                break;
            hosts = grown;
        }
        char *copy = strdup(s);
        if (!copy)
            break;
        memmove(hosts + lo + 1, hosts + lo, (n - lo) * sizeof *hosts);
        hosts[lo] = copy;
        n++;
    }
    free(line);
    fclose(f);
    for (size_t k = 0; k < n; k++)
        free(hosts[k]);
    free(hosts);
    return (int)n;
}

/* The benchfsd arguments both start modes end with, from av[k] on, NULL-terminated. */
static void server_args(char **av, int k, char *data_dir, char *reg, const char *capacity,
                        char **extra, int nextra)
{
    av[k++] = "--data-dir";
    av[k++] = data_dir;
    av[k++] = "--registry";
    av[k++] = reg;
    if (capacity) {
        av[k++] = "--capacity";
        av[k++] = (char *)capacity;
    }
    for (int j = 0; j < nextra; j++)
        av[k++] = extra[j];
    av[k] = NULL;
}

/* Start av[] in the background with its output in `log` (emptied first, kept across starts
 * for the post-mortem of a failed one); the pid, or -1. */
static pid_t spawn(const char *log, char **av, int is_mpirun)
{
    if (truncate(log, 0) != 0 && errno != ENOENT)
        msg("start: %s: %s", log, strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        msg("start: fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        if (is_mpirun)
            allow_root_mpirun();
        exec_daemon(log, av);
    }
    return pid;
}

int cmd_start(int argc, char **argv)
{
    static const struct option lo[] = {
        {"nservers", required_argument, NULL, 'n'}, {"data-dir", required_argument, NULL, 'd'},
        {"registry", required_argument, NULL, 'r'}, {"capacity", required_argument, NULL, 'c'},
        {"timeout", required_argument, NULL, 't'},  {"hostfile", required_argument, NULL, 'H'},
        {"mpirun", required_argument, NULL, 'M'},   {"mpirun-args", required_argument, NULL, 'A'},
        {"benchfsd", required_argument, NULL, 'B'}, {"help", no_argument, NULL, 'h'},
        {"log-dir", required_argument, NULL, 'l'},  {0}};
    long n = -1, timeout_ms = 60000;
    const char *data = NULL, *reg_arg = getenv("BENCHFS_REGISTRY"), *capacity = NULL;
    const char *hostfile = NULL, *mpirun = getenv("MPIRUN"), *mpirun_args = NULL;
    const char *log_arg = NULL;
    char benchfsd[PATH_MAX];
    find_benchfsd(benchfsd, sizeof benchfsd);
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "+n:d:r:c:t:l:h", lo, NULL)) != -1) {
        switch (ch) {
        case 'n':
            if (parse_uint(optarg, MAX_NSERVERS, &n) != 0 || n < 1) {
                msg("start: -n '%s': expected a number of servers, 1..%ld", optarg, MAX_NSERVERS);
                return EXIT_USAGE;
            }
            break;
        case 'd': data = optarg; break;
        case 'r': reg_arg = optarg; break;
        case 'c':
            if (bfs_parse_size(optarg) < 0) {
                msg("start: --capacity '%s' is not a size (e.g. 512M, 10G)", optarg);
                return EXIT_USAGE;
            }
            capacity = optarg;
            break;
        case 't':
            if (parse_timeout(optarg, &timeout_ms) != 0) {
                msg("start: -t '%s': expected seconds (or 500ms, 2m)", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'H': hostfile = optarg; break;
        case 'M': mpirun = optarg; break;
        case 'A': mpirun_args = optarg; break;
        case 'l': log_arg = optarg; break;
        case 'B': snprintf(benchfsd, sizeof benchfsd, "%s", optarg); break;
        case 'h': usage(stdout); return 0;
        default: msg("start: see benchfsctl --help"); return EXIT_USAGE;
        }
    }
    int extra_from = optind;
    if (optind < argc && strcmp(argv[optind - 1], "--") != 0) {
        msg("start: unexpected argument '%s' (benchfsd flags go after '--')", argv[optind]);
        return EXIT_USAGE;
    }
    if (!data) {
        msg("start: -d DIR (the data directory) is required");
        return EXIT_USAGE;
    }
    if (!reg_arg || !*reg_arg) {
        msg("start: no registry: pass -r DIR or set BENCHFS_REGISTRY");
        return EXIT_USAGE;
    }
    char reg[PATH_MAX], dir[PATH_MAX], logs[PATH_MAX], log[PATH_MAX + 64];
    if (absolute(reg_arg, reg, sizeof reg) != 0 || absolute(data, dir, sizeof dir) != 0) {
        msg("start: path too long");
        return EXIT_USAGE;
    }
    if (log_arg ? absolute(log_arg, logs, sizeof logs) != 0
                : (default_log_dir(reg, logs, sizeof logs), strlen(logs) + 1 >= sizeof logs)) {
        msg("start: log directory path too long");
        return EXIT_USAGE;
    }
    int nhosts = 0;
    if (hostfile) {
        nhosts = count_hosts(hostfile);
        if (nhosts < 0) {
            msg("start: hostfile %s: %s", hostfile, strerror(errno));
            return 1;
        }
        if (nhosts == 0) {
            msg("start: hostfile %s lists no host", hostfile);
            return 1;
        }
        if (n < 0)
            n = nhosts;
    }
    if (n < 0)
        n = 1;

    /* A registry in use by running servers is not ours to take over. */
    if (mkdir_p(reg, 0700) != 0) {
        msg("start: registry %s: %s", reg, strerror(errno));
        return 1;
    }
    char why[256] = "";
    if (clear_stale(reg, why, sizeof why) > 0) {
        msg("start: registry %s is in use (%s); run 'benchfsctl stop -r %s' first", reg, why,
            reg);
        return 1;
    }
    if (mkdir_p(logs, 0700) != 0) {
        msg("start: log directory %s: %s", logs, strerror(errno));
        return 1;
    }
    if (!hostfile && mkdir_p(dir, 0700) != 0) {
        msg("start: data directory %s: %s", dir, strerror(errno));
        return 1;
    }

    static struct state st;
    memset(&st, 0, sizeof st);
    st.nservers = (int)n;
    my_host(st.host, sizeof st.host);
    snprintf(st.log_dir, sizeof st.log_dir, "%s", logs);
    int nextra = argc - extra_from;
    int failed = 0;
    pid_t *wait_pids = NULL;

    if (!hostfile) {
        snprintf(st.mode, sizeof st.mode, "local");
        /* benchfsd --no-mpi --id I --nservers N --data-dir DIR/rankI --registry REG ... */
        char **av = calloc((size_t)nextra + 16, sizeof *av);
        st.pids = calloc((size_t)n, sizeof *st.pids);
        if (!av || !st.pids)
            return 1;
        char idbuf[24], nbuf[24], ddir[PATH_MAX + 32];
        for (long i = 0; i < n; i++) {
            int k = 0;
            snprintf(idbuf, sizeof idbuf, "%ld", i);
            snprintf(nbuf, sizeof nbuf, "%ld", n);
            snprintf(ddir, sizeof ddir, "%s/rank%ld", dir, i);
            av[k++] = benchfsd;
            av[k++] = "--no-mpi";
            av[k++] = "--id";
            av[k++] = idbuf;
            av[k++] = "--nservers";
            av[k++] = nbuf;
            server_args(av, k, ddir, reg, capacity, argv + extra_from, nextra);
            snprintf(log, sizeof log, "%s/benchfsd.%ld.log", logs, i);
            pid_t pid = spawn(log, av, 0);
            if (pid < 0) {
                failed = 1;
                break;
            }
            st.pids[st.npids++] = pid;
        }
        free(av);
        wait_pids = st.pids;
    } else {
        snprintf(st.mode, sizeof st.mode, "mpirun");
        char *args_copy = NULL;
        int nargs = 0;
        char **margs = split_args(mpirun_args, &args_copy, &nargs);
        size_t cap = (size_t)nextra + 32 + (size_t)nargs;
        char **av = calloc(cap, sizeof *av);
        if (!av || !margs)
            return 1;
        char nbuf[24], hf[PATH_MAX];
        if (absolute(hostfile, hf, sizeof hf) != 0) {
            msg("start: hostfile path too long");
            return EXIT_USAGE;
        }
        /* What `stop` needs to reach the servers on other hosts the same way. */
        snprintf(st.hostfile, sizeof st.hostfile, "%s", hf);
        snprintf(st.mpirun, sizeof st.mpirun, "%s", mpirun && *mpirun ? mpirun : "mpirun");
        snprintf(st.mpirun_args, sizeof st.mpirun_args, "%s", mpirun_args ? mpirun_args : "");
        st.nhosts = nhosts;
        snprintf(nbuf, sizeof nbuf, "%ld", n);
        int k = 0;
        av[k++] = (char *)(mpirun && *mpirun ? mpirun : "mpirun");
        av[k++] = "--hostfile";
        av[k++] = hf;
        av[k++] = "-np";
        av[k++] = nbuf;
        av[k++] = "--map-by";
        av[k++] = "node";
        for (int j = 0; j < nargs; j++)
            av[k++] = margs[j];
        av[k++] = benchfsd;
        av[k++] = "--mpi";
        server_args(av, k, dir, reg, capacity, argv + extra_from, nextra);
        snprintf(log, sizeof log, "%s/mpirun.log", logs);
        pid_t pid = spawn(log, av, 1);
        if (pid < 0)
            failed = 1;
        else
            st.mpirun_pid = pid;
        free(av);
        free(margs);
        free(args_copy);
    }
    if (!failed && state_write(reg, &st) != 0) {
        msg("start: cannot write %s/%s: %s", reg, STATE_FILE, strerror(errno));
        failed = 1;
    }

    /* Wait until every server is registered; a launcher or server that dies fails the start. */
    int64_t deadline = bfs_mono_ms() + timeout_ms;
    while (!failed) {
        if (registry_complete(reg, (int)n, wait_pids))
            break;
        int status;
        pid_t dead = waitpid(-1, &status, WNOHANG);
        if (dead > 0) {
            if (hostfile) {
                msg("start: mpirun exited (%s %d) before all servers registered",
                    WIFEXITED(status) ? "status" : "signal",
                    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
                snprintf(log, sizeof log, "%s/mpirun.log", logs);
            } else {
                int i = 0;
                while (i < st.npids && st.pids[i] != dead)
                    i++;
                msg("start: server %d (pid %ld) exited (%s %d) before registering", i,
                    (long)dead, WIFEXITED(status) ? "status" : "signal",
                    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
                snprintf(log, sizeof log, "%s/benchfsd.%d.log", logs, i);
            }
            print_log_tail(log, 40);
            failed = 1;
            break;
        }
        if (bfs_mono_ms() >= deadline) {
            msg("start: the servers did not all register in %s within %.1f s", reg,
                (double)timeout_ms / 1000);
            failed = 1;
            break;
        }
        sleep_ms(50);
    }
    if (failed) {
        /* Take down what did start, and leave nothing behind. */
        for (int i = 0; i < st.npids; i++)
            kill(st.pids[i], SIGTERM);
        if (st.mpirun_pid > 0)
            kill(st.mpirun_pid, SIGTERM);
        pid_t *all = calloc((size_t)st.npids + 1, sizeof *all);
        if (!all)
            return 1;
        int na = 0;
        for (int i = 0; i < st.npids; i++)
            all[na++] = st.pids[i];
        if (st.mpirun_pid > 0)
            all[na++] = st.mpirun_pid;
        if (wait_gone(all, na, bfs_mono_ms() + 15000)) {
            for (int i = 0; i < na; i++)
                kill(all[i], SIGKILL);
            wait_gone(all, na, bfs_mono_ms() + 5000);
        }
        free(all);
        free(st.pids);
        remove_registry(reg);
        msg("start: the logs stay in %s", logs);
        return 1;
    }
    if (hostfile)
        msg("%ld servers up under mpirun (pid %ld, log %s/mpirun.log)", n, (long)st.mpirun_pid,
            logs);
    else
        msg("%ld servers up (data %s/rank<i>, logs %s/benchfsd.<i>.log)", n, dir, logs);
    free(st.pids);
    char *q = shell_quote(reg);
    if (!q)
        return 1;
    printf("export BENCHFS_REGISTRY=%s\n", q);
    free(q);
    fflush(stdout);
    return 0;
}

