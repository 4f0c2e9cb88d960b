# SPDX-License-Identifier: BSD-3-Clause
# The cluster control tool benchfsctl. Included from the top CMakeLists.txt.
# benchfsctl: start/stop/status/wait of a cluster (local servers, or mpirun over a hostfile);
# one file per concept (benchfsctl.h lists them).
add_executable(benchfsctl
  ${CMAKE_CURRENT_LIST_DIR}/benchfsctl.c ${CMAKE_CURRENT_LIST_DIR}/benchfsctl_registry.c
  ${CMAKE_CURRENT_LIST_DIR}/benchfsctl_start.c ${CMAKE_CURRENT_LIST_DIR}/benchfsctl_stop.c
  ${CMAKE_CURRENT_LIST_DIR}/benchfsctl_status.c)
target_link_libraries(benchfsctl PRIVATE benchfs bfs_common)
# The benchfsd next to benchfsctl (build tree or install prefix) is the default server binary.
install(TARGETS benchfsctl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
