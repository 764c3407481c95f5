# ctest driver: installs the build tree into a fresh prefix, builds tests/consumer against it
# with find_package(kerasrt CONFIG), runs it, then builds it once more with pkg-config flags.
# Variables: BUILD_DIR, SOURCE_DIR, WORK_DIR, MODEL, INPUT, CXX.
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)

function(step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

step("install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
foreach(f include/kerasrt/kerasrt.h bin/kerasrt)
  if(NOT EXISTS ${prefix}/${f})
    message(FATAL_ERROR "install did not produce ${f}")
  endif()
endforeach()

step("configure consumer" ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/build
     -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release)
step("build consumer" ${CMAKE_COMMAND} --build ${WORK_DIR}/build)
step("run consumer" ${WORK_DIR}/build/consumer ${MODEL} ${INPUT})
message(STATUS "${step_output}")
if(NOT step_output MATCHES "consumer: model '.*' output \\(")
  message(FATAL_ERROR "unexpected consumer output: ${step_output}")
endif()

# The pkg-config route, as a Makefile user would take it.
find_program(PKG_CONFIG pkg-config)
if(PKG_CONFIG)
  file(GLOB_RECURSE pc_files ${prefix}/*/kerasrt.pc)
  get_filename_component(pc_dir "${pc_files}" DIRECTORY)
  set(ENV{PKG_CONFIG_PATH} ${pc_dir})
  step("pkg-config" ${PKG_CONFIG} --cflags --libs --static kerasrt)
  string(STRIP "${step_output}" flags)
  separate_arguments(flags UNIX_COMMAND "${flags}")
  step("build consumer with pkg-config" ${CXX} -std=c++20 ${SOURCE_DIR}/main.cpp -o ${WORK_DIR}/consumer_pc ${flags})
  # A shared libkerasrt in a private prefix is found the way a Makefile user finds it.
  file(GLOB_RECURSE so_files ${prefix}/*/libkerasrt.so)
  if(so_files)
    get_filename_component(lib_dir "${so_files}" DIRECTORY)
    set(ENV{LD_LIBRARY_PATH} ${lib_dir})
  endif()
  step("run pkg-config consumer" ${WORK_DIR}/consumer_pc ${MODEL} ${INPUT})
  message(STATUS "${step_output}")
endif()
file(REMOVE_RECURSE ${WORK_DIR})
