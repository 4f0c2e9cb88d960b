#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test_fuse.sh BENCHFS-FUSE BENCHFS BENCHFSD LIBBENCHFS — benchfs-fuse against a real 2-server
# cluster, driven by ordinary tools: cp, tar, rsync, find, sha256sum, diff, ls, mv, rm and
# python3 on a tree with nested and empty directories, empty files, files of many chunks
# (BENCHFS_CHUNK_SIZE=64 KiB), symbolic links and odd names, all round trips byte-identical;
# close-to-open against a second client (the `benchfs` tool, libbenchfs through ctypes); root
# and `nobody` each getting the permission results of their own identity; a FIFO round trip, a
# unix socket and a device node in the mount, a sticky directory and set-id bits a write
# clears; a stopped and a killed server giving an error at the RPC deadline, not a hang;
# `fusermount3 -u` leaving no daemon. Every wait is bounded; the mount is taken down on any exit. Exit 77 (ctest SKIP)
# only when /dev/fuse or fusermount3 is missing or mounting is not permitted here.
source "$(dirname "$0")/../tools/test_cli_common.sh"
FUSE=$1 CLIBIN=$2 BFSD=$3 LIB=$4 SANRT=${5:-} # SANRT: an ASan build's runtime

skip() { echo "SKIP: $*"; exit 77; }
[ -c /dev/fuse ] || skip "/dev/fuse is missing"
command -v fusermount3 >/dev/null || skip "fusermount3 is missing (Debian: fuse3)"
for t in rsync tar python3 setpriv timeout mountpoint; do
    command -v $t >/dev/null || { echo "FAIL: $t is missing (scripts/install-deps.sh)"; exit 1; }
done

export BENCHFS_CHUNK_SIZE=65536
cli_init "$CLIBIN" "$BFSD" 2
M=$CLI_ROOT/mnt
FUSE_PID=
chmod 0711 "$CLI_ROOT" # `nobody` must reach the mount point, not list the test's files
mkdir -m 0755 "$M"
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups --)

# unmount: fusermount3 -u, then wait (bounded) for the daemon to leave.
unmount() {
    if mountpoint -q "$M"; then
        timeout 20 fusermount3 -u "$M" 2>/dev/null || timeout 20 fusermount3 -uz "$M"
    fi
    if [ -n "$FUSE_PID" ]; then
        for _ in $(seq 200); do kill -0 "$FUSE_PID" 2>/dev/null || break; sleep 0.05; done
    fi
}
fz_cleanup() {
    unmount
    if [ -n "$FUSE_PID" ] && kill -0 "$FUSE_PID" 2>/dev/null; then kill -KILL "$FUSE_PID"; fi
    cli_cleanup
}
trap fz_cleanup EXIT

# mount [OPTIONS...]: benchfs-fuse in the foreground of a background job (its pid known).
mount_fs() {
    "$FUSE" "$M" -f -o allow_other,rpc_timeout=3000 "$@" >>"$CLI_ROOT/fuse.log" 2>&1 &
    FUSE_PID=$!
    for _ in $(seq 200); do
        mountpoint -q "$M" && return 0
        kill -0 "$FUSE_PID" 2>/dev/null || break
        sleep 0.05
    done
    if grep -Eqi "not permitted|permission denied|device not found|no such device" "$CLI_ROOT/fuse.log"; then
        skip "mounting is not permitted here: $(cat "$CLI_ROOT/fuse.log")"
    fi
    echo "FAIL: benchfs-fuse did not mount"; cat "$CLI_ROOT/fuse.log"; exit 1
}

# lib PYTHON: run PYTHON with `L` (libbenchfs through ctypes) and `fs` (a context): a client
# of the cluster that is not the mount.
lib() {
    env ${SANRT:+LD_PRELOAD="$SANRT"} python3 - "$LIB" "$@" <<PYEOF
import ctypes, os, sys
L = ctypes.CDLL(sys.argv[1], use_errno=True)
L.benchfs_init.restype = ctypes.c_void_p
fs = ctypes.c_void_p(L.benchfs_init(None))
assert fs.value, "benchfs_init failed"
$(cat)
L.benchfs_term(fs)
PYEOF
}

# ---- usage errors and an unreachable cluster: no mount, a clear message ----
bad 2 "no mount point" "$FUSE"
bad 2 "no registry" env -u BENCHFS_REGISTRY "$FUSE" "$M"
bad 1 "registry" "$FUSE" "$M" -o registry="$CLI_ROOT/nowhere"
if mountpoint -q "$M"; then fail "a failed start left a mount"; fi

mount_fs

# ---- the tree: make_tree's plus symbolic links (relative, absolute inside the mount,
# dangling) and more odd names ----
S=$W/src
make_tree "$S"
printf 'x' >"$S/a/b/c/d/name with 'quotes' and \"dq\""
printf 'y' >"$S/a/b/c/d/new
line"
printf 'z' >"$S/.hidden"
head -c 5000000 /dev/urandom >"$S/a/five megabytes" # ~77 chunks
ln -s "b/c/hello.txt" "$S/a/rel link"
ln -s "../a/big file.bin" "$S/-dash/up link"
ln -s "does/not/exist" "$S/dangling"
ln -s "$M/rs/a/b/c/hello.txt" "$S/abs link" # absolute, into the mount (where rsync puts it)
# Times well in the past: rsync -a leaves a directory's or a link's time alone when it looks
# equal to the copy's, and it compares whole seconds, so a tree made in the same second as its
# copy would not show whether times are kept.
find "$S" -exec touch -h -d '2021-03-04 05:06:07.123456789' {} +

# ---- cp -r, tar, rsync -a, cp -a: byte-identical ----
ok cp -r "$S" "$M/cp"
ok diff -r --no-dereference "$S" "$M/cp"
(cd "$S" && tar cf - .) | (mkdir "$M/tar" && cd "$M/tar" && tar xpf -) || fail "tar c | tar x failed"
same "$(tree_sig "$M/tar")" "$(tree_sig "$S")"
ok rsync -a "$S/" "$M/rs/"
same "$(tree_sig "$M/rs")" "$(tree_sig "$S")"
ok diff -r --no-dereference "$S" "$M/rs"
ok rsync -a "$M/rs/" "$W/back/" # and out again: what came in goes out unchanged
same "$(tree_sig "$W/back")" "$(tree_sig "$S")"
# times and modes survive too (rsync -a sets them; readdirplus/lstat report them)
meta() { (cd "$1" && find . \( -type d -printf '%p %m %T@\n' \) -o -printf '%p %m %s %T@\n' | LC_ALL=C sort); }
same "$(meta "$M/rs")" "$(meta "$S")" # directory sizes are not compared (BenchFS: 0)
ok cp -a "$S" "$M/cpa"
same "$(tree_sig "$M/cpa")" "$(tree_sig "$S")"

# ---- find, sha256sum, ls -l, readlink through the mount ----
same "$(cd "$M/rs" && find . -type l | LC_ALL=C sort)" "$(cd "$S" && find . -type l | LC_ALL=C sort)"
same "$(cd "$M/rs" && find . -name '*.txt' -o -name 'f1*' | LC_ALL=C sort)" \
     "$(cd "$S" && find . -name '*.txt' -o -name 'f1*' | LC_ALL=C sort)"
same "$(sha256sum <"$M/rs/a/five megabytes")" "$(sha256sum <"$S/a/five megabytes")"
same "$(cat "$M/rs/a/rel link")" "hello"
same "$(cat "$M/rs/abs link")" "hello"
same "$(readlink "$M/rs/abs link")" "$M/rs/a/b/c/hello.txt"
same "$(readlink "$M/rs/dangling")" "does/not/exist"
run ls -l "$M/rs/a"
has "$OUT" "^-rw-r----- 1 root root 1000003 .* big file.bin$"
has "$OUT" "^lrwxrwxrwx 1 root +root +13 .* rel link -> b/c/hello.txt$"
run ls -ld "$M/rs/a/b/exactly one chunk" "$M/rs/empty dir"
has "$OUT" "^-r-------- 1 root root 65536 "
has "$OUT" "^drwx------ [0-9]+ root root "
same "$(ls -A "$M/rs/empty dir")" ""
same "$(stat -c %s "$M/rs/empty")" "0"

# ---- big writes and sparse files ----
ok dd if="$S/a/five megabytes" of="$M/dd" bs=1M status=none
same "$(sha256sum <"$M/dd")" "$(sha256sum <"$S/a/five megabytes")"
ok dd if=/dev/zero of="$M/sparse" bs=1 count=1 seek=300000 status=none
same "$(stat -c %s "$M/sparse")" "300001"
same "$(head -c 300000 "$M/sparse" | tr -d '\0' | wc -c)" "0"

# ---- mv, rm -r ----
ok mv "$M/cp/a/big file.bin" "$M/cp/moved.bin"
ok mv "$M/cp/a" "$M/cp/A renamed"
ok mv "$M/dd" "$W/dd.out" # across file systems: copy, then unlink in the mount
same "$(sha256sum <"$W/dd.out")" "$(sha256sum <"$S/a/five megabytes")"
[ -e "$M/dd" ] && fail "mv out of the mount left the source"
same "$(sha256sum <"$M/cp/moved.bin")" "$(sha256sum <"$S/a/big file.bin")"
same "$(cat "$M/cp/A renamed/b/c/hello.txt")" "hello"
[ -e "$M/cp/a" ] && fail "renamed directory still there"
ok rm -r "$M/cp" "$M/tar" "$M/cpa"
same "$(ls -A "$M")" "$(printf 'rs\nsparse')"
same "$("$CLIBIN" ls /)" "$(printf 'rs\nsparse')"

# ---- python3: os, shutil, open ----
run python3 - "$M" "$S" <<'PY'
import filecmp, os, shutil, sys
m, s = sys.argv[1], sys.argv[2]
d = os.path.join(m, "py")
os.makedirs(os.path.join(d, "x", "y", "z"))
with open(os.path.join(d, "x", "f"), "wb") as f:
    f.write(b"a" * 100000)
with open(os.path.join(d, "x", "f"), "ab") as f:
    f.write(b"b" * 10)
with open(os.path.join(d, "x", "f"), "rb") as f:
    assert f.read() == b"a" * 100000 + b"b" * 10
with open(os.path.join(d, "x", "f"), "r+b") as f:
    f.seek(99999); f.write(b"C"); f.truncate(100005)
assert os.path.getsize(os.path.join(d, "x", "f")) == 100005
with open(os.path.join(d, "x", "f"), "rb") as f:
    assert f.read()[99998:] == b"aCbbbbb"
shutil.copytree(s, os.path.join(d, "tree"), symlinks=True)
c = filecmp.dircmp(s, os.path.join(d, "tree"))
def same(c):
    assert not (c.left_only or c.right_only or c.diff_files or c.funny_files), c.report()
    for sub in c.subdirs.values():
        same(sub)
same(c)
names = sorted(e.name for e in os.scandir(os.path.join(d, "tree", "a", "b", "c", "d")))
assert names == sorted(os.listdir(os.path.join(s, "a", "b", "c", "d"))), names
st = os.stat(os.path.join(d, "tree", "a", "five megabytes"))
assert st.st_size == 5000000
os.rename(os.path.join(d, "x"), os.path.join(d, "x2"))
assert os.path.exists(os.path.join(d, "x2", "y", "z"))
os.utime(os.path.join(d, "x2", "f"), (1000000000, 1200000000))
assert os.stat(os.path.join(d, "x2", "f")).st_mtime == 1200000000
os.symlink("x2/f", os.path.join(d, "l"))
assert os.readlink(os.path.join(d, "l")) == "x2/f" and os.path.islink(os.path.join(d, "l"))
try:
    os.link(os.path.join(d, "x2", "f"), os.path.join(d, "hard"))
    raise SystemExit("hard link did not fail")
except PermissionError:
    pass
try:
    os.rmdir(os.path.join(d, "x2"))
    raise SystemExit("rmdir of a non-empty directory did not fail")
except OSError as e:
    assert e.errno == 39, e
shutil.rmtree(d)
assert not os.path.exists(d)
print("python ok")
PY
[ "$RC" -eq 0 ] || fail "python3 session: $ERR"

# ---- close-to-open against another client ----
printf 'old\n' >"$M/c2o"
same "$(cat "$M/c2o")" "old"          # the kernel now holds its size (attr_timeout)
printf 'new and longer\n' >"$W/c2o.new"
ok "$CLIBIN" put "$W/c2o.new" /c2o    # written and closed by another client
same "$(cat "$M/c2o")" "new and longer" # an open after that close sees it
# an unchanged file keeps its pages across opens (keep_cache); a rewrite of the same size by
# another client is a new version (mtime), so the next open drops them
head -c 300000 /dev/urandom >"$W/v1"; head -c 300000 /dev/urandom >"$W/v2"
ok cp "$W/v1" "$M/ver"
ok cmp "$W/v1" "$M/ver"; ok cmp "$W/v1" "$M/ver"
ok "$CLIBIN" put "$W/v2" /ver
ok cmp "$W/v2" "$M/ver"
ok rm "$M/ver"
# the mount's read-ahead window (the largest read the kernel asks for) is raised as root
if [ "$(id -u)" = 0 ]; then
    dev=$(awk -v m="$M" '$5 == m { d = $3 } END { print d }' /proc/self/mountinfo)
    if [ -r "/sys/class/bdi/$dev/read_ahead_kb" ]; then
        same "$(cat "/sys/class/bdi/$dev/read_ahead_kb")" "1024"
    fi
fi
# a close(2) through the mount publishes at once, also while another descriptor stays open
run python3 - "$M/c2o-held" "$CLIBIN" <<'PY'
import os, subprocess, sys
fd = os.open(sys.argv[1], os.O_CREAT | os.O_WRONLY, 0o644)
os.write(fd, b"held open\n")
os.close(os.dup(fd))  # close(2) of a duplicate: FLUSH, and no RELEASE while fd is open
out = subprocess.run([sys.argv[2], "cat", "/c2o-held"], capture_output=True, timeout=60)
os.close(fd)
assert out.stdout == b"held open\n", out
PY
[ "$RC" -eq 0 ] || fail "close of a duplicate did not publish: $ERR"
ok rm "$M/c2o" "$M/c2o-held"

# ---- two users: each request acts as the process that made it ----
ok mkdir -m 0777 "$M/users"
printf 'secret\n' >"$M/users/root-only"
chmod 0600 "$M/users/root-only"
ok "${NOBODY[@]}" sh -c "printf 'mine\n' >'$M/users/nobody-file'; mkdir '$M/users/nobody-dir'"
same "$(stat -c '%u %g' "$M/users/nobody-file" "$M/users/nobody-dir")" "$(printf '65534 65534\n65534 65534')"
has "$("$CLIBIN" ls -l /users)" "(65534|nobody) +(65534|nogroup) .* nobody-file" # so in BenchFS
bad 1 "Permission denied" "${NOBODY[@]}" cat "$M/users/root-only"
bad 1 "Operation not permitted" "${NOBODY[@]}" chmod 0666 "$M/users/root-only"
bad 1 "Permission denied" "${NOBODY[@]}" mkdir "$M/rs/not-yours"
same "$(cat "$M/users/nobody-file")" "mine" # root reads anyone's file
ok chmod 0600 "$M/users/nobody-file"
same "$("${NOBODY[@]}" cat "$M/users/nobody-file")" "mine"
ok "${NOBODY[@]}" chmod 0644 "$M/users/nobody-file"
# the library checks with the caller's identity too: a mode changed by another client
# refuses `nobody` at once, whatever the kernel still has cached
ok chmod 0644 "$M/users/root-only"
same "$("${NOBODY[@]}" cat "$M/users/root-only")" "secret"
printf 'L.benchfs_chmod(fs, b"/users/root-only", 0o600) == 0 or sys.exit("chmod")\n' | lib
bad 1 "Permission denied" "${NOBODY[@]}" cat "$M/users/root-only"
ok rm -r "$M/users"

# ---- special files, a sticky directory, set-id bits cleared by a write (as pjdfstest) ----
ok mkdir -m 0777 "$M/sp"
ok mkfifo "$M/sp/p"
same "$(stat -c %F "$M/sp/p")" "fifo"
run timeout 20 sh -c "echo hi >'$M/sp/p' & cat '$M/sp/p'; wait" # the kernel makes the pipe
same "$OUT" "hi"
run timeout 20 python3 - "$M/sp/s" <<'PY'
import socket, sys
srv = socket.socket(socket.AF_UNIX); srv.bind(sys.argv[1]); srv.listen(1)
cli = socket.socket(socket.AF_UNIX); cli.connect(sys.argv[1])
conn, _ = srv.accept(); cli.sendall(b"ping"); assert conn.recv(4) == b"ping"
PY
[ "$RC" -eq 0 ] || fail "a unix socket bound in the mount: $ERR"
same "$(stat -c %F "$M/sp/s")" "socket"
ok mknod "$M/sp/c" c 1 3
same "$(stat -c '%F %t %T' "$M/sp/c")" "character special file 1 3"
bad 1 "Operation not permitted" "${NOBODY[@]}" mknod "$M/sp/c2" c 1 3
ok mv "$M/sp/p" "$M/sp/p2"
same "$(stat -c %F "$M/sp/p2")" "fifo"
printf 'L.benchfs_open(fs, b"/sp/p2", 0, 0) == -1 and ctypes.get_errno() == 6 or sys.exit("open")\n' | lib
[ "$?" -eq 0 ] || fail "the library's open of a FIFO is not ENXIO"
ok chmod 1777 "$M/sp"
printf 'x' >"$M/sp/rootfile"
ok chmod 0666 "$M/sp/rootfile"
bad 1 "Operation not permitted" "${NOBODY[@]}" rm -f "$M/sp/rootfile"
ok chmod 06777 "$M/sp/rootfile"
ok "${NOBODY[@]}" sh -c "printf y >>'$M/sp/rootfile'"
same "$(stat -c %a "$M/sp/rootfile")" "777"
ok rm -r "$M/sp"
[ -e "$M/sp" ] && fail "rm -r of special files left $M/sp"

# ---- unmount: fusermount3 -u ends the daemon ----
ok fusermount3 -u "$M"
for _ in $(seq 200); do kill -0 "$FUSE_PID" 2>/dev/null || break; sleep 0.05; done
kill -0 "$FUSE_PID" 2>/dev/null && fail "benchfs-fuse still running 10 s after fusermount3 -u"
wait "$FUSE_PID"; same "$?" "0"
mountpoint -q "$M" && fail "still mounted after fusermount3 -u"
FUSE_PID=

# ---- the default, daemonised start: returns once mounted; unmount leaves no process ----
ok "$FUSE" "$M" -o rpc_timeout=3000
mountpoint -q "$M" || fail "daemonised benchfs-fuse did not mount"
same "$(cat "$M/rs/a/b/c/hello.txt")" "hello"
daemon_pids() { # processes whose command line names this test's mount point
    local p
    for p in /proc/[0-9]*; do
        { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -qF -- "$FUSE $M" && echo "${p#/proc/}"
    done
}
[ -n "$(daemon_pids)" ] || fail "no daemon found for the mount"
ok fusermount3 -u "$M"
for _ in $(seq 200); do [ -z "$(daemon_pids)" ] && break; sleep 0.05; done
same "$(daemon_pids)" ""

# ---- a stopped, then a killed server: errors at the deadline (3 s here), never a hang ----
mount_fs
ls -l "$M/rs" >/dev/null
kill -STOP "${CLI_PIDS[1]}"
t0=$(date +%s%N)
run timeout 60 ls "$M/rs/a" # a listing asks every server
t1=$(date +%s%N)
kill -CONT "${CLI_PIDS[1]}"
same "$RC" "2"
has "$ERR" "timed out"
echo "stopped server: ls failed after $(((t1 - t0) / 1000000)) ms ($ERR)"
same "$(ls "$M/rs/a" | wc -l)" "$(ls "$S/a" | wc -l)" # served again once it runs
kill -KILL "${CLI_PIDS[1]}"
wait "${CLI_PIDS[1]}" 2>/dev/null
t0=$(date +%s%N)
run timeout 60 cat "$M/rs/a/five megabytes" # 77 chunks: some on the dead server
t1=$(date +%s%N)
same "$RC" "1"
has "$ERR" "Input/output error"
echo "killed server: cat failed after $(((t1 - t0) / 1000000)) ms ($ERR)"
run timeout 60 ls "$M/rs"
same "$RC" "2"
has "$ERR" "Input/output error"
mountpoint -q "$M" || fail "the mount went away with the server"
t0=$(date +%s%N)
ok timeout 60 fusermount3 -u "$M"
for _ in $(seq 600); do kill -0 "$FUSE_PID" 2>/dev/null || break; sleep 0.05; done
kill -0 "$FUSE_PID" 2>/dev/null && fail "benchfs-fuse still running 30 s after fusermount3 -u"
t1=$(date +%s%N)
echo "unmount with a dead server: $(((t1 - t0) / 1000000)) ms"
FUSE_PID=

# the daemon's own output: nothing from the sanitizers (ASan/UBSan builds), no crash
if grep -Eq "Sanitizer|runtime error|Segmentation" "$CLI_ROOT/fuse.log"; then
    fail "benchfs-fuse reported: $(cat "$CLI_ROOT/fuse.log")"
fi
cli_finish test_fuse
