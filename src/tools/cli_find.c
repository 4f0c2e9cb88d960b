/* SPDX-License-Identifier: BSD-3-Clause */
/* cli_find.c — `benchfs find`: find(1)'s common tests over a BenchFS tree, without a
 * directory walk (benchfs_find: every server scans and filters its own share).
 *
 *   [mpirun -np N] benchfs find [--count] [--stats] [--mount PREFIX] DIR... [-name GLOB]
 *                  [-newer FILE] [-size [+-]N[cwbkMG]] [-type f|d|l]
 *
 * Under an MPI launcher the ranks split the servers between them (every match lives on
 * exactly one server) and rank 0 sums the counts; run alone it asks every server itself.
 * The count line "MATCHED <matched>/<examined>" is what io500's find phase reads from an
 * external script (docs/io500.md). MPI is started only when a launcher is seen, so a plain
 * `benchfs find` costs one connection, as the other commands do. */
#include <errno.h>
#include <inttypes.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools/cli.h"

static const char *const CMD = "find";

struct find_opts {
    int count, stats;
    const char *mount; /* the prefix programs see BenchFS under, stripped from operands */
    const char *newer; /* -newer FILE, resolved once connected */
    benchfs_find_spec_t spec;
    char **dirs;
    int ndirs;
};

/* Output of one rank: whole lines, written a block at a time, so the lines of several ranks
 * forwarded by mpirun never cut into each other. */
struct out {
    char buf[64 * 1024];
    size_t len;
    const char *arg;    /* the operand as typed */
    size_t arg_len;     /* without trailing slashes */
    size_t dir_len;     /* of the BenchFS directory (0 for "/") */
    int failed;
};

static void out_flush(struct out *o)
{
    size_t off = 0;
    while (off < o->len) {
        ssize_t n = write(STDOUT_FILENO, o->buf + off, o->len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (!o->failed)
                cli_err_sys(CMD, "standard output");
            o->failed = 1;
            break;
        }
        off += (size_t)n;
    }
    o->len = 0;
}

static void out_put(struct out *o, const char *a, size_t an, const char *b, size_t bn)
{
    if (o->len + an + bn + 1 > sizeof o->buf)
        out_flush(o);
    if (an + bn + 1 > sizeof o->buf)
        return; /* cannot happen: paths are < 4096 bytes, prefixes < 8192 */
    memcpy(o->buf + o->len, a, an);
    memcpy(o->buf + o->len + an, b, bn);
    o->len += an + bn;
    o->buf[o->len++] = '\n';
}

/* Print a match as find does: the operand as typed, then the rest of the path below it. */
static int print_match(const char *path, const benchfs_stat_t *st, void *arg)
{
    (void)st;
    struct out *o = arg;
    const char *rest = path + o->dir_len;
    if (*rest == '\0')
        out_put(o, o->arg, strlen(o->arg), "", 0);
    else
        out_put(o, o->arg, o->arg_len, rest, strlen(rest));
    return o->failed; /* stdout is gone: stop */
}

/* ---- the command line ---- */

static int parse_size(const char *s, benchfs_find_spec_t *spec)
{
    spec->size_cmp = *s == '+' ? 1 : *s == '-' ? -1 : 0;
    if (*s == '+' || *s == '-')
        s++;
    if (*s < '0' || *s > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(s, &end, 10);
    if (errno)
        return -1;
    uint64_t unit = 512;
    if (*end) {
        switch (*end) {
        case 'c': unit = 1; break;
        case 'w': unit = 2; break;
        case 'b': unit = 512; break;
        case 'k': unit = 1024; break;
        case 'M': unit = 1024 * 1024; break;
        case 'G': unit = 1024 * 1024 * 1024; break;
        default: return -1;
        }
        if (end[1])
            return -1;
    }
    spec->size = n;
    spec->size_unit = unit;
    spec->flags |= BENCHFS_FIND_SIZE;
    return 0;
}

static int parse_type(const char *s, benchfs_find_spec_t *spec)
{
    /* One letter, or a comma-separated list of them (GNU find's extension). */
    for (;;) {
        switch (*s) {
        case 'f': spec->types |= BENCHFS_FIND_FILE; break;
        case 'd': spec->types |= BENCHFS_FIND_DIR; break;
        case 'l': spec->types |= BENCHFS_FIND_LINK; break;
        default: return -1;
        }
        s++;
        if (*s == '\0')
            break;
        if (*s++ != ',')
            return -1;
    }
    spec->flags |= BENCHFS_FIND_TYPE;
    return 0;
}

/* -1: go on; else the exit status to return at once. */
static int parse(int argc, char **argv, struct find_opts *o)
{
    int i = 1;
    o->mount = getenv("BENCHFS_MOUNT");
    /* The tool's own options come first (find's tests are single-dash words). */
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        } else if (strcmp(a, "--help") == 0) {
            return cli_help(CMD);
        } else if (strcmp(a, "--count") == 0) {
            o->count = 1;
        } else if (strcmp(a, "--stats") == 0) {
            o->stats = 1;
        } else if (strcmp(a, "--mount") == 0 || strcmp(a, "--registry") == 0) {
            if (i + 1 >= argc) {
                cli_err(CMD, "option '%s' needs an argument", a);
                return cli_usage(CMD);
            }
            if (a[2] == 'm')
                o->mount = argv[++i];
            else
                cli_g.registry = argv[++i];
        } else {
            cli_err(CMD, "unrecognized option '%s'", a);
            return cli_usage(CMD);
        }
    }
    o->dirs = argv + i;
    for (; i < argc && (argv[i][0] != '-' || argv[i][1] == '\0'); i++)
        o->ndirs++;
    if (o->ndirs == 0) {
        cli_err(CMD, "missing directory operand");
        return cli_usage(CMD);
    }
    for (; i < argc; i++) {
        const char *t = argv[i];
        if (strcmp(t, "-print") == 0)
            continue; /* what it does anyway */
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(t, "-name") != 0 && strcmp(t, "-newer") != 0 && strcmp(t, "-size") != 0 &&
            strcmp(t, "-type") != 0) {
            cli_err(CMD, "unknown test '%s' (known: -name, -newer, -size, -type)", t);
            return cli_usage(CMD);
        }
        if (!v) {
            cli_err(CMD, "missing argument to '%s'", t);
            return cli_usage(CMD);
        }
        i++;
        if (strcmp(t, "-name") == 0) {
            if (strlen(v) >= 1024 || !*v) {
                cli_err(CMD, "-name: the pattern must have 1..1023 bytes");
                return cli_usage(CMD);
            }
            o->spec.flags |= BENCHFS_FIND_NAME;
            o->spec.name = v;
        } else if (strcmp(t, "-newer") == 0) {
            o->newer = v;
        } else if (strcmp(t, "-size") == 0 ? parse_size(v, &o->spec) != 0
                                            : parse_type(v, &o->spec) != 0) {
            cli_err(CMD, "invalid argument '%s' to '%s'", v, t);
            return cli_usage(CMD);
        }
    }
    return -1;
}

/* A BenchFS path from an operand: the mount prefix, if it starts with it, is taken off;
 * relative operands are taken from "/" (cli_bfs_path). 1 if it had the prefix, 0 if not, -1
 * if too long. */
static int bfs_path_of(const char *mount, const char *arg, char *out, size_t cap)
{
    size_t m = mount ? strlen(mount) : 0;
    while (m > 1 && mount[m - 1] == '/')
        m--;
    if (m > 1 && strncmp(arg, mount, m) == 0 && (arg[m] == '/' || arg[m] == '\0')) {
        int n = snprintf(out, cap, "%s", arg[m] ? arg + m : "/");
        return n >= 0 && (size_t)n < cap ? 1 : -1;
    }
    return cli_bfs_path(CMD, arg, out, cap) == 0 ? 0 : -1;
}

/* -newer FILE: a BenchFS file if it is one (under the mount prefix, or existing in BenchFS),
 * else a local file; io500 passes a timestamp file of its local results directory. */
static int resolve_newer(benchfs_t *fs, const struct find_opts *o, int64_t *ns)
{
    char p[8192];
    int under = bfs_path_of(o->mount, o->newer, p, sizeof p);
    benchfs_stat_t bst;
    if (under >= 0 && benchfs_stat(fs, p, &bst) == 0) {
        *ns = bst.mtime_ns;
        return 0;
    }
    if (under == 1) {
        cli_err_bfs(CMD, o->newer);
        return -1;
    }
    struct stat lst;
    if (stat(o->newer, &lst) != 0) {
        cli_err_sys(CMD, o->newer);
        return -1;
    }
    *ns = (int64_t)lst.st_mtim.tv_sec * 1000000000 + lst.st_mtim.tv_nsec;
    return 0;
}

/* Launched by mpirun/srun? (As benchfsd decides: without a launcher MPI is not started.) */
static int under_launcher(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE",
                                       "SLURM_STEP_ID"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v)
            return 1;
    }
    return 0;
}

int cmd_find(int argc, char **argv)
{
    struct find_opts o = {0};
    int rc = parse(argc, argv, &o);
    if (rc >= 0)
        return rc;
    int mpi = under_launcher(), rank = 0, size = 1;
    if (mpi) {
        MPI_Init(NULL, NULL);
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
        MPI_Comm_size(MPI_COMM_WORLD, &size);
    }
    /* counters: errors, matched, examined, scanned, rpcs */
    uint64_t v[5] = {0};
    benchfs_t *fs = cli_connect(CMD);
    v[0] = fs == NULL;
    if (fs && o.newer) {
        if (resolve_newer(fs, &o, &o.spec.newer_ns) == 0)
            o.spec.flags |= BENCHFS_FIND_NEWER;
        else
            v[0] = 1;
    }
    if (mpi) /* nobody starts unless all can: a missing -newer file is everyone's error */
        MPI_Allreduce(MPI_IN_PLACE, v, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
    double t0 = 0, secs = 0;
    struct out *out = NULL;
    if (!v[0]) {
        out = calloc(1, sizeof *out);
        v[0] = out == NULL;
        if (mpi)
            MPI_Barrier(MPI_COMM_WORLD);
        t0 = mpi ? MPI_Wtime() : cli_now();
        /* This rank's share of the servers. */
        int ns = benchfs_nservers(fs);
        int lo = (int)((int64_t)ns * rank / size), hi = (int)((int64_t)ns * (rank + 1) / size);
        for (int d = 0; d < o.ndirs && out; d++) {
            char p[8192];
            const char *arg = o.dirs[d];
            if (bfs_path_of(o.mount, arg, p, sizeof p) < 0) {
                v[0] = 1;
                continue;
            }
            out->arg = arg;
            out->arg_len = strlen(arg);
            while (out->arg_len > 1 && arg[out->arg_len - 1] == '/')
                out->arg_len--;
            char norm[8192];
            /* Where the operand's own spelling ends in the normalised path: find prints
             * paths below an operand as the operand followed by the rest. */
            benchfs_find_stats_t st;
            out->dir_len = 0;
            if (lo == hi) {
                /* More ranks than servers: this one only checks the operand exists, so
                 * every rank reports a missing one the same way. */
                if (benchfs_find(fs, p, &o.spec, 0, 0, NULL, NULL, &st) != 0) {
                    if (rank == 0)
                        cli_err_bfs(CMD, arg);
                    v[0] = 1;
                }
                continue;
            }
            snprintf(norm, sizeof norm, "%s", p);
            size_t nl = strlen(norm);
            while (nl > 1 && norm[nl - 1] == '/')
                norm[--nl] = '\0';
            out->dir_len = strcmp(norm, "/") == 0 ? 0 : nl;
            int r = benchfs_find(fs, p, &o.spec, lo, hi, o.count ? NULL : print_match, out,
                                 &st);
            if (r != 0 && (rank == 0 || (errno != ENOENT && errno != ENOTDIR)))
                cli_err_bfs(CMD, arg);
            v[0] |= r != 0;
            v[1] += st.matched;
            v[2] += st.examined;
            v[3] += st.scanned;
            v[4] += st.rpcs;
        }
        if (out) {
            out_flush(out);
            v[0] |= (uint64_t)out->failed;
        }
        secs = (mpi ? MPI_Wtime() : cli_now()) - t0;
    }
    if (mpi) {
        uint64_t err = v[0];
        MPI_Allreduce(MPI_IN_PLACE, &err, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
        MPI_Allreduce(MPI_IN_PLACE, v + 1, 4, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
        MPI_Allreduce(MPI_IN_PLACE, &secs, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        v[0] = err;
    }
    if (rank == 0 && o.count && !v[0]) {
        printf("MATCHED %" PRIu64 "/%" PRIu64 "\n", v[1], v[2]);
        fflush(stdout);
    }
    if (rank == 0 && o.stats && out) {
        double s = secs > 0 ? secs : 1e-9;
        fprintf(stderr,
                "find: %" PRIu64 " matched, %" PRIu64 " examined, %" PRIu64 " scanned in "
                "%.3f s: %.0f examined/s, %.0f scanned/s, %.0f matched/s (%d rank(s), %d "
                "server(s), %" PRIu64 " RPCs)\n",
                v[1], v[2], v[3], secs, (double)v[2] / s, (double)v[3] / s, (double)v[1] / s,
                size, fs ? benchfs_nservers(fs) : 0, v[4]);
    }
    free(out);
    rc = fs ? cli_disconnect(fs, CMD, v[0] ? CLI_FAIL : CLI_OK) : CLI_FAIL;
    if (mpi)
        MPI_Finalize();
    return rc;
}
