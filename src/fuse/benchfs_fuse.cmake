# SPDX-License-Identifier: BSD-3-Clause
# benchfs-fuse: a FUSE mount of BenchFS over libfuse3 (Debian: libfuse3-dev, fuse3 for
# fusermount3), built over the public header only. Skipped with a message when libfuse3 is
# not installed (BENCHFS_FUSE=AUTO), required with BENCHFS_FUSE=ON.
set(BENCHFS_FUSE AUTO CACHE STRING "Build benchfs-fuse (AUTO, ON, OFF; needs libfuse3)")
string(TOUPPER "${BENCHFS_FUSE}" _benchfs_fuse)
if(_benchfs_fuse STREQUAL "AUTO" OR BENCHFS_FUSE)
  pkg_check_modules(FUSE3 IMPORTED_TARGET fuse3)
  if(NOT FUSE3_FOUND AND NOT _benchfs_fuse STREQUAL "AUTO")
    message(FATAL_ERROR "BENCHFS_FUSE=${BENCHFS_FUSE} but libfuse3 was not found (apt-get install libfuse3-dev)")
  elseif(NOT FUSE3_FOUND)
    message(STATUS "libfuse3 not found: benchfs-fuse is not built (apt-get install libfuse3-dev)")
  else()
    add_executable(benchfs-fuse
      src/fuse/main.c src/fuse/context.c src/fuse/namespace.c src/fuse/file.c
      src/fuse/directory.c src/fuse/readahead.c)
    target_link_libraries(benchfs-fuse PRIVATE benchfs PkgConfig::FUSE3 Threads::Threads)
    install(TARGETS benchfs-fuse RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  endif()
endif()
