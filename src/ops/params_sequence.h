// Parameters of the sequence ops: embedding lookup, recurrent layers and the small mask ops
// (compare, reduce) that Keras 3 writes into Functional configs for Masking and mask_zero.
// Masks are ordinary f32 values holding 1 (keep) or 0 (masked).
#pragma once

#include <cstdint>
#include <vector>

#include "ops/activation.h"

namespace krt {

// y[..., :] = table[ids[...], :]. Input: ids of any rank (batch first), as f32 holding whole
// numbers; output: the input shape plus the embedding size. weights: table (input_dim, output_dim).
// An id outside [0, input_dim) is an error at run time (Keras's numpy backend raises too).
struct EmbeddingParams {};

enum class RecurrentKind { simple, lstm, gru };

// One RNN layer over a whole sequence (Keras's RNN with a SimpleRNN, LSTM or GRU cell).
// Inputs: x (batch, time, features); then the mask (batch, time) when has_mask; then the
// initial states when has_initial_state (LSTM: h, c; others: h), each (batch, units).
// Outputs: the output, (batch, time, units) with return_sequences else (batch, units); then,
// with return_state, the final states (LSTM: h, c; others: h).
// weights: kernel (features, gates*units), recurrent_kernel (units, gates*units), and when
// has_bias the bias: (gates*units), or (2, gates*units) for a GRU with reset_after (input bias,
// recurrent bias). Gates: simple 1; LSTM 4 in order i, f, c, o; GRU 3 in order z, r, h.
// Semantics follow keras/src/backend/numpy/rnn.py: with go_backwards the steps run from the last
// time step to the first and the output sequence is in processing order; at a masked step the
// states carry over and the output is the previous h (zero_output_for_mask: zeros).
struct RecurrentParams {
  RecurrentKind kind = RecurrentKind::lstm;
  int64_t units = 0;
  Activation activation;            // tanh by default in Keras
  Activation recurrent_activation;  // gates (LSTM, GRU)
  bool has_bias = true;
  bool reset_after = true;  // GRU only
  bool go_backwards = false;
  bool return_sequences = false;
  bool return_state = false;
  bool zero_output_for_mask = false;
  // With go_backwards, write the output sequence in input order (out[:, t] from input step t)
  // instead of Keras's processing order: what Bidirectional gets after flipping it back.
  bool sequence_in_input_order = false;
  bool has_mask = false;
  bool has_initial_state = false;
};

// Number of state tensors of a recurrent cell (LSTM 2, others 1) and of gates (1, 4, 3).
inline int recurrent_state_count(RecurrentKind kind) { return kind == RecurrentKind::lstm ? 2 : 1; }
inline int recurrent_gate_count(RecurrentKind kind) {
  return kind == RecurrentKind::lstm ? 4 : kind == RecurrentKind::gru ? 3 : 1;
}

enum class CompareKind { equal, not_equal, less, less_equal, greater, greater_equal };
// y = (x OP value) ? 1 : 0, element-wise against a scalar.
struct CompareParams {
  CompareKind kind = CompareKind::not_equal;
  float value = 0.f;
};

enum class ReduceKind { any, all, sum, mean, max, min, prod, argmax, argmin };
// Reduces `axes` (non-negative, sorted, distinct); keepdims leaves them as size 1. any/all give
// 1 or 0 (nonzero counts as true); argmax/argmin (one axis) give the index of the first maximum
// or minimum along it.
struct ReduceParams {
  ReduceKind kind = ReduceKind::sum;
  std::vector<int64_t> axes;
  bool keepdims = false;
};

}  // namespace krt
