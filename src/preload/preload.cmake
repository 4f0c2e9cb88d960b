# SPDX-License-Identifier: BSD-3-Clause
# libbenchfs-preload.so: the LD_PRELOAD library that gives unmodified programs the BenchFS
# files under a mount prefix. Over the public header and libbenchfs only (no internal
# headers); installed next to libbenchfs, which it finds through its RUNPATH ($ORIGIN).
# Included from the top CMakeLists after the library targets.
add_library(benchfs-preload SHARED
  src/preload/context.c src/preload/path.c src/preload/fdtable.c src/preload/file.c
  src/preload/meta.c src/preload/ns.c src/preload/dir.c src/preload/stdio.c src/preload/exec.c)
set_target_properties(benchfs-preload PROPERTIES C_VISIBILITY_PRESET hidden PREFIX lib
                      OUTPUT_NAME benchfs-preload)
# glibc declares most path arguments nonnull; a program may still pass NULL, and the checks
# for it must not be optimised away (the kernel answers EFAULT, we must not crash first).
target_compile_options(benchfs-preload PRIVATE -fno-delete-null-pointer-checks
                       $<$<C_COMPILER_ID:GNU>:-Wno-nonnull-compare>
                       $<$<C_COMPILER_ID:Clang>:-Wno-pointer-bool-conversion>
                       $<$<C_COMPILER_ID:Clang>:-Wno-tautological-pointer-compare>)
target_link_libraries(benchfs-preload PRIVATE benchfs Threads::Threads ${CMAKE_DL_LIBS})
install(TARGETS benchfs-preload LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
