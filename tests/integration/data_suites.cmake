# Data-path suites: integrity against a POSIX mirror, multi-process concurrency, durability
# across kill -9, dead-server behaviour and capacity limits. Each test takes the server count.
bfs_integration(test_integrity 1 2 4)
bfs_integration(test_concurrency 1 2 4)
bfs_integration(test_durability 1 2 4)
bfs_integration(test_dead_server 2 4)
bfs_integration(test_capacity 1 2 4)
