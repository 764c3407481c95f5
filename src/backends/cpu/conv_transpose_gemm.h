// Transposed convolution as one GEMM and a gather: columns (positions, taps * cout) = x
// (positions, cin) @ W (cin, taps * cout) on oneDNN's matmul, then every output position sums the
// columns of the (input position, tap) pairs that land on it, plus bias and activation. Keras's
// kernel (k..., cout, cin) is W read column by column, so W needs no transposition. oneDNN 2.6's
// jit deconvolution ran the founding model's transposed convolution at about half this speed.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "graph/graph.h"

namespace krt::cpu {

class ConvTransposeGemm {
 public:
  // The kernel for a ConvTranspose `node` with an f32 kernel of 1-3 spatial axes, or nullptr.
  // With a known input shape (batch aside), its matmul is built and W packed now.
  static std::unique_ptr<ConvTransposeGemm> for_node(const Node& node, const Shape& input_shape);
  ~ConvTransposeGemm();
  // y = node(x); `scratch` holds the columns and oneDNN's scratchpad (grown as needed). False
  // when oneDNN refused the shape (the caller runs another kernel).
  bool run(const Tensor& x, Tensor& y, std::vector<uint8_t>* scratch) const;
  // Packed copies of W held now.
  size_t packed_weight_copies() const;

  struct Impl;

 private:
  explicit ConvTransposeGemm(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace krt::cpu
