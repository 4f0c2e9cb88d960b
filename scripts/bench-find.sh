#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# bench-find.sh — find rate of BenchFS against GNU find, in one run, on the same tree.
#
#   scripts/bench-find.sh [BUILD_DIR]      (FILES=100000 SERVERS=2 RANKS=2 RUNS=3)
#
# Builds a local tree of FILES files (100 directories; every 5th file 3901 bytes, the rest
# empty; half of them created after a timestamp file), copies it into a fresh local cluster of
# SERVERS benchfsd with `benchfs put`, then times io500's find (-newer STAMP -size 3901c
# -name '*01*') and a plain listing with GNU find on the local tree (warm cache) and with
# `benchfs find --stats`, alone and under mpirun -np RANKS. Prints entries/s and matches/s
# for each; the match counts must agree. Everything lives in a temporary directory, removed
# at the end (the servers are stopped on any exit).
set -euo pipefail
BUILD=${1:-build}
FILES=${FILES:-100000} SERVERS=${SERVERS:-2} RANKS=${RANKS:-2} RUNS=${RUNS:-3}
BFS=$BUILD/benchfs BFSD=$BUILD/benchfsd
[ -x "$BFS" ] && [ -x "$BFSD" ] || { echo "build first: $BFS, $BFSD" >&2; exit 2; }
T=$(mktemp -d "${TMPDIR:-/tmp}/bench-find-XXXXXX")
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$T"
}
trap cleanup EXIT
export BENCHFS_REGISTRY=$T/registry
for ((i = 0; i < SERVERS; i++)); do
    "$BFSD" --data-dir "$T/data$i" --registry "$BENCHFS_REGISTRY" --id $i --nservers "$SERVERS" \
        >"$T/server$i.log" 2>&1 &
    PIDS+=($!)
done
for ((i = 0; i < SERVERS; i++)); do
    for _ in $(seq 200); do [ -e "$BENCHFS_REGISTRY/server.$i" ] && break; sleep 0.05; done
done

make_half() { # make_half DIR FIRST COUNT: COUNT files numbered from FIRST over 50 dirs
    local dir=$1 first=$2 count=$3 d
    for d in $(seq -w 0 49); do mkdir -p "$dir/d$d"; done
    seq "$first" $((first + count - 1)) |
        awk -v dir="$dir" '{ printf "%s/d%02d/file.%07d\n", dir, $1 % 50, $1 }' |
        xargs touch
    seq "$first" 5 $((first + count - 1)) |
        awk -v dir="$dir" '{ printf "%s/d%02d/file.%07d\n", dir, $1 % 50, $1 }' |
        xargs truncate -s 3901
}
echo "bench-find: $FILES files, $SERVERS server(s); building the trees..."
make_half "$T/tree/old" 0 $((FILES / 2))
"$BFS" mkdir -p /tree
"$BFS" put -r -q "$T/tree/old" /tree
sleep 0.1
touch "$T/stamp"
"$BFS" put -q "$T/stamp" /stamp
sleep 0.1
make_half "$T/tree/new" $((FILES / 2)) $((FILES - FILES / 2))
"$BFS" put -r -q "$T/tree/new" /tree

now() { date +%s.%N; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / (s > 0 ? s : 1e-9) }'; }
gnu() { # gnu LABEL TESTS...: time GNU find on the local tree (after one warm-up run)
    local label=$1 t0 t1 m total
    shift
    find "$T/tree" "$@" >/dev/null
    total=$(find "$T/tree" | wc -l)
    for ((r = 0; r < RUNS; r++)); do
        t0=$(now)
        m=$(find "$T/tree" "$@" | wc -l)
        t1=$(now)
        s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
        printf '  GNU find    %-10s %7d matched / %7d entries in %.3f s: %9s entries/s %9s matches/s\n' \
            "$label" "$m" "$total" "$s" "$(rate "$total" "$s")" "$(rate "$m" "$s")"
    done
}
bfs() { # bfs LABEL LAUNCHER... -- TESTS...: the tool's own timing, and the whole command's
    local label=$1 launch=() line t0 t1 m
    shift
    while [ "$1" != "--" ]; do launch+=("$1"); shift; done
    shift
    for ((r = 0; r < RUNS; r++)); do
        t0=$(now)
        line=$("${launch[@]}" "$BFS" find --count --stats /tree "$@" 2>&1 >/dev/null | tail -n 1)
        t1=$(now)
        printf '  BenchFS     %-10s %s; whole command %.3f s\n' "$label" "${line#find: }" \
            "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
    done
    # As GNU find is timed: every path printed, counted by wc, the command's wall time.
    t0=$(now)
    m=$("${launch[@]}" "$BFS" find /tree "$@" | wc -l)
    t1=$(now)
    s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
    printf '  BenchFS     %-10s %7d paths printed, whole command %.3f s: %9s entries/s\n' \
        "$label" "$m" "$s" "$(rate "$(find "$T/tree" | wc -l)" "$s")"
}
MPI=(mpirun --allow-run-as-root --oversubscribe -np "$RANKS")
IO500=(-newer "$T/stamp" -size 3901c -name '*01*')
echo "io500 find: -newer STAMP -size 3901c -name '*01*'"
gnu io500 "${IO500[@]}"
bfs "1 rank" -- -newer /stamp -size 3901c -name '*01*'
command -v mpirun >/dev/null && bfs "$RANKS ranks" "${MPI[@]}" -- -newer /stamp -size 3901c -name '*01*'
echo "everything (a listing of the tree):"
gnu all
bfs "1 rank" --
command -v mpirun >/dev/null && bfs "$RANKS ranks" "${MPI[@]}" --
