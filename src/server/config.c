/* SPDX-License-Identifier: BSD-3-Clause */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchfs_version.h"
#include "common/log.h"
#include "common/util.h"
#include "mpi_launch.h"

/* One table drives flags, environment variables, the config file and --help. */
enum opt_kind { OPT_STR, OPT_U32, OPT_SIZE, OPT_BOOL, OPT_LEVEL };
struct opt_def {
    const char *name; /* long flag and config-file key */
    const char *env;
    enum opt_kind kind;
    size_t offset;
    const char *def;
    const char *help;
};

#define OFF(f) offsetof(struct bfs_server_config, f)
static const struct opt_def OPTS[] = {
    {"data-dir", "BENCHFS_DATA_DIR", OPT_STR, OFF(data_dir), NULL,
     "directory for chunks and metadata (required; survives restarts)"},
    {"registry", "BENCHFS_REGISTRY", OPT_STR, OFF(registry), NULL,
     "shared registry directory where servers publish their addresses (required)"},
    {"id", "BENCHFS_SERVER_ID", OPT_U32, OFF(id), "0", "this server's index, 0..nservers-1"},
    {"nservers", "BENCHFS_NSERVERS", OPT_U32, OFF(nservers), "1", "servers in the cluster"},
    {"capacity", "BENCHFS_CAPACITY", OPT_SIZE, OFF(capacity), "0",
     "bytes of chunk data this server accepts before ENOSPC (K/M/G/T; 0: disk limit)"},
    {"eager-threshold", "BENCHFS_EAGER_THRESHOLD", OPT_SIZE, OFF(eager_threshold), "32K",
     "payloads below this size are sent eager, larger ones by rendezvous"},
    {"meta-map-size", "BENCHFS_META_MAP_SIZE", OPT_SIZE, OFF(meta_map_size), "4G",
     "maximum size of the metadata store (LMDB map; sparse)"},
    {"queue-depth", "BENCHFS_QUEUE_DEPTH", OPT_U32, OFF(queue_depth), "256",
     "io_uring submission queue entries"},
    {"max-open-chunks", "BENCHFS_MAX_OPEN_CHUNKS", OPT_U32, OFF(max_open_chunks), "512",
     "chunk files kept open in the descriptor cache"},
    {"buffer-cache", "BENCHFS_BUFFER_CACHE", OPT_SIZE, OFF(buffer_cache), "256M",
     "idle chunk I/O buffers kept mapped for reuse (first use of a buffer page-faults)"},
    {"write-behind", "BENCHFS_WRITE_BEHIND", OPT_BOOL, OFF(write_behind), "1",
     "start writing chunk data to disk right after each write (fsync then waits less)"},
    {"listen-addr", "BENCHFS_LISTEN_ADDR", OPT_STR, OFF(listen_addr), "auto",
     "IPv4 address clients on other hosts reach this server at (auto: first non-loopback)"},
    {"spin-us", "BENCHFS_SPIN_US", OPT_U32, OFF(spin_us), "0",
     "after serving a request, poll this many microseconds before sleeping (0: never)"},
    {"busy-poll", "BENCHFS_BUSY_POLL", OPT_BOOL, OFF(busy_poll), "0",
     "poll instead of sleeping when idle (only on a dedicated core)"},
    {"move-lease-ms", "BENCHFS_MOVE_LEASE_MS", OPT_U32, OFF(move_lease_ms), "60000",
     "a small file's move to chunks not ended within this time is taken over by another"},
    {"log-level", "BENCHFS_LOG", OPT_LEVEL, OFF(log_level), "warn",
     "error, warn, info or debug"},
};
#define NOPTS (sizeof OPTS / sizeof OPTS[0])

static void usage(FILE *f)
{
    fprintf(f, "Usage: benchfsd --data-dir DIR --registry DIR [options]\n\n"
               "BenchFS server: serves this node's storage to every client of the job.\n\n"
               "Options (flag, environment variable, default):\n");
    for (size_t i = 0; i < NOPTS; i++)
        fprintf(f, "  --%-18s %-26s %-6s %s\n", OPTS[i].name, OPTS[i].env,
                OPTS[i].def ? OPTS[i].def : "-", OPTS[i].help);
    fprintf(f, "  --%-18s %-26s %-6s %s\n", "config", "BENCHFS_CONFIG", "-",
            "file of 'key = value' lines (keys as the long flags)");
    fprintf(f, "  --%-18s %-26s %-6s %s\n", "mpi | --no-mpi", "BENCHFS_MPI", "auto",
            "run as one rank of mpirun/srun (auto: detected from the environment)");
    fprintf(f, "  --help, --version\n\nPrecedence: flags, then environment, then config file, "
               "then defaults.\n\n"
               "MPI launch: 'mpirun -np N benchfsd --data-dir DIR --registry REG' (or srun) starts\n"
               "N servers; id and nservers are the rank and size (--id/--nservers optional). In\n"
               "--data-dir, %%r is replaced by the rank, %%h by the host name and %%%% by %%; with\n"
               "neither pattern and N > 1 each rank uses DIR/rank<r>. Rank 0 writes the whole\n"
               "registry; MPI is finalized once it is written, so ranks can be stopped one by one\n"
               "with SIGTERM (mpirun exits when all have).\n");
}

static int set_opt(struct bfs_server_config *c, const struct opt_def *o, const char *v,
                   const char *origin)
{
    char *field = (char *)c + o->offset;
    char *end;
    switch (o->kind) {
    case OPT_STR:
        if (strlen(v) >= 4096 || !*v) {
            fprintf(stderr, "benchfsd: %s: %s must be a non-empty path under 4096 bytes\n",
                    origin, o->name);
            return -1;
        }
        strcpy(field, v);
        return 0;
    case OPT_U32: {
        errno = 0;
        unsigned long x = strtoul(v, &end, 10);
        if (errno || *end || !*v || x > UINT32_MAX) {
            fprintf(stderr, "benchfsd: %s: %s: '%s' is not a number\n", origin, o->name, v);
            return -1;
        }
        *(uint32_t *)field = (uint32_t)x;
        return 0;
    }
    case OPT_SIZE: {
        int64_t x = bfs_parse_size(v);
        if (x < 0) {
            fprintf(stderr, "benchfsd: %s: %s: '%s' is not a size (e.g. 64K, 4M, 10G)\n",
                    origin, o->name, v);
            return -1;
        }
        *(uint64_t *)field = (uint64_t)x;
        return 0;
    }
    case OPT_BOOL:
        *(int *)field = !(strcmp(v, "0") == 0 || strcmp(v, "false") == 0 || strcmp(v, "no") == 0);
        return 0;
    case OPT_LEVEL: {
        int l = bfs_log_parse_level(v);
        if (l < 0) {
            fprintf(stderr, "benchfsd: %s: log-level: '%s' is not error|warn|info|debug\n",
                    origin, v);
            return -1;
        }
        *(int *)field = l;
        return 0;
    }
    }
    return -1;
}

static const struct opt_def *find_opt(const char *name)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (strcmp(OPTS[i].name, name) == 0)
            return &OPTS[i];
    return NULL;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static int load_file(struct bfs_server_config *c, const char *path, int *given)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "benchfsd: config file %s: %s\n", path, strerror(errno));
        return -1;
    }
    char line[8192];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        char *s = trim(line);
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            fprintf(stderr, "benchfsd: %s:%d: expected 'key = value'\n", path, lineno);
            rc = -1;
            break;
        }
        *eq = '\0';
        const char *key = trim(s), *val = trim(eq + 1);
        const struct opt_def *o = find_opt(key);
        if (!o) {
            fprintf(stderr, "benchfsd: %s:%d: unknown key '%s'\n", path, lineno, key);
            rc = -1;
            break;
        }
        if (!given[o - OPTS]) /* flags and environment win over the file */
            rc = set_opt(c, o, val, path);
    }
    fclose(f);
    return rc;
}

int bfs_server_config_load(struct bfs_server_config *c, int argc, char **argv)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < NOPTS; i++)
        if (OPTS[i].def && set_opt(c, &OPTS[i], OPTS[i].def, "default") != 0)
            return -1;
    int given[NOPTS] = {0};
    const char *config_file = getenv("BENCHFS_CONFIG");

    struct option longopts[NOPTS + 6];
    for (size_t i = 0; i < NOPTS; i++)
        longopts[i] = (struct option){OPTS[i].name, required_argument, NULL, (int)(i + 256)};
    longopts[NOPTS] = (struct option){"config", required_argument, NULL, 'c'};
    longopts[NOPTS + 1] = (struct option){"help", no_argument, NULL, 'h'};
    longopts[NOPTS + 2] = (struct option){"version", no_argument, NULL, 'V'};
    longopts[NOPTS + 3] = (struct option){"mpi", no_argument, NULL, 'M'};
    longopts[NOPTS + 4] = (struct option){"no-mpi", no_argument, NULL, 'N'};
    longopts[NOPTS + 5] = (struct option){0};
    int mpi = -1; /* auto */
    const char *mpi_env = getenv("BENCHFS_MPI");
    if (mpi_env && *mpi_env && strcmp(mpi_env, "auto") != 0)
        mpi = !(strcmp(mpi_env, "0") == 0 || strcmp(mpi_env, "false") == 0 ||
                strcmp(mpi_env, "no") == 0 || strcmp(mpi_env, "off") == 0);
    /* Flags first, remembered, so env and file only fill what flags left open. */
    char *flag_val[NOPTS] = {0};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "hVc:", longopts, NULL)) != -1) {
        if (ch == 'h') {
            usage(stdout);
            return 1;
        } else if (ch == 'V') {
            printf("benchfsd %s\n", BENCHFS_VERSION_STRING);
            return 1;
        } else if (ch == 'c') {
            config_file = optarg;
        } else if (ch == 'M') {
            mpi = 1;
        } else if (ch == 'N') {
            mpi = 0;
        } else if (ch >= 256 && ch < (int)(256 + NOPTS)) {
            flag_val[ch - 256] = optarg;
        } else {
            usage(stderr);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "benchfsd: unexpected argument '%s' (see --help)\n", argv[optind]);
        return -1;
    }
    for (size_t i = 0; i < NOPTS; i++) {
        const char *v = flag_val[i];
        const char *origin = "flag";
        if (!v) {
            v = getenv(OPTS[i].env);
            origin = OPTS[i].env;
            if (v && !*v)
                v = NULL;
        }
        if (v) {
            if (set_opt(c, &OPTS[i], v, origin) != 0)
                return -1;
            given[i] = 1;
        }
    }
    if (config_file && load_file(c, config_file, given) != 0)
        return -1;
    if (!c->data_dir[0] || !c->registry[0]) {
        fprintf(stderr, "benchfsd: --data-dir and --registry are required (see --help)\n");
        return -1;
    }
    c->mpi = mpi < 0 ? bfs_mpi_detected() : mpi;
    c->id_given = given[find_opt("id") - OPTS];
    c->nservers_given = given[find_opt("nservers") - OPTS];
    if (!c->mpi && (c->nservers == 0 || c->id >= c->nservers)) {
        fprintf(stderr, "benchfsd: --id %u must be below --nservers %u\n", c->id, c->nservers);
        return -1;
    }
    if (c->queue_depth < 8 || c->queue_depth > 32768) {
        fprintf(stderr, "benchfsd: --queue-depth must be 8..32768\n");
        return -1;
    }
    if (c->max_open_chunks < 16)
        c->max_open_chunks = 16;
    return 0;
}
