# SPDX-License-Identifier: BSD-3-Clause
# Spack recipe for BenchFS. To use it, put it in a Spack package repository of your own:
#   spack repo create ~/spack-benchfs benchfs && spack repo add ~/spack-benchfs
#   copy this file to its packages/benchfs/package.py
#   (Spack 1.0: ~/spack-benchfs/spack_repo/benchfs/packages/benchfs/package.py)
#   spack install benchfs              # or: spack install benchfs +man ^openmpi fabrics=ucx

from spack.package import *

try:  # Spack >= 1.0: the build systems live in the builtin package repository
    from spack_repo.builtin.build_systems.cmake import CMakePackage
except ImportError:  # Spack 0.x: CMakePackage comes from spack.package
    pass


class Benchfs(CMakePackage):
    """BenchFS: an ad-hoc distributed file system for HPC jobs. One server (benchfsd) per
    compute node serves the node's local storage (NVMe, tmpfs) to every process of the job
    over UCX; metadata and data are spread by consistent hashing. Provides the client library
    libbenchfs (benchfs.h, pkg-config benchfs, CMake benchfs::benchfs), the cluster control
    tool benchfsctl, the shell and stage-in/stage-out tool benchfs, and the benchmarks
    benchfs-bench (MPI) and benchfs-perf."""

    homepage = "https://github.com/benchfs/benchfs"
    git = "https://github.com/benchfs/benchfs.git"

    license("BSD-3-Clause")

    version("main", branch="main")
    # A release: add its tag and commit, e.g.
    # version("0.1.0", tag="v0.1.0", commit="<40 hex digits>")

    variant(
        "man",
        default=False,
        description="Build and install the man pages from docs/*.md (needs lowdown on PATH)",
    )

    # io_uring, signalfd, abstract Unix sockets.
    requires("platform=linux", msg="BenchFS runs on Linux only (io_uring)")

    depends_on("c", type="build")
    depends_on("cmake@3.18:", type="build")
    depends_on("pkgconfig", type="build")

    # UCX Active Messages with explicit eager/rendezvous send flags (UCX 1.12).
    depends_on("ucx@1.12:")
    depends_on("liburing@2:")
    depends_on("xxhash@0.8:")
    # LMDB has no pkg-config file upstream; CMakeLists.txt then finds lmdb.h and liblmdb.
    depends_on("lmdb")
    # Not optional: benchfsd's MPI launch (mpirun/srun), `benchfs stage-in/stage-out` and
    # benchfs-bench are built with MPI. The MPI need not use UCX itself.
    depends_on("mpi")

    def cmake_args(self):
        return [
            # Spack passes -DBUILD_TESTING as well (ON only with `spack install --test`).
            self.define("BUILD_TESTING", self.run_tests),
            self.define_from_variant("BENCHFS_MAN", "man"),
            # New compilers bring new warnings; they must not fail a user's install.
            self.define("BENCHFS_WERROR", False),
            self.define("BENCHFS_SANITIZE", False),
            # $ORIGIN-relative run paths: kept next to the ones Spack adds for dependencies.
            self.define("BENCHFS_RPATH", True),
        ]

    def test_version(self):
        """every installed program answers --version"""
        for name in ("benchfsd", "benchfsctl", "benchfs", "benchfs-bench", "benchfs-perf"):
            with test_part(self, f"test_version_{name}", purpose=f"{name} --version"):
                exe = which(join_path(self.prefix.bin, name))
                out = exe("--version", output=str.split, error=str.split)
                assert name in out
