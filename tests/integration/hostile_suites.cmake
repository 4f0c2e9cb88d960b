# Hostile peers: a raw UCX worker sends malformed, oversized, wrong-key and random frames to
# every server; the servers must answer or drop them, keep serving, and count and log them.
bfs_integration(test_hostile 1 2)
# Peers that die with rendezvous transfers / chunk I/O in flight (the servers must survive).
add_test(NAME test_hostile_dying_2srv COMMAND test_hostile 2 dying)
set_tests_properties(test_hostile_1srv test_hostile_2srv test_hostile_dying_2srv
                     PROPERTIES TIMEOUT 120)
# A same-host peer that stops reading its replies: the server neither spins nor ignores SIGTERM.
bfs_integration(test_stalled_client 1)
