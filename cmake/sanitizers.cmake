# TAPEGRAD_SANITIZE: a ;-list of sanitizers for every target, e.g. -DTAPEGRAD_SANITIZE="address;undefined"
# (or "thread"). Findings abort the program (-fno-sanitize-recover=all), so a test run with
# findings fails.
set(TAPEGRAD_SANITIZE "" CACHE STRING "Sanitizers to build with, e.g. address;undefined or thread")
if(TAPEGRAD_SANITIZE)
  list(JOIN TAPEGRAD_SANITIZE "," tapegrad_sanitizers)
  add_compile_options(-fsanitize=${tapegrad_sanitizers} -fno-sanitize-recover=all -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=${tapegrad_sanitizers})
endif()
