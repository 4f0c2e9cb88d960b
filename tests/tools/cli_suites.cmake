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
# benchfs find and io500's external find script against a tree of known matches, compared
# with GNU find on the same tree, at 2 and 4 servers.
foreach(n 2 4)
  add_test(NAME test_cli_find_${n}srv
           COMMAND ${BFS_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/test_cli_find.sh
                   $<TARGET_FILE:benchfs-cli> $<TARGET_FILE:benchfsd> ${MPIEXEC_EXECUTABLE} ${n})
  set_tests_properties(test_cli_find_${n}srv PROPERTIES TIMEOUT 300)
endforeach()
