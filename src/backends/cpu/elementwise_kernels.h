// Element-wise CPU kernels with contiguous inner loops (the reference kernels index every
// element through generic coordinates). Same formulas as the reference, so same results.
#pragma once

#include <span>

#include "graph/graph.h"

namespace krt::cpu {

// relu with no max_value, threshold or negative_slope: max(x, 0), which oneDNN can fuse.
bool is_plain_relu(const Activation& act);

// y = act(x) over n floats (y may be x).
void activate(const Activation& act, const float* x, float* y, int64_t n);

// Runs an activation or scale_shift node and returns true, or returns false for other ops
// and for scale_shift over several channel axes (the reference kernel runs those).
bool run_elementwise_fast(const Node& node, const Tensor& x, Tensor& y);

// Runs an elementwise (merge) node, folding left in input order as the reference does (same
// bits), threaded over output rows, and returns true; false for other nodes or dtypes. Inputs
// may broadcast (numpy rules); each input must be the output's shape along a row of trailing
// axes or one value per row, which covers (N,H,W,C) with (C), (N,1,1,C), (N,H,W,1) or
// (N,1,1,1); other patterns make short rows and run correctly, just slower.
bool run_merge(const Node& node, std::span<const Tensor> inputs, Tensor& y);

// run_merge when every input has the output's shape; false (nothing run) when one broadcasts.
bool run_merge_same_shape(const Node& node, std::span<const Tensor> inputs, Tensor& y);

}  // namespace krt::cpu
