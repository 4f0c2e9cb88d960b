#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# benchfs put/get: a generated tree (nested and empty directories, empty files, files of many
# chunks, odd names, assorted modes) goes in with put -r and out with get -r, and comes back
# identical (sha256 of every file, type and mode of every entry). Also the cp-like placement
# rules, refusals, the summary and the forced progress bar.
# Usage: test_cli_copy.sh BENCHFS BENCHFSD
. "$(dirname "$0")/test_cli_common.sh"
cli_init "$1" "$2" 2
export BENCHFS_CHUNK_SIZE=65536 # small chunks: the big files span many chunks and both servers

make_tree "$W/src"
want=$(tree_sig "$W/src")

# put -r into a new name, get -r back into a new local name
ok "$BFS" put -r "$W/src" /tree
has "$OUT" "^put: 27 files, 9 directories, .*\(1365[0-9]+ bytes\) in [0-9.]+ s, [0-9.]+ GiB/s$"
ok "$BFS" ls /tree; same "$OUT" "$(printf -- '-dash\na\nempty\nempty dir\nünïcødé ☃')"
ok "$BFS" stat "/tree/a/big file.bin"; has "$OUT" "Size: 1000003 "; has "$OUT" "Chunk size: 65536"
has "$OUT" "\(0640/-rw-r-----\)"
ok "$BFS" get -r /tree "$W/back"
has "$OUT" "^get: 27 files, 9 directories"
same "$(tree_sig "$W/back")" "$want"
same "$(stat -c %a "$W/back")" "$(stat -c %a "$W/src")"

# into existing directories: DEST/basename, as cp -r
ok "$BFS" mkdir /into
ok "$BFS" put -r -q "$W/src" /into
ok "$BFS" ls /into; same "$OUT" "src"
mkdir "$W/existing"
ok "$BFS" get -r -q /into/src "$W/existing"
same "$(tree_sig "$W/existing/src")" "$want"

# several sources into one directory; single files; a file onto a new name
ok "$BFS" put -q "$W/src/empty" "$W/src/a/big file.bin" /into
ok "$BFS" ls /into; same "$OUT" "$(printf 'big file.bin\nempty\nsrc')"
ok "$BFS" get -q "/into/big file.bin" "$W/one.bin"
cmp -s "$W/one.bin" "$W/src/a/big file.bin" || fail "single-file get differs"
same "$(stat -c %a "$W/one.bin")" 640
ok "$BFS" get -q /into/empty "/into/big file.bin" "$W/existing"
[ -f "$W/existing/empty" ] && [ ! -s "$W/existing/empty" ] || fail "empty file not fetched"
# overwrite: a shorter file replaces a longer one completely
printf 'short' >"$W/short"
ok "$BFS" put -q "$W/short" "/into/big file.bin"
ok "$BFS" cat "/into/big file.bin"; same "$OUT" "short"

# refusals
bad 1 "^benchfs: put: $W/src: is a directory \(use -r to copy it\)$" "$BFS" put "$W/src" /x
bad 1 "^benchfs: get: /tree: is a directory" "$BFS" get /tree "$W/x"
bad 1 "^benchfs: put: $W/nope: No such file or directory$" "$BFS" put "$W/nope" /x
bad 1 "^benchfs: get: /nope: No such file or directory$" "$BFS" get /nope "$W/x"
bad 1 "^benchfs: put: /into/empty: Not a directory$" "$BFS" put "$W/short" "$W/short" /into/empty
bad 1 "^benchfs: put: /no/dir/x: No such file or directory$" "$BFS" put "$W/short" /no/dir/x
bad 2 "missing destination" "$BFS" put "$W/short"
bad 2 "invalid --io-size" "$BFS" put --io-size 12Q "$W/short" /y
bad 2 "unrecognized option '--split'" "$BFS" put --split 1M "$W/short" /y
# a failure in the middle of a tree: the rest is copied, the status says it failed
mkfifo "$W/src/a/fifo"
bad 1 "fifo: not a regular file or directory, skipped" "$BFS" put -r "$W/src" /partial
has "$OUT" "27 files, .* 1 error$"
rm "$W/src/a/fifo"

# tiny I/O size: many calls per chunk, same bytes
ok "$BFS" put -r -q --io-size 4097 "$W/src" /small-io
ok "$BFS" get -r -q --io-size 3000 /small-io "$W/small-io"
same "$(tree_sig "$W/small-io")" "$want"

# progress bar: forced on a pipe it draws with \r; by default (not a tty) it stays silent
ok "$BFS" put -r --progress "$W/src" /prog
grep -q $'\r\[' "$W/.err" || fail "no progress bar drawn with --progress"
has "$ERR" "100% .* files 27/27"
ok "$BFS" get -r /prog "$W/prog"
same "$ERR" ""
if command -v script >/dev/null; then # a real terminal: the bar comes by itself
    script -qec "'$BFS' put -r '$W/src' /tty" /dev/null >"$W/tty.out" 2>&1
    grep -q $'\r\[' "$W/tty.out" || fail "no progress bar on a terminal"
fi

cli_finish test_cli_copy
