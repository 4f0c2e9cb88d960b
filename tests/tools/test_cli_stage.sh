#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# benchfs stage-in/stage-out under mpirun (2 ranks, big files cut over both with --split) and
# as a single process without mpirun: the tree comes back identical (sha256, types, modes).
# Usage: test_cli_stage.sh BENCHFS BENCHFSD MPIEXEC
. "$(dirname "$0")/test_cli_common.sh"
cli_init "$1" "$2" 2
MPIEXEC=${3:-mpirun}
export BENCHFS_CHUNK_SIZE=65536
# OpenMPI in a container, as root: shared memory + self only (no network probing); no CMA
# single-copy (ptrace is often forbidden in containers).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl=self,vader OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_MCA_rmaps_base_oversubscribe=1
MPI=("$MPIEXEC" --allow-run-as-root --oversubscribe -np 2)

make_tree "$W/src"
head -c 2500000 /dev/urandom >"$W/src/a/b/c/cut in ten.bin" # 10 pieces of 256K
want=$(tree_sig "$W/src")

# 2 ranks, the big files cut into 256 KiB ranges spread over both ranks
ok "${MPI[@]}" "$BFS" stage-in -v --split 256K "$W/src" /staged/in
has "$OUT" "^stage-in: 28 files, 9 directories, .* in [0-9.]+ s, [0-9.]+ GiB/s, 2 ranks$"
has "$ERR" "stage-in: rank 0: [0-9]+ pieces, [1-9][0-9]* bytes, 0 errors"
has "$ERR" "stage-in: rank 1: [0-9]+ pieces, [1-9][0-9]* bytes, 0 errors"
ok "$BFS" stat "/staged/in/a/b/c/cut in ten.bin"; has "$OUT" "Size: 2500000 "
ok "${MPI[@]}" "$BFS" stage-out --split 256K /staged/in "$W/out/deep"
has "$OUT" "^stage-out: 28 files, 9 directories, .* 2 ranks$"
same "$(tree_sig "$W/out/deep")" "$want"
same "$(stat -c %a "$W/out/deep")" "$(stat -c %a "$W/src")"

# default split (64M): whole files balanced over ranks
ok "${MPI[@]}" "$BFS" stage-out -q /staged/in "$W/out2"
same "$OUT" ""
same "$(tree_sig "$W/out2")" "$want"

# one process, no mpirun
ok "$BFS" stage-in "$W/src" /single
has "$OUT" "^stage-in: 28 files, 9 directories"
ok "$BFS" stage-out /single "$W/out3"
same "$(tree_sig "$W/out3")" "$want"

# a forced progress bar under mpirun: rank 0 draws, fed by rank 1's reports
ok "${MPI[@]}" "$BFS" stage-in --progress --split 256K "$W/src" /staged/prog
has "$ERR" "100% .* files 28/28"

# errors reach every rank's exit status
bad 1 "benchfs: stage-in: $W/none: No such file or directory" "${MPI[@]}" "$BFS" stage-in "$W/none" /x
bad 1 "benchfs: stage-out: /none: No such file or directory" "$BFS" stage-out /none "$W/x"
bad 2 "missing operand" "$BFS" stage-in "$W/src"
bad 2 "invalid --split" "$BFS" stage-in --split x "$W/src" /y
bad 2 "invalid option -- 'r'" "$BFS" stage-in -r "$W/src" /y

cli_finish test_cli_stage
