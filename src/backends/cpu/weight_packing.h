// Packing a kernel into the blocked layout a oneDNN primitive asked for, without a reorder
// primitive: the layouts oneDNN 2.6's convolutions pick for f32 weights on AVX-512 block one
// axis (output channels in blocks of 16-64, innermost), which is a strided copy of Keras's
// kernel, whose output channels are already innermost. Creating a reorder primitive per layer
// cost a MobileNet's compile ~0.6 ms of JIT (0.25 ms for the first), and its run was no faster.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

namespace krt::cpu {

// Writes `src` (laid out as `from`: plain strides, f32) into `dst` (laid out as `to`: f32 with
// exactly one inner block, padding only on the blocked axis, filled with zeros) and returns
// true; returns false, writing nothing, for any other pair (the caller runs a reorder).
bool pack_one_block(const dnnl::memory::desc& from, const float* src, const dnnl::memory::desc& to,
                    float* dst);

}  // namespace krt::cpu
