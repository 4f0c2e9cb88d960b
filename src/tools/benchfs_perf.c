/* SPDX-License-Identifier: BSD-3-Clause */
/* benchfs-perf — BenchFS against local POSIX, same workload, same backing directory, one run.
 *
 * Starts a local cluster (benchfsd processes with data directories under --dir), then runs
 * each phase with --clients client processes, first on BenchFS, then with plain POSIX calls on
 * a directory beside the servers' data, and prints both side by side with their ratio:
 *   write/read, file per process and one shared file, --xfer transfers, fsync before close;
 *   create/stat/unlink of --files empty files per client in one shared directory.
 * Cache conditions are the same for both: data is read right after it was written (warm page
 * cache) unless --drop-caches succeeds in emptying the page cache before each read phase.
 * BenchFS clients read and write the chunk files of same-host servers directly
 * (client/local_read.c, local_write.c); the bandwidth phases run a second time with the data
 * through the servers, so both paths are shown. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "benchfs.h"
#include "common/util.h"
#include "net/registry.h"

struct opts {
    int servers, clients;
    char dir[1024];
    char benchfsd[1024];
    uint64_t size; /* per client */
    uint64_t xfer;
    uint32_t chunk;
    int files;
    int drop_caches;
    int keep;
};

/* M_BENCHFS_SERVED: BenchFS with data through the servers (BENCHFS_LOCAL_READS=0 and
 * BENCHFS_LOCAL_WRITES=0). */
enum mode { M_BENCHFS, M_POSIX, M_BENCHFS_SERVED };
enum phase { P_WRITE_FPP, P_READ_FPP, P_WRITE_SHARED, P_READ_SHARED, P_CREATE, P_STAT, P_UNLINK,
             P_COUNT };
static const char *phase_name[P_COUNT] = {"write, file per process", "read, file per process",
                                          "write, shared file",      "read, shared file",
                                          "create",                  "stat",
                                          "unlink"};

struct result {
    double seconds;   /* wall time of the slowest client */
    double p50_us, p99_us; /* metadata phases: latency percentiles (worst client) */
    int failed;
};

static struct opts O;
static char g_registry[1200], g_posix_dir[1200];
static pid_t g_servers[64];

/* ---- one client's work ---- */

struct io_api {
    /* POSIX and BenchFS behind one shape, so the workload code is literally the same. */
    benchfs_t *fs;
    enum mode m;
};

static char *mkpath(const struct io_api *a, char *buf, size_t cap, const char *fmt, int i)
{
    char rel[64];
    snprintf(rel, sizeof rel, fmt, i);
    if (a->m == M_BENCHFS)
        snprintf(buf, cap, "%s", rel);
    else
        snprintf(buf, cap, "%s%s", g_posix_dir, rel);
    return buf;
}

static int x_open(const struct io_api *a, const char *p, int flags)
{
    return a->m == M_BENCHFS ? benchfs_open(a->fs, p, flags, 0644) : open(p, flags, 0644);
}
static ssize_t x_pwrite(const struct io_api *a, int fd, const void *b, size_t n, off_t o)
{
    return a->m == M_BENCHFS ? benchfs_pwrite(a->fs, fd, b, n, o) : pwrite(fd, b, n, o);
}
static ssize_t x_pread(const struct io_api *a, int fd, void *b, size_t n, off_t o)
{
    return a->m == M_BENCHFS ? benchfs_pread(a->fs, fd, b, n, o) : pread(fd, b, n, o);
}
static int x_fsync(const struct io_api *a, int fd)
{
    return a->m == M_BENCHFS ? benchfs_fsync(a->fs, fd) : fsync(fd);
}
static int x_close(const struct io_api *a, int fd)
{
    return a->m == M_BENCHFS ? benchfs_close(a->fs, fd) : close(fd);
}
static int x_stat(const struct io_api *a, const char *p)
{
    if (a->m == M_BENCHFS) {
        benchfs_stat_t st;
        return benchfs_stat(a->fs, p, &st);
    }
    struct stat st;
    return stat(p, &st);
}
static int x_unlink(const struct io_api *a, const char *p)
{
    return a->m == M_BENCHFS ? benchfs_unlink(a->fs, p) : unlink(p);
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

/* Runs one phase for client `rank`; returns 0 or -1. Latencies (µs) go to lat[]. */
static int client_phase(const struct io_api *a, enum phase ph, int rank, double *lat)
{
    char path[1300];
    int shared = ph == P_WRITE_SHARED || ph == P_READ_SHARED;
    int writing = ph == P_WRITE_FPP || ph == P_WRITE_SHARED;
    if (ph <= P_READ_SHARED) {
        if (shared)
            mkpath(a, path, sizeof path, "/shared", 0);
        else
            mkpath(a, path, sizeof path, "/fpp.%d", rank);
        int fd = x_open(a, path, writing ? O_CREAT | O_WRONLY : O_RDONLY);
        if (fd < 0) {
            perror(path);
            return -1;
        }
        char *buf = aligned_alloc(4096, O.xfer);
        memset(buf, 'a' + rank, O.xfer);
        uint64_t base = shared ? (uint64_t)rank * O.size : 0;
        int rc = 0;
        for (uint64_t off = 0; off < O.size && rc == 0; off += O.xfer) {
            ssize_t n = writing ? x_pwrite(a, fd, buf, O.xfer, (off_t)(base + off))
                                : x_pread(a, fd, buf, O.xfer, (off_t)(base + off));
            if (n != (ssize_t)O.xfer) {
                fprintf(stderr, "%s %s: %s\n", writing ? "write" : "read", path,
                        n < 0 ? strerror(errno) : "short transfer");
                rc = -1;
            } else if (!writing && buf[0] != 'a' + rank) {
                fprintf(stderr, "read %s: wrong data at %llu\n", path,
                        (unsigned long long)(base + off));
                rc = -1;
            }
        }
        if (writing && rc == 0 && x_fsync(a, fd) != 0)
            rc = -1;
        if (x_close(a, fd) != 0)
            rc = -1;
        free(buf);
        return rc;
    }
    for (int i = 0; i < O.files; i++) {
        mkpath(a, path, sizeof path, "/md/f.%d", rank * 1000000 + i);
        int64_t t0 = bfs_mono_ns();
        int rc;
        if (ph == P_CREATE) {
            int fd = x_open(a, path, O_CREAT | O_WRONLY | O_EXCL);
            rc = fd < 0 ? -1 : x_close(a, fd);
        } else if (ph == P_STAT) {
            rc = x_stat(a, path);
        } else {
            rc = x_unlink(a, path);
        }
        if (rc != 0) {
            fprintf(stderr, "%s %s: %s\n", phase_name[ph], path, strerror(errno));
            return -1;
        }
        lat[i] = (double)(bfs_mono_ns() - t0) / 1e3;
    }
    return 0;
}

/* ---- orchestration: clients are processes, phases are separated by pipe barriers ---- */

struct client_proc {
    pid_t pid;
    int to_child, from_child;
};

static void client_main(enum mode m, int rank, int in, int out)
{
    struct io_api a = {.m = m == M_POSIX ? M_POSIX : M_BENCHFS};
    if (m == M_BENCHFS_SERVED) {
        setenv("BENCHFS_LOCAL_READS", "0", 1);
        setenv("BENCHFS_LOCAL_WRITES", "0", 1);
    }
    if (m != M_POSIX) {
        benchfs_options_t bo = {.registry = g_registry, .nservers = O.servers,
                                .chunk_size = O.chunk};
        a.fs = benchfs_init_opts(&bo);
        if (!a.fs) {
            fprintf(stderr, "client %d: %s\n", rank, benchfs_strerror());
            _exit(1);
        }
    }
    double *lat = calloc((size_t)O.files, sizeof *lat);
    char cmd;
    while (read(in, &cmd, 1) == 1) {
        enum phase ph = (enum phase)cmd;
        int64_t t0 = bfs_mono_ns();
        int rc = client_phase(&a, ph, rank, lat);
        struct result r = {.seconds = (double)(bfs_mono_ns() - t0) / 1e9, .failed = rc != 0};
        if (ph >= P_CREATE && rc == 0) {
            qsort(lat, (size_t)O.files, sizeof *lat, cmp_double);
            r.p50_us = lat[O.files / 2];
            r.p99_us = lat[(size_t)((double)O.files * 0.99)];
        }
        if (write(out, &r, sizeof r) != (ssize_t)sizeof r)
            break;
    }
    if (a.fs)
        benchfs_term(a.fs);
    free(lat);
    _exit(0);
}

static void spawn_clients(enum mode m, struct client_proc *cp)
{
    for (int i = 0; i < O.clients; i++) {
        int down[2], up[2];
        if (pipe(down) || pipe(up)) {
            perror("pipe");
            exit(1);
        }
        pid_t pid = fork();
        if (pid == 0) {
            close(down[1]);
            close(up[0]);
            /* Drop the earlier clients' pipe ends, or they would never see EOF. */
            for (int j = 0; j < i; j++) {
                close(cp[j].to_child);
                close(cp[j].from_child);
            }
            client_main(m, i, down[0], up[1]);
        }
        close(down[0]);
        close(up[1]);
        cp[i] = (struct client_proc){pid, down[1], up[0]};
    }
}

static void drop_caches(void)
{
    if (!O.drop_caches)
        return;
    sync();
    int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
    if (fd < 0 || write(fd, "3\n", 2) != 2) {
        fprintf(stderr, "benchfs-perf: cannot drop caches (%s): reads run warm\n", strerror(errno));
        O.drop_caches = 0;
    }
    if (fd >= 0)
        close(fd);
}

/* Run one phase on all clients at once; wall time from "go" to the last client's answer. */
static struct result run_phase(struct client_proc *cp, enum phase ph)
{
    if (ph == P_READ_FPP || ph == P_READ_SHARED)
        drop_caches();
    char cmd = (char)ph;
    int64_t t0 = bfs_mono_ns();
    for (int i = 0; i < O.clients; i++)
        if (write(cp[i].to_child, &cmd, 1) != 1)
            perror("write");
    struct result total = {0};
    for (int i = 0; i < O.clients; i++) {
        struct result r;
        if (read(cp[i].from_child, &r, sizeof r) != (ssize_t)sizeof r) {
            total.failed = 1;
            continue;
        }
        total.failed |= r.failed;
        if (r.p50_us > total.p50_us)
            total.p50_us = r.p50_us;
        if (r.p99_us > total.p99_us)
            total.p99_us = r.p99_us;
    }
    total.seconds = (double)(bfs_mono_ns() - t0) / 1e9;
    return total;
}

static void stop_clients(struct client_proc *cp)
{
    for (int i = 0; i < O.clients; i++) {
        close(cp[i].to_child);
        int st;
        waitpid(cp[i].pid, &st, 0);
        close(cp[i].from_child);
    }
}

static void stop_cluster(void);

static void run_all(enum mode m, struct result *res)
{
    struct client_proc cp[64];
    if (m == M_BENCHFS) {
        benchfs_options_t bo = {.registry = g_registry, .nservers = O.servers};
        benchfs_t *fs = benchfs_init_opts(&bo);
        if (!fs || benchfs_mkdir(fs, "/md", 0755) != 0) {
            fprintf(stderr, "benchfs-perf: setup: %s\n", benchfs_strerror());
            stop_cluster();
            exit(1);
        }
        benchfs_term(fs);
    } else {
        char md[1300];
        snprintf(md, sizeof md, "%s/md", g_posix_dir);
        mkdir(g_posix_dir, 0755);
        mkdir(md, 0755);
    }
    spawn_clients(m, cp);
    for (int ph = 0; ph < P_COUNT; ph++)
        res[ph] = run_phase(cp, (enum phase)ph);
    stop_clients(cp);
}

/* The bandwidth phases again, with the data through the servers. */
static void run_data_served(struct result *res)
{
    struct client_proc cp[64];
    spawn_clients(M_BENCHFS_SERVED, cp);
    for (int ph = P_WRITE_FPP; ph <= P_READ_SHARED; ph++)
        res[ph] = run_phase(cp, (enum phase)ph);
    stop_clients(cp);
}

/* Do clients read and write same-host chunk files directly (the library's default)? */
static int direct_io(void)
{
    return !bfs_env_off("BENCHFS_SAME_HOST") && !bfs_env_off("BENCHFS_LOCAL_READS") &&
           !bfs_env_off("BENCHFS_LOCAL_WRITES");
}

/* ---- cluster ---- */

static void start_cluster(const char *root)
{
    snprintf(g_registry, sizeof g_registry, "%s/registry", root);
    for (int i = 0; i < O.servers; i++) {
        char data[1300], id[16], n[16];
        snprintf(data, sizeof data, "%s/data%d", root, i);
        snprintf(id, sizeof id, "%d", i);
        snprintf(n, sizeof n, "%d", O.servers);
        pid_t pid = fork();
        if (pid == 0) {
            execl(O.benchfsd, O.benchfsd, "--data-dir", data, "--registry", g_registry, "--id", id,
                  "--nservers", n, (char *)NULL);
            perror(O.benchfsd);
            _exit(127);
        }
        g_servers[i] = pid;
    }
    /* Clients fail at once on a registry that does not exist yet: wait for every server. */
    if (bfs_registry_wait(g_registry, O.servers, 30000) < 0) {
        fprintf(stderr, "benchfs-perf: the %d servers did not register in %s within 30 s\n",
                O.servers, g_registry);
        stop_cluster();
        exit(1);
    }
}

static void stop_cluster(void)
{
    for (int i = 0; i < O.servers; i++)
        if (g_servers[i] > 0)
            kill(g_servers[i], SIGTERM);
    for (int i = 0; i < O.servers; i++)
        if (g_servers[i] > 0)
            waitpid(g_servers[i], NULL, 0);
}

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: benchfs-perf [options]\n"
            "  --servers N        benchfsd processes (default 2)\n"
            "  --clients N        client processes (default 2)\n"
            "  --dir DIR          backing directory for servers and POSIX (default $TMPDIR or /tmp)\n"
            "  --size BYTES       bytes per client per bandwidth phase (default 256M)\n"
            "  --xfer BYTES       transfer size (default 1M)\n"
            "  --chunk-size BYTES BenchFS chunk size (default: the library's)\n"
            "  --files N          files per client in the metadata phases (default 1000)\n"
            "  --drop-caches      empty the page cache before read phases (root only)\n"
            "  --benchfsd PATH    server binary (default: beside this program)\n"
            "  --keep             keep the backing directory\n"
            "  -h, --help         this text;  -V, --version  the version\n"
            "Exit status: 0 success, 1 failure at run time, 2 bad usage.\n");
}

static void print_row(const char *name, const char *unit, double b, double p)
{
    printf("%-26s %12.2f %12.2f %8.2f  %s\n", name, b, p, p > 0 ? b / p : 0.0, unit);
}

int main(int argc, char **argv)
{
    O.servers = 2;
    O.clients = 2;
    O.size = 256ull << 20;
    O.xfer = 1 << 20;
    O.files = 1000;
    const char *tmp = getenv("TMPDIR");
    snprintf(O.dir, sizeof O.dir, "%s", tmp && *tmp ? tmp : "/tmp");
    /* default server binary: next to this executable */
    char self[900];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    self[sl > 0 ? sl : 0] = '\0';
    char *slash = strrchr(self, '/');
    if (slash)
        *slash = '\0';
    snprintf(O.benchfsd, sizeof O.benchfsd, "%s/benchfsd", self);

    static struct option lo[] = {
        {"servers", 1, 0, 's'}, {"clients", 1, 0, 'c'}, {"dir", 1, 0, 'd'},
        {"size", 1, 0, 'b'},    {"xfer", 1, 0, 't'},    {"chunk-size", 1, 0, 'k'},
        {"files", 1, 0, 'n'},   {"drop-caches", 0, 0, 'D'}, {"benchfsd", 1, 0, 'B'},
        {"keep", 0, 0, 'K'},    {"help", 0, 0, 'h'},    {"version", 0, 0, 'V'},
        {0, 0, 0, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "hV", lo, NULL)) != -1) {
        int64_t v;
        switch (ch) {
        case 's': O.servers = atoi(optarg); break;
        case 'c': O.clients = atoi(optarg); break;
        case 'd': snprintf(O.dir, sizeof O.dir, "%s", optarg); break;
        case 'b':
        case 't':
        case 'k':
            v = bfs_parse_size(optarg);
            if (v <= 0) {
                fprintf(stderr, "benchfs-perf: bad size '%s'\n", optarg);
                return 2;
            }
            if (ch == 'b')
                O.size = (uint64_t)v;
            else if (ch == 't')
                O.xfer = (uint64_t)v;
            else
                O.chunk = (uint32_t)v;
            break;
        case 'n': O.files = atoi(optarg); break;
        case 'D': O.drop_caches = 1; break;
        case 'B': snprintf(O.benchfsd, sizeof O.benchfsd, "%s", optarg); break;
        case 'K': O.keep = 1; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("benchfs-perf %s\n", benchfs_version()); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (O.servers < 1 || O.servers > 64 || O.clients < 1 || O.clients > 64 || O.files < 1 ||
        O.xfer == 0 || O.size < O.xfer || O.size % O.xfer) {
        fprintf(stderr, "benchfs-perf: need 1..64 servers and clients, files >= 1, and --size "
                        "a multiple of --xfer\n");
        return 2;
    }
    char root[1100];
    snprintf(root, sizeof root, "%s/benchfs-perf-XXXXXX", O.dir);
    if (!mkdtemp(root)) {
        perror(root);
        return 1;
    }
    snprintf(g_posix_dir, sizeof g_posix_dir, "%s/posix", root);
    start_cluster(root);

    struct result rb[P_COUNT], rp[P_COUNT], rs[P_COUNT];
    int direct = direct_io();
    run_all(M_BENCHFS, rb);
    if (direct)
        run_data_served(rs);
    run_all(M_POSIX, rp);
    stop_cluster();

    printf("\nbenchfs-perf: %d servers, %d clients, %s; backing dir %s\n", O.servers, O.clients,
           "1 host", O.dir);
    printf("bandwidth phases: %llu MiB per client, %llu KiB transfers, fsync before close\n",
           (unsigned long long)(O.size >> 20), (unsigned long long)(O.xfer >> 10));
    printf("metadata phases: %d files per client in one shared directory\n", O.files);
    printf("cache: %s\n\n", O.drop_caches
                                ? "cold reads (page cache dropped before each read phase)"
                                : "warm for both (reads follow the writes; page cache kept)");
    printf("BenchFS data: %s\n\n",
           direct ? "clients read and write the same-host servers' chunk files directly (the "
                    "default);\n  \"via servers\" rows: the same phases through the servers "
                    "(BENCHFS_LOCAL_READS=0 BENCHFS_LOCAL_WRITES=0)"
                  : "through the servers (direct chunk file access is off in this environment)");
    printf("%-26s %12s %12s %8s\n", "phase", "BenchFS", "POSIX", "ratio");
    int failed = 0;
    for (int ph = 0; ph < P_COUNT; ph++) {
        failed |= rb[ph].failed | rp[ph].failed;
        if (ph <= P_READ_SHARED) {
            double bytes = (double)O.size * O.clients;
            print_row(phase_name[ph], "GiB/s", bytes / rb[ph].seconds / (1 << 30),
                      bytes / rp[ph].seconds / (1 << 30));
            if (direct) {
                failed |= rs[ph].failed;
                print_row("  via servers", "GiB/s",
                          bytes / rs[ph].seconds / (1 << 30), bytes / rp[ph].seconds / (1 << 30));
            }
        } else {
            double ops = (double)O.files * O.clients;
            char n1[64], n2[64];
            print_row(phase_name[ph], "ops/s", ops / rb[ph].seconds, ops / rp[ph].seconds);
            snprintf(n1, sizeof n1, "  %s p50", phase_name[ph]);
            snprintf(n2, sizeof n2, "  %s p99", phase_name[ph]);
            print_row(n1, "us (lower is better)", rb[ph].p50_us, rp[ph].p50_us);
            print_row(n2, "us (lower is better)", rb[ph].p99_us, rp[ph].p99_us);
        }
    }
    if (failed)
        printf("\nSOME PHASES FAILED: figures above are not valid\n");
    if (!O.keep) {
        char cmd[1300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
        if (system(cmd) != 0)
            fprintf(stderr, "benchfs-perf: could not remove %s\n", root);
    }
    return failed ? 1 : 0;
}
