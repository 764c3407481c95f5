// Padding (ZeroPadding1D/2D/3D, constant pads) and cropping (Cropping1D/2D/3D) on the CPU: both
// move rows of the input into rows of the output, a row being the innermost run that neither
// pads nor crops (e.g. a whole image row of channels), copied with memcpy and shared among
// threads. The reference kernel maps every element through generic coordinates.
#pragma once

#include "graph/graph.h"

namespace krt::cpu {

// Runs a float32 pad or slice node and returns true; false for other nodes and dtypes.
bool run_pad_crop_fast(const Node& node, const Tensor& x, Tensor& y);

}  // namespace krt::cpu
