// Error checks for CUDA and cuBLASLt calls: every failure becomes a krt::Error that
// names the call and the library's own message. Kernels check each launch too.
#pragma once

#include <cublasLt.h>
#include <cuda_runtime.h>

#include <string>

namespace krt::cuda {

[[noreturn]] void throw_cuda_error(const char* library, const std::string& what,
                                   const std::string& message);

inline void check_cuda(cudaError_t status, const char* what) {
  if (status != cudaSuccess) throw_cuda_error("CUDA", what, cudaGetErrorString(status));
}
inline void check_cublas(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw_cuda_error("cuBLAS", what, "status " + std::to_string(static_cast<int>(status)));
}
// After a kernel launch: the launch's own error (bad configuration), not the kernel's result.
inline void check_launch(const char* kernel) { check_cuda(cudaGetLastError(), kernel); }

// Whether kernel launches on the current device use programmatic dependent launch
// (cuda_launch.cuh): compute capability 9.0 or newer, unless KERASRT_CUDA_PDL=0 (to measure it).
bool programmatic_launch_enabled();

}  // namespace krt::cuda
