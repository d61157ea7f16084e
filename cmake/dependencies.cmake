# Every dependency comes from a Debian package, found by CMake's own modules or the package's
# config file. scripts/setup.sh installs the packages when missing.
set(BLA_VENDOR OpenBLAS)
find_package(BLAS REQUIRED)
find_path(TAPEGRAD_CBLAS_INCLUDE_DIR cblas.h PATH_SUFFIXES openblas REQUIRED)
find_package(fmt REQUIRED)
find_package(Threads REQUIRED)
find_package(ZLIB REQUIRED)

# MPI (Open MPI from Debian, or any MPI-3 library) for tapegrad::dist. TAPEGRAD_WITH_MPI is
# AUTO (built when MPI is found, so installing MPI later and reconfiguring turns it on), ON or
# OFF. Without dist everything else builds, and the dist tests report that they were skipped.
set(TAPEGRAD_WITH_MPI AUTO CACHE STRING "Build tapegrad::dist, data-parallel training over MPI (AUTO, ON, OFF)")
set_property(CACHE TAPEGRAD_WITH_MPI PROPERTY STRINGS AUTO ON OFF)
set(tapegrad_build_dist OFF)
if(TAPEGRAD_WITH_MPI)  # AUTO and ON are both true in CMake's eyes
  set(MPI_CXX_SKIP_MPICXX ON)  # only MPI's C API is used: leave the old C++ bindings out
  find_package(MPI COMPONENTS CXX)
  if(MPI_CXX_FOUND)
    set(tapegrad_build_dist ON)
  elseif(NOT TAPEGRAD_WITH_MPI STREQUAL "AUTO")
    message(FATAL_ERROR "TAPEGRAD_WITH_MPI is ON but no MPI was found (install libopenmpi-dev openmpi-bin)")
  endif()
endif()
