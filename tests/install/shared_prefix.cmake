# Installs the build tree into a scratch prefix that already holds another library with its own
# include/autodiff/ and include/nn/, then builds and runs a consumer of both (used by CTest):
#   cmake -DBUILD=dir -DWORK=dir -DGENERATOR=g -DCXX=compiler [-DLAUNCHER=ccache] -P shared_prefix.cmake
# Checks: tapegrad's install leaves every file of the other library untouched, its headers land
# in include/tapegrad/, find_package(tapegrad) leaves the consumer's BLA_VENDOR alone, and
# #include <autodiff/autodiff.hpp> reaches tapegrad's header.
set(here "${CMAKE_CURRENT_LIST_DIR}")
set(prefix "${WORK}/prefix")

include("${here}/../cmake/install_steps.cmake")

function(hash_tree dir result)
  file(GLOB_RECURSE files RELATIVE "${dir}" "${dir}/*")
  set(hashes "")
  foreach(f IN LISTS files)
    file(SHA256 "${dir}/${f}" h)
    list(APPEND hashes "${f}=${h}")
  endforeach()
  set(${result} "${hashes}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE "${WORK}")
file(COPY "${here}/other_library/" DESTINATION "${prefix}")
hash_tree("${prefix}" before)

run("${CMAKE_COMMAND}" --install "${BUILD}" --prefix "${prefix}")
foreach(entry IN LISTS before)
  string(REGEX REPLACE "=.*" "" f "${entry}")
  file(SHA256 "${prefix}/${f}" h)
  if(NOT entry STREQUAL "${f}=${h}")
    message(FATAL_ERROR "installing tapegrad changed the other library's ${f}")
  endif()
endforeach()
foreach(dir autodiff nn)
  file(GLOB_RECURSE theirs RELATIVE "${here}/other_library/include/${dir}" "${here}/other_library/include/${dir}/*")
  file(GLOB_RECURSE now RELATIVE "${prefix}/include/${dir}" "${prefix}/include/${dir}/*")
  if(NOT now STREQUAL theirs)
    message(FATAL_ERROR "tapegrad installed files into the shared include/${dir}/: ${now}")
  endif()
endforeach()
foreach(header autodiff/autodiff.hpp nn/nn.hpp)
  if(NOT EXISTS "${prefix}/include/tapegrad/${header}")
    message(FATAL_ERROR "no ${prefix}/include/tapegrad/${header} after the install")
  endif()
endforeach()

set(consumer "${WORK}/consumer")
build_consumer("${here}/consumer" "${consumer}" "${prefix}")
run("${consumer}/consumer")
message(STATUS "a consumer built against ${prefix}, shared with another library's include/autodiff/ and include/nn/")
