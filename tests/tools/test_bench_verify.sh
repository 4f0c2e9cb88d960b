#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# shellcheck disable=SC2034 # RC is read by expect_rc in test_bench_lib.sh
# benchfs-bench verification must catch bad data: --corrupt-for-test flips one byte of rank 0's
# data after the write phase (and of its first small file after create); the read of another
# rank (-C) has to report it, and the exit status has to be 3. Also: usage errors exit 2.
. "$(dirname "$0")/test_bench_lib.sh"
start_cluster 2

for layout in "" "-F"; do
  bench 2 -r "$T/registry" -t 64K -b 1M -s 2 $layout -C -W -n 10 -w 600 --corrupt-for-test \
      --json "$T/bad.json"
  expect_rc 3 "corrupted run $layout"
  expect_out "verification: FAILED"
  expect_out "1 byte(s) differ from what rank 0 wrote"
  v=$(json_query "$T/bad.json" "str(j['ok']).lower()+' '+str(j['verify_errors'])" '"\(.ok) \(.verify_errors)"')
  case "$v" in "false 2"|SKIP-NO-JSON-TOOL) ;; *) fail "JSON after corruption: '$v', expected 'false 2'" ;; esac
done

# the same corruption without -W goes unnoticed: the check is what finds it
bench 2 -r "$T/registry" -t 64K -b 1M -C -n 5 --corrupt-for-test
expect_rc 0 "corrupted run without -W"

# usage errors: exit 2 with a message, before any MPI or BenchFS work
usage_case() {
  local want=$1
  shift
  set +e
  "$BENCH" -r "$T/registry" "$@" >"$T/out.txt" 2>&1
  RC=$?
  set -e
  expect_rc 2 "benchfs-bench $*"
  grep -q -- "$want" "$T/out.txt" || fail "benchfs-bench $*: message lacks '$want': $(cat "$T/out.txt")"
}
usage_case "bad transfer size" -t 0
usage_case "bad transfer size" -t 12Q
usage_case "multiple of -t" -t 3M -b 4M
usage_case "unknown option" --bogus
usage_case "unknown option '-Z'" -Z
usage_case "needs an argument" -n
usage_case "not an absolute" -d relative/dir
usage_case "nothing to run" --no-bandwidth -n 0
usage_case "unexpected argument" stray
set +e
env -u BENCHFS_REGISTRY "$BENCH" >"$T/out.txt" 2>&1
RC=$?
set -e
expect_rc 2 "no registry"
expect_out "no registry"
"$BENCH" --help >"$T/out.txt" || fail "--help failed"
expect_out "Usage: mpirun"

finish test_bench_verify
