#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# test_man_pages.sh PAGE... — every generated man page renders with `man -l` at 80 columns,
# is not empty (NAME, SYNOPSIS, DESCRIPTION present), and `man --warnings -l` says nothing.
set -u
fail=0
for page in "$@"; do
  out=$(MANWIDTH=80 man -l "$page" 2>/dev/null)
  warn=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
  name=$(basename "$page")
  lines=$(printf '%s\n' "$out" | wc -l)
  for sec in NAME SYNOPSIS DESCRIPTION; do
    printf '%s\n' "$out" | grep -q "^$sec\$" || { echo "FAIL $name: no $sec section"; fail=1; }
  done
  if [ "$lines" -lt 20 ]; then echo "FAIL $name: only $lines lines"; fail=1; fi
  if [ -n "$warn" ]; then echo "FAIL $name: man --warnings:"; echo "$warn"; fail=1; fi
  [ "$fail" -ne 0 ] || echo "ok   $name ($lines lines)"
done
exit $fail
