#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test_benchfsctl_scale.sh BENCHFSCTL BENCHFSD — benchfsctl at cluster scale, without a cluster:
# a 1000-host hostfile gives `mpirun --hostfile F -np 1000 --map-by node ... benchfsd --mpi`
# (a fake --mpirun records its arguments); `stop` of servers on other hosts runs
# `benchfsctl stop-local` there through the launcher (never signals mpirun); the export line
# is shell-quoted (a registry path with spaces and quotes survives eval); the logs outlive a
# failed start; -t is seconds for every command.
CTL=$1 BENCHFSD=$2
MPIRUN=unused
# shellcheck source=test_launch_lib.sh
source "$(dirname "$0")/test_launch_lib.sh"
export BENCHFSD
unset BENCHFS_REGISTRY MPIRUN

# A launcher that records its arguments, one per line, and exits.
cat >"$T/fake-mpirun" <<'FAKE'
#!/bin/sh
for a in "$@"; do printf '%s\n' "$a"; done >"$FAKE_LOG"
exit 0
FAKE
chmod +x "$T/fake-mpirun"
export FAKE_LOG=$T/mpirun-args.txt

# --- 1000 hosts (with duplicates, slots and comments), one server per host
for i in $(seq 1 1000); do echo "node$i slots=8"; done >"$T/hosts"
for i in $(seq 1 1000 | shuf -n 300 --random-source=<(yes)); do echo "node$i # again"; done >>"$T/hosts"
echo "# a comment line" >>"$T/hosts"
expect 1 "$CTL" start --hostfile "$T/hosts" --mpirun "$T/fake-mpirun" \
    --mpirun-args "--oversubscribe --mca btl tcp,self" -d "/local/bfs-%h" -r "$T/reg1000" -t 5 \
    -- --log-level info
has "mpirun exited \(status 0\) before all servers registered" err.txt
printf '%s\n' --hostfile "$T/hosts" -np 1000 --map-by node --oversubscribe --mca btl tcp,self \
    "$BENCHFSD" --mpi --data-dir /local/bfs-%h --registry "$T/reg1000" --log-level info \
    >"$T/want.txt"
diff "$T/want.txt" "$FAKE_LOG" || fail "mpirun line for 1000 hosts differs (above: want, got)"
[ ! -e "$T/reg1000" ] || fail "a failed start left its registry"
[ -f "$T/reg1000.logs/mpirun.log" ] || fail "a failed start did not keep mpirun.log"
has "logs stay in $T/reg1000.logs" err.txt
# -n overrides the host count; the recorded state is what stop uses (checked below).
expect 1 "$CTL" start --hostfile "$T/hosts" --mpirun "$T/fake-mpirun" -n 2000 -d /x -r "$T/r2" -t 5
grep -qx -- "-np" "$FAKE_LOG" && [ "$(grep -A1 -x -- -np "$FAKE_LOG" | tail -1)" = 2000 ] ||
    fail "-n 2000 not passed as -np 2000"

# --- stop of servers on other hosts: stop-local there, through the launcher
REG=$T/far
mkdir -m 700 "$REG"
printf '%032d\n' 0 >"$REG/key"
for i in 0 1 2; do
  printf 'id=%d\nnservers=3\npid=1\nhost=far-node-%d\nlisten=10.0.0.%d:7000\nlocal=\n' \
      "$i" $((i % 2)) "$i" >"$REG/server.$i"
done
expect 1 "$CTL" stop -r "$REG" -t 1 --mpirun "$T/fake-mpirun" --mpirun-args "--mca x y"
printf '%s\n' --hostfile "$REG/stop-hosts" -np 2 --map-by node --mca x y "$CTL" stop-local \
    -r "$REG" --kill >"$T/want.txt"
# The last launch is the SIGKILL pass (the fake killed nothing); the first was SIGTERM.
diff <(sed 's#^/.*/benchfsctl$#'"$CTL"'#' "$FAKE_LOG") "$T/want.txt" ||
    fail "stop's launcher line differs"
[ "$(sort "$REG/stop-hosts" | tr '\n' ' ')" = "far-node-0 far-node-1 " ] ||
    fail "stop-hosts: $(cat "$REG/stop-hosts")"
has "did not exit within 1.0 s" err.txt
[ -d "$REG" ] || fail "stop removed the registry of servers it did not stop"
# stop-local itself: entries of this host whose process is gone are cleared, others kept.
printf 'id=3\nnservers=4\npid=999999\nhost=%s\nlisten=10.0.0.9:7000\nlocal=\n' "$(hostname)" \
    >"$REG/server.3"
expect 0 "$CTL" stop-local -r "$REG"
has "SIGTERM sent to 0 servers" err.txt
[ ! -e "$REG/server.3" ] && [ -e "$REG/server.0" ] || fail "stop-local cleared the wrong entries"
rm -rf "$REG"

# --- a registry path with spaces and quotes: the export line survives eval
QREG="$T/reg with space's \$x"
expect 0 "$CTL" start -n 1 -d "$T/qdata" -r "$QREG" -t 30
PID0=$(entry_pid "$QREG" 0)
KILL_ON_EXIT+=("$PID0")
unset BENCHFS_REGISTRY
eval "$(cat "$T/out.txt")"
[ "${BENCHFS_REGISTRY:-}" = "$QREG" ] || fail "eval gave BENCHFS_REGISTRY='${BENCHFS_REGISTRY:-}'"
[ -f "$QREG.logs/benchfsd.0.log" ] || fail "no log in $QREG.logs"
# -t: seconds for every command, or with a unit
expect 0 "$CTL" status -t 2
expect 0 "$CTL" status -t 500ms
expect 0 "$CTL" wait -t 0.5s
expect 2 "$CTL" status -t abc;  has "expected seconds" err.txt
expect 2 "$CTL" stop -t 5parsecs; has "expected seconds" err.txt
expect 0 "$CTL" stop -t 30
grep -qF "logs in $QREG.logs" "$T/err.txt" || fail "stop did not say where the logs are"
[ ! -e "$QREG" ] || fail "stop left the registry"
[ -f "$QREG.logs/benchfsd.0.log" ] || fail "stop removed the logs"
alive "$PID0" && fail "server still running after stop"
KILL_ON_EXIT=()
unset BENCHFS_REGISTRY
finish
