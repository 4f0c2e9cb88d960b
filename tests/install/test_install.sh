#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test_install.sh BUILD_DIR VERSION CC NMAN — what a new user does after building:
#   cmake --install to a fresh prefix, then move the prefix elsewhere (relocatable), and with an
#   empty environment (env -i): run every installed program's --version; build and run a small
#   consumer through `pkg-config --cflags --libs benchfs` and one through find_package(benchfs);
#   open every installed man page with man -l (NMAN pages expected). No LD_LIBRARY_PATH anywhere.
set -uo pipefail
build=$1 version=$2 cc=$3 nman=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
SYSPATH=/usr/local/bin:/usr/bin:/bin   # only to find cc, pkg-config, cmake, man for building

cmake --install "$build" --prefix "$tmp/staged" >"$tmp/install.log" 2>&1 ||
  { cat "$tmp/install.log"; echo "FAIL cmake --install"; exit 1; }
mv "$tmp/staged" "$tmp/prefix"
P=$tmp/prefix   # not where it was installed: only $ORIGIN-relative paths can work

# 1. Every installed program answers --version with the project version, from any directory.
progs=(benchfsd benchfsctl benchfs benchfs-bench benchfs-perf benchfs-io500-find)
for p in "${progs[@]}"; do [ -x "$P/bin/$p" ] || fail "bin/$p not installed"; done
for exe in "$P"/bin/*; do
  p=$(basename "$exe")
  out=$(cd / && env -i "$exe" --version 2>&1)
  rc=$?
  if [ $rc -eq 0 ] && [[ "$out" == *"$version"* ]]; then ok "$p --version: $out"
  else fail "$p --version: exit $rc: $(head -c 300 <<<"$out")"; fi
  [ "$(head -c 2 "$exe")" = '#!' ] && continue # a script (benchfs-io500-find): no RUNPATH
  runpath=$(readelf -d "$exe" 2>/dev/null | sed -n 's/.*(RUNPATH).*\[\(.*\)\]/\1/p')
  [[ "$runpath" == *'$ORIGIN/../'* ]] || fail "$p: RUNPATH '$runpath' has no \$ORIGIN/../"
done

# 2. A consumer: the header's version must be the library's.
cat >"$tmp/consumer.c" <<'C'
#include <benchfs.h>
#include <stdio.h>
#include <string.h>
int main(void)
{
    printf("consumer: libbenchfs %s (header %s), %s\n", benchfs_version(),
           BENCHFS_VERSION_STRING, benchfs_strerror());
    return strcmp(benchfs_version(), BENCHFS_VERSION_STRING) != 0;
}
C
pcdir=$(dirname "$(find "$P" -name benchfs.pc | head -1)")
flags=$(env -i PATH=$SYSPATH PKG_CONFIG_PATH="$pcdir" pkg-config --cflags --libs benchfs) ||
  fail "pkg-config --cflags --libs benchfs"
if env -i PATH=$SYSPATH "$cc" -std=c17 -Wall -Wextra -Werror "$tmp/consumer.c" $flags \
     -o "$tmp/consumer-pc" 2>"$tmp/cc.log"; then
  if out=$(cd / && env -i "$tmp/consumer-pc" 2>&1); then ok "pkg-config consumer ($flags): $out"
  else fail "pkg-config consumer: $out"; fi
else cat "$tmp/cc.log"; fail "pkg-config consumer does not build"; fi

mkdir -p "$tmp/cmake-consumer"
cp "$tmp/consumer.c" "$tmp/cmake-consumer/"
cat >"$tmp/cmake-consumer/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.18)
project(consumer C)
find_package(benchfs $version EXACT REQUIRED)
add_executable(consumer-cmake consumer.c)
target_link_libraries(consumer-cmake PRIVATE benchfs::benchfs)
CM
if env -i PATH=$SYSPATH cmake -S "$tmp/cmake-consumer" -B "$tmp/cmake-build" \
     -DCMAKE_C_COMPILER="$cc" -DCMAKE_PREFIX_PATH="$P" >"$tmp/cmake.log" 2>&1 &&
   env -i PATH=$SYSPATH cmake --build "$tmp/cmake-build" >>"$tmp/cmake.log" 2>&1; then
  if out=$(cd / && env -i "$tmp/cmake-build/consumer-cmake" 2>&1); then
    ok "find_package consumer: $out"
  else fail "find_package consumer: $out"; fi
else cat "$tmp/cmake.log"; fail "find_package(benchfs) consumer does not build"; fi

# 3. Man pages: every installed page renders; man finds them by name under the prefix.
pages=("$P"/share/man/man*/*)
[ -e "${pages[0]}" ] || pages=()
[ "${#pages[@]}" -eq "$nman" ] || fail "${#pages[@]} man pages installed, $nman expected"
for page in "${pages[@]}"; do
  n=$(env -i PATH=$SYSPATH MANWIDTH=80 man -l "$page" 2>/dev/null | wc -l)
  if [ "$n" -gt 10 ]; then ok "man -l ${page#"$P"/} ($n lines)"
  else fail "man -l ${page#"$P"/}: $n lines"; fi
done
for name in benchfsd benchfsctl benchfs benchfs-bench benchfs-perf libbenchfs; do
  [ "$nman" -gt 0 ] || break
  env -i PATH=$SYSPATH man -M "$P/share/man" -w "$name" >/dev/null 2>&1 ||
    fail "man -M PREFIX/share/man $name: not found"
done

[ $fails -eq 0 ] && echo "install check passed" || echo "install check: $fails failure(s)"
exit $((fails > 0))
