# SPDX-License-Identifier: BSD-3-Clause
# Man pages, generated at build time from docs/<page>.md by lowdown (Debian: lowdown) and
# installed under share/man/manN. BENCHFS_MAN: AUTO (default: build them if lowdown is found),
# ON (lowdown required), OFF. Included from the top-level CMakeLists.txt.
set(BENCHFS_MAN AUTO CACHE STRING "Build and install the man pages from docs/*.md (AUTO, ON, OFF; needs lowdown)")
set_property(CACHE BENCHFS_MAN PROPERTY STRINGS AUTO ON OFF)
set(BENCHFS_MAN_PAGES benchfsd.8 benchfsctl.1 benchfs.1 benchfs-bench.1 benchfs-perf.1 libbenchfs.3
    benchfs-fuse.1
    benchfs-preload.8)
set(BENCHFS_MAN_FILES "")
string(TOUPPER "${BENCHFS_MAN}" _benchfs_man)
if(_benchfs_man STREQUAL "AUTO" OR BENCHFS_MAN)   # AUTO, or ON/TRUE/1/YES (Spack passes a BOOL)
  find_program(LOWDOWN_EXECUTABLE lowdown)
  if(NOT LOWDOWN_EXECUTABLE AND NOT _benchfs_man STREQUAL "AUTO")
    message(FATAL_ERROR "BENCHFS_MAN=${BENCHFS_MAN} but lowdown was not found (apt-get install lowdown)")
  elseif(NOT LOWDOWN_EXECUTABLE)
    message(STATUS "lowdown not found: man pages are not built (apt-get install lowdown)")
  else()
    foreach(page IN LISTS BENCHFS_MAN_PAGES)
      string(REGEX REPLACE "\\.[0-9]$" "" name ${page})
      string(REGEX REPLACE "^.*\\." "" section ${page})
      set(out ${CMAKE_BINARY_DIR}/man/man${section}/${page})
      add_custom_command(OUTPUT ${out}
        COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man/man${section}
        COMMAND sh ${CMAKE_SOURCE_DIR}/cmake/md2man.sh ${LOWDOWN_EXECUTABLE}
                ${CMAKE_SOURCE_DIR}/docs/${name}.md ${out} ${PROJECT_VERSION}
        DEPENDS ${CMAKE_SOURCE_DIR}/docs/${name}.md ${CMAKE_SOURCE_DIR}/cmake/md2man.sh
        COMMENT "Generating man page ${page}" VERBATIM)
      install(FILES ${out} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
      list(APPEND BENCHFS_MAN_FILES ${out})
    endforeach()
    add_custom_target(man ALL DEPENDS ${BENCHFS_MAN_FILES})
  endif()
endif()
