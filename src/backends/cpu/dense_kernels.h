// Dense over a few rows on our own kernel (gemv.h); more rows, and CPUs without AVX-512, go to
// oneDNN's matmul, prepared only when such a shape first runs.
#pragma once

#include <memory>
#include <string>

#include "graph/graph.h"

namespace krt::cpu {

class DenseGemv {
 public:
  // Inputs with at most this many rows run here.
  static constexpr int64_t kMaxRows = 4;
  // The kernel for a Dense `node`, or nullptr when it is not ours to run (op, CPU).
  static std::unique_ptr<DenseGemv> for_node(const Node& node);
  // Runs y = node(x) and returns true; false for more rows than kMaxRows.
  bool run(const Tensor& x, Tensor& y) const;

 private:
  explicit DenseGemv(const Node& node) : node_(node) {}
  const Node& node_;
};

}  // namespace krt::cpu
