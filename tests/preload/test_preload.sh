#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# libbenchfs-preload.so driven by real programs on a live 2-server cluster: cp -r / cp -a,
# tar c | tar x, rsync -a, find, sha256sum, diff -r, ls -l, sed, sort, mv, rm -r and
# python3 (os, shutil, open) copy a tree (nested and empty directories, empty files, files of
# many 64 KiB chunks, symbolic links, odd names) into /benchfs and back out byte-identical;
# mkfifo and mknod make special files there.
# The same commands on a local tree give the same output with and without the library (and
# never start a BenchFS client). Bad input: paths that climb out of the prefix with "..",
# closed descriptors reused, descriptor numbers shared with the kernel's, fork in the middle of
# a write, exec with inherited descriptors (kept with the library, EBADF without), mmap,
# O_DIRECT, and a server killed while a program has a file open (an error, no hang).
# Usage: test_preload.sh PRELOAD_LIB BENCHFSD BENCHFS_CLI [SANITIZER_RUNTIME]
. "$(dirname "$0")/../tools/test_cli_common.sh"
PRE=$1
[ -n "${4:-}" ] && PRE="$4:$PRE" # an ASan build: the runtime must come first
cli_init "$3" "$2" 2
export BENCHFS_CHUNK_SIZE=65536 BENCHFS_MOUNT=/benchfs
PY=/usr/bin/python3
L=(env LD_PRELOAD="$PRE")
M=/benchfs

make_tree "$W/src"
ln -s "a/big file.bin" "$W/src/link to big"       # relative, inside the tree
ln -s "../empty" "$W/src/-dash/up link"
ln -s /etc/hostname "$W/src/outside link"          # absolute, leaves BenchFS
want=$(tree_sig "$W/src")

# ---- round trips ----
ok "${L[@]}" cp -a "$W/src" $M/cpa
ok "${L[@]}" cp -a $M/cpa "$W/cpa.back"
same "$(tree_sig "$W/cpa.back")" "$want"
ok "${L[@]}" cp -r "$W/src" $M/cpr
ok "${L[@]}" cp -r $M/cpr "$W/cpr.back"
same "$(cd "$W/cpr.back" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)" \
     "$(cd "$W/src" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)"
# what BenchFS itself holds, seen without the library
ok "$BFS" stat "/cpa/a/big file.bin"
has "$OUT" "Size: 1000003 "

ok "${L[@]}" mkdir $M/tar
run bash -c "tar cf - -C '$W/src' . | ${L[*]} tar xpf - -C $M/tar"
[ "$RC" -eq 0 ] || fail "tar x into BenchFS: $ERR"
mkdir "$W/tar.back"
run bash -c "${L[*]} tar cf - -C $M/tar . | tar xpf - -C '$W/tar.back'"
[ "$RC" -eq 0 ] || fail "tar c from BenchFS: $ERR"
same "$(tree_sig "$W/tar.back")" "$want"

ok "${L[@]}" rsync -a "$W/src/" $M/rsync/
ok "${L[@]}" rsync -a $M/rsync/ "$W/rsync.back/"
same "$(tree_sig "$W/rsync.back")" "$want"
ok "${L[@]}" rsync -a --checksum "$W/src/" $M/rsync/ # nothing to do: same checksums
ok "${L[@]}" rsync -a "$W/src/" $M/rsync/

# find, ls -l, sha256sum, diff -r: the same answers as on the local tree
local_find=$(cd "$W/src" && find . -printf '%p %y %m\n' | LC_ALL=C sort)
ok "${L[@]}" bash -c "cd $M/rsync && find . -printf '%p %y %m\n' | LC_ALL=C sort"
same "$OUT" "$local_find"
ok "${L[@]}" find $M/rsync -name 'f1*' -type f
same "$(LC_ALL=C sort <<<"$OUT")" "$(cd "$W/src" && find "$PWD" -name 'f1*' -type f |
    sed "s|^$W/src|$M/rsync|" | LC_ALL=C sort)"
lsl() { awk '{print $1, $5, $NF}' | grep -v '^total'; }
ok "${L[@]}" ls -l "$M/rsync/a/b/c/d"
same "$(lsl <<<"$OUT")" "$(ls -l "$W/src/a/b/c/d" | lsl)"
ok "${L[@]}" ls -la "$M/rsync"
has "$OUT" "link to big -> a/big file.bin"
(cd "$W/src" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) >"$W/sums"
ok "${L[@]}" sh -c "cd $M/rsync && sha256sum -c --quiet '$W/sums'"
ok "${L[@]}" diff -r "$W/src" $M/rsync
run "${L[@]}" "$PY" -c "
import os
fd = os.open('$M/rsync/a/b/c/hello.txt', os.O_WRONLY)
os.pwrite(fd, b'J', 0)
os.close(fd)"
run "${L[@]}" diff -r "$W/src" $M/rsync
[ "$RC" -eq 1 ] || fail "diff -r after a change exited $RC"
has "$OUT" "hello.txt"
ok "${L[@]}" sed -n 1p "$M/rsync/a/b/c/hello.txt"
same "$OUT" "Jello"
# stdio writing (fopen/fdopen streams) and mkstemp: sed -i rewrites through a temporary file
ok "${L[@]}" sed -i 's/J/H/' "$M/rsync/a/b/c/hello.txt"
ok "${L[@]}" cat "$M/rsync/a/b/c/hello.txt"
same "$OUT" "Hello"
ok "${L[@]}" "$PY" -c "import tempfile; f = tempfile.mkstemp(dir='$M'); print(f[1])"
has "$OUT" "^$M/tmp"
ok "${L[@]}" cp "$W/src/a/b/c/d/f1" $M/sorted

# mv inside BenchFS (rename), out of it and back in (EXDEV: copy and remove), rm -r
ok "${L[@]}" mv $M/cpr $M/moved
ok "${L[@]}" mv "$M/moved/a/big file.bin" "$M/moved/big"
ok "${L[@]}" mv $M/moved "$W/moved.out"
[ -f "$W/moved.out/big" ] && cmp -s "$W/moved.out/big" "$W/src/a/big file.bin" ||
    fail "mv out of BenchFS lost data"
ok "${L[@]}" mv "$W/moved.out" $M/moved.in
ok "${L[@]}" cmp "$M/moved.in/big" "$W/src/a/big file.bin"
ok "${L[@]}" rm -r $M/moved.in $M/cpa
bad 2 "No such file" "${L[@]}" ls $M/moved.in

# python: os.walk, shutil.copytree/copy2, open, scandir, chdir with relative paths
ok "${L[@]}" "$PY" - "$W/src" "$M/py" "$W/py.back" <<'EOF'
import os, shutil, sys
src, dst, back = sys.argv[1:]
shutil.copytree(src, dst, symlinks=True)
n = sum(len(files) for _, _, files in os.walk(dst))
assert n == 30, n
with open(os.path.join(dst, 'new.txt'), 'w') as f:
    f.write('written by python\n')
with open(os.path.join(dst, 'new.txt')) as f:
    assert f.read() == 'written by python\n'
os.remove(os.path.join(dst, 'new.txt'))
os.chdir(dst)
assert os.getcwd() == dst, os.getcwd()
with open('a/b/c/hello.txt', 'rb') as f:
    assert f.read() == b'hello\n'
assert sorted(e.name for e in os.scandir('.') if e.is_dir(follow_symlinks=False)) == \
    ['-dash', 'a', 'empty dir', 'ünïcødé ☃']
os.chdir('a/b')
assert os.path.realpath('../../link to big') == dst + '/a/big file.bin'
os.chdir('/')
shutil.copytree(dst, back, symlinks=True)
EOF
same "$(tree_sig "$W/py.back")" "$want"

# ---- special files: made by mkfifo and mknod, seen by stat, no data (ENXIO), removed ----
ok "${L[@]}" mkfifo -m 0640 "$M/fifo"
ok "${L[@]}" stat -c '%F %a' "$M/fifo"
same "$OUT" "fifo 640"
ok "${L[@]}" "$PY" -c 'import os, stat, sys
os.mknod(sys.argv[1], 0o600 | stat.S_IFSOCK)
print(stat.S_ISSOCK(os.lstat(sys.argv[1]).st_mode))' "$M/sock"
same "$OUT" "True"
bad 1 "No such device or address" "${L[@]}" cat "$M/fifo"
ok "${L[@]}" rm "$M/fifo" "$M/sock"
bad 1 "No such file" "${L[@]}" stat "$M/fifo"

# ---- paths that are not BenchFS's: untouched, and no client is started for them ----
for cmd in "ls -lR --time-style=+%s ." "find . -printf '%p %y %m %s %i\n'" \
           "sh -c 'find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum'" \
           "cat '../src/a/b/c/hello.txt'" "stat -c '%n %s %i %a' ./a ./empty"; do
    plain=$(cd "$W/src" && eval "$cmd" 2>&1)
    pre=$(cd "$W/src" && BENCHFS_REGISTRY=/nonexistent eval "${L[*]} $cmd" 2>&1)
    same "$pre" "$plain"
done
ok env BENCHFS_REGISTRY=/nonexistent "${L[@]}" cp -a "$W/src" "$W/local.copy"
same "$ERR" ""
same "$(tree_sig "$W/local.copy")" "$want"

# ---- bad input ----
# ".." out of the prefix goes to the real file system
ok "${L[@]}" cat /benchfs/../etc/hostname
same "$OUT" "$(cat /etc/hostname)"
ok "${L[@]}" stat -c %i "$M/rsync/../../$W/src/empty"
same "$OUT" "$(stat -c %i "$W/src/empty")"
ok "${L[@]}" sh -c "cd $M/rsync/a && cat ../../../etc/hostname"
same "$OUT" "$(cat /etc/hostname)"
# a link that leaves BenchFS is followed on the real file system
ok "${L[@]}" cat "$M/rsync/outside link"
same "$OUT" "$(cat /etc/hostname)"

ok "${L[@]}" "$PY" - "$M" "$W" <<'EOF'
import errno, fcntl, mmap, os, signal, subprocess, sys
M, W = sys.argv[1:]
def fails(e, fn, *a):
    try:
        fn(*a)
    except OSError as x:
        assert x.errno == e, (fn, x)
        return
    raise AssertionError(f'{fn.__name__} did not fail')

# descriptors: real numbers, never shared with the kernel's, EBADF once closed
fd = os.open(f'{M}/fds', os.O_CREAT | os.O_RDWR, 0o644)
real = os.open(f'{W}/real', os.O_CREAT | os.O_RDWR, 0o644)
assert fd != real and fd >= 3
assert os.readlink(f'/proc/self/fd/{fd}') == '/dev/null'   # the reserved number
os.write(fd, b'benchfs')
os.write(real, b'kernel')
os.close(fd)
fails(errno.EBADF, os.read, fd, 1)
fails(errno.EBADF, os.write, fd, b'x')
fails(errno.EBADF, os.close, fd)
again = os.open(f'{W}/real2', os.O_CREAT | os.O_RDWR, 0o644)   # the kernel reuses the number
assert again == fd
os.write(again, b'real again')
os.close(again)
assert open(f'{W}/real2').read() == 'real again'
fd = os.open(f'{M}/fds', os.O_RDWR)
assert os.read(fd, 100) == b'benchfs'
# dup2 onto a kernel descriptor and back, fcntl, locks
d = os.dup2(fd, real)
assert os.pread(d, 3, 0) == b'ben' and os.lseek(fd, 0, os.SEEK_CUR) == 7
assert fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_RDWR
n = fcntl.fcntl(fd, fcntl.F_DUPFD, 100)
assert n >= 100 and os.pread(n, 4, 3) == b'chfs'
fcntl.fcntl(n, fcntl.F_SETFD, fcntl.FD_CLOEXEC)
assert fcntl.fcntl(n, fcntl.F_GETFD) == fcntl.FD_CLOEXEC
fcntl.lockf(fd, fcntl.LOCK_EX)       # accepted, not enforced
fcntl.flock(fd, fcntl.LOCK_UN)
for x in (n, d, fd):
    os.close(x)
real = os.open(f'{W}/real', os.O_RDONLY)   # the kernel file was not touched by dup2's copy
assert os.read(real, 100) == b'kernel'
os.close(real)

# fork in the middle of a write: parent and child both write, nothing is lost
fd = os.open(f'{M}/forked', os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
a, b, c = b'A' * 200000, b'B' * 150001, b'C' * 99999
os.write(fd, a)
pid = os.fork()
if pid == 0:
    os.pwrite(fd, b, len(a))
    sys.exit(0)   # exit publishes the size, as close would
assert os.waitpid(pid, 0)[1] == 0
os.pwrite(fd, c, len(a) + len(b))
os.close(fd)
with open(f'{M}/forked', 'rb') as f:
    assert f.read() == a + b + c

# exec: an inherited descriptor stays the same file; without the library it fails loudly
fd = os.open(f'{M}/fds', os.O_RDONLY)
os.set_inheritable(fd, True)
os.lseek(fd, 3, os.SEEK_SET)
out = subprocess.run(['sh', '-c', f'cat <&{fd}'], pass_fds=[fd], capture_output=True)
assert out.stdout == b'chfs' and out.returncode == 0, out
env = dict(os.environ)
env.pop('LD_PRELOAD')
out = subprocess.run(['cat'], stdin=fd, env=env, capture_output=True)
assert out.returncode != 0 and b'Bad file descriptor' in out.stderr, out
os.close(fd)
out = subprocess.run(['sh', '-c', 'pwd; cat "a/b/c/hello.txt"'], cwd=f'{M}/rsync',
                     capture_output=True)
assert out.stdout == f'{M}/rsync\nHello\n'.encode(), out

# mmap: a private or read-only copy works; a shared writable mapping cannot be kept
fd = os.open(f'{M}/rsync/a/b/exactly one chunk', os.O_RDONLY)
m = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
assert m[:] == open(f'{W}/src/a/b/exactly one chunk', 'rb').read()
m.close()
os.close(fd)
fd = os.open(f'{M}/fds', os.O_RDWR)
fails(errno.ENODEV, mmap.mmap, fd, 0, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
os.close(fd)
fails(errno.EINVAL, os.open, f'{M}/fds', os.O_RDONLY | os.O_DIRECT)
fails(errno.ENOENT, os.open, f'{M}/nope/x', os.O_CREAT | os.O_WRONLY)
fails(errno.EXDEV, os.rename, f'{M}/fds', f'{W}/fds')
fails(errno.EPERM, os.link, f'{M}/fds', f'{M}/hard')
EOF

# ---- a server dies while a file is open: an error within the deadline, no hang ----
ok env BENCHFS_RPC_TIMEOUT_MS=2000 timeout 120 "${L[@]}" "$PY" - "$M" "${CLI_PIDS[1]}" <<'EOF'
import errno, os, signal, sys
M, victim = sys.argv[1], int(sys.argv[2])
fd = os.open(f'{M}/doomed', os.O_CREAT | os.O_WRONLY, 0o644)
os.write(fd, b'x' * (1 << 20))
os.kill(victim, signal.SIGKILL)
try:
    for _ in range(64):   # 64 MiB over 64 KiB chunks: half of them on the dead server
        os.write(fd, b'y' * (1 << 20))
    os.fsync(fd)
except OSError as e:
    print('write after the kill:', errno.errorcode[e.errno], file=sys.stderr)
    assert e.errno in (errno.EHOSTDOWN, errno.ETIMEDOUT, errno.EIO, errno.ECONNRESET,
                       errno.ECONNREFUSED, errno.EPIPE), e
    sys.exit(0)
sys.exit('no error after a server was killed')
EOF
has "$ERR" "write after the kill: E"

cli_finish test_preload
