# The CUDA backend (src/backends/cuda/): built when the CUDA toolkit (nvcc, the runtime and
# cuBLASLt) is found, or required with -DKERASRT_CUDA=ON. Its tests skip with a reason where no
# GPU is. cuBLASLt is loaded at first use (cublaslt_loader.cpp), not linked, so programs that never
# use the GPU do not pay for mapping it.
set(KERASRT_CUDA AUTO CACHE STRING "Build the CUDA backend: ON, OFF or AUTO (when the CUDA toolkit is found)")
set_property(CACHE KERASRT_CUDA PROPERTY STRINGS ON OFF AUTO)
set(KERASRT_WITH_CUDA OFF)
if(NOT KERASRT_CUDA STREQUAL "OFF")
  if(NOT CMAKE_CUDA_COMPILER AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    set(KERASRT_WITH_CUDA ON)
  elseif(KERASRT_CUDA STREQUAL "ON")
    message(FATAL_ERROR "KERASRT_CUDA=ON but the CUDA toolkit (nvcc) was not found")
  endif()
endif()

if(KERASRT_WITH_CUDA)
  if(NOT CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES 80 90)  # A100 and H100/H200; PTX of the last for newer cards
  endif()
  enable_language(CUDA)
  find_package(CUDAToolkit REQUIRED)
  file(GLOB KERASRT_CUDA_SOURCES CONFIGURE_DEPENDS src/backends/cuda/*.cpp src/backends/cuda/*.cu)
  target_sources(kerasrt PRIVATE ${KERASRT_CUDA_SOURCES})
  target_compile_definitions(kerasrt PRIVATE KERASRT_WITH_CUDA)
  target_include_directories(kerasrt SYSTEM PRIVATE ${CUDAToolkit_INCLUDE_DIRS})
  target_link_libraries(kerasrt PRIVATE CUDA::cudart ${CMAKE_DL_LIBS})
  # -Werror reaches nvcc's host compiler only through -Xcompiler; nvcc's own warnings stay warnings.
  # .cu files are C++17 (CMake 3.25 cannot name nvcc 13's C++20 dialect): they include only
  # the C++17-clean headers (cuda_types.cuh, cuda_check.h, their own *_kernels.h, kerasrt/tensor.h).
  set_target_properties(kerasrt PROPERTIES CUDA_ARCHITECTURES "${CMAKE_CUDA_ARCHITECTURES}" CUDA_STANDARD 17)
  target_compile_options(kerasrt PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:--expt-relaxed-constexpr -Xcompiler=-Wall>)
  set(KERASRT_PC_CUDA_LIBS "-L${CUDAToolkit_LIBRARY_DIR} -lcudart")  # for kerasrt.pc
  message(STATUS "kerasrt: CUDA backend ON (${CMAKE_CUDA_COMPILER}, archs ${CMAKE_CUDA_ARCHITECTURES})")
else()
  message(STATUS "kerasrt: CUDA backend OFF")
endif()
