/* SPDX-License-Identifier: BSD-3-Clause */
/* cli_copy.c — the copy engine (one process or many MPI ranks, either direction) and the
 * one-process commands on top of it: put and get.
 *
 * Order of a copy: rank 0 creates the directories (parents first) and the files that will be
 * written by several ranks; the plan goes to every rank; each rank copies its pieces (creating
 * the files that are wholly its own, so creates run in parallel too); after a barrier the
 * permission bits that would have stopped a writer (no u+w) or that the umask took are set,
 * directories deepest first; counters are summed for the summary. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools/cli.h"

#define COPY_PATH_MAX 8192
#define DEFAULT_IO_SIZE (4u << 20) /* one default chunk per call: every server busy at once */

/* Files are created writable by their owner, whatever the source says, so that every rank
 * can open them for writing; the real bits are set at the end. */
static uint32_t file_create_mode(uint32_t mode) { return (mode & 07777) | S_IWUSR; }
static uint32_t dir_create_mode(uint32_t mode) { return (mode & 07777) | S_IRWXU; }

struct copy_ctx {
    const struct copy_opts *o;
    const struct cli_plan *plan;
    const struct cli_side *from, *to;
    struct cli_progress *pg;
    char *buf;
    uint64_t files, bytes, errors;
};

/* A failure on one side: name the path on the side that failed. */
static void fail(struct copy_ctx *c, const struct cli_side *s, const char *path)
{
    side_err(s, c->o->cmd, path);
    c->errors++;
}

static int write_full(struct copy_ctx *c, int fd, const char *dst, const char *b, size_t n,
                      uint64_t off)
{
    while (n) {
        ssize_t w = side_pwrite(c->to, fd, b, n, off);
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            fail(c, c->to, dst);
            return -1;
        }
        b += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return 0;
}

static void copy_piece(struct copy_ctx *c, const struct cli_piece *pc)
{
    const struct cli_item *it = &c->plan->items[pc->item];
    int sfd = side_open(c->from, it->src, O_RDONLY, 0);
    if (sfd < 0) {
        fail(c, c->from, it->src);
        return;
    }
    /* A file cut into pieces was created (and truncated) by rank 0 before the plan went out;
     * the others are created here by the one rank that writes them. */
    int flags = pc->split ? O_WRONLY : O_WRONLY | O_CREAT | O_TRUNC;
    int dfd = side_open(c->to, it->dst, flags, file_create_mode(it->mode));
    if (dfd < 0) {
        fail(c, c->to, it->dst);
        side_close(c->from, sfd);
        return;
    }
    int ok = 1;
    if (!pc->split && c->to->kind == SIDE_LOCAL &&
        side_fchmod(c->to, dfd, it->dst, file_create_mode(it->mode)) != 0) {
        fail(c, c->to, it->dst); /* the umask took bits: put them back */
        ok = 0;
    }
    uint64_t off = pc->off, end = pc->off + pc->len;
    while (ok && off < end) {
        size_t want = end - off < c->o->io_size ? (size_t)(end - off) : (size_t)c->o->io_size;
        ssize_t r = side_pread(c->from, sfd, c->buf, want, off);
        if (r < 0) {
            fail(c, c->from, it->src);
            ok = 0;
        } else if (r == 0) {
            cli_err(c->o->cmd, "%s: file shrank while being copied", it->src);
            c->errors++;
            ok = 0;
        } else if (write_full(c, dfd, it->dst, c->buf, (size_t)r, off) != 0) {
            ok = 0;
        } else {
            off += (uint64_t)r;
            c->bytes += (uint64_t)r;
            progress_add(c->pg, (uint64_t)r, 0);
        }
    }
    /* BenchFS: close publishes the size, so its failure is a failed copy. */
    if (side_close(c->to, dfd) != 0 && ok) {
        fail(c, c->to, it->dst);
        ok = 0;
    }
    side_close(c->from, sfd);
    if (ok && pc->off == 0) {
        c->files++;
        progress_add(c->pg, 0, 1);
    }
}

/* Rank 0, before the plan goes out: directories in order, then the files several ranks share. */
static void create_up_front(struct copy_ctx *c, struct cli_plan *plan, int nranks)
{
    for (size_t i = 0; i < plan->n; i++) {
        struct cli_item *it = &plan->items[i];
        if (!S_ISDIR(it->mode))
            continue;
        if (side_mkdir(c->to, it->dst, dir_create_mode(it->mode)) == 0) {
            it->created = 1;
            continue;
        }
        int e = errno;
        struct cli_attr a;
        if (e == EEXIST && side_stat(c->to, it->dst, &a) == 0 && S_ISDIR(a.mode))
            continue; /* merging into an existing directory, as cp -r does */
        errno = e == EEXIST ? ENOTDIR : e;
        fail(c, c->to, it->dst);
    }
    if (nranks < 2 || !c->o->split_size)
        return;
    for (size_t i = 0; i < plan->n; i++) {
        struct cli_item *it = &plan->items[i];
        if (S_ISDIR(it->mode) || it->size <= c->o->split_size)
            continue;
        int fd = side_open(c->to, it->dst, O_WRONLY | O_CREAT | O_TRUNC,
                           file_create_mode(it->mode));
        if (fd < 0) {
            fail(c, c->to, it->dst);
            continue;
        }
        if (c->to->kind == SIDE_LOCAL &&
            side_fchmod(c->to, fd, it->dst, file_create_mode(it->mode)) != 0)
            fail(c, c->to, it->dst);
        if (side_close(c->to, fd) != 0)
            fail(c, c->to, it->dst);
    }
}

/* After everybody is done: the bits we held back. */
static void set_final_modes(struct copy_ctx *c, const struct cli_piece *pcs, size_t npcs,
                            int rank)
{
    for (size_t k = 0; k < npcs; k++) {
        const struct cli_item *it = &c->plan->items[pcs[k].item];
        if (pcs[k].rank != rank || pcs[k].off != 0)
            continue;
        uint32_t want = it->mode & 07777;
        if (want != file_create_mode(it->mode) && side_chmod(c->to, it->dst, want) != 0)
            fail(c, c->to, it->dst);
    }
    if (rank != 0)
        return;
    for (size_t i = c->plan->n; i-- > 0;) { /* children before parents: parents stay open */
        const struct cli_item *it = &c->plan->items[i];
        if (!S_ISDIR(it->mode) || !it->created)
            continue;
        uint32_t want = it->mode & 07777;
        if ((c->to->kind == SIDE_LOCAL || want != dir_create_mode(it->mode)) &&
            side_chmod(c->to, it->dst, want) != 0)
            fail(c, c->to, it->dst);
    }
}

int copy_run(struct cli_team *t, const struct copy_opts *o, struct cli_plan *plan,
             int plan_errors, const struct cli_side *from, const struct cli_side *to,
             double t_start)
{
    struct cli_progress pg;
    struct copy_ctx c = {.o = o, .plan = plan, .from = from, .to = to, .pg = &pg};
    c.errors = t->rank == 0 ? (uint64_t)plan_errors : 0;
    if (t->rank == 0)
        create_up_front(&c, plan, t->size);

    /* The plan to every rank: a fixed header (length, rank 0's progress decision) first. */
    int64_t hdr[2] = {0, o->progress < 0 ? isatty(STDERR_FILENO) : o->progress};
    uint8_t *enc = NULL;
    size_t enclen = 0;
    if (t->size > 1) {
        if (t->rank == 0) {
            if (plan_encode(plan, &enc, &enclen) != 0) {
                cli_err(o->cmd, "out of memory");
                hdr[0] = -1;
            } else {
                hdr[0] = (int64_t)enclen;
            }
        }
        t->bcast(t, hdr, sizeof hdr);
        if (hdr[0] < 0)
            return CLI_FAIL;
        if (t->rank != 0 && !(enc = malloc((size_t)hdr[0] + 1))) {
            cli_err(o->cmd, "out of memory");
            exit(CLI_FAIL); /* the others would wait for us forever: MPI aborts the job */
        }
        t->bcast(t, enc, (size_t)hdr[0]);
        if (t->rank != 0 && plan_decode(plan, enc, (size_t)hdr[0]) != 0) {
            cli_err(o->cmd, "corrupt plan received from rank 0");
            exit(CLI_FAIL);
        }
        free(enc);
    }

    struct cli_piece *pcs = NULL;
    size_t npcs = 0;
    c.buf = malloc(o->io_size);
    if (!c.buf || plan_pieces(plan, t->size, o->split_size, &pcs, &npcs) != 0) {
        cli_err(o->cmd, "out of memory");
        exit(CLI_FAIL);
    }
    progress_init(&pg, t, (int)hdr[1], plan->bytes, plan->nfiles);
    double t_copy = cli_now();
    size_t mine = 0;
    for (size_t k = 0; k < npcs; k++) {
        if (pcs[k].rank == t->rank) {
            copy_piece(&c, &pcs[k]);
            mine++;
        }
    }
    progress_finish(&pg);
    if (o->verbose)
        fprintf(stderr, "%s: rank %d: %zu pieces, %llu bytes, %llu errors, %.2f s\n", o->cmd,
                t->rank, mine, (unsigned long long)c.bytes, (unsigned long long)c.errors,
                cli_now() - t_copy);
    progress_free(&pg);
    t->barrier(t);
    set_final_modes(&c, pcs, npcs, t->rank);

    uint64_t sums[3] = {c.files, c.bytes, c.errors};
    double secs = cli_now() - t_start;
    t->allsum(t, sums, 3);
    t->allmax(t, &secs, 1);
    if (t->rank == 0 && !o->quiet)
        print_summary(o->cmd, sums[0], plan->ndirs, sums[1], secs, t->size, sums[2]);
    free(pcs);
    free(c.buf);
    return sums[2] ? CLI_FAIL : CLI_OK;
}

/* ---- put and get: cp -r between the two file systems, one process ---- */

enum { OPT_PROGRESS = 300, OPT_NO_PROGRESS, OPT_IO_SIZE, OPT_SPLIT };

static const struct option copy_long[] = {
    {"split", required_argument, NULL, OPT_SPLIT},
    {"progress", no_argument, NULL, OPT_PROGRESS},
    {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
    {"io-size", required_argument, NULL, OPT_IO_SIZE},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"recursive", no_argument, NULL, 'r'}, /* last: only put/get (see below) */
    {0},
};

int copy_parse(int argc, char **argv, struct copy_opts *o, int *recursive, int allow_split)
{
    *o = (struct copy_opts){.cmd = argv[0], .io_size = DEFAULT_IO_SIZE,
                            .split_size = 64u << 20, .progress = -1};
    /* stage-in/out: everything but --recursive (they always are); put/get: all but --split. */
    struct option lo[sizeof copy_long / sizeof copy_long[0]];
    size_t n = 0;
    for (const struct option *x = copy_long; x->name; x++)
        if ((x->val != OPT_SPLIT || allow_split) && (x->val != 'r' || recursive))
            lo[n++] = *x;
    lo[n] = (struct option){0};
    int c, done;
    while ((c = cli_getopt(argc, argv, recursive ? "rRqv" : "qv", lo, &done)) != -1) {
        switch (c) {
        case 'r': case 'R':
            *recursive = 1;
            break;
        case 'q': o->quiet = 1; break;
        case 'v': o->verbose = 1; break;
        case OPT_PROGRESS: o->progress = 1; break;
        case OPT_NO_PROGRESS: o->progress = 0; break;
        case OPT_IO_SIZE:
            if (cli_parse_size(optarg, &o->io_size) != 0 || o->io_size == 0 ||
                o->io_size > (1u << 30)) {
                cli_err(o->cmd, "invalid --io-size '%s' (1 byte to 1G, e.g. 4M)", optarg);
                return CLI_USAGE;
            }
            break;
        case OPT_SPLIT:
            if (cli_parse_size(optarg, &o->split_size) != 0) {
                cli_err(o->cmd, "invalid --split '%s' (a size such as 64M, or 0)", optarg);
                return CLI_USAGE;
            }
            break;
        default:
            return cli_usage(o->cmd);
        }
    }
    return done;
}

/* put and get share everything but the direction. */
static int put_get(int argc, char **argv, int put)
{
    struct copy_opts o;
    int recursive = 0;
    int rc = copy_parse(argc, argv, &o, &recursive, 0);
    if (rc >= 0)
        return rc;
    const char *cmd = o.cmd;
    int nsrc = argc - optind - 1;
    if (nsrc < 1) {
        cli_err(cmd, nsrc == 0 ? "missing destination" : "missing operand");
        return cli_usage(cmd);
    }
    double t0 = cli_now();
    benchfs_t *fs = cli_connect(cmd);
    if (!fs)
        return CLI_FAIL;
    struct cli_side bfs = {SIDE_BFS, fs}, local = {SIDE_LOCAL, NULL};
    const struct cli_side *from = put ? &local : &bfs, *to = put ? &bfs : &local;

    char dest[COPY_PATH_MAX];
    if (put ? cli_bfs_path(cmd, argv[argc - 1], dest, sizeof dest) != 0
            : snprintf(dest, sizeof dest, "%s", argv[argc - 1]) >= (int)sizeof dest)
        return cli_disconnect(fs, cmd, CLI_FAIL);
    struct cli_attr da;
    int dest_dir = side_stat(to, dest, &da) == 0 && S_ISDIR(da.mode);
    if (nsrc > 1 && !dest_dir) {
        errno = ENOTDIR; /* several sources need a directory to go into, as cp */
        side_err(to, cmd, dest);
        return cli_disconnect(fs, cmd, CLI_FAIL);
    }
    struct cli_plan plan = {0};
    int errors = 0;
    for (int i = optind; i < argc - 1; i++) {
        char src[COPY_PATH_MAX], dst[COPY_PATH_MAX * 2], base[256];
        if (put ? snprintf(src, sizeof src, "%s", argv[i]) >= (int)sizeof src
                : cli_bfs_path(cmd, argv[i], src, sizeof src) != 0) {
            errors++;
            continue;
        }
        cli_basename(src, base, sizeof base);
        /* Into an existing directory under the source's own name; "/" (or a local "/") has
         * no name and fills the directory itself. */
        if (dest_dir && base[0] && strcmp(base, ".") && strcmp(base, ".."))
            cli_join(dst, sizeof dst, dest, base);
        else
            snprintf(dst, sizeof dst, "%s", dest);
        errors += plan_add(&plan, from, cmd, src, dst, recursive);
    }
    struct cli_team team;
    team_single(&team);
    rc = copy_run(&team, &o, &plan, errors, from, to, t0);
    plan_free(&plan);
    return cli_disconnect(fs, cmd, rc);
}

int cmd_put(int argc, char **argv) { return put_get(argc, argv, 1); }
int cmd_get(int argc, char **argv) { return put_get(argc, argv, 0); }
