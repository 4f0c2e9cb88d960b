# API suites: conformance of every benchfs.h call and errno, and namespace operations across
# servers. Included from CMakeLists.txt (bfs_integration is defined there).
bfs_integration(test_conformance 1 2 4)
bfs_integration(test_namespace 1 2 4)
