/* SPDX-License-Identifier: BSD-3-Clause */
/* benchfs-bench — the built-in MPI benchmark of BenchFS.
 *
 *   mpirun -np N benchfs-bench [-t XFER] [-b BLOCK] [-s SEGMENTS] [-F] [-C] [-W]
 *                              [-n FILES] [-w BYTES] [--posix DIR] [--json F] [--plot F.png]
 *
 * IOR-like bandwidth phases and mdtest-like metadata phases against a running BenchFS cluster
 * (registry from -r or $BENCHFS_REGISTRY) and, with --posix DIR, the identical workload on a
 * local directory in the same run, through the same code (bench_io.h). This file: the command
 * line, MPI and the order of things; see bench.h for the other parts. docs/benchfs-bench.md is
 * the manual. Exit status: 0 ok, 1 I/O errors, 2 usage, 3 verification found bad data. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "benchfs.h"
#include "common/util.h"

#define EXIT_IO 1
#define EXIT_USAGE 2
#define EXIT_VERIFY 3

static void usage(FILE *f)
{
    fprintf(f,
"Usage: mpirun -np N benchfs-bench [options]\n"
"IOR-like bandwidth and mdtest-like metadata phases on BenchFS, and optionally the identical\n"
"workload on a local directory (--posix) for comparison. Sizes take K, M, G suffixes (binary).\n"
"\n"
"Bandwidth phases (write, then read):\n"
"  -t, --transfer-size BYTES  bytes per I/O call (default 1M)\n"
"  -b, --block-size BYTES     contiguous bytes per rank per segment (default 16M)\n"
"  -s, --segments N           segments (default 1); bytes per rank = block * segments\n"
"  -F, --file-per-proc        one file per rank (default: one shared file)\n"
"  -e, --fsync                fsync before close (the default)\n"
"      --no-fsync             do not fsync before close\n"
"  -C, --reorder              read the data another rank wrote (shift: ranks per node)\n"
"  -Q, --shift N              rank shift for -C (default: ranks per node, 1 on one node)\n"
"      --no-bandwidth         skip the bandwidth phases\n"
"Metadata phases (dir create/stat/remove, file create/stat/read/remove):\n"
"  -n, --files N              files and directories per rank (default 100; 0 skips)\n"
"  -u, --unique-dir           each rank in a directory of its own (default: one shared)\n"
"  -w, --write-bytes BYTES    bytes written at create and read back (default 0: no read)\n"
"      --no-metadata          skip the metadata phases\n"
"io500's shapes (options after --shape override it):\n"
"      --shape ior-easy       -F -t 1M, metadata phases off\n"
"      --shape ior-hard       one shared file, -t 47008 -b 47008 -s 1000 (interleaved)\n"
"      --shape mdtest-easy    -u, empty files, bandwidth phases off\n"
"      --shape mdtest-hard    one shared directory, -w 3901, bandwidth phases off\n"
"Verification:\n"
"  -W, --verify               write a pattern unique to (run, rank, offset); check every read\n"
"Where:\n"
"  -r, --registry DIR         BenchFS registry (default $BENCHFS_REGISTRY)\n"
"  -d, --dir PATH             BenchFS directory to work in (default /benchfs-bench)\n"
"      --chunk-size BYTES     BenchFS chunk size of the files created\n"
"      --posix DIR            also run the identical workload on local directory DIR\n"
"      --via NAME=DIR         also run it with POSIX calls on DIR, a way into BenchFS (a FUSE\n"
"                             mount, or the preload prefix with LD_PRELOAD), labelled NAME;\n"
"                             up to 4\n"
"  -k, --keep                 keep the files written (default: remove them)\n"
"Output:\n"
"      --json FILE            results as JSON (\"-\": stdout)\n"
"      --plot FILE.png        bandwidth and ops/s bars side by side (needs gnuplot)\n"
"  -q, --quiet                no table (JSON/plot only)\n"
"  -h, --help                 this text\n"
"  -V, --version              the version\n"
"Exit status: 0 ok, 1 I/O errors, 2 usage, 3 verification found bad data.\n");
}

/* The rank before MPI_Init, to print usage errors once under mpirun. */
static int env_rank(void)
{
    const char *v[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"};
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        const char *s = getenv(v[i]);
        if (s && *s)
            return atoi(s);
    }
    return 0;
}

static int g_loud;

static int bad(const char *fmt, const char *arg)
{
    if (g_loud) {
        fprintf(stderr, "benchfs-bench: ");
        fprintf(stderr, fmt, arg);
        fprintf(stderr, "\nTry 'benchfs-bench --help'.\n");
    }
    return EXIT_USAGE;
}

static int parse_size(const char *s, uint64_t *out)
{
    int64_t v = bfs_parse_size(s);
    if (v < 0)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

static int parse_count(const char *s, uint64_t *out)
{
    if (!s || *s < '0' || *s > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

enum { O_NOFSYNC = 256, O_NOBW, O_NOMD, O_CHUNK, O_POSIX, O_JSON, O_PLOT, O_CORRUPT, O_SHAPE, O_VIA };

/* Returns -1 to go on, or an exit status. */
/* The access patterns of io500's phases (its config defaults), so their costs can be seen
 * without building io500; io500 itself stonewalls by time, this runs fixed counts. */
static int apply_shape(struct bench_cfg *c, const char *name)
{
    if (!strcmp(name, "ior-easy")) {
        c->fpp = 1, c->xfer = 1u << 20, c->block = 16u << 20, c->run_bw = 1, c->run_md = 0;
    } else if (!strcmp(name, "ior-hard")) {
        c->fpp = 0, c->xfer = 47008, c->block = 47008, c->segments = 1000;
        c->run_bw = 1, c->run_md = 0;
    } else if (!strcmp(name, "mdtest-easy")) {
        c->unique_dir = 1, c->md_write = 0, c->run_bw = 0, c->run_md = 1;
    } else if (!strcmp(name, "mdtest-hard")) {
        c->unique_dir = 0, c->md_write = 3901, c->run_bw = 0, c->run_md = 1;
    } else {
        return -1;
    }
    return 0;
}

static int parse_args(int argc, char **argv, struct bench_cfg *c)
{
    static const struct option lo[] = {
        {"transfer-size", required_argument, 0, 't'}, {"block-size", required_argument, 0, 'b'},
        {"segments", required_argument, 0, 's'},      {"file-per-proc", no_argument, 0, 'F'},
        {"fsync", no_argument, 0, 'e'},               {"no-fsync", no_argument, 0, O_NOFSYNC},
        {"reorder", no_argument, 0, 'C'},             {"shift", required_argument, 0, 'Q'},
        {"no-bandwidth", no_argument, 0, O_NOBW},     {"files", required_argument, 0, 'n'},
        {"write-bytes", required_argument, 0, 'w'},   {"no-metadata", no_argument, 0, O_NOMD},
        {"verify", no_argument, 0, 'W'},              {"registry", required_argument, 0, 'r'},
        {"dir", required_argument, 0, 'd'},           {"chunk-size", required_argument, 0, O_CHUNK},
        {"posix", required_argument, 0, O_POSIX},     {"keep", no_argument, 0, 'k'},
        {"json", required_argument, 0, O_JSON},       {"plot", required_argument, 0, O_PLOT},
        {"quiet", no_argument, 0, 'q'},               {"help", no_argument, 0, 'h'},
        {"version", no_argument, 0, 'V'},
        {"unique-dir", no_argument, 0, 'u'},          {"shape", required_argument, 0, O_SHAPE},
        {"via", required_argument, 0, O_VIA},
        {"corrupt-for-test", no_argument, 0, O_CORRUPT}, {0, 0, 0, 0}};
    opterr = 0;
    int ch;
    uint64_t v;
    while ((ch = getopt_long(argc, argv, ":t:b:s:FeCQ:n:uw:Wr:d:kqhV", lo, NULL)) != -1) {
        switch (ch) {
        case 't':
            if (parse_size(optarg, &c->xfer) || c->xfer == 0)
                return bad("-t: bad transfer size '%s' (e.g. 1M)", optarg);
            break;
        case 'b':
            if (parse_size(optarg, &c->block) || c->block == 0)
                return bad("-b: bad block size '%s' (e.g. 16M)", optarg);
            break;
        case 's':
            if (parse_count(optarg, &c->segments) || c->segments == 0)
                return bad("-s: bad segment count '%s' (a number >= 1)", optarg);
            break;
        case 'F': c->fpp = 1; break;
        case 'e': c->fsync = 1; break;
        case O_NOFSYNC: c->fsync = 0; break;
        case 'C': c->reorder = 1; break;
        case 'Q':
            if (parse_count(optarg, &v) || v == 0 || v > 1u << 30)
                return bad("-Q: bad shift '%s' (a number >= 1)", optarg);
            c->shift = (int)v;
            break;
        case O_NOBW: c->run_bw = 0; break;
        case 'n':
            if (parse_count(optarg, &c->files) || c->files > 100000000)
                return bad("-n: bad file count '%s'", optarg);
            break;
        case 'w':
            if (parse_size(optarg, &c->md_write) || c->md_write > (64u << 20))
                return bad("-w: bad size '%s' (at most 64M)", optarg);
            break;
        case O_NOMD: c->run_md = 0; break;
        case 'u': c->unique_dir = 1; break;
        case O_SHAPE:
            if (apply_shape(c, optarg) != 0)
                return bad("--shape: unknown shape '%s' (ior-easy, ior-hard, mdtest-easy, "
                           "mdtest-hard)", optarg);
            break;
        case 'W': c->verify = 1; break;
        case 'r': c->registry = optarg; break;
        case 'd':
            if (optarg[0] != '/')
                return bad("-d: '%s' is not an absolute BenchFS path", optarg);
            c->bfs_dir = optarg;
            break;
        case O_CHUNK:
            if (parse_size(optarg, &v) || v < BENCHFS_MIN_CHUNK_SIZE || v > BENCHFS_MAX_CHUNK_SIZE)
                return bad("--chunk-size: bad size '%s' (4K .. 64M)", optarg);
            c->chunk_size = (uint32_t)v;
            break;
        case O_POSIX:
            if (!optarg[0])
                return bad("--posix: empty directory name%s", "");
            c->posix_dir = optarg;
            break;
        case O_VIA: {
            const char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg || eq - optarg > 16 || !eq[1])
                return bad("--via: '%s' is not NAME=DIR (NAME: 1 to 16 characters)", optarg);
            if (c->nvia == BENCH_MAX_VIA)
                return bad("--via: at most 4%s", "");
            static char names[BENCH_MAX_VIA][17];
            memcpy(names[c->nvia], optarg, (size_t)(eq - optarg));
            names[c->nvia][eq - optarg] = '\0';
            if (!strcmp(names[c->nvia], "posix") || !strcmp(names[c->nvia], "benchfs"))
                return bad("--via: the name '%s' is taken", names[c->nvia]);
            c->via[c->nvia].name = names[c->nvia];
            c->via[c->nvia++].dir = eq + 1;
            break;
        }
        case 'k': c->keep = 1; break;
        case O_JSON: c->json_path = optarg; break;
        case O_PLOT: c->plot_path = optarg; break;
        case 'q': c->quiet = 1; break;
        case O_CORRUPT: c->corrupt = 1; break;
        case 'h':
            if (g_loud)
                usage(stdout);
            return 0;
        case 'V':
            if (g_loud)
                printf("benchfs-bench %s\n", benchfs_version());
            return 0;
        case ':':
            return bad("option '%s' needs an argument", argv[optind - 1]);
        default:
            if (optopt)
                return bad("unknown option '-%s'", (char[]){(char)optopt, 0});
            return bad("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return bad("unexpected argument '%s'", argv[optind]);
    if (c->block % c->xfer)
        return bad("-b must be a multiple of -t%s", "");
    if (c->segments > UINT64_MAX / c->block)
        return bad("-b times -s is too large%s", "");
    if (c->files == 0)
        c->run_md = 0;
    if (!c->run_bw && !c->run_md)
        return bad("nothing to run: both phase groups are off%s", "");
    if (!c->registry || !c->registry[0])
        return bad("no registry: pass -r DIR or set BENCHFS_REGISTRY%s", "");
    return -1;
}

static double fsum_bytes(const struct bench_cfg *c)
{
    return (double)c->block * (double)c->segments * c->nranks;
}

int main(int argc, char **argv)
{
    struct bench_cfg c = {.xfer = 1u << 20, .block = 16u << 20, .segments = 1, .fsync = 1,
                          .files = 100, .run_bw = 1, .run_md = 1, .bfs_dir = "/benchfs-bench",
                          .registry = getenv("BENCHFS_REGISTRY")};
    g_loud = env_rank() == 0;
    int st = parse_args(argc, argv, &c);
    if (st >= 0)
        return st;

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &c.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &c.nranks);
    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, c.rank, MPI_INFO_NULL, &node);
    MPI_Comm_size(node, &c.ranks_per_node);
    MPI_Comm_free(&node);
    MPI_Bcast(&c.ranks_per_node, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (c.rank == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        c.seed = ((uint64_t)ts.tv_sec * 1000000007ull) ^ (uint64_t)ts.tv_nsec ^
                 ((uint64_t)getpid() << 32);
    }
    MPI_Bcast(&c.seed, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);

    int ok = 1;
    if (c.rank == 0 && c.plot_path && !report_have_gnuplot()) {
        fprintf(stderr, "benchfs-bench: --plot needs gnuplot, which is not installed "
                        "(apt-get install gnuplot-nox)\n");
        ok = 0;
    }
    MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (!ok) {
        MPI_Finalize();
        return EXIT_USAGE;
    }

    /* BenchFS: every rank connects */
    struct bench_io io;
    char err[512] = "";
    int mine = bench_io_benchfs(&io, c.registry, c.chunk_size, c.bfs_dir, err, sizeof err) == 0;
    MPI_Allreduce(&mine, &ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (!ok) {
        if (!mine)
            fprintf(stderr, "benchfs-bench: rank %d: %s\n", c.rank, err);
        if (mine)
            io.fini(&io);
        MPI_Finalize();
        return EXIT_IO;
    }
    c.nservers = benchfs_nservers((benchfs_t *)io.ctx);
    if (c.rank == 0 && !c.quiet)
        printf("benchfs-bench: %d rank(s) on %d BenchFS server(s); %.1f MiB per bandwidth phase\n",
               c.nranks, c.nservers, c.run_bw ? fsum_bytes(&c) / (1 << 20) : 0.0);

    struct backend_res res[2 + BENCH_MAX_VIA];
    int nr = 0, setup_failed = 0;
    if (bench_run(&c, &io, &res[nr++]) != 0)
        setup_failed = 1;
    if (io.fini(&io) != 0 && c.rank == 0)
        fprintf(stderr, "benchfs-bench: disconnect: %s\n", benchfs_strerror());

    for (int v = 0; v < c.nvia && !setup_failed; v++) {
        bench_io_posix(&io, c.via[v].dir, c.via[v].name);
        if (bench_run(&c, &io, &res[nr++]) != 0)
            setup_failed = 1;
        io.fini(&io);
    }
    if (c.posix_dir && !setup_failed) {
        bench_io_posix(&io, c.posix_dir, NULL);
        if (bench_run(&c, &io, &res[nr++]) != 0)
            setup_failed = 1;
        io.fini(&io);
    }

    int code = 0;
    if (c.rank == 0) {
        long errs = 0, verr = 0;
        for (int i = 0; i < nr; i++)
            for (int id = 0; id < PH_COUNT; id++) {
                errs += res[i].ph[id].errors;
                verr += res[i].ph[id].verify_errors;
            }
        code = verr ? EXIT_VERIFY : errs || setup_failed ? EXIT_IO : 0;
        if (!setup_failed) {
            if (!c.quiet)
                report_table(stdout, &c, res, nr);
            fflush(stdout);
            if (c.json_path && report_json(c.json_path, &c, res, nr) != 0 && !code)
                code = EXIT_IO;
            if (c.plot_path) {
                if (report_plot(c.plot_path, &c, res, nr) != 0) {
                    if (!code)
                        code = EXIT_IO;
                } else if (!c.quiet) {
                    printf("plot: %s\n", c.plot_path);
                }
            }
        }
    }
    MPI_Bcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD);
    MPI_Finalize();
    return code;
}
