#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test_launch_mpi.sh N BENCHFSD CLIENT BENCHFSCTL MPIRUN — benchfsd launched by mpirun with N
# ranks: rank 0 writes the whole registry, a client writes/reads/lists across all servers; one
# rank stopped alone exits cleanly while the others serve on; the rest stop and mpirun exits 0;
# a second launch on the same data directories serves the same files. With N=2 also: start-up
# errors on one rank (or all) make every rank exit instead of hanging.
N=$1 BENCHFSD=$2 CLIENT=$3 BENCHFSCTL=$4 MPIRUN=$5
# shellcheck source=test_launch_lib.sh
source "$(dirname "$0")/test_launch_lib.sh"

REG=$T/registry
if [ "$N" -eq 2 ]; then
  DATA="$T/data-%h-%r"          # explicit pattern
  ddir() { echo "$T/data-$(hostname)-$1"; }
else
  DATA="$T/data"                # no pattern: DIR/rank<r>
  ddir() { echo "$T/data/rank$1"; }
fi

# launch LOG: mpirun -np N benchfsd in the background; sets MPIRUN_PID.
launch() {
  "${MPI[@]}" -np "$N" "$BENCHFSD" --data-dir "$DATA" --registry "$REG" --log-level info \
      >"$T/$1" 2>&1 &
  MPIRUN_PID=$!
  KILL_ON_EXIT+=("$MPIRUN_PID")
}

# wait_mpirun SECONDS: sets rc to mpirun's exit status (killing it after SECONDS: rc 124).
wait_mpirun() {
  if ! wait_gone "$1" "$MPIRUN_PID"; then
    fail "mpirun still running after $1 s"
    kill -KILL "$MPIRUN_PID" 2>/dev/null || true
  fi
  set +e
  wait "$MPIRUN_PID"
  rc=$?
  set -e
  [ "$rc" -eq 137 ] && rc=124
  KILL_ON_EXIT=()
}

# --- first launch
launch mpirun1.log
# The registry does not exist until rank 0 makes it, and a client fails at once on a missing
# registry (ENOENT): wait as a job script would.
"$BENCHFSCTL" wait -r "$REG" -n "$N" -t 120 || fail "benchfsctl wait for $N mpirun-launched servers"
"$CLIENT" "$REG" "$N" write || fail "client write/read/list against $N mpirun-launched servers"

# The registry rank 0 wrote: key, server.0..N-1, each announcing N, distinct pids, 0600.
[ -f "$REG/key" ] || fail "no key"
declare -a PIDS
for r in $(seq 0 $((N - 1))); do
  f=$REG/server.$r
  [ -f "$f" ] || { fail "no $f"; continue; }
  grep -qx "id=$r" "$f" || fail "$f: wrong id"
  grep -qx "nservers=$N" "$f" || fail "$f: nservers is not $N"
  [ "$(stat -c %a "$f")" = 600 ] || fail "$f: mode $(stat -c %a "$f")"
  PIDS[r]=$(entry_pid "$REG" "$r")
  alive "${PIDS[r]}" || fail "server $r (pid ${PIDS[r]}) not running"
  [ -f "$(ddir "$r")/benchfsd.lock" ] || fail "rank $r did not use $(ddir "$r")"
  grep -q "serving $(ddir "$r") as server $r of $N" "$T/mpirun1.log" ||
      fail "rank $r log line missing"
done
[ "$(printf '%s\n' "${PIDS[@]}" | sort -u | wc -l)" -eq "$N" ] || fail "pids not distinct"
[ ! -e "$REG/server.$N" ] || fail "an entry beyond the cluster"

# --- one rank stopped alone: it leaves the registry and exits; mpirun and the others go on.
last=$((N - 1))
kill -TERM "${PIDS[last]}"
wait_gone 20 "${PIDS[last]}" || fail "rank $last did not exit after SIGTERM (MPI_Finalize hang?)"
[ ! -e "$REG/server.$last" ] || fail "rank $last left its entry behind"
alive "$MPIRUN_PID" || fail "mpirun exited when one rank stopped"
for r in $(seq 0 $((last - 1))); do
  alive "${PIDS[r]}" || fail "rank $r died when rank $last stopped"
done
set +e
"$BENCHFSCTL" status -r "$REG" >"$T/status.txt" 2>&1
rc=$?
set -e
[ $rc -eq 3 ] || fail "status with a stopped rank: exit $rc, expected 3"
grep -Eq "^$last +down" "$T/status.txt" || fail "status does not show rank $last down"
[ "$(grep -Ec '^[0-9]+ +up ' "$T/status.txt")" -eq "$last" ] || fail "status: others not up"

# --- the others: SIGTERM each; mpirun then exits 0 by itself.
for r in $(seq 0 $((last - 1))); do kill -TERM "${PIDS[r]}"; done
wait_mpirun 60
[ $rc -eq 0 ] || fail "mpirun exit status $rc after a clean stop of every rank"
ls "$REG"/server.* >/dev/null 2>&1 && fail "entries left after a clean stop: $(ls "$REG")"
grep -q "stopped" "$T/mpirun1.log" || fail "no clean stop in the log"

# --- second launch on the same directories: the same rank finds its own data again; this
# time stopped by benchfsctl (which finds the ranks through the registry).
launch mpirun2.log
"$BENCHFSCTL" wait -r "$REG" -n "$N" -t 120 || fail "benchfsctl wait after the restart"
"$CLIENT" "$REG" "$N" verify || fail "files lost across an mpirun restart"
"$BENCHFSCTL" stop -r "$REG" -t 60 || fail "benchfsctl stop of an mpirun-launched cluster"
wait_mpirun 60
[ $rc -eq 0 ] || fail "mpirun exit status $rc after benchfsctl stop"
[ ! -e "$REG" ] || fail "benchfsctl stop left the registry"

if [ "$N" -eq 2 ]; then
  # Bad settings on every rank: all exit at once with a message, no hang.
  set +e
  timeout 60 "${MPI[@]}" -np 2 "$BENCHFSD" --data-dir "$T/bad-%r" --registry "$T/reg2" \
      --nservers 3 >"$T/bad1.log" 2>&1
  rc=$?
  set -e
  [ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "--nservers 3 with 2 ranks: exit $rc"
  grep -q "but MPI started 2 ranks" "$T/bad1.log" || fail "no message for the --nservers clash"
  # One rank fails (both ranks on one data directory: the lock): every rank gives up.
  set +e
  timeout 60 "${MPI[@]}" -np 2 "$BENCHFSD" --data-dir "$T/same-%h" --registry "$T/reg3" \
      >"$T/bad2.log" 2>&1
  rc=$?
  set -e
  [ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "two ranks on one data directory: exit $rc"
  grep -q "already served by another benchfsd" "$T/bad2.log" || fail "no lock message"
  grep -q "another rank failed to start" "$T/bad2.log" || fail "the other rank did not give up"
  ls "$T/reg3"/server.* >/dev/null 2>&1 && fail "a failed start published entries"
  # A bad pattern is refused.
  set +e
  timeout 60 "${MPI[@]}" -np 2 "$BENCHFSD" --data-dir "$T/x-%q" --registry "$T/reg4" \
      >"$T/bad3.log" 2>&1
  rc=$?
  set -e
  [ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "--data-dir with %q: exit $rc"
  grep -q "only %r, %h and %% may follow" "$T/bad3.log" || fail "no message for %q"
fi
KILL_ON_EXIT=()
finish
