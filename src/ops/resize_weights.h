// What a resize samples: jax.image.resize's weights along one axis (half-pixel centres, the
// method's kernel, widened when downsampling with antialias, normalised to sum to one). Part of
// the op's meaning, so every backend takes them from here.
#pragma once

#include <cstdint>
#include <vector>

#include "ops/params.h"

namespace krt {

// One output position's taps: input indices [first, first + weights.size()); no weights means
// the output is zero there (as jax gives outside the input).
struct ResizeTaps {
  int64_t first = 0;
  std::vector<float> weights;
};

// The taps of every output position along an axis of `in` inputs and `out` outputs.
std::vector<ResizeTaps> resize_weight_matrix(ResizeMethod method, int64_t in, int64_t out, bool antialias);

}  // namespace krt
