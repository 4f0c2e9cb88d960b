#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# quickstart.sh — BenchFS from a fresh Debian 12 machine to a BenchFS-vs-POSIX comparison:
# installs missing dependencies (scripts/install-deps.sh), builds into build/, starts a local
# cluster of 4 benchfsd servers in a temporary directory, runs `mpirun -np 2 benchfs-bench`
# against it and, with --posix, against a local directory in the same run, prints the
# comparison, then stops the servers and removes the temporary directory (also on failure).
#
#   scripts/quickstart.sh [--small] [--servers N] [--ranks N] [--keep] [-- BENCH-ARGS...]
#
# Environment: QUICKSTART_SIZE=small (same as --small), QUICKSTART_SERVERS, QUICKSTART_RANKS,
# BUILD_DIR (use this build tree; if it already holds benchfsd and benchfs-bench nothing is
# built), QUICKSTART_SKIP_DEPS=1 (do not check dependencies), QUICKSTART_OUT (prefix of the
# JSON and PNG results; default $BUILD_DIR/quickstart), QUICKSTART_TIMEOUT (seconds, 900),
# TMPDIR (where the cluster lives).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SIZE=${QUICKSTART_SIZE:-default}
NSERVERS=${QUICKSTART_SERVERS:-4}
NRANKS=${QUICKSTART_RANKS:-2}
KEEP=0
EXTRA=()

usage() {
  sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
  case "$1" in
    --small) SIZE=small ;;
    --servers) NSERVERS=${2:?--servers needs a number}; shift ;;
    --ranks) NRANKS=${2:?--ranks needs a number}; shift ;;
    --keep) KEEP=1 ;;
    -h|--help) usage; exit 0 ;;
    --) shift; EXTRA=("$@"); break ;;
    *) echo "quickstart: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$NSERVERS$NRANKS" in *[!0-9]*|"") echo "quickstart: --servers/--ranks need numbers" >&2; exit 2 ;; esac
if [ "$NSERVERS" -lt 1 ] || [ "$NRANKS" -lt 1 ]; then echo "quickstart: need at least 1 server and 1 rank" >&2; exit 2; fi
case "$SIZE" in
  small)   BENCH=(-t 256K -b 4M -s 2 -F -C -W -n 50 -w 1K) ;;
  default) BENCH=(-t 1M -b 64M -s 1 -F -C -W -n 500 -w 4K) ;;
  *) echo "quickstart: QUICKSTART_SIZE must be 'small' or 'default', not '$SIZE'" >&2; exit 2 ;;
esac

say() { printf '\n== %s\n' "$*"; }

# ---- 1. dependencies ----
if [ "${QUICKSTART_SKIP_DEPS:-0}" != 1 ]; then
  say "dependencies"
  if command -v dpkg-query >/dev/null; then
    bash "$ROOT/scripts/install-deps.sh"
  else
    echo "quickstart: not a Debian system; install the packages of scripts/install-deps.sh yourself"
  fi
fi

# ---- 2. build ----
if [ -n "${BUILD_DIR:-}" ] && [ -x "$BUILD_DIR/benchfsd" ] && [ -x "$BUILD_DIR/benchfs-bench" ]; then
  BUILD_DIR=$(cd "$BUILD_DIR" && pwd)
  say "using the existing build in $BUILD_DIR"
else
  BUILD_DIR=${BUILD_DIR:-$ROOT/build}
  say "building into $BUILD_DIR"
  cmake -S "$ROOT" -B "$BUILD_DIR" >/dev/null
  cmake --build "$BUILD_DIR" -j"$(nproc)" --target benchfsd benchfs-bench
fi
OUT=${QUICKSTART_OUT:-$BUILD_DIR/quickstart}

# ---- 3. a local cluster in a temporary directory ----
D=$(mktemp -d "${TMPDIR:-/tmp}/benchfs-quickstart.XXXXXX")
PIDS=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ ${#PIDS[@]} -gt 0 ]; then
    echo "quickstart: stopping ${#PIDS[@]} servers"
    kill -TERM "${PIDS[@]}" 2>/dev/null || true
    for _ in $(seq 100); do          # up to 10 s for a clean stop (sync, leave the registry)
      local alive=0
      for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
      [ $alive = 0 ] && break
      sleep 0.1
    done
    kill -KILL "${PIDS[@]}" 2>/dev/null || true
    wait "${PIDS[@]}" 2>/dev/null || true
  fi
  if [ $rc -ne 0 ] && ls "$D"/server*.log >/dev/null 2>&1; then
    for f in "$D"/server*.log; do echo "--- last lines of $f"; tail -n 5 "$f"; done
  fi
  if [ $KEEP = 1 ]; then echo "quickstart: kept $D"; else rm -rf "$D"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "starting $NSERVERS servers in $D"
for i in $(seq 0 $((NSERVERS - 1))); do
  "$BUILD_DIR/benchfsd" --data-dir "$D/data$i" --registry "$D/registry" --id "$i" \
      --nservers "$NSERVERS" >"$D/server$i.log" 2>&1 &
  PIDS+=($!)
done
for t in $(seq 300); do             # up to 30 s until every server is in the registry
  n=0
  for i in $(seq 0 $((NSERVERS - 1))); do [ -f "$D/registry/server.$i" ] && n=$((n + 1)); done
  [ $n -eq "$NSERVERS" ] && break
  for p in "${PIDS[@]}"; do
    kill -0 "$p" 2>/dev/null || { echo "quickstart: server pid $p exited during start" >&2; exit 1; }
  done
  [ "$t" -eq 300 ] && { echo "quickstart: servers not registered after 30 s" >&2; exit 1; }
  sleep 0.1
done
echo "registry: $D/registry ($NSERVERS servers up)"

# ---- 4. the benchmark: BenchFS and POSIX, same workload, one run ----
MPIRUN=(mpirun --oversubscribe -np "$NRANKS")
[ "$(id -u)" -eq 0 ] && MPIRUN+=(--allow-run-as-root)
# One host: shared memory between ranks; no CMA (often forbidden in containers), and keep
# Open MPI's own UCX away from the one BenchFS uses. The user's settings win.
export OMPI_MCA_pml=${OMPI_MCA_pml:-ob1}
export OMPI_MCA_btl=${OMPI_MCA_btl:-self,vader}
export OMPI_MCA_btl_vader_single_copy_mechanism=${OMPI_MCA_btl_vader_single_copy_mechanism:-none}
PLOT=()
command -v gnuplot >/dev/null && PLOT=(--plot "$OUT.png")
say "benchfs-bench: $NRANKS MPI ranks, BenchFS (${NSERVERS} servers) vs POSIX ($D/posix), size $SIZE"
set +e
timeout "${QUICKSTART_TIMEOUT:-900}" "${MPIRUN[@]}" "$BUILD_DIR/benchfs-bench" -r "$D/registry" \
    --posix "$D/posix" --json "$OUT.json" "${PLOT[@]}" "${BENCH[@]}" "${EXTRA[@]}"
rc=$?
set -e
if [ $rc -ne 0 ]; then
  echo "quickstart: benchfs-bench failed (exit status $rc)" >&2
  exit $rc
fi
echo
echo "results: $OUT.json${PLOT:+ and $OUT.png}"
