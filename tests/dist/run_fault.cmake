# One fault scenario (cmake -P): `mpirun -np RANKS fault_program --mode MODE --rank FAILING`
# must end with a non-zero status, no rank may finish its training loop, and the checkpoint
# rank 0 wrote must load and hold what one process has after as many steps. ctest's TIMEOUT
# guards against a hang; nothing here measures time.
# Then a new run on RESUME_RANKS ranks loads that checkpoint and trains on, and its last
# checkpoint must hold what one process has after as many steps.
#   -DMPIEXEC=… -DMPIEXEC_FLAGS="…" -DPROGRAM=… -DRANKS=n -DMODE=throw|return|kill -DFAILING=r -DCHECKPOINT=…
#   -DRESUME_RANKS=n [-DEXPECT=text the output must contain]
separate_arguments(flags UNIX_COMMAND "${MPIEXEC_FLAGS}")
file(REMOVE "${CHECKPOINT}")
execute_process(COMMAND "${MPIEXEC}" -np ${RANKS} ${flags} "${PROGRAM}" --mode ${MODE} --rank ${FAILING} --step 6
                        --checkpoint "${CHECKPOINT}"
                RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("mpirun ended with status ${status}\n${out}${err}")
if(status STREQUAL "0")
  message(FATAL_ERROR "mpirun ended with status 0 although rank ${FAILING} failed")
endif()
if(out MATCHES "finished")
  message(FATAL_ERROR "a rank finished its training although rank ${FAILING} failed at step 6")
endif()
if(DEFINED EXPECT AND NOT "${out}${err}" MATCHES "${EXPECT}")
  message(FATAL_ERROR "the output does not say: ${EXPECT}")
endif()
function(verify what)
  execute_process(COMMAND "${PROGRAM}" --verify "${CHECKPOINT}" RESULT_VARIABLE valid OUTPUT_VARIABLE vout
                  ERROR_VARIABLE verr)
  message("${vout}${verr}")
  if(NOT valid EQUAL 0)
    message(FATAL_ERROR "${what} is not valid")
  endif()
endfunction()
verify("the last checkpoint")

execute_process(COMMAND "${MPIEXEC}" -np ${RESUME_RANKS} ${flags} "${PROGRAM}" --mode resume --checkpoint "${CHECKPOINT}"
                RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("resumed on ${RESUME_RANKS} ranks: status ${status}\n${out}${err}")
if(NOT status EQUAL 0 OR NOT out MATCHES "rank 0: finished resuming")
  message(FATAL_ERROR "the run resumed from the checkpoint did not finish")
endif()
verify("the checkpoint of the resumed run")
