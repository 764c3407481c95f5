// Dense layers over a few rows (batch 1 to 4) on our own AVX-512 kernel: y = x @ W + bias
// with W read in place, in Keras's own (in, out) row-major layout, as one sequential stream
// split by columns over the run's threads. At batch 1 a Dense layer is a stream of its weights
// (the decoder's 33.5 MB fc2), so the time is how fast W is read, and no packed copy is made.
// Chosen at run time (cpu_has_avx512); oneDNN runs Dense elsewhere.
#pragma once

#include <cstdint>

namespace krt::cpu {

// Whether this CPU runs our AVX-512 kernels (checked once; KERASRT_CPU_KERNELS=onednn in the
// environment turns them off, to compare).
bool cpu_has_avx512();
// False when KERASRT_CPU_KERNELS=onednn: oneDNN's own primitives then run everything they can.
bool own_kernels_enabled();

// Y (m x n) = X (m x k) @ W (k x n, row-major, read in place) + bias (may be null), then
// max(., 0) when `relu`. Threads: the calling thread's OpenMP count.
void gemv_rows(int64_t m, int64_t k, int64_t n, const float* x, const float* w, const float* bias,
               bool relu, float* y);

}  // namespace krt::cpu
