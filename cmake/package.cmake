# SPDX-License-Identifier: BSD-3-Clause
# CMake package files: find_package(benchfs) with the exported target benchfs::benchfs.
# Included from the top-level CMakeLists.txt after the library target and GNUInstallDirs.
include(CMakePackageConfigHelpers)
set(BENCHFS_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/benchfs)
install(EXPORT benchfsTargets NAMESPACE benchfs:: DESTINATION ${BENCHFS_CMAKE_DIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/benchfsConfig.cmake.in
  ${CMAKE_BINARY_DIR}/benchfsConfig.cmake
  INSTALL_DESTINATION ${BENCHFS_CMAKE_DIR}
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR)
# 0.x: a minor release may change the API, so only the same major.minor is compatible.
write_basic_package_version_file(${CMAKE_BINARY_DIR}/benchfsConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/benchfsConfig.cmake ${CMAKE_BINARY_DIR}/benchfsConfigVersion.cmake
        DESTINATION ${BENCHFS_CMAKE_DIR})
