# Steps shared by the install tests' CTest scripts (tests/install, tests/dist/install).

# Runs a command; stops the script with its output when it fails. Sets `output` in the caller.
function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " cmd "${ARGV}")
    message(FATAL_ERROR "'${cmd}' failed (${rc}):\n${out}")
  endif()
  set(output "${out}" PARENT_SCOPE)
endfunction()

# Configures and builds the consumer project in `source` into `binary` against the installed
# `prefix`, with the generator, compiler and launcher the test was given (GENERATOR, CXX, LAUNCHER).
function(build_consumer source binary prefix)
  set(options -G "${GENERATOR}" -DCMAKE_BUILD_TYPE=Release "-DCMAKE_PREFIX_PATH=${prefix}"
              "-DCMAKE_CXX_COMPILER=${CXX}")
  if(LAUNCHER)
    list(APPEND options "-DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER}")
  endif()
  run("${CMAKE_COMMAND}" -S "${source}" -B "${binary}" ${options})
  run("${CMAKE_COMMAND}" --build "${binary}")
endfunction()
