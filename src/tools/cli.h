/* SPDX-License-Identifier: BSD-3-Clause */
/* cli.h — shared pieces of the `benchfs` shell tool: one header for the dispatcher and the
 * per-concern files (listing, namespace, copy, stage, progress). Nothing here is public API. */
#ifndef BFS_CLI_H
#define BFS_CLI_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "benchfs.h"

/* Exit statuses: 0 success, 1 some operation failed, 2 the command line was wrong. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/* Options shared by every subcommand (set by the dispatcher, may be overridden per command). */
struct cli_global {
    const char *registry; /* NULL: $BENCHFS_REGISTRY */
};
extern struct cli_global cli_g;

/* A subcommand: name, one-line usage, long help, entry point (argv[0] is the command name). */
struct cli_cmd {
    const char *name;
    const char *synopsis;
    const char *help;
    int (*run)(int argc, char **argv);
};
extern const struct cli_cmd cli_cmds[];

/* ---- cli_util.c ---- */

/* "benchfs: CMD: PATH: <strerror(errno)>", with the library's detail (benchfs_strerror) when
 * the errno alone does not say enough (timeouts, dead servers, I/O errors). */
void cli_err_bfs(const char *cmd, const char *path);
/* Same for a local (POSIX) failure: "benchfs: CMD: PATH: <strerror(errno)>". */
void cli_err_sys(const char *cmd, const char *path);
/* "benchfs: CMD: <printf message>". */
void cli_err(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print "usage: benchfs SYNOPSIS" (and a hint) for command `cmd` to stderr; returns CLI_USAGE. */
int cli_usage(const char *cmd);
/* Print the full help of `cmd` to stdout; returns CLI_OK. */
int cli_help(const char *cmd);
/* getopt_long wrapper shared by subcommands: adds --help and --registry to the command's own
 * options (extra may be NULL; its codes must be >= 256 or short letters) and rejects unknown
 * flags and missing arguments. Returns the option, or -1 when the options are over (argv[optind]
 * is the first operand); when the caller must return at once (after --help, or a bad flag whose
 * usage has been printed) it returns -1 and sets *done to the exit status, else *done = -1.
 * Call with optind = 0 first (cli_getopt_reset). */
int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *extra,
               int *done);
void cli_getopt_reset(void);

/* Connect to the cluster (cli_g.registry or $BENCHFS_REGISTRY); prints the error on failure. */
benchfs_t *cli_connect(const char *cmd);
/* Disconnect; prints and returns CLI_FAIL if the final flush failed, else `rc`. */
int cli_disconnect(benchfs_t *fs, const char *cmd, int rc);

/* BenchFS path from a command-line argument: relative names are taken from "/". Returns 0,
 * or -1 (with a message) if too long. */
int cli_bfs_path(const char *cmd, const char *arg, char *out, size_t cap);
/* Join dir and name with exactly one '/'. Returns 0 or -1 if it does not fit. */
int cli_join(char *out, size_t cap, const char *dir, const char *name);
/* Last component of a path, ignoring trailing slashes ("" for "/"). Written into out. */
void cli_basename(const char *path, char *out, size_t cap);

/* Parse "4M", "64k", "1G", "123" (binary units). Returns 0 or -1. */
int cli_parse_size(const char *s, uint64_t *out);
/* Human-readable size, "1.5G" style (binary units). */
const char *cli_human(uint64_t bytes, char *buf, size_t cap);
/* "drwxr-xr-x" from a mode. */
void cli_mode_string(uint32_t mode, char out[11]);
/* Monotonic seconds. */
double cli_now(void);

/* ---- cli_fsio.c: one side of a copy, local POSIX or BenchFS, behind one shape ---- */

enum cli_side_kind { SIDE_LOCAL, SIDE_BFS };
struct cli_side {
    enum cli_side_kind kind;
    benchfs_t *fs; /* SIDE_BFS */
};
struct cli_attr {
    uint32_t mode; /* S_IFREG/S_IFDIR | permission bits; other types keep their S_IF bits */
    uint64_t size;
    uint64_t dev, ino; /* local directories: loop detection over symlinks */
};
/* All return 0 / fd / bytes, or -1 with errno set (BenchFS: benchfs_strerror() has detail). */
int side_stat(const struct cli_side *s, const char *path, struct cli_attr *a);
int side_open(const struct cli_side *s, const char *path, int flags, uint32_t mode);
int side_close(const struct cli_side *s, int fd);
ssize_t side_pread(const struct cli_side *s, int fd, void *buf, size_t n, uint64_t off);
ssize_t side_pwrite(const struct cli_side *s, int fd, const void *buf, size_t n, uint64_t off);
int side_mkdir(const struct cli_side *s, const char *path, uint32_t mode);
int side_chmod(const struct cli_side *s, const char *path, uint32_t mode);
/* Set the exact permission bits of an open file (local: defeats the umask). */
int side_fchmod(const struct cli_side *s, int fd, const char *path, uint32_t mode);
/* Call fn(name, arg) for every entry of a directory ("." and ".." skipped); fn != 0 stops. */
int side_list(const struct cli_side *s, const char *path, int (*fn)(const char *name, void *arg),
              void *arg);
/* Report the failure of an operation on this side in the tool's error style. */
void side_err(const struct cli_side *s, const char *cmd, const char *path);
/* mkdir -p: create path and missing parents (mode for the new ones). 0 or -1, errno set. */
int side_mkdir_p(const struct cli_side *s, const char *path, uint32_t mode);

/* ---- cli_plan.c: what to copy, and who copies which part ---- */

struct cli_item {
    char *src, *dst;   /* full paths on the source and the destination side */
    uint32_t mode;     /* S_IFDIR or S_IFREG | permission bits of the source */
    uint64_t size;     /* files: bytes to copy */
    uint8_t created;   /* directories, rank 0 only: created by us (so its mode is ours to set) */
};
struct cli_plan {
    struct cli_item *items; /* parents always before their children */
    size_t n, cap;
    uint64_t nfiles, ndirs, bytes;
};
/* A piece of work: bytes [off, off+len) of file item `item`, copied by rank `rank`. */
struct cli_piece {
    size_t item;
    uint64_t off, len;
    int rank;
    uint8_t split; /* the file is cut into several pieces (created up front by rank 0) */
};

/* Add the tree under src (file or directory) as dst. recursive == 0 refuses directories
 * ("omitting directory", as cp). Reports errors itself; returns the number of errors. */
int plan_add(struct cli_plan *p, const struct cli_side *from, const char *cmd, const char *src,
             const char *dst, int recursive);
void plan_free(struct cli_plan *p);
/* Flat encoding for MPI_Bcast. */
int plan_encode(const struct cli_plan *p, uint8_t **buf, size_t *len);
int plan_decode(struct cli_plan *p, const uint8_t *buf, size_t len);
/* Cut files into pieces (files over split_size are cut when nranks > 1) and balance them over
 * ranks by size. Deterministic: every rank computes the same assignment from the same plan. */
int plan_pieces(const struct cli_plan *p, int nranks, uint64_t split_size,
                struct cli_piece **out, size_t *npieces);

/* ---- cli_progress.c ---- */

/* A team of copying processes: one process (put/get), or the MPI ranks of a stage run. The
 * copy engine talks to the team only through these hooks, so it needs no MPI itself. */
struct cli_team {
    int rank, size;
    void *ctx;
    /* Rank 0 sends buf to every rank (len already agreed). */
    int (*bcast)(struct cli_team *t, void *buf, size_t len);
    void (*barrier)(struct cli_team *t);
    /* Element-wise sum of n counters over all ranks, result on every rank. */
    void (*allsum)(struct cli_team *t, uint64_t *v, int n);
    /* Element-wise maximum (for elapsed times, error flags). */
    void (*allmax)(struct cli_team *t, double *v, int n);
    /* Ranks > 0: post (bytes, files) done so far to rank 0, final = this rank is done. */
    void (*report)(struct cli_team *t, uint64_t bytes, uint64_t files, int final);
    /* Rank 0: fold in every report that has arrived (per-rank arrays of size `size`, or NULL
     * to only drain them); returns how many other ranks have sent their final report. */
    int (*collect)(struct cli_team *t, uint64_t *bytes, uint64_t *files);
};
/* The team of one process, no MPI. */
void team_single(struct cli_team *t);

struct cli_progress {
    int enabled;                   /* draw a bar (rank 0, stderr is a terminal or forced) */
    int share;                     /* other ranks: send reports to rank 0 */
    struct cli_team *team;
    uint64_t total_bytes, total_files;
    uint64_t bytes, files;         /* this rank */
    uint64_t *rank_bytes, *rank_files; /* rank 0: last report of every rank */
    double start, last;
    int drawn;
};
/* want: 1 force on, 0 force off, -1 auto (isatty(stderr) on rank 0). */
void progress_init(struct cli_progress *pg, struct cli_team *t, int want, uint64_t total_bytes,
                   uint64_t total_files);
/* Count copied bytes / finished files, redraw or report at most a few times a second. */
void progress_add(struct cli_progress *pg, uint64_t bytes, uint64_t files);
/* This rank's copying is over: rank 0 keeps drawing until every rank is done; others send a
 * final report. Leaves the terminal line clean. */
void progress_finish(struct cli_progress *pg);
void progress_free(struct cli_progress *pg);
/* "CMD: N files, M dirs, X GiB in S s, R GiB/s" on stdout. */
void print_summary(const char *cmd, uint64_t files, uint64_t dirs, uint64_t bytes, double secs,
                   int nranks, uint64_t errors);

/* ---- cli_copy.c: the copy engine, shared by put/get and stage-in/stage-out ---- */

struct copy_opts {
    const char *cmd;
    uint64_t io_size;    /* bytes per read/write call */
    uint64_t split_size; /* cut files larger than this over ranks (0: never) */
    int progress;        /* -1 auto, 0 off, 1 on */
    int quiet;           /* no summary */
    int verbose;         /* one line per rank: its share of the work */
};
/* Options of put/get (recursive != NULL: -r allowed) and stage-in/out (allow_split). Returns
 * -1 to go on (argv[optind] is the first operand), else the exit status to return at once. */
int copy_parse(int argc, char **argv, struct copy_opts *o, int *recursive, int allow_split);
/* Run a copy of the plan (complete on rank 0, ignored elsewhere: it is broadcast) from `from`
 * to `to`. plan_errors: errors rank 0 met while planning. Returns the exit status (the same on
 * every rank). */
int copy_run(struct cli_team *t, const struct copy_opts *o, struct cli_plan *plan,
             int plan_errors, const struct cli_side *from, const struct cli_side *to,
             double t_start);

/* ---- subcommands ---- */
int cmd_ls(int argc, char **argv);
int cmd_stat(int argc, char **argv);
int cmd_df(int argc, char **argv);
int cmd_mkdir(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_mv(int argc, char **argv);
int cmd_cat(int argc, char **argv);
int cmd_put(int argc, char **argv);
int cmd_get(int argc, char **argv);
int cmd_stage_in(int argc, char **argv);
int cmd_stage_out(int argc, char **argv);
int cmd_find(int argc, char **argv);

#endif
