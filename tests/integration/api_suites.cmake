# SPDX-License-Identifier: BSD-3-Clause
# API suites: conformance of every benchfs.h call and errno, and namespace operations across
# servers. Included from CMakeLists.txt (bfs_integration is defined there).
bfs_integration(test_conformance 1 2 4)
bfs_integration(test_namespace 1 2 4)
# open(O_CREAT): the parent's LOOKUP travels beside the CREATE; a failed check leaves nothing.
bfs_integration(test_create 1 2 4)
target_link_libraries(test_create PRIVATE Threads::Threads)
# Registry entries owned by another user change nothing for clients (root only: chown).
bfs_integration(test_foreign_registry 2)
set_tests_properties(test_foreign_registry_2srv PROPERTIES SKIP_RETURN_CODE 77)
# A forked child and its parent both use one context at the same time.
bfs_integration(test_fork 2)
# What each POSIX-level call costs in RPCs stays flat from 2 to 64 servers (exact counts), and
# unlink frees the chunks of a writer killed past its published size.
bfs_integration(test_rpc_scale 2 16 64)
target_link_libraries(test_rpc_scale PRIVATE PkgConfig::LMDB) # writes an old-format record
set_tests_properties(test_rpc_scale_64srv PROPERTIES SKIP_RETURN_CODE 77)

# benchfs_find against a tree with known matches (names, sizes, times, types).
bfs_integration(test_find 2 4)
