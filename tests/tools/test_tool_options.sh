#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test_tool_options.sh PROGRAM... — every tool answers --version and --help with exit 0 (on
# standard output), and the same mistake gives the same exit status everywhere: 2 for an
# unknown option (the convention: 0 success, 1 failure at run time, 2 bad usage).
set -uo pipefail
FAILS=0
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
T=$(mktemp -d "${TMPDIR:-/tmp}/benchfs-options.XXXXXX")
trap 'rm -rf "$T"' EXIT
for prog in "$@"; do
  name=$(basename "$prog")
  timeout 20 "$prog" --version >"$T/out" 2>"$T/err"; rc=$?
  [ $rc -eq 0 ] || fail "$name --version: exit $rc"
  grep -Eq "^$name [0-9]+\.[0-9]+" "$T/out" || fail "$name --version printed '$(cat "$T/out")'"
  timeout 20 "$prog" --help >"$T/out" 2>"$T/err"; rc=$?
  [ $rc -eq 0 ] || fail "$name --help: exit $rc"
  grep -qi "usage" "$T/out" || fail "$name --help: no usage on standard output"
  timeout 20 "$prog" --no-such-option >"$T/out" 2>"$T/err"; rc=$?
  [ $rc -eq 2 ] || fail "$name --no-such-option: exit $rc, expected 2"
  [ -s "$T/err" ] || fail "$name --no-such-option: no message on standard error"
done
echo "test_tool_options: $# programs, $FAILS failures"
[ $FAILS -eq 0 ]
