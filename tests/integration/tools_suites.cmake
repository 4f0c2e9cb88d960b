# SPDX-License-Identifier: BSD-3-Clause
# Fail fast and honest fsync: benchfs_init on a missing/unreadable registry or a malformed
# BENCHFS_* variable; FSYNC within --max-open-chunks and failing when a chunk cannot be opened.
bfs_integration(test_fail_fast 1)
bfs_integration(test_fsync_limits 1)
set_tests_properties(test_fail_fast_1srv test_fsync_limits_1srv PROPERTIES TIMEOUT 120)
