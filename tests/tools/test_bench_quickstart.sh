#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# scripts/quickstart.sh end to end with small sizes, on the build tree under test: 4 servers,
# 2 MPI ranks, BenchFS vs POSIX; then nothing may be left behind (servers, temporary dirs).
set -euo pipefail
SRC=$1
BUILD=$2
OUT=$(mktemp -d "${TMPDIR:-/tmp}/benchfs-qs-test.XXXXXX")
trap 'rm -rf "$OUT"' EXIT
export TMPDIR=$OUT        # the quickstart's cluster directory goes here, so we can check it
mkdir -p "$OUT/out"
set +e
BUILD_DIR=$BUILD QUICKSTART_SKIP_DEPS=1 QUICKSTART_SIZE=small QUICKSTART_OUT="$OUT/out/qs" \
  QUICKSTART_TIMEOUT=240 bash "$SRC/scripts/quickstart.sh" 2>&1 | tee "$OUT/log.txt"
rc=${PIPESTATUS[0]}
set -e
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
[ "$rc" -eq 0 ] || fail "quickstart exit status $rc"
for want in "4 servers up" "BenchFS" "POSIX" "ratio" "verification: passed" "stopping 4 servers"; do
  grep -q -- "$want" "$OUT/log.txt" || fail "output lacks '$want'"
done
[ -s "$OUT/out/qs.json" ] || fail "no JSON result"
leftover=$(find "$OUT" -maxdepth 1 -name 'benchfs-quickstart.*' | wc -l)
[ "$leftover" -eq 0 ] || fail "temporary cluster directory left behind"
if pgrep -f "benchfsd --data-dir $OUT/" >/dev/null; then
  fail "servers still running"
fi
# a failing benchmark must still stop the cluster and clean up
set +e
BUILD_DIR=$BUILD QUICKSTART_SKIP_DEPS=1 QUICKSTART_SIZE=small QUICKSTART_OUT="$OUT/out/qs2" \
  bash "$SRC/scripts/quickstart.sh" -- --bogus-flag >"$OUT/log2.txt" 2>&1
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "quickstart with a bad benchmark flag succeeded"
grep -q "stopping 4 servers" "$OUT/log2.txt" || fail "failed run did not stop the servers"
leftover=$(find "$OUT" -maxdepth 1 -name 'benchfs-quickstart.*' | wc -l)
[ "$leftover" -eq 0 ] || fail "failed run left its temporary directory"
if [ $fails -ne 0 ]; then
  echo "test_bench_quickstart: $fails failure(s)"
  exit 1
fi
echo "test_bench_quickstart: ok"
