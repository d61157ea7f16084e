# Installs the build tree into a scratch prefix, then builds a consumer that asks for
# find_package(tapegrad CONFIG REQUIRED COMPONENTS dist) and runs it on 2 ranks (used by CTest):
#   cmake -DBUILD=dir -DWORK=dir -DGENERATOR=g -DCXX=compiler [-DLAUNCHER=ccache]
#         -DMPIEXEC=mpirun -DNUMPROC_FLAG=-n "-DMPIEXEC_FLAGS=flags" -P install_dist.cmake
# Checks: the component brings tapegrad::dist and MPI with it (the consumer names neither MPI
# nor its paths), and the installed library trains: 2 ranks end one step with equal parameters.
set(here "${CMAKE_CURRENT_LIST_DIR}")
set(prefix "${WORK}/prefix")

include("${here}/../../cmake/install_steps.cmake")

file(REMOVE_RECURSE "${WORK}")
run("${CMAKE_COMMAND}" --install "${BUILD}" --prefix "${prefix}")
if(NOT EXISTS "${prefix}/include/tapegrad/dist/dist.hpp")
  message(FATAL_ERROR "no ${prefix}/include/tapegrad/dist/dist.hpp after the install")
endif()

set(consumer "${WORK}/consumer")
build_consumer("${here}/consumer" "${consumer}" "${prefix}")
separate_arguments(flags UNIX_COMMAND "${MPIEXEC_FLAGS}")
run("${MPIEXEC}" ${NUMPROC_FLAG} 2 ${flags} "${consumer}/dist_consumer")
if(NOT output MATCHES "tapegrad::dist installed: 2 ranks, parameters differ by 0")
  message(FATAL_ERROR "the installed dist consumer printed:\n${output}")
endif()
message(STATUS "${output}")
