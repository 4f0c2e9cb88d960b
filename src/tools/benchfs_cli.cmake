# SPDX-License-Identifier: BSD-3-Clause
# The `benchfs` shell tool: ls/stat/mkdir/rm/mv/cat/df, put/get, and the MPI-parallel
# stage-in/stage-out. Included from the top CMakeLists after the library targets (MPI found).
add_executable(benchfs-cli
  src/tools/benchfs_cli.c src/tools/cli_util.c src/tools/cli_list.c src/tools/cli_ns.c
  src/tools/cli_fsio.c src/tools/cli_plan.c src/tools/cli_copy.c src/tools/cli_stage.c
  src/tools/cli_progress.c src/tools/cli_find.c)
# The target is benchfs-cli because `benchfs` is the library's; the program is `benchfs`.
set_target_properties(benchfs-cli PROPERTIES OUTPUT_NAME benchfs)
target_include_directories(benchfs-cli PRIVATE ${CMAKE_SOURCE_DIR}/src)
target_link_libraries(benchfs-cli PRIVATE benchfs MPI::MPI_C)
install(TARGETS benchfs-cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# io500's external find script (docs/io500.md): installed next to `benchfs`, which it runs;
# a copy sits next to the built `benchfs` for the tests.
configure_file(${CMAKE_SOURCE_DIR}/src/tools/benchfs-io500-find
               ${CMAKE_BINARY_DIR}/benchfs-io500-find COPYONLY)
install(PROGRAMS src/tools/benchfs-io500-find DESTINATION ${CMAKE_INSTALL_BINDIR})
