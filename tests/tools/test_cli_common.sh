# SPDX-License-Identifier: BSD-3-Clause
# test_cli_common.sh — sourced by the test_cli_*.sh tests of the `benchfs` tool: a local
# cluster of real benchfsd processes (killed on any exit), and small assertion helpers.
# Usage in a test: source this; cli_init BENCHFS BENCHFSD NSERVERS; ...; cli_finish NAME
set -u

FAILS=0
CLI_ROOT=
CLI_PIDS=()

cli_cleanup() {
    local pid
    for pid in "${CLI_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${CLI_PIDS[@]}"; do
        # bounded: a server that ignores SIGTERM gets SIGKILL after 10 s
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    CLI_PIDS=()
    if [ -n "$CLI_ROOT" ] && [ -z "${BENCHFS_KEEP_TEST_DIR:-}" ]; then rm -rf "$CLI_ROOT"; fi
}

# cli_init BENCHFS_BIN BENCHFSD_BIN NSERVERS: start the servers, export BENCHFS_REGISTRY.
cli_init() {
    BFS=$1
    local benchfsd=$2 n=$3 i
    CLI_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/benchfs-cli-test-XXXXXX")
    trap cli_cleanup EXIT
    trap 'exit 130' INT TERM
    export BENCHFS_REGISTRY=$CLI_ROOT/registry
    export BENCHFS_RPC_TIMEOUT_MS=${BENCHFS_RPC_TIMEOUT_MS:-20000}
    for ((i = 0; i < n; i++)); do
        "$benchfsd" --data-dir "$CLI_ROOT/data$i" --registry "$BENCHFS_REGISTRY" --id "$i" \
            --nservers "$n" >"$CLI_ROOT/server$i.log" 2>&1 &
        CLI_PIDS+=($!)
    done
    for ((i = 0; i < n; i++)); do
        local t
        for t in $(seq 400); do [ -e "$BENCHFS_REGISTRY/server.$i" ] && break; sleep 0.05; done
        if [ ! -e "$BENCHFS_REGISTRY/server.$i" ]; then
            echo "FAIL: benchfsd $i did not register"; cat "$CLI_ROOT/server$i.log"; exit 2
        fi
    done
    W=$CLI_ROOT/work
    mkdir -p "$W"
}

# fail MSG: count a failure, naming the line of the test script (not of a helper).
fail() {
    echo "FAIL (line ${BASH_LINENO[${#BASH_LINENO[@]} - 2]}): $*"
    FAILS=$((FAILS + 1))
}

# run CMD...: run, keep stdout in $OUT, stderr in $ERR, exit status in $RC.
run() {
    "$@" >"$W/.out" 2>"$W/.err"
    RC=$?
    OUT=$(cat "$W/.out")
    ERR=$(cat "$W/.err")
}

# ok CMD...: must exit 0.
ok() {
    run "$@"
    if [ "$RC" -ne 0 ]; then fail "'$*' exited $RC: $ERR"; fi
}

# bad STATUS PATTERN CMD...: must exit STATUS with PATTERN (grep -E) on stderr.
bad() {
    local want=$1 pat=$2
    shift 2
    run "$@"
    if [ "$RC" -ne "$want" ]; then fail "'$*' exited $RC, expected $want (stderr: $ERR)"; fi
    if ! grep -Eq -- "$pat" <<<"$ERR"; then fail "'$*': stderr '$ERR' lacks /$pat/"; fi
}

# same A B: strings must be equal.
same() { if [ "$1" != "$2" ]; then fail "expected [$2], got [$1]"; fi; }
# has TEXT PATTERN: grep -E must match.
has() { if ! grep -Eq -- "$2" <<<"$1"; then fail "[$1] lacks /$2/"; fi; }

# make_tree DIR: nested directories, empty files and directories, files of several chunks at
# BENCHFS_CHUNK_SIZE=65536, odd names (spaces, unicode, a leading dash), assorted modes.
make_tree() {
    local d=$1
    mkdir -p "$d/a/b/c/d" "$d/empty dir" "$d/ünïcødé ☃/sub" "$d/-dash"
    : >"$d/empty"
    : >"$d/a/b/c/d/also empty"
    head -c 1000003 /dev/urandom >"$d/a/big file.bin"          # ~15 chunks, odd tail
    head -c 65536 /dev/urandom >"$d/a/b/exactly one chunk"
    head -c 300001 /dev/urandom >"$d/ünïcødé ☃/sub/Grüße, 世界.dat"
    printf 'hello\n' >"$d/a/b/c/hello.txt"
    printf '#!/bin/sh\necho hi\n' >"$d/-dash/run me.sh"
    for i in $(seq 1 20); do printf 'file %d\n' "$i" >"$d/a/b/c/d/f$i"; done
    chmod 0755 "$d/-dash/run me.sh"
    chmod 0400 "$d/a/b/exactly one chunk"
    chmod 0640 "$d/a/big file.bin"
    chmod 0700 "$d/empty dir"
    chmod 0750 "$d/a/b"
    chmod 0555 "$d/ünïcødé ☃/sub"  # read-only directory: written into before its mode is set
}

# tree_sig DIR: one line per entry (path, type, mode) plus sha256 of every file, sorted.
tree_sig() {
    (cd "$1" && find . -mindepth 1 -printf '%p %y %m\n' | LC_ALL=C sort &&
        find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
}

cli_finish() {
    if [ "$FAILS" -ne 0 ]; then
        echo "$1: $FAILS check(s) failed"
        exit 1
    fi
    echo "$1: all checks passed"
    exit 0
}
