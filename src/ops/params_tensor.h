// Parameters of the general tensor ops that Keras 3 op nodes (keras.ops.*) and tf.keras
// TFOpLambda layers record between layers: element-wise math, broadcasting binary operators,
// select, gather and Python-style strided slicing. Values are f32; booleans are 1/0.
#pragma once

#include <cstdint>
#include <vector>

namespace krt {

// y = f(x), element-wise. clip uses a (min) and b (max); the rest take no parameter.
// round is numpy's: halves go to the even neighbour. cast_int truncates toward zero (a float
// cast to an integer dtype); logical_not and the predicates give 1/0.
enum class UnaryKind {
  abs,
  negative,
  sqrt,
  rsqrt,
  square,
  exp,
  expm1,
  log,
  log1p,
  log2,
  log10,
  floor,
  ceil,
  round,
  cast_int,
  sign,
  reciprocal,
  sin,
  cos,
  tan,
  asin,
  acos,
  atan,
  sinh,
  cosh,
  asinh,
  acosh,
  atanh,
  erf,
  logical_not,
  isnan,
  isinf,
  isfinite,
  clip,
};
struct UnaryParams {
  UnaryKind kind = UnaryKind::abs;
  float a = 0.f;
  float b = 0.f;
};

// y = x1 OP x2 with numpy broadcasting. Comparisons and the logical operators give 1/0
// (nonzero counts as true). divide is true division; floor_divide and mod follow Python
// (the remainder takes the divisor's sign).
enum class BinaryKind {
  add,
  subtract,
  multiply,
  divide,
  floor_divide,
  mod,
  power,
  maximum,
  minimum,
  squared_difference,
  equal,
  not_equal,
  less,
  less_equal,
  greater,
  greater_equal,
  logical_and,
  logical_or,
  logical_xor,
  atan2,
};
// Operands of binary and where come from the node's inputs in order, except those whose bit is
// set in `constant_operands`: they come from the node's weights, in order (a scalar or an array
// written in the file, such as the 3.0 of `x + 3.0`).
struct BinaryParams {
  BinaryKind kind = BinaryKind::add;
  uint32_t constant_operands = 0;
};

// y = cond ? x1 : x2 (numpy.where) with the three operands broadcast together.
struct WhereParams {
  uint32_t constant_operands = 0;
};

// numpy.take along one axis: y = x[..., idx[...], ...]. The indices are input 1 (f32 holding
// whole numbers), or weights[0] when the node has one input; negative indices count from the end.
// An index out of range is an error at run time.
struct GatherParams {
  int64_t axis = 0;
};

// Python slicing per axis (x[start:stop:step]), resolved against the actual dimension at run
// time as slice.indices() does, so None and negative bounds work on dynamic axes. Axes beyond
// those given are kept whole.
struct SliceSpec {
  bool has_start = false;
  bool has_stop = false;
  int64_t start = 0;
  int64_t stop = 0;
  int64_t step = 1;  // nonzero
};
struct StridedSliceParams {
  std::vector<SliceSpec> axes;
};

// y = the input's dimensions, as a (rank,) tensor of f32 whole numbers (tf.shape). Importers
// that need the numbers at load (reshape targets) trace them back to this node instead.
struct ShapeOfParams {};

// The (start, step, length) a SliceSpec selects on an axis of size `dim` (Python semantics).
struct ResolvedSlice {
  int64_t start = 0;
  int64_t step = 1;
  int64_t length = 0;
};
inline ResolvedSlice resolve_slice(const SliceSpec& s, int64_t dim) {
  auto clamp = [&](int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; };
  ResolvedSlice r;
  r.step = s.step;
  int64_t start, stop;
  if (s.step > 0) {
    start = !s.has_start ? 0 : s.start < 0 ? clamp(s.start + dim, 0, dim) : clamp(s.start, 0, dim);
    stop = !s.has_stop ? dim : s.stop < 0 ? clamp(s.stop + dim, 0, dim) : clamp(s.stop, 0, dim);
    r.length = stop > start ? (stop - start + s.step - 1) / s.step : 0;
  } else {
    start = !s.has_start  ? dim - 1
            : s.start < 0 ? clamp(s.start + dim, -1, dim - 1)
                          : clamp(s.start, -1, dim - 1);
    stop = !s.has_stop  ? -1
           : s.stop < 0 ? clamp(s.stop + dim, -1, dim - 1)
                        : clamp(s.stop, -1, dim - 1);
    r.length = start > stop ? (start - stop - s.step - 1) / -s.step : 0;
  }
  r.start = start;
  return r;
}

}  // namespace krt
