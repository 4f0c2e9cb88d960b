# SPDX-License-Identifier: BSD-3-Clause
# MPI launch of benchfsd and benchfsctl: shell-driven tests on real processes.
# Included from tests/tools/CMakeLists.txt.
if(TARGET benchfsctl)
  add_executable(test_launch_client ${CMAKE_CURRENT_SOURCE_DIR}/test_launch_client.c)
  target_link_libraries(test_launch_client PRIVATE benchfs)
  find_program(BFS_LAUNCH_BASH bash REQUIRED)
  foreach(n 2 4)
    add_test(NAME test_launch_mpi_${n}
             COMMAND ${BFS_LAUNCH_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/test_launch_mpi.sh ${n}
                     $<TARGET_FILE:benchfsd> $<TARGET_FILE:test_launch_client>
                     $<TARGET_FILE:benchfsctl> ${MPIEXEC_EXECUTABLE})
    # N ranks on a small machine: do not share it with other tests.
    set_tests_properties(test_launch_mpi_${n} PROPERTIES TIMEOUT 300 RUN_SERIAL TRUE)
  endforeach()
  add_test(NAME test_benchfsctl
           COMMAND ${BFS_LAUNCH_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/test_benchfsctl.sh
                   $<TARGET_FILE:benchfsctl> $<TARGET_FILE:test_launch_client>
                   $<TARGET_FILE:benchfsd> ${MPIEXEC_EXECUTABLE})
  set_tests_properties(test_benchfsctl PROPERTIES TIMEOUT 300 RUN_SERIAL TRUE)
endif()
# benchfsctl at cluster scale without a cluster (a fake --mpirun records its arguments):
# 1000-host hostfile, stop through the launcher, quoted export line, kept logs, -t units.
if(TARGET benchfsctl)
  add_test(NAME test_benchfsctl_scale
           COMMAND ${BFS_LAUNCH_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/test_benchfsctl_scale.sh
                   $<TARGET_FILE:benchfsctl> $<TARGET_FILE:benchfsd>)
  set_tests_properties(test_benchfsctl_scale PROPERTIES TIMEOUT 120)
  # --version/--help/bad option of every tool.
  add_test(NAME test_tool_options
           COMMAND ${BFS_LAUNCH_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/test_tool_options.sh
                   $<TARGET_FILE:benchfsd> $<TARGET_FILE:benchfsctl> $<TARGET_FILE:benchfs-cli>
                   $<TARGET_FILE:benchfs-bench> $<TARGET_FILE:benchfs-perf>)
  set_tests_properties(test_tool_options PROPERTIES TIMEOUT 120)
endif()
