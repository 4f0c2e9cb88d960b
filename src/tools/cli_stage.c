/* SPDX-License-Identifier: BSD-3-Clause */
/* cli_stage.c — stage-in / stage-out: the copy engine run by every rank of an MPI job.
 *
 * The only place the tool touches MPI: it is initialised here and nowhere else, so the other
 * subcommands never pay for (or depend on) a launcher. Run without mpirun it is a team of one
 * (MPI singleton). The team hooks are thin MPI wrappers; progress reports travel rank -> rank 0
 * as small non-blocking messages, so no rank ever waits on another to draw the bar. */
#include <errno.h>
#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tools/cli.h"

#define TAG_PROGRESS 7177

struct mpi_team {
    MPI_Request req;        /* ranks > 0: the report in flight (its buffer is `out`) */
    uint64_t out[3];
    unsigned char *final;   /* rank 0: which ranks have sent their last report */
    int nfinal;
};

static int m_bcast(struct cli_team *t, void *buf, size_t len)
{
    (void)t;
    /* MPI counts are int: large plans go in slices. */
    for (size_t off = 0; off < len;) {
        size_t n = len - off < (size_t)(INT_MAX / 2) ? len - off : (size_t)(INT_MAX / 2);
        MPI_Bcast((char *)buf + off, (int)n, MPI_BYTE, 0, MPI_COMM_WORLD);
        off += n;
    }
    return 0;
}

static void m_barrier(struct cli_team *t)
{
    (void)t;
    MPI_Barrier(MPI_COMM_WORLD);
}

static void m_allsum(struct cli_team *t, uint64_t *v, int n)
{
    (void)t;
    MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
}

static void m_allmax(struct cli_team *t, double *v, int n)
{
    (void)t;
    MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
}

static void m_report(struct cli_team *t, uint64_t bytes, uint64_t files, int final)
{
    struct mpi_team *m = t->ctx;
    int done = 1;
    if (m->req != MPI_REQUEST_NULL) {
        if (final)
            MPI_Wait(&m->req, MPI_STATUS_IGNORE);
        else
            MPI_Test(&m->req, &done, MPI_STATUS_IGNORE);
    }
    if (!done)
        return; /* rank 0 is busy copying: skip this update, the next one carries it */
    m->out[0] = bytes;
    m->out[1] = files;
    m->out[2] = (uint64_t)final;
    if (final) {
        MPI_Send(m->out, 3, MPI_UINT64_T, 0, TAG_PROGRESS, MPI_COMM_WORLD);
        return;
    }
    MPI_Isend(m->out, 3, MPI_UINT64_T, 0, TAG_PROGRESS, MPI_COMM_WORLD, &m->req);
}

static int m_collect(struct cli_team *t, uint64_t *bytes, uint64_t *files)
{
    struct mpi_team *m = t->ctx;
    for (;;) {
        int flag = 0;
        MPI_Status st;
        MPI_Iprobe(MPI_ANY_SOURCE, TAG_PROGRESS, MPI_COMM_WORLD, &flag, &st);
        if (!flag)
            break;
        uint64_t in[3];
        MPI_Recv(in, 3, MPI_UINT64_T, st.MPI_SOURCE, TAG_PROGRESS, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE);
        int r = st.MPI_SOURCE;
        if (bytes && files) {
            bytes[r] = in[0];
            files[r] = in[1];
        }
        if (in[2] && !m->final[r]) {
            m->final[r] = 1;
            m->nfinal++;
        }
    }
    return m->nfinal;
}

/* The parent directory of path ("" if it has none worth creating). */
static void parent_of(const char *path, char *out, size_t cap)
{
    snprintf(out, cap, "%s", path);
    size_t n = strlen(out);
    while (n > 1 && out[n - 1] == '/')
        out[--n] = '\0';
    char *slash = strrchr(out, '/');
    if (!slash)
        out[0] = '\0';
    else if (slash == out)
        out[1] = '\0';
    else
        *slash = '\0';
}

/* Rank 0: the plan for "contents of SRC into DEST" (a file SRC goes into an existing
 * directory DEST under its own name, or becomes DEST). Returns the number of errors. */
static int stage_plan(struct cli_plan *plan, const char *cmd, const struct cli_side *from,
                      const struct cli_side *to, const char *src, const char *dest)
{
    struct cli_attr sa, da;
    if (side_stat(from, src, &sa) != 0) {
        side_err(from, cmd, src);
        return 1;
    }
    char target[8192], parent[8192], base[256];
    snprintf(target, sizeof target, "%s", dest);
    if (!S_ISDIR(sa.mode) && side_stat(to, dest, &da) == 0 && S_ISDIR(da.mode)) {
        cli_basename(src, base, sizeof base);
        if (cli_join(target, sizeof target, dest, base) != 0) {
            cli_err_sys(cmd, dest);
            return 1;
        }
    }
    parent_of(target, parent, sizeof parent);
    if (parent[0] && side_mkdir_p(to, parent, 0755) != 0) {
        side_err(to, cmd, parent);
        return 1;
    }
    return plan_add(plan, from, cmd, src, target, 1);
}

static int stage(int argc, char **argv, int in)
{
    struct copy_opts o;
    int rc = copy_parse(argc, argv, &o, NULL, 1);
    if (rc >= 0)
        return rc;
    const char *cmd = o.cmd;
    if (argc - optind != 2) {
        cli_err(cmd, argc - optind < 2 ? "missing operand" : "extra operand '%s'",
                argv[argc - 1]);
        return cli_usage(cmd);
    }
    MPI_Init(NULL, NULL);
    double t0 = cli_now();
    struct mpi_team m = {.req = MPI_REQUEST_NULL};
    struct cli_team t = {.ctx = &m, .bcast = m_bcast, .barrier = m_barrier, .allsum = m_allsum,
                         .allmax = m_allmax, .report = m_report, .collect = m_collect};
    MPI_Comm_rank(MPI_COMM_WORLD, &t.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &t.size);
    m.final = calloc((size_t)t.size, 1);

    /* Every rank connects; if one cannot, nobody copies (the collectives would hang). */
    benchfs_t *fs = cli_connect(cmd);
    uint64_t bad = fs == NULL || m.final == NULL;
    t.allsum(&t, &bad, 1);
    if (bad) {
        if (fs)
            benchfs_term(fs);
        free(m.final);
        MPI_Finalize();
        return CLI_FAIL;
    }
    struct cli_side bfs = {SIDE_BFS, fs}, local = {SIDE_LOCAL, NULL};
    const struct cli_side *from = in ? &local : &bfs, *to = in ? &bfs : &local;
    struct cli_plan plan = {0};
    int errors = 0;
    if (t.rank == 0) {
        char src[8192], dest[8192];
        const char *a = argv[optind], *b = argv[optind + 1];
        if (in ? snprintf(src, sizeof src, "%s", a) >= (int)sizeof src ||
                     cli_bfs_path(cmd, b, dest, sizeof dest) != 0
               : cli_bfs_path(cmd, a, src, sizeof src) != 0 ||
                     snprintf(dest, sizeof dest, "%s", b) >= (int)sizeof dest)
            errors++;
        else
            errors += stage_plan(&plan, cmd, from, to, src, dest);
    }
    rc = copy_run(&t, &o, &plan, errors, from, to, t0);
    plan_free(&plan);
    rc = cli_disconnect(fs, cmd, rc);
    free(m.final);
    MPI_Finalize();
    return rc;
}

int cmd_stage_in(int argc, char **argv) { return stage(argc, argv, 1); }
int cmd_stage_out(int argc, char **argv) { return stage(argc, argv, 0); }
