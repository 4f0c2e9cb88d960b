#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test_netns.sh — BenchFS across "nodes" on one machine: 3 servers and 1 client, each in its own
# network namespace with its own host name (unshare --uts), joined by veth pairs to a bridge in
# a namespace of its own. Nothing touches the host's network: the addresses (10.231.0.0/24)
# exist only on the veths inside the test's namespaces.
#
#   test_netns.sh BENCHFSD CLIENT     (CLIENT = test_netns_client)
#
# Phases, one client process each (so a hung phase does not hide the next one's result):
#   data      64 MiB with 4 MiB chunks written and read back over the network transport
#   linkdown  server 1's bridge port set down, then up again
#   drop      every IP packet to and from server 2 silently dropped at its bridge port (tc
#             clsact with a one-instruction classic BPF filter returning TC_ACT_SHOT; this
#             kernel has neither netem nor matchall/gact; ARP still passes), then the filter
#             removed
# In each cut phase the client checks that every call returns by its deadline
# (BENCHFS_RPC_TIMEOUT_MS + 2 s), that calls needing only the other servers stay fast, and that
# the same process uses the cut server again within a bounded time after the heal.
#
# Environment (for investigating; the defaults are what ctest runs): BENCHFS_NET_TEST_PHASES
# ("linkdown drop"), BENCHFS_NET_TEST_CUT_BUDGET (45 s per cut phase),
# BENCHFS_NET_TEST_DATA_BUDGET (40 s), BENCHFS_NET_TEST_TIMEOUT_MS (the RPC deadline, 3000).
#
# Root only; exit 77 (skipped) where network namespaces, veth, bridges or the tc filter are not
# available. Every namespace (and with it every veth and the bridge), process and file the test
# made is removed when it ends, also on failure.
set -uo pipefail

BENCHFSD=${1:?usage: test_netns.sh BENCHFSD CLIENT}
CLIENT=${2:?usage: test_netns.sh BENCHFSD CLIENT}
NSRV=3
TIMEOUT_MS=${BENCHFS_NET_TEST_TIMEOUT_MS:-3000} # the client's RPC deadline
DATA_BUDGET=${BENCHFS_NET_TEST_DATA_BUDGET:-40} # seconds the data phase may take before the watchdog stops it
CUT_BUDGET=${BENCHFS_NET_TEST_CUT_BUDGET:-45}   # per cut phase (about 20 s when the calls keep their deadlines)
NET=10.231.0

skip() { echo "SKIP: $*"; exit 77; }
# running PID: the process exists and is not a zombie.
running() {
  local st
  st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) && [ -n "$st" ] && [ "${st:0:1}" != Z ]
}
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, veth pairs, tc)"
for c in ip tc unshare; do
  command -v "$c" >/dev/null || skip "$c not found (apt-get install iproute2 util-linux coreutils)"
done
if ! [ -x "$BENCHFSD" ] || ! [ -x "$CLIENT" ]; then echo "FAIL: $BENCHFSD or $CLIENT missing"; exit 1; fi

P=bfsn$$                 # namespace names: $P-br (bridge), $P-s1..3 (servers), $P-c (client)
NS_BR=$P-br
NS_C=$P-c
NSS=()                   # namespaces made so far, for the cleanup
PIDS=()                  # servers
T=$(mktemp -d "${TMPDIR:-/tmp}/benchfs-netns-test.XXXXXX")
REG=$T/registry
START=$SECONDS

cleanup() {
  local rc=$? p ns
  trap - EXIT INT TERM
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for _ in $(seq 30); do
    local left=0
    for p in "${PIDS[@]}"; do running "$p" && left=1; done
    [ $left -eq 0 ] && break
    sleep 0.1
  done
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
  # Anything else still inside the test's namespaces was started by this test.
  for ns in "${NSS[@]}"; do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
  done
  for ns in "${NSS[@]}"; do ip netns del "$ns" 2>/dev/null; done
  if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
    for f in "$T"/server*.log; do
      [ -s "$f" ] && { echo "--- $f (last 15 lines)"; tail -n 15 "$f"; }
    done
  fi
  rm -rf "$T"
  local leftover
  leftover=$(ip netns list 2>/dev/null | grep -c "^$P-")
  [ "$leftover" -eq 0 ] || echo "WARN: $leftover namespaces of $P left behind"
  echo "test_netns: $((SECONDS - START)) s"
  exit $rc
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# ---- the network: a bridge namespace, and one namespace per node with a veth to the bridge ----

mkns() {
  ip netns add "$1" 2>"$T/err" || skip "cannot create a network namespace: $(cat "$T/err")"
  NSS+=("$1")
  ip -n "$1" link set lo up
}
mkns "$NS_BR"
ip -n "$NS_BR" link add br0 type bridge 2>"$T/err" || skip "cannot create a bridge: $(cat "$T/err")"
ip -n "$NS_BR" link set br0 up
# node NS PORT ADDR: the node's end is bfs0 (only lo and bfs0 exist in a node), the bridge's
# end is PORT.
node() {
  mkns "$1"
  ip link add bfs0 netns "$1" type veth peer name "$2" netns "$NS_BR" 2>"$T/err" ||
    skip "cannot create a veth pair: $(cat "$T/err")"
  ip -n "$NS_BR" link set "$2" master br0 || exit 1
  ip -n "$NS_BR" link set "$2" up || exit 1
  ip -n "$1" addr add "$3/24" dev bfs0 || exit 1
  ip -n "$1" link set bfs0 up || exit 1
}
for i in $(seq $NSRV); do node "$P-s$i" "s$i" "$NET.1$i"; done
node "$NS_C" c "$NET.100"

# Silent drops: clsact on a bridge port, a classic BPF program "ret #2" (TC_ACT_SHOT) in
# direct-action mode on ingress (from the node) and egress (to the node), for IPv4 and IPv6
# only: ARP still answers, as for a host behind a firewall that drops, so the neighbour entry
# stays valid and a TCP connect() waits through all its SYN retries (127 s with the default
# tcp_syn_retries=6) instead of failing with EHOSTUNREACH once ARP gives up. Neither end sees
# the filter.
DROP_BPF='1,6 0 0 2'
drop_on() {
  local c="tc -n $NS_BR qdisc add dev $1 clsact" dir proto
  for dir in ingress egress; do
    for proto in ip ipv6; do
      c+=" && tc -n $NS_BR filter add dev $1 $dir protocol $proto bpf da bytecode '$DROP_BPF'"
    done
  done
  echo "$c"
}
drop_off() { echo "tc -n $NS_BR qdisc del dev $1 clsact"; }
sh -c "$(drop_on c)" 2>"$T/err" || skip "tc clsact + bpf drop filter not supported: $(cat "$T/err")"
sh -c "$(drop_off c)" || exit 1

# ---- servers: one per node namespace, each with its own host name ----

for i in $(seq $NSRV); do
  id=$((i - 1))
  # shellcheck disable=SC2016 # $0 and $@ are the inner shell's
  ip netns exec "$P-s$i" unshare --uts sh -c 'hostname "$0" && exec "$@"' "bfsnode$i" \
    "$BENCHFSD" --data-dir "$T/data$id" --registry "$REG" --id $id --nservers $NSRV \
    >"$T/server$id.log" 2>&1 &
  PIDS+=($!)
done
for _ in $(seq 200); do
  n=0
  for id in $(seq 0 $((NSRV - 1))); do [ -f "$REG/server.$id" ] && n=$((n + 1)); done
  [ $n -eq $NSRV ] && break
  for p in "${PIDS[@]}"; do running "$p" || { echo "FAIL: a server exited at start"; exit 1; }; done
  sleep 0.1
done
[ "$n" -eq $NSRV ] || { echo "FAIL: only $n of $NSRV servers registered within 20 s"; exit 1; }
for id in $(seq 0 $((NSRV - 1))); do
  echo "server $id: pid ${PIDS[$id]} $(grep -E '^(host)=' "$REG/server.$id" | tr '\n' ' ')"
done

# ---- the client phases ----

export BENCHFS_REGISTRY=$REG BENCHFS_RPC_TIMEOUT_MS=$TIMEOUT_MS BENCHFS_WAIT_MS=20000
RESULTS=()
FAILS=0
# run_client NAME BUDGET ARGS...: the client in its namespace with host name bfsclient.
run_client() {
  local name=$1 budget=$2 t0=$SECONDS rc pid
  shift 2
  echo "=== phase $name (watchdog ${budget} s)"
  # ip netns exec, unshare and sh all exec: $! is the client itself.
  # shellcheck disable=SC2016 # $@ is the inner shell's
  ip netns exec "$NS_C" unshare --uts sh -c 'hostname bfsclient && exec "$@"' sh "$CLIENT" "$@" &
  pid=$!
  while running "$pid" && [ $((SECONDS - t0)) -lt "$budget" ]; do sleep 0.2; done
  local what=passed
  if running "$pid"; then
    what="FAILED: stopped by the watchdog after ${budget} s (the last call marked '...' above did not return)"
    echo "watchdog: client $pid still running after ${budget} s; syscall: $(cut -d' ' -f1 "/proc/$pid/syscall" 2>/dev/null) (42 = connect, 7 = poll), wchan: $(cat "/proc/$pid/wchan" 2>/dev/null)"
    if command -v gdb >/dev/null; then
      timeout 20 gdb -p "$pid" -batch -ex 'bt 12' 2>/dev/null | grep '^#'
    fi
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    rc=137
  else
    wait "$pid"
    rc=$?
    [ $rc -eq 0 ] || what="FAILED (exit $rc)"
  fi
  [ $rc -eq 0 ] || FAILS=$((FAILS + 1))
  RESULTS+=("$(printf '%-9s %4d s  %s' "$name" $((SECONDS - t0)) "$what")")
  for id in $(seq 0 $((NSRV - 1))); do
    if ! running "${PIDS[$id]}"; then
      echo "FAIL: server $id died during phase $name"
      FAILS=$((FAILS + 1))
    fi
  done
}

PHASES=${BENCHFS_NET_TEST_PHASES:-linkdown drop} # the data phase always runs: it writes /big
run_client data "$DATA_BUDGET" data

if [[ " $PHASES " == *" linkdown "* ]]; then
  UP="ip -n $NS_BR link set dev s2 up"
  run_client linkdown "$CUT_BUDGET" cut linkdown 1 "ip -n $NS_BR link set dev s2 down" "$UP"
  sh -c "$UP" # healed even if the client did not get that far
fi
if [[ " $PHASES " == *" drop "* ]]; then
  run_client drop "$CUT_BUDGET" cut drop 2 "$(drop_on s3)" "$(drop_off s3)"
  sh -c "$(drop_off s3)" 2>/dev/null
fi

echo "=== summary (RPC deadline $TIMEOUT_MS ms)"
for r in "${RESULTS[@]}"; do echo "  $r"; done
[ $FAILS -eq 0 ] || { echo "FAIL: $FAILS phase(s) failed"; exit 1; }
echo "PASS"
