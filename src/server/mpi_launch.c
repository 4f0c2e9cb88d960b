/* SPDX-License-Identifier: BSD-3-Clause */
/* mpi_launch.c — benchfsd under mpirun/srun (see mpi_launch.h). */
#include "mpi_launch.h"

#include <errno.h>
#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int g_rank, g_size = 1;

static int env_set(const char *name)
{
    const char *v = getenv(name);
    return v && *v;
}

int bfs_mpi_detected(void)
{
    return env_set("OMPI_COMM_WORLD_SIZE") || env_set("PMIX_RANK") ||
           (env_set("PMI_RANK") && env_set("PMI_SIZE")) ||
           /* srun sets the step id; a batch script (SLURM_PROCID=0 too) does not */
           (env_set("SLURM_PROCID") && env_set("SLURM_NTASKS") &&
            (env_set("SLURM_STEP_ID") || env_set("SLURM_STEPID")));
}

/* "%r" -> rank, "%h" -> host name, "%%" -> "%". Returns 1 if a pattern was expanded, 0 if the
 * path had none, -1 if the result does not fit or a '%' is followed by anything else. */
static int expand(const char *in, char *out, size_t cap, int rank, const char *host)
{
    size_t o = 0;
    int pattern = 0;
    for (const char *p = in; *p; p++) {
        char tmp[96];
        const char *piece = tmp;
        if (*p != '%') {
            tmp[0] = *p;
            tmp[1] = '\0';
        } else if (p[1] == 'r') {
            snprintf(tmp, sizeof tmp, "%d", rank);
            pattern = 1;
            p++;
        } else if (p[1] == 'h') {
            piece = host;
            pattern = 1;
            p++;
        } else if (p[1] == '%') {
            tmp[0] = '%';
            tmp[1] = '\0';
            p++;
        } else {
            return -1;
        }
        size_t n = strlen(piece);
        if (o + n >= cap)
            return -1;
        memcpy(out + o, piece, n);
        o += n;
    }
    out[o] = '\0';
    return pattern;
}

/* mkdir -p of every component above the last (main.c creates the last one). */
static int mkdir_parents(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *s = buf + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST)
            return -errno;
        *s = '/';
    }
    return 0;
}

int bfs_mpi_begin(int *argc, char ***argv, struct bfs_server_config *c)
{
    if (MPI_Init(argc, argv) != MPI_SUCCESS) {
        fprintf(stderr, "benchfsd: MPI_Init failed\n");
        return -2;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    if (c->nservers_given && c->nservers != (uint32_t)g_size) {
        fprintf(stderr,
                "benchfsd[rank %d]: --nservers %u, but MPI started %d ranks (leave --nservers "
                "out, or pass --no-mpi to ignore the MPI launcher)\n",
                g_rank, c->nservers, g_size);
        return -1;
    }
    if (c->id_given && c->id != (uint32_t)g_rank) {
        fprintf(stderr,
                "benchfsd[rank %d]: --id %u contradicts the MPI rank (leave --id out, or pass "
                "--no-mpi to ignore the MPI launcher)\n",
                g_rank, c->id);
        return -1;
    }
    c->id = (uint32_t)g_rank;
    c->nservers = (uint32_t)g_size;

    char host[64] = "";
    gethostname(host, sizeof host - 1);
    char dir[sizeof c->data_dir];
    int pat = expand(c->data_dir, dir, sizeof dir, g_rank, host);
    if (pat < 0) {
        fprintf(stderr, "benchfsd[rank %d]: --data-dir %s: only %%r, %%h and %%%% may follow a "
                        "'%%', and the result must stay under 4096 bytes\n",
                g_rank, c->data_dir);
        return -1;
    }
    if (!pat && g_size > 1) {
        size_t n = strlen(dir);
        while (n > 1 && dir[n - 1] == '/')
            dir[--n] = '\0';
        if (n + 16 >= sizeof dir) {
            fprintf(stderr, "benchfsd[rank %d]: --data-dir too long\n", g_rank);
            return -1;
        }
        snprintf(dir + n, sizeof dir - n, "/rank%d", g_rank);
    }
    int err = mkdir_parents(dir);
    if (err) {
        fprintf(stderr, "benchfsd[rank %d]: data directory %s: %s\n", g_rank, dir, strerror(-err));
        return -1;
    }
    memcpy(c->data_dir, dir, sizeof dir);
    return 0;
}

int bfs_mpi_all_ok(int ok)
{
    int all = 0;
    if (MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD) != MPI_SUCCESS)
        return 0;
    return all != 0;
}

struct rank_info {
    int64_t pid;
    uint32_t id;
    char host[64];
    char listen[64];
    char local[108];
};

/* Rank 0: write server.1 .. server.N-1, then server.0, and drop stale entries of a larger
 * earlier cluster, so a reader that sees server.0 (which announces N) finds a complete set. */
static int write_registry(const char *registry, uint32_t n, const struct rank_info *info)
{
    for (uint32_t k = 1; k <= n; k++) {
        uint32_t id = k % n;
        if (info[id].id != id)
            return -EPROTO;
        struct bfs_registry_entry e = {.id = id, .nservers = n, .pid = (pid_t)info[id].pid};
        snprintf(e.host, sizeof e.host, "%.*s", (int)sizeof e.host - 1, info[id].host);
        snprintf(e.listen, sizeof e.listen, "%.*s", (int)sizeof e.listen - 1, info[id].listen);
        snprintf(e.local, sizeof e.local, "%.*s", (int)sizeof e.local - 1, info[id].local);
        int err = bfs_registry_publish(registry, &e);
        if (err)
            return err;
    }
    for (uint32_t id = n; bfs_registry_unpublish(registry, id) == 0; id++)
        ;
    return 0;
}

int bfs_mpi_publish(const char *registry, uint8_t key[BFS_KEY_LEN],
                    const struct bfs_registry_entry *self)
{
    /* The key: rank 0 makes it (or keeps the one a restarted cluster already has). */
    int err = g_rank == 0 ? bfs_registry_key_ensure(registry, key) : 0;
    MPI_Bcast(&err, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (err)
        return err;
    MPI_Bcast(key, BFS_KEY_LEN, MPI_BYTE, 0, MPI_COMM_WORLD);

    struct rank_info mine = {.pid = self->pid, .id = self->id};
    snprintf(mine.host, sizeof mine.host, "%s", self->host);
    snprintf(mine.listen, sizeof mine.listen, "%s", self->listen);
    snprintf(mine.local, sizeof mine.local, "%s", self->local);
    size_t n = (size_t)g_size;
    struct rank_info *info = calloc(n, sizeof *info);
    if (bfs_mpi_all_ok(info != NULL)) {
        MPI_Allgather(&mine, (int)sizeof mine, MPI_BYTE, info, (int)sizeof mine, MPI_BYTE,
                      MPI_COMM_WORLD);
        if (g_rank == 0)
            err = write_registry(registry, (uint32_t)n, info);
        MPI_Bcast(&err, 1, MPI_INT, 0, MPI_COMM_WORLD);
    } else {
        err = -ENOMEM;
    }
    free(info);
    /* Nobody serves before the registry is complete (and nobody leaves before rank 0 wrote). */
    MPI_Barrier(MPI_COMM_WORLD);
    return err;
}

void bfs_mpi_end(void)
{
    int init = 0, fin = 0;
    MPI_Initialized(&init);
    MPI_Finalized(&fin);
    if (init && !fin)
        MPI_Finalize();
}
