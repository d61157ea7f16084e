# cmake --install: the static libraries, their headers (in include/tapegrad/, see the top-level
# CMakeLists.txt), and tapegradConfig.cmake so that find_package(tapegrad CONFIG) gives
# tapegrad::autodiff and tapegrad::nn, and with COMPONENTS dist (when it was built) tapegrad::dist,
# finding MPI for it. dist has its own export set, so that a user who does not ask for it does not
# need MPI.
include(CMakePackageConfigHelpers)

# Only the headers each target lists in its HEADERS file set are installed: the public API.
install(TARGETS tapegrad_autodiff tapegrad_nn EXPORT tapegradTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        FILE_SET HEADERS DESTINATION ${TAPEGRAD_INSTALL_INCLUDEDIR})
install(EXPORT tapegradTargets NAMESPACE tapegrad:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tapegrad)
set(TAPEGRAD_PACKAGE_HAS_DIST ${tapegrad_build_dist})
if(tapegrad_build_dist)
  install(TARGETS tapegrad_dist EXPORT tapegradDistTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/dist DESTINATION ${TAPEGRAD_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.hpp"
          PATTERN detail EXCLUDE)
  install(EXPORT tapegradDistTargets NAMESPACE tapegrad:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tapegrad)
endif()
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/tapegradConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/tapegradConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tapegrad)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/tapegradConfigVersion.cmake COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/tapegradConfig.cmake ${PROJECT_BINARY_DIR}/tapegradConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tapegrad)
