# SPDX-License-Identifier: BSD-3-Clause
# What the preload library and the FUSE mount need of libbenchfs (issue 9): symbolic links,
# utimens, readdirplus, per-thread and per-call identity, special files and the sticky and
# set-id rules. Included from CMakeLists.txt
# (bfs_integration is defined there).
bfs_integration(test_symlinks 1 2 4)
bfs_integration(test_attrs 1 2 4)
bfs_integration(test_identity 1 2)
bfs_integration(test_special 1 2 4)
