// The sequence ops on cases small enough to work out by hand: how a masked step, go_backwards,
// zero_output_for_mask and input-order output interact in the recurrent op (the golden fixtures
// cover the cell maths), initial states, embedding ids, and the mask ops.
#include <gtest/gtest.h>

#include <cmath>

#include "backends/reference/reference_backend.h"
#include "expect_error.h"
#include "ops/shape_inference.h"

namespace krt {
namespace {

Tensor tensor(Shape shape, std::vector<float> values) {
  Tensor t(DType::f32, std::move(shape));
  std::copy(values.begin(), values.end(), t.data_as<float>());
  return t;
}

std::vector<float> values_of(const Tensor& t) {
  return {t.data_as<float>(), t.data_as<float>() + t.size()};
}

std::vector<Tensor> run(const Node& node, const std::vector<Tensor>& inputs) {
  std::vector<Shape> in_shapes;
  for (const Tensor& t : inputs) in_shapes.push_back(t.shape());
  std::vector<Tensor> outs;
  for (const Shape& s : infer_output_shapes(node, in_shapes)) outs.emplace_back(DType::f32, s);
  reference::run_node(node, inputs, outs);
  return outs;
}

// A one-unit linear SimpleRNN that adds up its inputs: h_t = x_t + h_{t-1}.
Node summing_rnn(RecurrentParams p) {
  p.kind = RecurrentKind::simple;
  p.units = 1;
  p.has_bias = false;
  Node n;
  n.kind = OpKind::recurrent;
  n.name = "rnn";
  n.params = p;
  n.weights = {tensor({1, 1}, {1.f}), tensor({1, 1}, {1.f})};
  return n;
}

// One sample, steps x = 1, 10, 100; the middle step masked.
const Tensor kX = tensor({1, 3, 1}, {1.f, 10.f, 100.f});
const Tensor kMask = tensor({1, 3}, {1.f, 0.f, 1.f});

TEST(RecurrentOp, MaskedStepCarriesStateAndRepeatsOutput) {
  RecurrentParams p;
  p.return_sequences = true;
  p.has_mask = true;
  EXPECT_EQ(values_of(run(summing_rnn(p), {kX, kMask})[0]), (std::vector<float>{1.f, 1.f, 101.f}));
  p.zero_output_for_mask = true;
  EXPECT_EQ(values_of(run(summing_rnn(p), {kX, kMask})[0]), (std::vector<float>{1.f, 0.f, 101.f}));
}

TEST(RecurrentOp, GoBackwardsOutputsInProcessingOrder) {
  RecurrentParams p;
  p.return_sequences = true;
  p.go_backwards = true;
  p.has_mask = true;
  // Steps run t = 2, 1 (masked), 0: h = 100, 100, 101; Keras returns them in that order.
  EXPECT_EQ(values_of(run(summing_rnn(p), {kX, kMask})[0]),
            (std::vector<float>{100.f, 100.f, 101.f}));
  // Bidirectional's backward half flips them back into input order.
  p.sequence_in_input_order = true;
  p.zero_output_for_mask = true;
  EXPECT_EQ(values_of(run(summing_rnn(p), {kX, kMask})[0]),
            (std::vector<float>{101.f, 0.f, 100.f}));
}

TEST(RecurrentOp, LastOutputAndStateWithMaskedLastStep) {
  RecurrentParams p;
  p.return_state = true;
  p.has_mask = true;
  const Tensor mask = tensor({1, 3}, {1.f, 1.f, 0.f});
  std::vector<Tensor> out = run(summing_rnn(p), {kX, mask});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(values_of(out[0]), (std::vector<float>{11.f}));  // the last unmasked output
  EXPECT_EQ(values_of(out[1]), (std::vector<float>{11.f}));  // the state stopped there too
  p.zero_output_for_mask = true;                             // Keras then returns zeros
  EXPECT_EQ(values_of(run(summing_rnn(p), {kX, mask})[0]), (std::vector<float>{0.f}));
}

TEST(RecurrentOp, InitialState) {
  RecurrentParams p;
  p.has_initial_state = true;
  EXPECT_EQ(values_of(run(summing_rnn(p), {kX, tensor({1, 1}, {1000.f})})[0]),
            (std::vector<float>{1111.f}));
}

TEST(RecurrentOp, ShapeChecks) {
  RecurrentParams p;
  p.has_mask = true;
  Node n = summing_rnn(p);
  Error e = test::expect_error([&] { infer_output_shapes(n, {{dynamic, 3, 1}, {dynamic, 4}}); });
  EXPECT_EQ(e.code(), ErrorCode::invalid_file);
  EXPECT_NE(std::string(e.what()).find("time steps"), std::string::npos) << e.what();
  e = test::expect_error([&] { infer_output_shapes(n, {{dynamic, 3, 2}, {dynamic, 3}}); });
  EXPECT_NE(std::string(e.what()).find("kernel"), std::string::npos) << e.what();
  // An LSTM with return_state: the output, then h and c.
  p.return_state = true;
  p.kind = RecurrentKind::lstm;
  p.units = 3;
  p.has_bias = true;
  n.params = p;
  n.weights = {Tensor(DType::f32, {2, 12}), Tensor(DType::f32, {3, 12}), Tensor(DType::f32, {12})};
  std::vector<Shape> shapes = infer_output_shapes(n, {{dynamic, 5, 2}, {dynamic, 5}});
  ASSERT_EQ(shapes.size(), 3u);
  EXPECT_EQ(shape_to_string(shapes[0]), "(None, 3)");
  EXPECT_EQ(shape_to_string(shapes[2]), "(None, 3)");
}

TEST(EmbeddingOp, LooksUpRowsAndRejectsIdsOutOfRange) {
  Node n;
  n.kind = OpKind::embedding;
  n.name = "emb";
  n.params = EmbeddingParams{};
  n.weights = {tensor({3, 2}, {0.f, 1.f, 10.f, 11.f, 20.f, 21.f})};
  EXPECT_EQ(values_of(run(n, {tensor({1, 3}, {2.f, 0.f, 1.f})})[0]),
            (std::vector<float>{20.f, 21.f, 0.f, 1.f, 10.f, 11.f}));
  for (float bad : {3.f, -1.f, std::nanf("")}) {
    Error e = test::expect_error([&] { run(n, {tensor({1, 1}, {bad})}); });
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument) << e.what();
  }
}

TEST(MaskOps, CompareAndReduce) {
  Node ne;
  ne.kind = OpKind::compare;
  ne.params = CompareParams{CompareKind::not_equal, 0.f};
  const Tensor x = tensor({1, 2, 2}, {0.f, 0.f, 0.f, 3.f});
  std::vector<Tensor> m = run(ne, {x});
  EXPECT_EQ(values_of(m[0]), (std::vector<float>{0.f, 0.f, 0.f, 1.f}));
  Node any;
  any.kind = OpKind::reduce;
  any.params = ReduceParams{ReduceKind::any, {2}, false};
  std::vector<Tensor> r = run(any, m);
  EXPECT_EQ(shape_to_string(r[0].shape()), "(1, 2)");
  EXPECT_EQ(values_of(r[0]), (std::vector<float>{0.f, 1.f}));
  Node mean;
  mean.kind = OpKind::reduce;
  mean.params = ReduceParams{ReduceKind::mean, {1}, true};
  r = run(mean, {x});
  EXPECT_EQ(shape_to_string(r[0].shape()), "(1, 1, 2)");
  EXPECT_EQ(values_of(r[0]), (std::vector<float>{0.f, 1.5f}));
}

}  // namespace
}  // namespace krt
