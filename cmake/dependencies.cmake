# Every dependency comes from a Debian package, found by CMake's own modules or the package's
# config file. scripts/setup.sh installs the packages when missing.
set(BLA_VENDOR OpenBLAS)
find_package(BLAS REQUIRED)
find_path(TAPEGRAD_CBLAS_INCLUDE_DIR cblas.h PATH_SUFFIXES openblas REQUIRED)
find_package(fmt REQUIRED)
find_package(Threads REQUIRED)
find_package(ZLIB REQUIRED)
