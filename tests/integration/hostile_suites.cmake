# SPDX-License-Identifier: BSD-3-Clause
# Hostile peers: a raw UCX worker sends malformed, oversized, wrong-key and random frames to
# every server; the servers must answer or drop them, keep serving, and count and log them.
# raw_peer.c: the raw UCX / local-socket peer the hostile tests and the fuzzer share.
add_library(bfs_raw_peer STATIC raw_peer.c)
target_link_libraries(bfs_raw_peer PUBLIC bfs_cluster bfs_common)
bfs_integration(test_hostile 1 2)
# One file per attack family, over hostile_common.c (tracking, frames, sending).
target_sources(test_hostile PRIVATE hostile_common.c hostile_targeted.c hostile_random.c
                                    hostile_local.c hostile_dying.c)
target_link_libraries(test_hostile PRIVATE bfs_raw_peer)
# Peers that die with rendezvous transfers / chunk I/O in flight (the servers must survive).
add_test(NAME test_hostile_dying_2srv COMMAND test_hostile 2 dying)
set_tests_properties(test_hostile_1srv test_hostile_2srv test_hostile_dying_2srv
                     PROPERTIES TIMEOUT 120)
# A same-host peer that stops reading its replies: the server neither spins nor ignores SIGTERM.
bfs_integration(test_stalled_client 1)
# A seeded, structure-aware frame fuzzer: every opcode, mutated fields, over UCX (through the
# listener) and the local socket; a normal client checks the servers between batches. Short
# run here (a few thousand frames per transport and server); long runs: see the header of
# test_fuzz_frames.c (BENCHFS_FUZZ_SEED, BENCHFS_FUZZ_FRAMES, --long).
add_executable(test_fuzz_frames test_fuzz_frames.c fuzz_build.c fuzz_client.c)
target_link_libraries(test_fuzz_frames PRIVATE bfs_raw_peer bfs_cluster bfs_common)
add_test(NAME test_fuzz_frames_2srv COMMAND test_fuzz_frames 2)
set_tests_properties(test_fuzz_frames_2srv PROPERTIES TIMEOUT 180)
