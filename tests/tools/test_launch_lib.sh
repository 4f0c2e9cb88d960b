# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
# test_launch_lib.sh — sourced by test_launch_mpi.sh and test_benchfsctl.sh: a scratch
# directory, an mpirun line that works as root in a container, and process helpers.
set -euo pipefail

T=$(mktemp -d "${TMPDIR:-/tmp}/benchfs-launch-test.XXXXXX")
KILL_ON_EXIT=()   # pids (mpirun, servers) to take down if the test dies half way
FAILS=0

_launch_cleanup() {
  local rc=$?
  trap - EXIT
  local p
  for p in "${KILL_ON_EXIT[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  sleep 0.5
  for p in "${KILL_ON_EXIT[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  if [ $rc -ne 0 ]; then
    for f in "$T"/*.log "$T"/*/*.log; do
      [ -f "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }
    done
  fi
  rm -rf "$T"
  exit $rc
}
trap _launch_cleanup EXIT
trap 'exit 143' TERM INT

MPI=("$MPIRUN" --oversubscribe)
[ "$(id -u)" -eq 0 ] && MPI+=(--allow-run-as-root)
# Shared memory between the ranks, no network or RDMA probing inside a container.
export OMPI_MCA_pml=${OMPI_MCA_pml:-ob1}
export OMPI_MCA_btl=${OMPI_MCA_btl:-self,vader}
export OMPI_MCA_btl_vader_single_copy_mechanism=${OMPI_MCA_btl_vader_single_copy_mechanism:-none}
# Clients should find a dead server quickly.
export BENCHFS_RPC_TIMEOUT_MS=${BENCHFS_RPC_TIMEOUT_MS:-5000}

fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }

# alive PID: the process exists and is not a zombie (an orphaned server killed with SIGKILL
# may stay a zombie when PID 1 does not reap).
alive() {
  local s
  [ -r "/proc/$1/stat" ] || return 1
  s=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1) || return 1
  [ -n "$s" ] && [ "$s" != Z ] && [ "$s" != X ]
}

# wait_gone SECONDS PID...: true once none of the pids is alive.
wait_gone() {
  local t=$1 p left
  shift
  for _ in $(seq $((t * 10))); do
    left=0
    for p in "$@"; do alive "$p" && left=1; done
    [ $left -eq 0 ] && return 0
    sleep 0.1
  done
  return 1
}

# wait_file SECONDS PATH
wait_file() {
  for _ in $(seq $(($1 * 10))); do [ -e "$2" ] && return 0; sleep 0.1; done
  return 1
}

# entry_pid REGISTRY ID: the pid a server entry announces.
entry_pid() { sed -n 's/^pid=//p' "$1/server.$2"; }

# expect RC CMD...: run, keep stdout in $T/out.txt and stderr in $T/err.txt, check the exit
# status; has REGEX FILE: FILE (out.txt or err.txt) matches.
expect() {
  local want=$1
  shift
  set +e
  "$@" >"$T/out.txt" 2>"$T/err.txt"
  RC=$?
  set -e
  [ "$RC" -eq "$want" ] || { fail "'$*': exit $RC, expected $want"; cat "$T/out.txt" "$T/err.txt"; }
}
has() { grep -Eq -- "$1" "$T/$2" || { fail "$2 lacks '$1'"; cat "$T/$2"; }; }

finish() {
  if [ "$FAILS" -ne 0 ]; then
    echo "$FAILS check(s) failed"
    exit 1
  fi
  echo "PASS"
}
