/* SPDX-License-Identifier: BSD-3-Clause */
/* bench_phases.c — the workload of benchfs-bench, identical for every backend.
 *
 * Bandwidth (IOR's layout): segment s, rank r, transfer i lives at
 *   file per process (-F): file testfile.<r>, offset s*block + i*xfer
 *   shared file:           file testfile,     offset s*nranks*block + r*block + i*xfer
 * A phase is: barrier, start clock, open, all transfers, fsync (write, unless disabled), close,
 * stop clock. Bandwidth = bytes of all ranks / (latest end - earliest start), as IOR does.
 * With -C each rank reads the data rank (r + shift) % nranks wrote.
 *
 * Metadata: every rank works on its own names, by default in one shared directory md/
 * (mdtest's shared-directory case, io500's mdtest-hard): dir.<r>.<i> and file.<r>.<i>; with -u
 * in a directory of its own, md/r<r>/ (mdtest -u, io500's mdtest-easy). Rates are ops of all
 * ranks / wall time as above.
 *
 * Verification (-W): every byte written has a value determined by the run's seed, the writing
 * rank and its file offset; every read checks it, so misplaced, stale, torn or foreign data
 * is caught — including data another rank wrote (-C). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

const char *const phase_names[PH_COUNT] = {"write",       "read",        "dir-create",
                                           "dir-stat",    "dir-remove",  "file-create",
                                           "file-stat",   "file-read",   "file-remove"};
const char *const phase_labels[PH_COUNT] = {"write",          "read",          "dir create",
                                            "dir stat",       "dir remove",    "file create",
                                            "file stat",      "file read",     "file remove"};

enum phase_kind phase_kind(enum phase_id p) { return p <= PH_READ ? KIND_BW : KIND_MD; }

/* ---- the verification pattern ---- */

static uint64_t pat_word(uint64_t seed, int writer, uint64_t word_index)
{
    uint64_t x = seed ^ ((uint64_t)(writer + 1) * 0x9E3779B97F4A7C15ull);
    return x ^ (word_index * 0xD6E8FEB86659FD93ull + 0x632BE59BD9B4E019ull);
}

static unsigned char pat_byte(uint64_t seed, int writer, uint64_t off)
{
    return (unsigned char)(pat_word(seed, writer, off >> 3) >> (8 * (off & 7)));
}

/* Fill buf with the bytes `writer` puts at file offsets off .. off+n-1. */
static void pat_fill(unsigned char *buf, size_t n, uint64_t seed, int writer, uint64_t off)
{
    size_t i = 0;
    for (; i < n && ((off + i) & 7); i++)
        buf[i] = pat_byte(seed, writer, off + i);
    for (; i + 8 <= n; i += 8) {
        uint64_t w = pat_word(seed, writer, (off + i) >> 3);
        memcpy(buf + i, &w, 8); /* little-endian: byte k of the word at offset +k */
    }
    for (; i < n; i++)
        buf[i] = pat_byte(seed, writer, off + i);
}

/* Count bytes that differ from the pattern; the first bad offset goes to *first. */
static long pat_check(const unsigned char *buf, size_t n, uint64_t seed, int writer, uint64_t off,
                      uint64_t *first)
{
    long bad = 0;
    size_t i = 0;
    for (; i < n && ((off + i) & 7); i++)
        if (buf[i] != pat_byte(seed, writer, off + i) && bad++ == 0)
            *first = off + i;
    for (; i + 8 <= n; i += 8) {
        uint64_t w = pat_word(seed, writer, (off + i) >> 3), g;
        memcpy(&g, buf + i, 8);
        if (g == w)
            continue;
        for (int k = 0; k < 8; k++)
            if (buf[i + (size_t)k] != (unsigned char)(w >> (8 * k)) && bad++ == 0)
                *first = off + i + (uint64_t)k;
    }
    for (; i < n; i++)
        if (buf[i] != pat_byte(seed, writer, off + i) && bad++ == 0)
            *first = off + i;
    return bad;
}

/* ---- per-rank bookkeeping of one phase ---- */

struct rank_acc {
    double t0, t1;
    double *lat; /* µs, sampled */
    size_t nlat, cap, stride, seen;
    long errors, verify_errors;
    double bytes, ops;
    char err[384];
};

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void acc_init(struct rank_acc *a, uint64_t expected_ops)
{
    memset(a, 0, sizeof *a);
    a->cap = 1u << 18; /* latency samples kept per rank */
    if (expected_ops < a->cap)
        a->cap = expected_ops ? (size_t)expected_ops : 1;
    a->stride = expected_ops > a->cap ? (size_t)((expected_ops + a->cap - 1) / a->cap) : 1;
    a->lat = malloc(a->cap * sizeof *a->lat);
}

static void acc_lat(struct rank_acc *a, double us)
{
    if (a->seen++ % a->stride == 0 && a->nlat < a->cap)
        a->lat[a->nlat++] = us;
}

static void acc_err(struct rank_acc *a, const struct bench_io *io, const char *what,
                    const char *path, int e)
{
    a->errors++;
    if (!a->err[0])
        snprintf(a->err, sizeof a->err, "%.16s %.200s: %.120s", what, path,
                 io->strerror((struct bench_io *)io, e));
}

static void acc_verify(struct rank_acc *a, const char *path, long bad, uint64_t first, int writer)
{
    if (bad <= 0)
        return;
    a->verify_errors += bad;
    if (!a->err[0])
        snprintf(a->err, sizeof a->err,
                 "verify %.200s: %ld byte(s) differ from what rank %d wrote, first at offset %llu",
                 path, bad, writer, (unsigned long long)first);
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

/* Combine every rank's accumulator into *r on rank 0 (collective). */
static void acc_reduce(const struct bench_cfg *c, struct rank_acc *a, struct phase_res *r)
{
    double t0, t1, sums[2] = {a->bytes, a->ops}, tot[2];
    long errs[2] = {a->errors, a->verify_errors}, terrs[2];
    MPI_Reduce(&a->t0, &t0, 1, MPI_DOUBLE, MPI_MIN, 0, MPI_COMM_WORLD);
    MPI_Reduce(&a->t1, &t1, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    MPI_Reduce(sums, tot, 2, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
    MPI_Reduce(errs, terrs, 2, MPI_LONG, MPI_SUM, 0, MPI_COMM_WORLD);

    /* latency samples and the first error message of every rank */
    int n = (int)a->nlat;
    int *counts = NULL, *displs = NULL;
    double *all = NULL;
    char *msgs = NULL;
    if (c->rank == 0) {
        counts = calloc((size_t)c->nranks, sizeof *counts);
        displs = calloc((size_t)c->nranks, sizeof *displs);
        msgs = calloc((size_t)c->nranks, sizeof a->err);
    }
    MPI_Gather(&n, 1, MPI_INT, counts, 1, MPI_INT, 0, MPI_COMM_WORLD);
    size_t total = 0;
    if (c->rank == 0) {
        for (int i = 0; i < c->nranks; i++) {
            displs[i] = (int)total;
            total += (size_t)counts[i];
        }
        all = malloc((total ? total : 1) * sizeof *all);
    }
    MPI_Gatherv(a->lat, n, MPI_DOUBLE, all, counts, displs, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    MPI_Gather(a->err, (int)sizeof a->err, MPI_CHAR, msgs, (int)sizeof a->err, MPI_CHAR, 0,
               MPI_COMM_WORLD);
    if (c->rank == 0) {
        memset(r, 0, sizeof *r);
        r->ran = 1;
        r->seconds = t1 - t0;
        r->bytes = tot[0];
        r->ops = tot[1];
        r->errors = terrs[0];
        r->verify_errors = terrs[1];
        if (total) {
            qsort(all, total, sizeof *all, cmp_double);
            r->lat_p50_us = all[total / 2];
            size_t i99 = (size_t)((double)total * 0.99);
            r->lat_p99_us = all[i99 < total ? i99 : total - 1];
            r->lat_max_us = all[total - 1];
        }
        for (int i = 0; i < c->nranks; i++) {
            const char *m = msgs + (size_t)i * sizeof a->err;
            if (m[0]) {
                snprintf(r->first_error, sizeof r->first_error, "rank %d: %.380s", i, m);
                break;
            }
        }
        free(counts);
        free(displs);
        free(all);
        free(msgs);
    }
    free(a->lat);
    a->lat = NULL;
}

/* ---- paths ---- */

static void path_of(const struct bench_io *io, char *buf, size_t cap, const char *fmt, int r,
                    uint64_t i)
{
    char rel[128];
    snprintf(rel, sizeof rel, fmt, r, (unsigned long long)i);
    const char *root = io->root;
    size_t len = strlen(root);
    snprintf(buf, cap, "%s%s%s", root, len && root[len - 1] == '/' ? "" : "/", rel);
}

static void data_path(const struct bench_cfg *c, const struct bench_io *io, char *buf, size_t cap,
                      int r)
{
    if (c->fpp)
        path_of(io, buf, cap, "testfile.%05d", r, 0);
    else
        path_of(io, buf, cap, "testfile", 0, 0);
}

static uint64_t data_off(const struct bench_cfg *c, int r, uint64_t seg, uint64_t i)
{
    if (c->fpp)
        return seg * c->block + i * c->xfer;
    return seg * (uint64_t)c->nranks * c->block + (uint64_t)r * c->block + i * c->xfer;
}

static int read_target(const struct bench_cfg *c)
{
    if (!c->reorder)
        return c->rank;
    int shift = c->shift > 0 ? c->shift : c->ranks_per_node;
    if (shift % c->nranks == 0)
        shift = 1; /* every rank on one node: the neighbour still reads foreign data */
    return (c->rank + shift) % c->nranks;
}

/* ---- bandwidth phases ---- */

static void phase_bw(const struct bench_cfg *c, struct bench_io *io, int writing,
                     struct phase_res *res)
{
    uint64_t per_block = c->block / c->xfer, nops = c->segments * per_block;
    struct rank_acc a;
    acc_init(&a, nops);
    int who = writing ? c->rank : read_target(c);
    char path[1200];
    data_path(c, io, path, sizeof path, who);
    size_t bufsz = (size_t)((c->xfer + 4095) & ~4095ull);
    unsigned char *buf = aligned_alloc(4096, bufsz);
    if (writing)
        pat_fill(buf, (size_t)c->xfer, c->seed, c->rank, 0);

    MPI_Barrier(MPI_COMM_WORLD);
    a.t0 = MPI_Wtime();
    int flags = writing ? (O_CREAT | O_WRONLY | (c->fpp ? O_TRUNC : 0)) : O_RDONLY;
    int fd = io->open(io, path, flags, 0644);
    if (fd < 0) {
        acc_err(&a, io, "open", path, errno);
    } else {
        for (uint64_t s = 0; s < c->segments && !a.errors; s++) {
            for (uint64_t i = 0; i < per_block && !a.errors; i++) {
                uint64_t off = data_off(c, who, s, i);
                if (writing && c->verify)
                    pat_fill(buf, (size_t)c->xfer, c->seed, c->rank, off);
                double l0 = now_us();
                ssize_t n = writing ? io->pwrite(io, fd, buf, (size_t)c->xfer, (off_t)off)
                                    : io->pread(io, fd, buf, (size_t)c->xfer, (off_t)off);
                acc_lat(&a, now_us() - l0);
                if (n < 0) {
                    acc_err(&a, io, writing ? "write" : "read", path, errno);
                } else if ((uint64_t)n != c->xfer) {
                    a.errors++;
                    if (!a.err[0])
                        snprintf(a.err, sizeof a.err, "%s %.200s: short transfer (%zd of %llu) at %llu",
                                 writing ? "write" : "read", path, n,
                                 (unsigned long long)c->xfer, (unsigned long long)off);
                } else {
                    a.bytes += (double)n;
                    a.ops += 1;
                    if (!writing && c->verify) {
                        uint64_t first = 0;
                        long bad = pat_check(buf, (size_t)n, c->seed, who, off, &first);
                        acc_verify(&a, path, bad, first, who);
                    }
                }
            }
        }
        if (writing && c->fsync && io->fsync(io, fd) != 0)
            acc_err(&a, io, "fsync", path, errno);
        if (io->close(io, fd) != 0)
            acc_err(&a, io, "close", path, errno);
    }
    a.t1 = MPI_Wtime();
    free(buf);
    acc_reduce(c, &a, res);
}

/* --corrupt-for-test: flip one byte of rank 0's data in the middle of its first block. */
static void corrupt_one_byte(struct bench_io *io, const char *path, uint64_t off)
{
    unsigned char b = 0;
    int fd = io->open(io, path, O_RDWR, 0644);
    if (fd < 0 || io->pread(io, fd, &b, 1, (off_t)off) != 1) {
        fprintf(stderr, "benchfs-bench: --corrupt-for-test: cannot read %s\n", path);
    } else {
        b ^= 0x5a;
        if (io->pwrite(io, fd, &b, 1, (off_t)off) != 1 || io->fsync(io, fd) != 0)
            fprintf(stderr, "benchfs-bench: --corrupt-for-test: cannot write %s\n", path);
    }
    if (fd >= 0)
        io->close(io, fd);
}

/* ---- metadata phases ---- */

/* The name of rank r's i-th entry (path_of's format, taking r then i). */
static const char *md_name_fmt(const struct bench_cfg *c, int dir)
{
    if (c->unique_dir)
        return dir ? "md/r%d/dir.%llu" : "md/r%d/file.%llu";
    return dir ? "md/dir.%d.%llu" : "md/file.%d.%llu";
}

/* -u: each rank makes (make=1) or removes its own md/r<rank>; 0, or -1 with err set. */
static int rank_dir(const struct bench_cfg *c, struct bench_io *io, int make, char *err,
                    size_t errlen)
{
    char path[1200];
    path_of(io, path, sizeof path, "md/r%d", c->rank, 0);
    if (make ? io->mkdir(io, path, 0755) == 0 || errno == EEXIST : io->rmdir(io, path) == 0)
        return 0;
    snprintf(err, errlen, "%s %.200s: %.120s", make ? "mkdir" : "rmdir", path,
             io->strerror(io, errno));
    return -1;
}

static void phase_md(const struct bench_cfg *c, struct bench_io *io, enum phase_id ph,
                     struct phase_res *res)
{
    struct rank_acc a;
    acc_init(&a, c->files);
    /* stat and read follow -C like mdtest's -N: they look at another rank's names */
    int foreign = ph == PH_FILE_STAT || ph == PH_FILE_READ || ph == PH_DIR_STAT;
    int who = foreign ? read_target(c) : c->rank;
    unsigned char *buf = c->md_write ? malloc((size_t)c->md_write) : NULL;
    char path[1200];
    MPI_Barrier(MPI_COMM_WORLD);
    a.t0 = MPI_Wtime();
    /* stop at the first failed call, as mdtest does: a dead server must not cost n timeouts */
    for (uint64_t i = 0; i < c->files && !a.errors; i++) {
        int dir = ph <= PH_DIR_REMOVE;
        path_of(io, path, sizeof path, md_name_fmt(c, dir), who, i);
        /* small files: the pattern of rank `who` at a per-file virtual offset */
        uint64_t voff = i << 24;
        double l0 = now_us();
        int ok = 1;
        uint64_t size = 0;
        int is_dir = 0;
        switch (ph) {
        case PH_DIR_CREATE:
            if (io->mkdir(io, path, 0755) != 0) {
                acc_err(&a, io, "mkdir", path, errno);
                ok = 0;
            }
            break;
        case PH_DIR_STAT:
            if (io->stat(io, path, NULL, &is_dir) != 0) {
                acc_err(&a, io, "stat", path, errno);
                ok = 0;
            } else if (!is_dir) {
                acc_err(&a, io, "stat", path, ENOTDIR);
                ok = 0;
            }
            break;
        case PH_DIR_REMOVE:
            if (io->rmdir(io, path) != 0) {
                acc_err(&a, io, "rmdir", path, errno);
                ok = 0;
            }
            break;
        case PH_FILE_CREATE: {
            int fd = io->open(io, path, O_CREAT | O_EXCL | O_WRONLY, 0644);
            if (fd < 0) {
                acc_err(&a, io, "create", path, errno);
                ok = 0;
                break;
            }
            if (c->md_write) {
                pat_fill(buf, (size_t)c->md_write, c->seed, c->rank, voff);
                ssize_t n = io->pwrite(io, fd, buf, (size_t)c->md_write, 0);
                if (n != (ssize_t)c->md_write) {
                    acc_err(&a, io, "write", path, n < 0 ? errno : EIO);
                    ok = 0;
                } else {
                    a.bytes += (double)n;
                }
            }
            if (io->close(io, fd) != 0) {
                acc_err(&a, io, "close", path, errno);
                ok = 0;
            }
            break;
        }
        case PH_FILE_STAT:
            if (io->stat(io, path, &size, NULL) != 0) {
                acc_err(&a, io, "stat", path, errno);
                ok = 0;
            } else if (size != c->md_write) {
                a.errors++;
                ok = 0;
                if (!a.err[0])
                    snprintf(a.err, sizeof a.err, "stat %.200s: size %llu, expected %llu", path,
                             (unsigned long long)size, (unsigned long long)c->md_write);
            }
            break;
        case PH_FILE_READ: {
            int fd = io->open(io, path, O_RDONLY, 0);
            if (fd < 0) {
                acc_err(&a, io, "open", path, errno);
                ok = 0;
                break;
            }
            ssize_t n = io->pread(io, fd, buf, (size_t)c->md_write, 0);
            if (n != (ssize_t)c->md_write) {
                acc_err(&a, io, "read", path, n < 0 ? errno : EIO);
                ok = 0;
            } else {
                a.bytes += (double)n;
                if (c->verify) {
                    uint64_t first = 0;
                    long bad = pat_check(buf, (size_t)n, c->seed, who, voff, &first);
                    acc_verify(&a, path, bad, first - voff, who);
                }
            }
            if (io->close(io, fd) != 0) {
                acc_err(&a, io, "close", path, errno);
                ok = 0;
            }
            break;
        }
        case PH_FILE_REMOVE:
            if (io->unlink(io, path) != 0) {
                acc_err(&a, io, "unlink", path, errno);
                ok = 0;
            }
            break;
        default:
            break;
        }
        acc_lat(&a, now_us() - l0);
        if (ok)
            a.ops += 1;
    }
    a.t1 = MPI_Wtime();
    free(buf);
    acc_reduce(c, &a, res);
}

/* ---- setup and cleanup (rank 0) ---- */

/* mkdir -p of the backend's root; *created says whether the last component is ours. */
static int mkdir_p(struct bench_io *io, const char *dir, int *created, char *err, size_t errlen)
{
    char p[1024];
    snprintf(p, sizeof p, "%s", dir);
    size_t len = strlen(p);
    while (len > 1 && p[len - 1] == '/')
        p[--len] = '\0';
    *created = 0;
    for (size_t i = 1; i <= len; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char save = p[i];
        p[i] = '\0';
        if (io->mkdir(io, p, 0755) == 0) {
            *created = i == len;
        } else {
            int e = errno, is_dir = 0;
            if (e != EEXIST || io->stat(io, p, NULL, &is_dir) != 0 || !is_dir) {
                snprintf(err, errlen, "mkdir %.200s: %.120s", p,
                         io->strerror(io, e == EEXIST ? ENOTDIR : e));
                return -1;
            }
        }
        p[i] = save;
    }
    return 0;
}

int bench_run(const struct bench_cfg *c, struct bench_io *io, struct backend_res *out)
{
    memset(out, 0, sizeof *out);
    out->name = io->name;
    out->key = io->key;
    snprintf(out->root, sizeof out->root, "%s", io->root);
    char err[512] = "", path[1200];
    int created = 0, ok = 1;
    if (c->rank == 0) {
        if (mkdir_p(io, io->root, &created, err, sizeof err) != 0) {
            ok = 0;
        } else {
            path_of(io, path, sizeof path, "md", 0, 0);
            if (c->run_md && io->mkdir(io, path, 0755) != 0 && errno != EEXIST) {
                snprintf(err, sizeof err, "mkdir %.200s: %.120s", path, io->strerror(io, errno));
                ok = 0;
            }
            /* a shared file left by an earlier run would mix old data into this one */
            path_of(io, path, sizeof path, "testfile", 0, 0);
            if (c->run_bw && !c->fpp)
                io->unlink(io, path);
        }
    }
    MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (ok && c->run_md && c->unique_dir) {
        int mine = rank_dir(c, io, 1, err, sizeof err) == 0;
        MPI_Allreduce(&mine, &ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
        if (!mine)
            fprintf(stderr, "benchfs-bench: %s setup (rank %d): %s\n", io->name, c->rank, err);
    }
    if (!ok) {
        if (c->rank == 0)
            fprintf(stderr, "benchfs-bench: %s setup: %s\n", io->name, err);
        return -1;
    }

    if (c->run_bw) {
        phase_bw(c, io, 1, &out->ph[PH_WRITE]);
        MPI_Barrier(MPI_COMM_WORLD);
        if (c->corrupt && c->rank == 0) {
            data_path(c, io, path, sizeof path, 0);
            corrupt_one_byte(io, path, data_off(c, 0, 0, 0) + c->block / 2);
        }
        phase_bw(c, io, 0, &out->ph[PH_READ]);
    }
    if (c->run_md) {
        phase_md(c, io, PH_DIR_CREATE, &out->ph[PH_DIR_CREATE]);
        phase_md(c, io, PH_DIR_STAT, &out->ph[PH_DIR_STAT]);
        phase_md(c, io, PH_DIR_REMOVE, &out->ph[PH_DIR_REMOVE]);
        phase_md(c, io, PH_FILE_CREATE, &out->ph[PH_FILE_CREATE]);
        phase_md(c, io, PH_FILE_STAT, &out->ph[PH_FILE_STAT]);
        if (c->md_write) {
            MPI_Barrier(MPI_COMM_WORLD);
            if (c->corrupt && c->rank == 0) {
                path_of(io, path, sizeof path, md_name_fmt(c, 0), 0, 0);
                corrupt_one_byte(io, path, c->md_write / 2);
            }
            phase_md(c, io, PH_FILE_READ, &out->ph[PH_FILE_READ]);
        }
        phase_md(c, io, PH_FILE_REMOVE, &out->ph[PH_FILE_REMOVE]);
    }

    /* cleanup: every rank its own data file, rank 0 the shared names */
    MPI_Barrier(MPI_COMM_WORLD);
    if (!c->keep) {
        if (c->run_bw && c->fpp) {
            data_path(c, io, path, sizeof path, c->rank);
            io->unlink(io, path);
        }
        if (c->run_md && c->unique_dir && rank_dir(c, io, 0, err, sizeof err) != 0)
            fprintf(stderr, "benchfs-bench: %s cleanup: %s\n", io->name, err);
        MPI_Barrier(MPI_COMM_WORLD);
        if (c->rank == 0) {
            if (c->run_bw && !c->fpp) {
                data_path(c, io, path, sizeof path, 0);
                io->unlink(io, path);
            }
            path_of(io, path, sizeof path, "md", 0, 0);
            if (c->run_md)
                io->rmdir(io, path);
            if (created)
                io->rmdir(io, io->root);
        }
    }
    MPI_Barrier(MPI_COMM_WORLD);
    return 0;
}
