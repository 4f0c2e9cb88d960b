# SPDX-License-Identifier: BSD-3-Clause
# benchfs-bench: the built-in MPI benchmark (IOR-like bandwidth, mdtest-like metadata, BenchFS
# against POSIX in one run). Included from the top-level CMakeLists.txt after find_package(MPI).
add_executable(benchfs-bench
  src/tools/benchfs_bench.c src/tools/bench_io.c src/tools/bench_phases.c
  src/tools/bench_report.c)
target_link_libraries(benchfs-bench PRIVATE benchfs bfs_common MPI::MPI_C m)
install(TARGETS benchfs-bench RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
