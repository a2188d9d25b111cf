# Optional FAISS for the neighbour scores of the KDE module.
#
# Included by the top-level CMakeLists.txt after CS_LIBRARY_SOURCES is
# globbed and before the library targets exist. It picks one
# implementation of src/kde/faiss_index.h and appends it to
# CS_LIBRARY_SOURCES:
#   faiss_c_api.c   FAISS's C API (libfaiss_c with its headers), preferred;
#   faiss_shim.cpp  a C++ shim over the FAISS C++ headers and the static
#                   libfaiss.a, as Debian 12's libfaiss-dev ships it;
#   faiss_none.c    without FAISS: the neighbour scores fail with
#                   CS_E_UNSUPPORTED.
# cs_faiss_link_targets(), called once the targets exist, links them.
#
# It also sets, for cmake/cscore.pc.in and cmake/cscoreConfig.cmake.in:
#   CS_PC_FAISS_LIBS            -l flags that a static link of libcscore.a
#                               needs for FAISS (Libs.private), or ""
#   CS_FAISS_CONFIG_LIBRARIES   libraries that cscoreConfig.cmake finds by
#                               name for cscore::cscore_static
#   CS_FAISS_CONFIG_RUNTIME     compiler runtime libraries (OpenMP, C++)
#                               that it passes to the linker by name
#   CS_FAISS_WRAPPED_DISTANCE   the FAISS symbol that static links wrap
#                               (--wrap), or "" for the other backends

set(CS_FAISS_BACKEND_DIR ${PROJECT_SOURCE_DIR}/src/kde)
list(FILTER CS_LIBRARY_SOURCES EXCLUDE REGEX "/src/kde/faiss_[a-z_]+\\.c$")

# FAISS's CMake package (libfaiss-dev) refers to OpenMP::OpenMP_CXX without
# finding it, so OpenMP comes first.
find_package(OpenMP QUIET COMPONENTS C CXX)
if(TARGET OpenMP::OpenMP_CXX)
  find_package(faiss CONFIG QUIET)
endif()
find_library(CS_FAISS_C_LIBRARY NAMES faiss_c)
find_path(CS_FAISS_C_INCLUDE_DIR NAMES faiss/c_api/faiss_c.h)

if(CS_FAISS_C_LIBRARY AND CS_FAISS_C_INCLUDE_DIR)
  set(CS_FAISS_FOUND_KIND c_api)
elseif(TARGET faiss)
  set(CS_FAISS_FOUND_KIND shim)
else()
  set(CS_FAISS_FOUND_KIND "")
endif()

if(CS_FAISS_FOUND_KIND)
  set(CS_FAISS_DEFAULT ON)
else()
  set(CS_FAISS_DEFAULT OFF)
endif()
option(CSCORE_WITH_FAISS
  "Build the FAISS neighbour scores (on by default when FAISS is found)"
  ${CS_FAISS_DEFAULT})
if(CSCORE_WITH_FAISS AND NOT CS_FAISS_FOUND_KIND)
  message(FATAL_ERROR "CSCORE_WITH_FAISS is ON, but neither FAISS's C API "
    "(libfaiss_c) nor FAISS's CMake package with OpenMP was found. Install "
    "FAISS (Debian package libfaiss-dev) or configure with "
    "-DCSCORE_WITH_FAISS=OFF.")
endif()

if(NOT CSCORE_WITH_FAISS)
  set(CS_FAISS_KIND none)
else()
  set(CS_FAISS_KIND ${CS_FAISS_FOUND_KIND})
endif()
message(STATUS "cscore neighbour scores: FAISS backend '${CS_FAISS_KIND}'")

# Turns a library file path or name into the name that -l takes.
function(cs_faiss_library_name item out)
  get_filename_component(name "${item}" NAME_WE)
  string(REGEX REPLACE "^lib" "" name "${name}")
  set(${out} ${name} PARENT_SCOPE)
endfunction()

set(CS_PC_FAISS_LIBS "")
set(CS_FAISS_WRAPPED_DISTANCE "")
set(CS_FAISS_CONFIG_LIBRARIES "")
set(CS_FAISS_CONFIG_RUNTIME "")

if(CS_FAISS_KIND STREQUAL "c_api")
  list(APPEND CS_LIBRARY_SOURCES ${CS_FAISS_BACKEND_DIR}/faiss_c_api.c)
  set(CS_FAISS_CONFIG_LIBRARIES faiss_c)
  if(TARGET OpenMP::OpenMP_C)
    set(CS_FAISS_CONFIG_RUNTIME ${OpenMP_C_LIB_NAMES})
  endif()

elseif(CS_FAISS_KIND STREQUAL "shim")
  enable_language(CXX)
  # faiss::fvec_L2sqr(const float *, const float *, size_t), mangled.
  set(CS_FAISS_WRAPPED_DISTANCE _ZN5faiss10fvec_L2sqrEPKfS1_m)
  list(APPEND CS_LIBRARY_SOURCES ${CS_FAISS_BACKEND_DIR}/faiss_shim.cpp)

  # The static libfaiss.a needs the BLAS and LAPACK that its package names
  # (absolute paths in its INTERFACE_LINK_LIBRARIES), OpenMP and libstdc++.
  set(CS_FAISS_CONFIG_LIBRARIES faiss)
  get_target_property(faiss_links faiss INTERFACE_LINK_LIBRARIES)
  foreach(item IN LISTS faiss_links)
    if(IS_ABSOLUTE "${item}")
      cs_faiss_library_name("${item}" name)
      list(APPEND CS_FAISS_CONFIG_LIBRARIES ${name})
    endif()
  endforeach()
  list(REMOVE_DUPLICATES CS_FAISS_CONFIG_LIBRARIES)
  set(CS_FAISS_CONFIG_RUNTIME ${OpenMP_CXX_LIB_NAMES} stdc++)
  list(REMOVE_DUPLICATES CS_FAISS_CONFIG_RUNTIME)

else()
  list(APPEND CS_LIBRARY_SOURCES ${CS_FAISS_BACKEND_DIR}/faiss_none.c)
endif()

foreach(name IN LISTS CS_FAISS_CONFIG_LIBRARIES CS_FAISS_CONFIG_RUNTIME)
  string(APPEND CS_PC_FAISS_LIBS "-l${name} ")
endforeach()
if(CS_FAISS_WRAPPED_DISTANCE)
  string(APPEND CS_PC_FAISS_LIBS "-Wl,--wrap=${CS_FAISS_WRAPPED_DISTANCE} ")
endif()

# Links the chosen FAISS into cscore_objects (include paths and OpenMP
# compile flags), the shared library and the static one. The static
# library's link interface goes through the imported target
# CscoreFaiss::faiss, which cscoreConfig.cmake defines again for programs
# that use an installed cscore, as pkg_check_modules() does for
# PkgConfig::OPENBLAS.
function(cs_faiss_link_targets)
  if(CS_FAISS_KIND STREQUAL "none")
    return()
  endif()

  add_library(CscoreFaiss::faiss INTERFACE IMPORTED)
  if(CS_FAISS_KIND STREQUAL "c_api")
    target_include_directories(cscore_objects PRIVATE
      ${CS_FAISS_C_INCLUDE_DIR})
    target_link_libraries(CscoreFaiss::faiss INTERFACE ${CS_FAISS_C_LIBRARY})
    if(TARGET OpenMP::OpenMP_C)
      target_link_libraries(cscore_objects PRIVATE OpenMP::OpenMP_C)
      target_link_libraries(CscoreFaiss::faiss INTERFACE OpenMP::OpenMP_C)
    endif()
  else()
    # faiss links OpenMP::OpenMP_CXX as LINK_ONLY, so the shim asks for
    # OpenMP's compile flags (omp.h, _OPENMP) itself.
    target_link_libraries(cscore_objects PRIVATE faiss OpenMP::OpenMP_CXX)
    target_link_libraries(CscoreFaiss::faiss INTERFACE faiss)
    # FAISS's calls to its scalar fvec_L2sqr() go to the vector loop in
    # faiss_shim.cpp instead (see the comment there).
    target_link_options(CscoreFaiss::faiss INTERFACE
      "LINKER:--wrap=${CS_FAISS_WRAPPED_DISTANCE}")
    set_target_properties(cscore_objects PROPERTIES
      CXX_STANDARD 17
      CXX_STANDARD_REQUIRED ON
      CXX_EXTENSIONS OFF
      CXX_VISIBILITY_PRESET hidden
      VISIBILITY_INLINES_HIDDEN ON)
  endif()

  target_link_libraries(cscore PRIVATE CscoreFaiss::faiss)
  target_link_libraries(cscore_static PRIVATE CscoreFaiss::faiss)
endfunction()
