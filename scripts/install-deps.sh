#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Installs every build and test dependency of BenchFS from Debian packages.
# Idempotent: skips apt-get when everything is already present.
set -euo pipefail
PKGS=(build-essential cmake pkg-config clang
      libucx-dev ucx-utils liburing-dev libxxhash-dev liblmdb-dev
      libopenmpi-dev openmpi-bin gnuplot-nox
      lowdown man-db   # man pages: generated from docs/*.md at build time, checked with man -l
      iproute2   # ip, tc: tests/net/test_netns.sh (network namespaces, veth, bridge, drops)
      libfuse3-dev fuse3   # benchfs-fuse (src/fuse/) and fusermount3 for its tests
      rsync       # tests/fuse and tests/preload copy trees with rsync -a
      python3)    # tests/preload/test_preload.sh: real programs under libbenchfs-preload.so
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all dependencies present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
