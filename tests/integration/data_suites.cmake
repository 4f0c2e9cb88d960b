# SPDX-License-Identifier: BSD-3-Clause
# Data-path suites: integrity against a POSIX mirror, multi-process concurrency, durability
# across kill -9, dead-server behaviour and capacity limits. Each test takes the server count.
bfs_integration(test_integrity 1 2 4)
bfs_integration(test_concurrency 1 2 4)
bfs_integration(test_durability 1 2 4)
bfs_integration(test_dead_server 2 4)
bfs_integration(test_capacity 1 2 4)
# The same suites with same-host shared memory turned off: clients then use UCX's
# peer-failure mode over TCP, the path every client on another node takes.
foreach(t test_integrity test_dead_server test_concurrency)
  add_test(NAME ${t}_tcp_2srv COMMAND ${t} 2)
  set_tests_properties(${t}_tcp_2srv PROPERTIES TIMEOUT 300 ENVIRONMENT BENCHFS_SAME_HOST=0)
endforeach()
# And with shared memory but chunk data through the servers (no direct reads or writes of
# their chunk files): the RPC data path that same-host clients otherwise skip.
foreach(t test_integrity test_dead_server test_concurrency test_capacity)
  add_test(NAME ${t}_rpcio_2srv COMMAND ${t} 2)
  set_tests_properties(${t}_rpcio_2srv PROPERTIES TIMEOUT 300
                       ENVIRONMENT "BENCHFS_LOCAL_READS=0;BENCHFS_LOCAL_WRITES=0")
endforeach()
# Sequential readers send read-ahead hints for the next chunk (exactly one per chunk).
bfs_integration(test_prefetch 1 2 4)
# Same-host clients read and write chunk files directly: only when safe, never stale.
bfs_integration(test_local_io 1 2 4)
# Failed writes leave nothing: ENOSPC in the middle of a write over two servers keeps no
# capacity and no bytes (also with the data through the servers), and direct writers killed
# between CHUNK_RESERVE and their write leave the servers' used_bytes equal to the disk.
bfs_integration(test_enospc 2)
add_test(NAME test_enospc_rpcio_2srv COMMAND test_enospc 2)
set_tests_properties(test_enospc_rpcio_2srv PROPERTIES TIMEOUT 300
                     ENVIRONMENT "BENCHFS_LOCAL_WRITES=0;BENCHFS_LOCAL_READS=0")
# Small files kept in their metadata record, and their move to chunks as they grow.
bfs_integration(test_small_files 1 2)
