#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# benchfs find, and io500's external find script (benchfs-io500-find), against a tree built
# with known matches: names, sizes, types, and modification times on either side of a stamp.
# Listings are compared line for line with GNU find on an identical local tree; the io500
# line "MATCHED x/y" with the counts the test created; under mpirun the ranks' shares add up
# to the same listing.
# Usage: test_cli_find.sh BENCHFS BENCHFSD MPIEXEC NSERVERS
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/test_cli_common.sh"
MPIEXEC=${3:-mpirun}
cli_init "$1" "$2" "${4:-2}"
WRAP=$(dirname "$BFS")/benchfs-io500-find
MPI=("$MPIEXEC" --allow-run-as-root --oversubscribe -np 3)
NF=200

size_of() { # the size of file i, as test_find.c's
    local i=$1
    if ((i % 5 == 0 || i % 100 == 1)); then echo 3901
    elif ((i % 7 == 0)); then echo 0
    else echo $((i * 37 % 9000)); fi
}

# Files 0..99 under old/, 100.. under new/, in the same directories (d0..d3, dK/sub).
for half in old new; do
    for d in 0 1 2 3; do mkdir -p "$W/$half/d$d/sub"; done
done
for ((i = 0; i < NF; i++)); do
    half=old; ((i >= 100)) && half=new
    if ((i % 3 == 0)); then p="d$((i % 4))/sub"; else p="d$((i % 4))"; fi
    head -c "$(size_of $i)" /dev/zero >"$W/$half/$p/$(printf 'f%03d' $i)"
done
mkdir -p "$W/all" && cp -r "$W/old/." "$W/all/" && cp -r "$W/new/." "$W/all/"

ok "$BFS" put -r -q "$W/old" /t
ok "$BFS" put -r -q "$W/old" /tx   # a decoy next to /t: never reported
sleep 0.1
: >"$W/timestampfile"               # io500's: a local file
ok "$BFS" put -q "$W/timestampfile" /stamp
sleep 0.1
ok "$BFS" put -r -q "$W/new/d0" "$W/new/d1" "$W/new/d2" "$W/new/d3" /t

# same listing as GNU find on the local copy: bfs_vs_gnu "TESTS..."
bfs_vs_gnu() {
    local tests=("$@") want got
    want=$(cd "$W/all" && find . "${tests[@]}" | sed 's|^\.|/t|' | LC_ALL=C sort)
    run "$BFS" find /t "${tests[@]}"
    got=$(LC_ALL=C sort <<<"$OUT")
    if [ "$RC" -ne 0 ]; then fail "find /t ${tests[*]} exited $RC: $ERR"; fi
    if [ "$got" != "$want" ]; then
        fail "find /t ${tests[*]}: $(wc -l <<<"$got") lines, GNU find $(wc -l <<<"$want")"
        diff <(echo "$want") <(echo "$got") | head -5
    fi
    [ -n "$want" ] || fail "find ${tests[*]}: the test expects matches"
}
TOTAL=$((NF + 9))
bfs_vs_gnu -type d
bfs_vs_gnu -type f
bfs_vs_gnu -type f,d
bfs_vs_gnu -name '*01*'
bfs_vs_gnu -name 'f[0-9]?7' -type f
bfs_vs_gnu -name sub
bfs_vs_gnu -size 3901c
bfs_vs_gnu -size -1k -type f
bfs_vs_gnu -size +4k
bfs_vs_gnu -size 8 -type f   # (directories: 4096 bytes locally, 0 in BenchFS)
bfs_vs_gnu -size 4k -name '*1*' -type f
run "$BFS" find /t
same "$(wc -l <<<"$OUT")" "$TOTAL"
same "$(grep -c . <<<"$OUT")" "$TOTAL"

# -newer: exactly the second half's files, with the stamp in BenchFS or on the local disk.
want_new=$(cd "$W/new" && find . -type f | sed 's|^\.|/t|' | LC_ALL=C sort)
for stamp in /stamp "$W/timestampfile"; do
    run "$BFS" find /t -type f -newer "$stamp"
    same "$(LC_ALL=C sort <<<"$OUT")" "$want_new"
done

# Operands are printed as typed (trailing slash, relative), the start itself included.
run "$BFS" find t/d1/ -name sub
same "$OUT" "t/d1/sub"
run "$BFS" find /t/d2/sub -type d
same "$OUT" "/t/d2/sub"
BENCHFS_MOUNT=/mnt/bfs run "$BFS" find /mnt/bfs/t/d3/sub -name f003
same "$OUT" "/mnt/bfs/t/d3/sub/f003"

# io500's contract: its command line through sh, the count on the last line.
n_io500=0
for ((i = 100; i < NF; i++)); do
    [[ $(printf 'f%03d' $i) == *01* && $(size_of $i) == 3901 ]] && n_io500=$((n_io500 + 1))
done
n_easy=$(cd "$W/all" && find . -name '*01*' | wc -l)
((n_io500 > 0)) || fail "the tree has no io500 match"
run sh -c "$WRAP /t/ -newer $W/timestampfile -size 3901c -name \"*01*\""
same "$RC" 0
same "$(tail -n 1 <<<"$OUT")" "MATCHED $n_io500/$TOTAL"
run sh -c "$WRAP --registry $BENCHFS_REGISTRY /t/ -name \"*01*\""
same "$OUT" "MATCHED $n_easy/$TOTAL"

# Under mpirun: 3 ranks share the servers; the same listing and the same counts.
if command -v "$MPIEXEC" >/dev/null; then
    # as io500 runs it without external-mpi-args: popen() from an MPI rank, so with that
    # rank's launch environment; one process (an MPI_Init there would join the rank's job)
    run timeout 120 "$MPIEXEC" --allow-run-as-root --oversubscribe -np 2 python3 -c 'import os, subprocess, sys
if os.environ.get("OMPI_COMM_WORLD_RANK", "0") != "0": sys.exit(0)
r = subprocess.run(["sh", "-c", sys.argv[1]], capture_output=True, text=True, timeout=60)
sys.stdout.write(r.stdout); sys.stderr.write(r.stderr); sys.exit(r.returncode)' \
        "$WRAP /t/ -newer $W/timestampfile -size 3901c -name \"*01*\""
    same "$RC" 0
    same "$(tail -n 1 <<<"$OUT")" "MATCHED $n_io500/$TOTAL"
    run "${MPI[@]}" sh -c "$WRAP /t/ -newer $W/timestampfile -size 3901c -name \"*01*\""
    same "$(tail -n 1 <<<"$OUT")" "MATCHED $n_io500/$TOTAL"
    same "$(grep -c MATCHED <<<"$OUT")" 1
    run "${MPI[@]}" "$BFS" find /t -name '*1*'
    same "$(LC_ALL=C sort <<<"$OUT")" "$(cd "$W/all" && find . -name '*1*' | sed 's|^\.|/t|' | LC_ALL=C sort)"
    run "${MPI[@]}" "$BFS" find --stats /t
    same "$(wc -l <<<"$OUT")" "$TOTAL"
    has "$ERR" "^find: $TOTAL matched, $TOTAL examined, [0-9]+ scanned in .* \(3 rank\(s\)"
    bad 1 "/nope: No such file" "${MPI[@]}" "$BFS" find /nope
    same "$(grep -c nope <<<"$ERR")" 1
fi

# --stats alone, and bad input: clear messages and exit statuses.
run "$BFS" find --count --stats /t -type d
same "$OUT" "MATCHED 9/$TOTAL"
has "$ERR" "^find: 9 matched, $TOTAL examined"
bad 1 "/nope: No such file" "$BFS" find /nope -name x
bad 1 "/t/d1/f001/x: Not a directory" "$BFS" find /t/d1/f001/x
bad 1 "no-such-stamp: No such file" "$BFS" find /t -newer "$W/no-such-stamp"
bad 2 "invalid argument 'x' to '-type'" "$BFS" find /t -type x
bad 2 "invalid argument '12q' to '-size'" "$BFS" find /t -size 12q
bad 2 "invalid argument '' to '-size'" "$BFS" find /t -size ''
bad 2 "unknown test '-mtime'" "$BFS" find /t -mtime 1
bad 2 "missing argument to '-name'" "$BFS" find /t -name
bad 2 "missing directory operand" "$BFS" find -name x
bad 2 "unrecognized option '--bogus'" "$BFS" find --bogus /t
run "$BFS" find --help
has "$OUT" "MATCHED <matched>/<examined>"

cli_finish test_cli_find
