// Pooling on the CPU: channels-last rows with contiguous channel loops, threaded over batch rows
// and channel blocks. Same sums (double, window in row-major order) and the same max (NaN is
// skipped, as std::max(running, x) skips it) as the reference kernels, so the same bits.
#pragma once

#include "graph/graph.h"

namespace krt::cpu {

// Whether run_pool_fast handles this node for inputs of rank `rank` (1-D, 2-D and 3-D pooling).
bool pool_fast_applies(const Node& node, int rank);

// Runs a 1-D, 2-D or 3-D max/average pooling node (channels last) and returns true; false for
// other nodes, ranks or dtypes (the reference kernel runs those).
bool run_pool_fast(const Node& node, const Tensor& x, Tensor& y);

// Runs a global max/average pooling node and returns true; false for other nodes or dtypes.
bool run_global_pool_fast(const Node& node, const Tensor& x, Tensor& y);

}  // namespace krt::cpu
