#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test_benchfsctl.sh BENCHFSCTL CLIENT BENCHFSD MPIRUN — benchfsctl as a user drives it:
# bad usage; start/wait/status/stop of 3 local servers with a client in between; a SIGKILLed
# server shows as down (quickly) while the others are up; stop leaves no server and no
# registry; a server that cannot start fails `start` cleanly; and the mpirun (hostfile) mode.
CTL=$1 CLIENT=$2 BENCHFSD=$3 MPIRUN=$4
# shellcheck source=test_launch_lib.sh
source "$(dirname "$0")/test_launch_lib.sh"
export BENCHFSD
unset BENCHFS_REGISTRY

# --- usage and errors
expect 2 "$CTL"
expect 0 "$CTL" --help;                        has "Usage: benchfsctl" out.txt
expect 2 "$CTL" frobnicate;                    has "unknown command 'frobnicate'" err.txt
expect 2 "$CTL" start -n 2;                    has "-d DIR .* is required" err.txt
expect 2 "$CTL" start -n 0 -d "$T/d" -r "$T/r"; has "expected a number of servers" err.txt
expect 2 "$CTL" start -n x -d "$T/d" -r "$T/r"
expect 2 "$CTL" start -n 1 -d "$T/d";          has "no registry" err.txt
expect 2 "$CTL" start -n 1 -d "$T/d" -r "$T/r" -c lots; has "not a size" err.txt
expect 2 "$CTL" start -n 1 -d "$T/d" -r "$T/r" stray;   has "unexpected argument 'stray'" err.txt
expect 2 "$CTL" start --bogus
expect 2 "$CTL" status;                        has "no registry" err.txt
expect 1 "$CTL" status -r "$T/nowhere";        has "no registry at" err.txt
mkdir "$T/plain" && touch "$T/plain/precious"
expect 1 "$CTL" stop -r "$T/plain";            has "not a BenchFS registry" err.txt
[ -f "$T/plain/precious" ] || fail "stop removed a directory that is not a registry"
expect 2 "$CTL" wait -r "$T/r" -t soon
expect 1 "$CTL" wait -r "$T/nowhere" -t 0.3;   has "gave up after" err.txt
[ ! -e "$T/d" ] && [ ! -e "$T/r" ] || fail "a refused start created directories"

# --- a local cluster of 3
REG=$T/reg
expect 0 "$CTL" start -n 3 -d "$T/data" -r "$REG" -c 64M -- --log-level info
[ "$(cat "$T/out.txt")" = "export BENCHFS_REGISTRY=$REG" ] ||
    fail "start printed '$(cat "$T/out.txt")'"
eval "$(cat "$T/out.txt")"
[ "${BENCHFS_REGISTRY:-}" = "$REG" ] || fail "eval did not set BENCHFS_REGISTRY"
declare -a PIDS
for i in 0 1 2; do
  PIDS[i]=$(entry_pid "$REG" "$i")
  KILL_ON_EXIT+=("${PIDS[i]}")
  alive "${PIDS[i]}" || fail "server $i not running"
  [ -d "$T/data/rank$i" ] || fail "no data directory rank$i"
done
# Daemonised: their own session, not our process group.
[ "$(ps -o sid= -p "${PIDS[0]}" | tr -d ' ')" = "${PIDS[0]}" ] || fail "server 0 is not a session leader"
expect 0 "$CTL" wait -t 30  # registry from the environment
has "3 servers up" err.txt
expect 1 "$CTL" start -n 1 -d "$T/data2" -r "$REG"; has "is in use" err.txt

"$CLIENT" "$REG" 3 write || fail "client against the benchfsctl cluster"
expect 0 "$CTL" status -v
has "^registry $REG: 3 servers, 3 up, 0 down" out.txt
for i in 0 1 2; do
  has "^$i +up +$(hostname) +${PIDS[i]} +[0-9.]+:[0-9]+ +64\.0M " out.txt
done
has "^  used_bytes [1-9]" out.txt
has "^  chunk_(write|reserve)\.count [1-9]" out.txt

# --- SIGKILL one: status shows it down at once, the others up
kill -KILL "${PIDS[1]}"
wait_gone 10 "${PIDS[1]}" || fail "SIGKILL did not kill server 1"
start_ms=$(date +%s%3N)
expect 3 "$CTL" status
took=$(( $(date +%s%3N) - start_ms ))
has "3 servers, 2 up, 1 down" out.txt
has "^1 +down " out.txt
has "^0 +up " out.txt
has "^2 +up " out.txt
[ "$took" -lt 4000 ] || fail "status took $took ms with a dead server"
expect 1 "$CTL" wait -t 1; has "server 1" err.txt

# --- stop: the living servers exit cleanly (leave the registry), the directory goes
expect 0 "$CTL" stop
has "stopped 2 servers" err.txt
has "1 server had already died" err.txt
for i in 0 1 2; do alive "${PIDS[i]}" && fail "server $i still running after stop"; done
[ ! -e "$REG" ] || fail "stop left the registry $REG"
[ -d "$T/data/rank0/meta" ] || fail "stop removed data"
KILL_ON_EXIT=()

# --- a restart on the same data: the files are still there (server 1 was SIGKILLed after
# its data was fsync'd)
expect 0 "$CTL" start -n 3 -d "$T/data" -r "$REG"
for i in 0 1 2; do KILL_ON_EXIT+=("$(entry_pid "$REG" "$i")"); done
"$CLIENT" "$REG" 3 verify || fail "files lost across benchfsctl stop/start"
expect 0 "$CTL" stop -r "$REG"
[ ! -e "$REG" ] || fail "second stop left the registry"
KILL_ON_EXIT=()

# --- a server that cannot start: start fails with its log, and cleans up
expect 1 "$CTL" start -n 2 -d "$T/data3" -r "$T/reg3" -t 20 -- --no-such-flag
has "exited \(status 2\) before registering" err.txt
has "unrecognized option|no-such-flag" err.txt
[ ! -e "$T/reg3" ] || fail "a failed start left its registry"
sleep 0.5
pgrep -f "benchfsd .*$T/reg3" >/dev/null && fail "a failed start left servers running" || true
expect 1 "$CTL" start -n 1 -d "$T/data4" -r "$T/reg4" --benchfsd "$T/missing-benchfsd"
has "cannot run|exited" err.txt

# --- through mpirun over a hostfile
echo "localhost slots=4" >"$T/hosts"
MREG=$T/mreg
MARGS="--oversubscribe"
expect 0 "$CTL" start --hostfile "$T/hosts" -n 2 --mpirun "$MPIRUN" --mpirun-args "$MARGS" \
    -d "$T/mdata-%r" -r "$MREG" -t 60
has "^export BENCHFS_REGISTRY=$MREG$" out.txt
MPID=$(sed -n 's/^mpirun_pid=//p' "$MREG/benchfsctl.state")
KILL_ON_EXIT+=("$MPID")
alive "$MPID" || fail "mpirun not running"
[ -d "$T/mdata-0" ] && [ -d "$T/mdata-1" ] || fail "ranks did not use the %r data directories"
"$CLIENT" "$MREG" 2 write || fail "client against the mpirun cluster"
expect 0 "$CTL" status -r "$MREG"
has "2 servers, 2 up, 0 down" out.txt
MP0=$(entry_pid "$MREG" 0) MP1=$(entry_pid "$MREG" 1)
expect 0 "$CTL" stop -r "$MREG"
has "and mpirun" err.txt
for p in "$MPID" "$MP0" "$MP1"; do alive "$p" && fail "pid $p still running after stop"; done
[ ! -e "$MREG" ] || fail "stop left the mpirun registry"
KILL_ON_EXIT=()
finish
