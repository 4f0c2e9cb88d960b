# SPDX-License-Identifier: BSD-3-Clause
# Client churn: thousands of short-lived same-host client processes (the servers' resources,
# read from /proc, must come back to where they were) and clients killed at random points
# (the servers must survive, keep answering and keep their used-bytes counter right).
add_executable(test_client_churn test_client_churn.c)
target_link_libraries(test_client_churn PRIVATE bfs_cluster bfs_common)
add_test(NAME test_client_churn_short_2srv COMMAND test_client_churn 2 short)
add_test(NAME test_client_churn_killed_2srv COMMAND test_client_churn 2 killed)
# The same with the clients of other nodes (UCX over TCP, peer-failure mode); fewer short
# clients: each costs more.
add_test(NAME test_client_churn_short_tcp_2srv COMMAND test_client_churn 2 short)
add_test(NAME test_client_churn_killed_tcp_2srv COMMAND test_client_churn 2 killed)
set_tests_properties(test_client_churn_short_tcp_2srv PROPERTIES
                     ENVIRONMENT "BENCHFS_SAME_HOST=0;BENCHFS_CHURN_CLIENTS=1000")
set_tests_properties(test_client_churn_killed_tcp_2srv PROPERTIES
                     ENVIRONMENT "BENCHFS_SAME_HOST=0")
set_tests_properties(test_client_churn_short_2srv test_client_churn_killed_2srv
                     test_client_churn_short_tcp_2srv test_client_churn_killed_tcp_2srv
                     PROPERTIES TIMEOUT 600)
# Thousands of client processes keep every core busy for minutes: run alone, they neither
# slow other tests' timing checks nor get slowed past their own budget.
set_tests_properties(test_client_churn_short_2srv test_client_churn_short_tcp_2srv
                     PROPERTIES RUN_SERIAL TRUE)
