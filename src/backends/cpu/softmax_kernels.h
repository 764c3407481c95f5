// Softmax and log_softmax over axes next to each other on the CPU: over trailing axes each
// group is a contiguous row; over others (the time axis of (N, T, C)) a group is gathered into a
// row and put back. Rows are shared among threads. The reference's formula (max, exp(x - max),
// sum in double, divide) with a vectorizable float exp, so results match the reference to a few
// float ulps.
#pragma once

#include "graph/graph.h"

namespace krt::cpu {

// Whether run_softmax_fast handles this node for inputs of rank `rank`: softmax or log_softmax
// over axes next to each other (in any order).
bool softmax_fast_applies(const Node& node, int rank);

// Runs such a node and returns true; false for any other node or dtype.
bool run_softmax_fast(const Node& node, const Tensor& x, Tensor& y);

// exp(t) for t <= 0 (0 below -87, NaN for NaN) to about 1 float ulp, in plain arithmetic the
// compiler can vectorize. Exposed for its test.
float exp_nonpositive(float t);

}  // namespace krt::cpu
