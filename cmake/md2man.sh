#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# md2man.sh LOWDOWN IN.md OUT.N VERSION — one man page from a markdown page of docs/.
# The page starts with "# name(N) — summary"; its "## X" sections become man sections (.SH X,
# upper case) and "### X" subsections (.SS). A page without "## NAME" gets one from its title
# line. Text inside ``` fences is left alone. lowdown writes the roff.
set -eu
lowdown=$1 in=$2 out=$3 version=$4
tmp="$out.md"
awk -v version="$version" '
  function name_line(s) {           # "`benchfs` — summary" -> "benchfs - summary"
    gsub(/`/, "", s); sub(/ — /, " - ", s); return s
  }
  NR == 1 {
    if (!match($0, /^# [A-Za-z0-9_.-]+\([0-9]\)/)) { print FILENAME ": first line must be # name(N) ..." > "/dev/stderr"; exit 2 }
    head = substr($0, 3, RLENGTH - 2)
    name = head; sub(/\(.*/, "", name)
    sect = head; sub(/.*\(/, "", sect); sub(/\)/, "", sect)
    summary = substr($0, RLENGTH + 1); sub(/^ *— */, "", summary)
    print "title: " toupper(name)
    print "section: " sect
    print "source: BenchFS " version
    print "volume: BenchFS Manual"
    print ""
    next
  }
  /^```/ { fence = !fence; print; next }
  fence { print; next }
  /^## / {
    if (!named && toupper(substr($0, 4)) != "NAME") { print "# NAME\n\n" name " - " summary "\n" }
    named = 1
    sec = toupper(substr($0, 4)); print "# " sec; next
  }
  /^### / { print "## " substr($0, 5); next }
  sec == "NAME" && NF { print name_line($0); next }
  { print }
' "$in" > "$tmp"
"$lowdown" -s -Tman --out-no-smarty --parse-no-intraemph "$tmp" -o "$out"
rm -f "$tmp"
