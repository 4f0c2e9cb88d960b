# SPDX-License-Identifier: BSD-3-Clause
# The `benchfs` shell tool, driven as a user would: bash scripts against a real 2-server
# cluster (started and killed by test_cli_common.sh).
find_program(BFS_BASH bash REQUIRED)
foreach(t namespace copy stage)
  add_test(NAME test_cli_${t}
           COMMAND ${BFS_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/test_cli_${t}.sh
                   $<TARGET_FILE:benchfs-cli> $<TARGET_FILE:benchfsd> ${MPIEXEC_EXECUTABLE})
  set_tests_properties(test_cli_${t} PROPERTIES TIMEOUT 300)
endforeach()
