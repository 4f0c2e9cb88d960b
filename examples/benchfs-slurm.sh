#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#SBATCH --job-name=benchfs
#SBATCH --nodes=4
#SBATCH --ntasks-per-node=16
#SBATCH --time=01:00:00
#SBATCH --exclusive
#
# benchfs-slurm.sh — a job's whole day with BenchFS under Slurm (sbatch examples/benchfs-slurm.sh):
#   1. start one benchfsd per node on node-local storage (benchfsctl start --hostfile: mpirun),
#   2. wait until every server answers,
#   3. stage the input in from the parallel file system (mpirun benchfs stage-in, one rank/node),
#   4. run the MPI program against BenchFS (here benchfs-bench; IOR with -a BENCHFS below),
#   5. stage the results out (mpirun benchfs stage-out),
#   6. stop the servers cleanly and remove the node-local data — also when a step fails.
# Change the variables below (or set them in the environment of sbatch). Needs Open MPI's
# mpirun (or set MPIRUN) and BenchFS installed at the same path on every node.
set -euo pipefail

BENCHFS_PREFIX=${BENCHFS_PREFIX:-$HOME/benchfs}        # cmake --install prefix or Spack prefix
LOCAL_DIR=${LOCAL_DIR:-/tmp/$USER}                      # node-local storage (NVMe, tmpfs) on each node
SHARED_DIR=${SHARED_DIR:-$HOME/.benchfs}                # on a file system every node sees
INPUT=${INPUT:-$HOME/dataset}                           # input tree on the parallel file system
RESULTS=${RESULTS:-$HOME/results/benchfs-$SLURM_JOB_ID} # where the output tree goes
MPIRUN=${MPIRUN:-mpirun}
export MPIRUN

export PATH=$BENCHFS_PREFIX/bin:$PATH
JOB=$SLURM_JOB_ID
NNODES=$SLURM_JOB_NUM_NODES
NTASKS=${SLURM_NTASKS:-$NNODES}
REGISTRY=$SHARED_DIR/registry.$JOB                      # the servers' addresses and the cluster key
HOSTFILE=$SHARED_DIR/hosts.$JOB
DATA=$LOCAL_DIR/benchfs.$JOB                            # each server: $DATA/rank<r> on its node
mkdir -p "$SHARED_DIR" "$(dirname "$RESULTS")"

cleanup() {
    local rc=$?
    trap - EXIT
    echo "== stop the servers"
    benchfsctl stop -r "$REGISTRY" -t 120 || rc=1
    # Scratch only: remove every node's data directory (BenchFS lives for the job).
    srun --ntasks-per-node=1 --nodes="$NNODES" rm -rf "$DATA" || true
    rm -f "$HOSTFILE"
    exit "$rc"
}

echo "== start one benchfsd per node on $NNODES nodes"
scontrol show hostnames "$SLURM_JOB_NODELIST" >"$HOSTFILE"
trap cleanup EXIT
# Prints "export BENCHFS_REGISTRY=..." once every server is registered; clients use it.
eval "$(benchfsctl start --hostfile "$HOSTFILE" -n "$NNODES" -d "$DATA" -r "$REGISTRY" -t 300)"
# The same without benchfsctl (srun with PMIx; stop with: kill -TERM of the srun, then wait):
#   srun --mpi=pmix --ntasks-per-node=1 benchfsd --data-dir "$DATA" --registry "$REGISTRY" &
#   export BENCHFS_REGISTRY=$REGISTRY

echo "== wait until every server answers"
benchfsctl wait -r "$BENCHFS_REGISTRY" -n "$NNODES" -t 300
benchfsctl status -r "$BENCHFS_REGISTRY"
benchfs df -h

echo "== stage in $INPUT -> /input"
"$MPIRUN" -np "$NNODES" --map-by ppr:1:node -x BENCHFS_REGISTRY \
    benchfs stage-in "$INPUT" /input

echo "== run the MPI program: $NTASKS ranks"
# benchfs-bench: 256 MiB per rank, file per process, verified, files kept in /output/bench.
"$MPIRUN" -np "$NTASKS" -x BENCHFS_REGISTRY \
    benchfs-bench -d /output/bench -k -F -t 1M -b 256M -W \
    --json "$SHARED_DIR/bench.$JOB.json"
# IOR and mdtest with the BenchFS backend (contrib/ior/):
#   "$MPIRUN" -np "$NTASKS" ior -a BENCHFS --benchfs.registry="$BENCHFS_REGISTRY" \
#       -o /output/ior.dat -t 1m -b 256m -F -e -w -r -k
# Your own program through libbenchfs (benchfs_init(NULL) reads BENCHFS_REGISTRY):
#   "$MPIRUN" -np "$NTASKS" -x BENCHFS_REGISTRY ./my_app --input /input --output /output

echo "== stage out /output -> $RESULTS"
"$MPIRUN" -np "$NNODES" --map-by ppr:1:node -x BENCHFS_REGISTRY \
    benchfs stage-out /output "$RESULTS"
mv "$SHARED_DIR/bench.$JOB.json" "$RESULTS/"
echo "== done: results in $RESULTS"
