#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# benchfs ls/stat/mkdir/rm/mv/cat/df against a 2-server cluster: outputs, error messages and
# exit statuses, --help and bad flags. Usage: test_cli_namespace.sh BENCHFS BENCHFSD
. "$(dirname "$0")/test_cli_common.sh"
cli_init "$1" "$2" 2

# usage and help, no cluster needed
run "$BFS"; same "$RC" 2
ok "$BFS" --help; has "$OUT" "stage-in"
ok "$BFS" --version; has "$OUT" '^benchfs [0-9]+\.[0-9]+\.[0-9]+$'
for c in ls stat mkdir rm mv cat df put get stage-in stage-out; do
    ok "$BFS" "$c" --help; has "$OUT" "^usage: benchfs $c"
done
ok "$BFS" help rm; has "$OUT" "^usage: benchfs rm"
bad 2 "unknown command 'frobnicate'" "$BFS" frobnicate
bad 2 "benchfs: ls: invalid option -- 'x'" "$BFS" ls -x
bad 2 "benchfs: rm: unrecognized option '--bogus'" "$BFS" rm --bogus /x
bad 2 "benchfs: mkdir: option '-m' needs an argument" "$BFS" mkdir -m
bad 2 "benchfs: mv: missing destination" "$BFS" mv /a
bad 2 "benchfs: df: unexpected operand" "$BFS" df /x
bad 2 "invalid mode" "$BFS" mkdir -m 99z /x
bad 1 "benchfs: ls: no cluster" env -u BENCHFS_REGISTRY "$BFS" ls /
bad 1 "cannot connect" env BENCHFS_WAIT_MS=300 "$BFS" -r "$CLI_ROOT/nothing" ls /

# df: both servers up, the numbers are numbers
ok "$BFS" df
has "$OUT" "^Registry +1K-blocks +Used +Available +Use% +Servers"
has "$OUT" "^$BENCHFS_REGISTRY +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+% +2/2 up$"
ok "$BFS" df -h; has "$OUT" "2/2 up"
ok "$BFS" --registry "$BENCHFS_REGISTRY" df; has "$OUT" "2/2 up"
ok "$BFS" df --registry="$BENCHFS_REGISTRY"; has "$OUT" "2/2 up"

# mkdir / mkdir -p / ls
ok "$BFS" mkdir /d1
bad 1 "^benchfs: mkdir: /d1: File exists$" "$BFS" mkdir /d1
bad 1 "^benchfs: mkdir: /no/such: No such file or directory$" "$BFS" mkdir /no/such
ok "$BFS" mkdir -p /d1 /p/q/r "/sp ace/ünï"
ok "$BFS" mkdir -m 700 /private
ok "$BFS" ls /
same "$OUT" "$(printf 'd1\np\nprivate\nsp ace')"
ok "$BFS" ls -d /p /p/q; same "$OUT" "$(printf '/p\n/p/q')"
ok "$BFS" ls -l /private /p/q
has "$OUT" "^/p/q:$"
has "$OUT" "^drwxr-xr-x +[0-9]+ +[^ ]+ +[^ ]+ +[0-9]+ [0-9-]+ [0-9:]+ r$"
ok "$BFS" ls -ld /private; has "$OUT" "^drwx------ .* /private$"
ok "$BFS" ls "sp ace"; same "$OUT" "ünï"      # relative names are taken from /
bad 1 "^benchfs: ls: /missing: No such file or directory$" "$BFS" ls /missing

# put a small file, cat, stat
printf 'line one\nline two\n' >"$W/small"
ok "$BFS" put -q "$W/small" /d1/small.txt; same "$OUT" ""
ok "$BFS" cat /d1/small.txt; same "$OUT" "$(printf 'line one\nline two')"
ok "$BFS" cat /d1/small.txt /d1/small.txt; same "$(wc -l <<<"$OUT")" 4
ok "$BFS" ls -l /d1; has "$OUT" "^-rw-r--r-- +1 .* 18 [0-9-]+ [0-9:]+ small.txt$"
ok "$BFS" stat /d1/small.txt
has "$OUT" "^  File: /d1/small.txt$"
has "$OUT" "Size: 18 "
has "$OUT" "regular file"
has "$OUT" "^Access: \(0644/-rw-r--r--\)"
ok "$BFS" stat /p; has "$OUT" "directory"
bad 1 "^benchfs: cat: /d1/none: No such file or directory$" "$BFS" cat /d1/none
bad 1 "^benchfs: cat: /d1: Is a directory$" "$BFS" cat /d1
bad 1 "^benchfs: stat: /zz: No such file or directory$" "$BFS" stat /d1/small.txt /zz
has "$OUT" "File: /d1/small.txt"    # the good operand is still shown

# mv: rename, into a directory, errors
ok "$BFS" mv /d1/small.txt /d1/renamed
ok "$BFS" ls /d1; same "$OUT" "renamed"
ok "$BFS" mv /d1/renamed /p          # into an existing directory
ok "$BFS" cat /p/renamed; has "$OUT" "line two"
ok "$BFS" mv /p /d1/moved             # a directory tree
ok "$BFS" ls /d1/moved/q; same "$OUT" "r"
ok "$BFS" cat /d1/moved/renamed; has "$OUT" "line one"
bad 1 "^benchfs: mv: /nowhere: No such file or directory$" "$BFS" mv /nowhere /x
bad 1 "Not a directory" "$BFS" mv /d1/moved/renamed /private /d1/moved/renamed

# rm: file, dir without -r, -r, -f
bad 1 "^benchfs: rm: /d1: Is a directory$" "$BFS" rm /d1
bad 1 "^benchfs: rm: /missing: No such file or directory$" "$BFS" rm /missing
ok "$BFS" rm -f /missing
ok "$BFS" rm /d1/moved/renamed
bad 1 "No such file or directory" "$BFS" cat /d1/moved/renamed
ok "$BFS" rm -r /d1 "/sp ace"
ok "$BFS" ls /; same "$OUT" "private"
bad 1 "refusing to remove '/'" "$BFS" rm -r /
ok "$BFS" rm -r /private
ok "$BFS" ls /; same "$OUT" ""

cli_finish test_cli_namespace
