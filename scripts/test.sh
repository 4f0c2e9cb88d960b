#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The project's single test command (README): gcc build + ctest, the install check (install
# build-ci to a fresh prefix and use it with an empty environment), then a clang ASan+UBSan
# build + ctest. Build trees go to build-ci/ and build-ci-asan/.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

echo "== gcc, RelWithDebInfo"
cmake -S . -B build-ci -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DBENCHFS_MAN=ON >/dev/null
cmake --build build-ci -j"$jobs"
(cd build-ci && ctest -j"$jobs" --output-on-failure --timeout 300 -E '^install_')

echo "== install check: cmake --install build-ci to a fresh prefix, used with env -i"
# tests/install/test_install.sh: every program's --version, a pkg-config consumer and a
# find_package(benchfs) consumer built and run, every man page opened with man -l.
(cd build-ci && ctest --output-on-failure --timeout 300 -R '^install_')

echo "== clang, AddressSanitizer + UndefinedBehaviorSanitizer"
cmake -S . -B build-ci-asan -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
      -DBENCHFS_SANITIZE=ON >/dev/null
cmake --build build-ci-asan -j"$jobs"
# UCX keeps global state until exit that LeakSanitizer would report as leaks of ours.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-ci-asan && ctest -j"$jobs" --output-on-failure --timeout 300)
