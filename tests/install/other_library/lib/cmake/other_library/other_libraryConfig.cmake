# A header-only library installed in the shared prefix: its include directory is <prefix>/include.
get_filename_component(_other_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
if(NOT TARGET other_library::headers)
  add_library(other_library::headers INTERFACE IMPORTED)
  set_target_properties(other_library::headers PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_other_prefix}/include")
endif()
unset(_other_prefix)
