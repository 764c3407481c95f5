// Conversion between the float storage dtypes on the GPU (f32, f16, bf16), on a stream.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "kerasrt/tensor.h"

namespace krt::cuda {

// dst[i] = convert(src[i]) for n elements; the same dtype is a plain device copy.
void convert_on_device(const void* src, DType src_dtype, void* dst, DType dst_dtype, int64_t n,
                       cudaStream_t stream);

}  // namespace krt::cuda
