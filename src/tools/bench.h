/* SPDX-License-Identifier: BSD-3-Clause */
/* bench.h — benchfs-bench: configuration, results and the pieces that produce them.
 *
 *   benchfs_bench.c  command line, MPI, the run of every backend
 *   bench_io.c       the I/O backend interface (BenchFS, POSIX)
 *   bench_phases.c   the workload: IOR-like bandwidth and mdtest-like metadata phases, timing,
 *                    verification pattern
 *   bench_report.c   table, JSON and gnuplot output (rank 0 only) */
#ifndef BENCH_H
#define BENCH_H

#include <mpi.h>
#include <stdint.h>
#include <stdio.h>

#include "bench_io.h"

#define BENCH_MAX_VIA 4

struct bench_cfg {
    /* bandwidth phases (IOR's -t -b -s -F -e -C -Q) */
    uint64_t xfer;       /* -t: bytes per I/O call */
    uint64_t block;      /* -b: contiguous bytes per rank per segment */
    uint64_t segments;   /* -s */
    int fpp;             /* -F: a file per process (else one shared file) */
    int fsync;           /* fsync before close (IOR -e; on by default) */
    int reorder;         /* -C: read another rank's data */
    int shift;           /* -Q: rank shift for -C (0: ranks per node, or 1 on one node) */
    /* metadata phases (mdtest's -n -w) */
    uint64_t files;      /* -n: files (and directories) per rank; 0 skips the phases */
    uint64_t md_write;   /* -w: bytes written to each file at create and read back */
    int unique_dir;      /* -u: each rank works in md/r<rank>/ (mdtest -u), else all in md/ */
    /* common */
    int verify;          /* -W: pattern check on every read */
    int run_bw, run_md;  /* phase groups */
    int keep;            /* -k: keep the files */
    int corrupt;         /* --corrupt-for-test: damage one byte after the write phase */
    uint64_t seed;       /* per-run pattern seed (rank 0's clock, broadcast) */
    uint32_t chunk_size; /* BenchFS chunk size of created files (0: the library's) */
    const char *registry;
    const char *bfs_dir;   /* -d: BenchFS directory */
    const char *posix_dir; /* --posix */
    struct { const char *name, *dir; } via[BENCH_MAX_VIA]; /* --via NAME=DIR */
    int nvia;
    const char *json_path;
    const char *plot_path;
    int quiet;
    /* MPI */
    int rank, nranks, ranks_per_node, nservers;
};

enum phase_kind { KIND_BW, KIND_MD };

enum phase_id {
    PH_WRITE,
    PH_READ,
    PH_DIR_CREATE,
    PH_DIR_STAT,
    PH_DIR_REMOVE,
    PH_FILE_CREATE,
    PH_FILE_STAT,
    PH_FILE_READ,
    PH_FILE_REMOVE,
    PH_COUNT
};

struct phase_res {
    int ran;              /* 0: not run (skipped by the options) */
    double bytes;         /* all ranks */
    double ops;           /* all ranks: I/O calls or metadata operations */
    double seconds;       /* max end - min start over the ranks */
    double lat_p50_us, lat_p99_us, lat_max_us; /* per call, over all ranks */
    long errors;          /* failed calls, all ranks */
    long verify_errors;   /* mismatching bytes found by -W, all ranks */
    char first_error[512];/* the first error seen (rank 0's, or the lowest failing rank's) */
};

struct backend_res {
    const char *name, *key;
    char root[1024];
    struct phase_res ph[PH_COUNT];
};

extern const char *const phase_names[PH_COUNT]; /* "write", "read", "dir-create", ... */
extern const char *const phase_labels[PH_COUNT]; /* for the table */
enum phase_kind phase_kind(enum phase_id p);

/* Run every selected phase on one backend, all ranks collectively. Results are complete on
 * rank 0. Returns 0, or -1 if setup failed (then the phase results say why). */
int bench_run(const struct bench_cfg *c, struct bench_io *io, struct backend_res *out);

/* Rank 0: print the table, write JSON / the plot. Return 0, or -1 (message printed). */
void report_table(FILE *f, const struct bench_cfg *c, const struct backend_res *r, int nr);
int report_json(const char *path, const struct bench_cfg *c, const struct backend_res *r, int nr);
int report_plot(const char *path, const struct bench_cfg *c, const struct backend_res *r, int nr);
/* Whether gnuplot can be run (checked before any work when --plot is given). */
int report_have_gnuplot(void);

#endif
