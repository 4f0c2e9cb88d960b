# SPDX-License-Identifier: BSD-3-Clause
# benchfs-bench and the quickstart: shell-driven tests on real servers under mpirun.
# Included from tests/tools/CMakeLists.txt.
if(TARGET benchfs-bench)
  set(_bench_env
    BENCHFSD=$<TARGET_FILE:benchfsd>
    BENCH=$<TARGET_FILE:benchfs-bench>
    MPIRUN=${MPIEXEC_EXECUTABLE})
  foreach(t test_bench_smoke test_bench_verify)
    add_test(NAME ${t}
             COMMAND ${CMAKE_COMMAND} -E env ${_bench_env}
                     bash ${CMAKE_CURRENT_SOURCE_DIR}/${t}.sh)
    set_tests_properties(${t} PROPERTIES TIMEOUT 300)
  endforeach()
  add_test(NAME test_bench_quickstart
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_bench_quickstart.sh
                   ${CMAKE_SOURCE_DIR} $<TARGET_FILE_DIR:benchfs-bench>)
  # 4 servers and 2 ranks on a small machine: do not share it with other tests.
  set_tests_properties(test_bench_quickstart PROPERTIES TIMEOUT 300 RUN_SERIAL TRUE)
endif()
