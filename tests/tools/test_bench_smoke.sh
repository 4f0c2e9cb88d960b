#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# benchfs-bench smoke run: 2 servers, 2 MPI ranks, verification on, BenchFS and POSIX in one run;
# shared file then file per process; JSON produced, parsed, and holding every phase.
. "$(dirname "$0")/test_bench_lib.sh"
start_cluster 2

# shared file, reads of the other rank's data, all metadata phases, JSON and (if gnuplot) a plot
PLOT=()
command -v gnuplot >/dev/null && PLOT=(--plot "$T/out.png")
bench 2 -r "$T/registry" -t 64K -b 1M -s 3 -C -W -n 30 -w 1000 --posix "$T/posix" \
    --json "$T/shared.json" "${PLOT[@]}"
expect_rc 0 "shared-file run"
expect_out "verification: passed"
expect_out "ratio"
[ -s "$T/shared.json" ] || fail "no JSON written"
if command -v python3 >/dev/null; then
  python3 -m json.tool "$T/shared.json" >/dev/null || fail "JSON does not parse (python3)"
elif command -v jq >/dev/null; then
  jq . "$T/shared.json" >/dev/null || fail "JSON does not parse (jq)"
fi
phases=$(json_query "$T/shared.json" \
  "' '.join(b['name']+':'+p['name'] for b in j['backends'] for p in b['phases'])" \
  '[.backends[] as $b | $b.phases[] | ($b.name + ":" + .name)] | join(" ")')
for b in benchfs posix; do
  for p in write read dir-create dir-stat dir-remove file-create file-stat file-read file-remove; do
    case " $phases " in
      *" $b:$p "*|*SKIP-NO-JSON-TOOL*) ;;
      *) fail "JSON lacks phase $b:$p (has: $phases)" ;;
    esac
  done
done
okv=$(json_query "$T/shared.json" "str(j['ok']).lower()+' '+str(j['verify_errors'])+' '+str(j['ranks'])+' '+str(j['servers'])" \
  '"\(.ok) \(.verify_errors) \(.ranks) \(.servers)"')
case "$okv" in "true 0 2 2"|SKIP-NO-JSON-TOOL) ;; *) fail "JSON summary '$okv', expected 'true 0 2 2'" ;; esac
bytes=$(json_query "$T/shared.json" "int(j['backends'][0]['phases'][0]['bytes'])" '.backends[0].phases[0].bytes')
case "$bytes" in 6291456|SKIP-NO-JSON-TOOL) ;; *) fail "write bytes $bytes, expected 2 ranks x 3 x 1 MiB" ;; esac
if [ ${#PLOT[@]} -gt 0 ]; then
  [ "$(head -c 4 "$T/out.png" | tail -c 3)" = "PNG" ] || fail "--plot did not write a PNG"
fi

# file per process, bandwidth only, JSON on stdout with -q
bench 2 -r "$T/registry" -t 128K -b 512K -s 2 -F -C -W --no-metadata -q --json -
expect_rc 0 "file-per-process run"
expect_out '"file_per_process": true'
expect_out '"ok": true'

# io500's shapes: ior-hard (47008-byte transfers interleaved in one shared file) and
# mdtest-easy (-u: a directory per rank, kept with -k so the layout can be looked at)
bench 2 -r "$T/registry" --shape ior-hard -s 5 -C -W --posix "$T/posix-hard" -q --json -
expect_rc 0 "ior-hard shape"
expect_out '"transfer_size": 47008'
expect_out '"ok": true'
bench 2 -r "$T/registry" -d /shape-easy --shape mdtest-easy -n 7 -W -k --posix "$T/posix-easy"
expect_rc 0 "mdtest-easy shape"
for r in 0 1; do
  n=$(ls "$T/posix-easy/md/r$r" 2>/dev/null | wc -l)
  [ "$n" = 0 ] || fail "mdtest-easy: md/r$r holds $n entries after the remove phases"
  [ -d "$T/posix-easy/md/r$r" ] || fail "mdtest-easy: no per-rank directory md/r$r (kept by -k)"
done
# --via: a third column with POSIX calls on another directory (here a plain one: the preload
# and FUSE suites point it at their ways into BenchFS), ratios of both against POSIX
bench 2 -r "$T/registry" -t 64K -b 256K -n 5 -w 100 -W --via other="$T/via" --posix "$T/posix3" \
    --json "$T/via.json"
expect_rc 0 "--via run"
expect_out "other/P"
expect_out "other *$T/via"
names=$(json_query "$T/via.json" "' '.join(b['name'] for b in j['backends'])+' '+' '.join(sorted(j['ratio_to_posix']))" \
  '([.backends[].name] + (.ratio_to_posix|keys)) | join(" ")')
case "$names" in "benchfs other posix benchfs other"|SKIP-NO-JSON-TOOL) ;;
  *) fail "--via JSON: backends and ratios '$names'" ;; esac
bench 2 -r "$T/registry" --via posix=/tmp
expect_rc 2 "--via with a taken name"
bench 2 -r "$T/registry" --shape ior-medium
expect_rc 2 "unknown shape"
expect_out "unknown shape 'ior-medium'"

finish test_bench_smoke
