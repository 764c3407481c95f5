// C = A @ W^T over a few rows of A, with W (n, k) row-major read in place. Keras stores a
// transposed convolution's kernel as (taps * cout, cin), so at small batches this runs it with
// no packed copy of the kernel, and W is read once per call, in blocks of rows split over the
// run's threads. A, a few rows, is transposed into 16-row groups so each step is one vector of
// A times one broadcast element of W. AVX-512 only.
#pragma once

#include <cstdint>

namespace krt::cpu {

// C (m x n, row-major) = A (m x k, row-major) @ W^T (W: n x k, row-major). Call only when
// cpu_has_avx512(). Threads: the calling thread's OpenMP count.
void gemm_nt_avx512(int64_t m, int64_t k, int64_t n, const float* a, const float* w, float* c);

}  // namespace krt::cpu
