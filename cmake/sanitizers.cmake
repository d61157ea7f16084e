# TAPEGRAD_SANITIZE: a ;-list of sanitizers for every target, e.g. -DTAPEGRAD_SANITIZE="address;undefined"
# (or "thread"). Findings abort the program (-fno-sanitize-recover=all), so a test run with
# findings fails.
set(TAPEGRAD_SANITIZE "" CACHE STRING "Sanitizers to build with, e.g. address;undefined or thread")
if(TAPEGRAD_SANITIZE)
  list(JOIN TAPEGRAD_SANITIZE "," tapegrad_sanitizers)
  add_compile_options(-fsanitize=${tapegrad_sanitizers} -fno-sanitize-recover=all -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=${tapegrad_sanitizers})
  # The loader runs target_clones' ifunc resolvers before TSan's runtime starts, and TSan
  # instruments them: the program dies in relocation. Under TSan the kernels are compiled once.
  if("thread" IN_LIST TAPEGRAD_SANITIZE)
    add_compile_definitions(TAPEGRAD_NO_CLONES)
  endif()
endif()
