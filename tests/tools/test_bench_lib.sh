# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
# test_bench_lib.sh — sourced by the benchfs-bench tests: a local cluster and an mpirun line.
# Needs BENCHFSD, BENCH (paths of the binaries) and MPIRUN (mpiexec) in the environment.
set -euo pipefail

T=$(mktemp -d "${TMPDIR:-/tmp}/benchfs-bench-test.XXXXXX")
SERVER_PIDS=()
FAILS=0

_cleanup() {
  local rc=$?
  trap - EXIT
  if [ ${#SERVER_PIDS[@]} -gt 0 ]; then
    kill -TERM "${SERVER_PIDS[@]}" 2>/dev/null || true
    wait "${SERVER_PIDS[@]}" 2>/dev/null || true
  fi
  if [ $rc -ne 0 ]; then
    for f in "$T"/server*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }; done
  fi
  rm -rf "$T"
  exit $rc
}
trap _cleanup EXIT
trap 'exit 143' TERM INT

# start_cluster N: N benchfsd under $T, waits until all are in $T/registry.
start_cluster() {
  local n=$1 i
  for i in $(seq 0 $((n - 1))); do
    "$BENCHFSD" --data-dir "$T/data$i" --registry "$T/registry" --id "$i" --nservers "$n" \
        >"$T/server$i.log" 2>&1 &
    SERVER_PIDS+=($!)
  done
  for _ in $(seq 300); do
    local up=0
    for i in $(seq 0 $((n - 1))); do [ -f "$T/registry/server.$i" ] && up=$((up + 1)); done
    [ $up -eq "$n" ] && return 0
    sleep 0.1
  done
  echo "FAIL: $n servers did not register within 30 s"
  exit 1
}

MPI=("$MPIRUN" --oversubscribe)
[ "$(id -u)" -eq 0 ] && MPI+=(--allow-run-as-root)
export OMPI_MCA_pml=${OMPI_MCA_pml:-ob1}
export OMPI_MCA_btl=${OMPI_MCA_btl:-self,vader}
export OMPI_MCA_btl_vader_single_copy_mechanism=${OMPI_MCA_btl_vader_single_copy_mechanism:-none}

# bench NP ARGS...: run benchfs-bench under mpirun; sets RC, output in $T/out.txt.
bench() {
  local np=$1
  shift
  set +e
  timeout 240 "${MPI[@]}" -np "$np" "$BENCH" "$@" >"$T/out.txt" 2>&1
  RC=$?
  set -e
  cat "$T/out.txt"
}

fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
expect_rc() { [ "$RC" -eq "$1" ] || fail "$2: exit status $RC, expected $1"; }
expect_out() { grep -q -- "$1" "$T/out.txt" || fail "output lacks '$1'"; }

# json_query FILE PYEXPR: evaluates a Python expression over the parsed JSON `j` (python3), or
# falls back to jq with JQEXPR (third argument). Prints the result.
json_query() {
  if command -v python3 >/dev/null; then
    python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"
  elif command -v jq >/dev/null; then
    jq -r "$3" "$1"
  else
    echo "SKIP-NO-JSON-TOOL"
  fi
}

finish() {
  if [ $FAILS -ne 0 ]; then
    echo "$1: $FAILS failure(s)"
    exit 1
  fi
  echo "$1: ok"
}
