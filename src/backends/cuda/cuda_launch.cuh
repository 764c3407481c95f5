// Kernel launches with programmatic dependent launch (PDL, sm_90 and newer): a kernel may be
// scheduled while the kernel before it in the stream still runs, so its launch and ramp-up
// overlap that kernel's tail instead of following it. Every kernel of ours therefore starts with
// wait_for_producers(), before it reads or writes any activation. .cu files only.
#pragma once

#include <cuda_runtime.h>

#include "backends/cuda/cuda_check.h"

namespace krt::cuda {

// Lets the next kernel of the stream be scheduled now, then waits until the previous kernel has
// finished and its writes are visible. Each kernel waits on the one before it, so the chain
// covers every earlier kernel. Only data no kernel writes (weights) may be touched before it.
// Without PDL (older GPUs, plain launches) both instructions do nothing.
__device__ __forceinline__ void allow_next_kernel() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}
__device__ __forceinline__ void wait_for_previous_kernel() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}
__device__ __forceinline__ void wait_for_producers() {
  allow_next_kernel();
  wait_for_previous_kernel();
}

// kernel<<<grid, block, smem, stream>>>(args...) with PDL where enabled. Errors are left for
// the caller's check_launch, as with <<<>>>.
template <class... Params, class... Args>
void launch_kernel(void (*kernel)(Params...), dim3 grid, dim3 block, size_t smem,
                   cudaStream_t stream, Args&&... args) {
  cudaLaunchAttribute attribute[1];
  attribute[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attribute[0].val.programmaticStreamSerializationAllowed = 1;
  cudaLaunchConfig_t config{};
  config.gridDim = grid;
  config.blockDim = block;
  config.dynamicSmemBytes = smem;
  config.stream = stream;
  config.attrs = attribute;
  config.numAttrs = programmatic_launch_enabled() ? 1 : 0;
  (void)cudaLaunchKernelEx(&config, kernel, static_cast<Params>(args)...);
}

}  // namespace krt::cuda
