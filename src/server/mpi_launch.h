/* SPDX-License-Identifier: BSD-3-Clause */
/* mpi_launch.h — benchfsd started by mpirun/srun: one rank per server.
 *
 * Start-up under MPI (main.c drives it; nothing here runs once the event loop has started):
 *   1. bfs_mpi_begin: MPI_Init; id = rank, nservers = size; the data directory is made unique
 *      per rank ("%r" -> rank, "%h" -> host name, "%%" -> "%"; with no pattern and more than one
 *      rank, DIR/rank<r>).
 *   2. Every rank opens its stores and its UCX worker; bfs_mpi_all_ok agrees that all did.
 *   3. bfs_mpi_publish: rank 0 makes (or reads) the cluster key and broadcasts it; the ranks
 *      gather address, pid and host (MPI_Allgather + MPI_Allgatherv); rank 0 writes every
 *      server.<id> entry (server.0 last, so a client that sees server.0 sees them all); a
 *      barrier, so no rank serves before the registry is complete.
 *   4. bfs_mpi_end: MPI_Finalize — right after start-up, not at exit: MPI is not needed while
 *      serving, and a finalized rank can then be stopped alone (SIGTERM) and exit 0 without
 *      hanging in MPI_Finalize's job-wide fence or making mpirun abort the other ranks.
 * The header has no MPI types, so config.c can ask whether MPI launched us. */
#ifndef BFS_SERVER_MPI_LAUNCH_H
#define BFS_SERVER_MPI_LAUNCH_H

#include <stdint.h>

#include "common/wire.h"
#include "config.h"
#include "net/registry.h"

/* 1 if the environment says an MPI launcher or srun started this process (OMPI_COMM_WORLD_SIZE,
 * PMIX_RANK, PMI_RANK + PMI_SIZE, or SLURM_PROCID + SLURM_NTASKS inside an srun step). No MPI
 * call. */
int bfs_mpi_detected(void);

/* MPI_Init, then id/nservers from rank/size and the per-rank data directory in `c`. Returns 0;
 * -1 after a message about bad settings (the caller still goes through bfs_mpi_all_ok and
 * bfs_mpi_end, so every rank leaves together); -2 if MPI_Init itself failed (just exit). */
int bfs_mpi_begin(int *argc, char ***argv, struct bfs_server_config *c);

/* Collective: 1 if every rank passes ok != 0. */
int bfs_mpi_all_ok(int ok);

/* Collective: key agreement, address exchange, rank 0 writes the registry, barrier. `self` is
 * this rank's entry (id, nservers, pid, host, addr). On return `key` holds the cluster key.
 * Returns 0 on every rank, or the same negative errno on every rank. */
int bfs_mpi_publish(const char *registry, uint8_t key[BFS_KEY_LEN],
                    const struct bfs_registry_entry *self);

/* MPI_Finalize, once, if MPI_Init ran. */
void bfs_mpi_end(void);

#endif
