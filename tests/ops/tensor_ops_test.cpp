// The general tensor ops (unary, binary, where, gather, strided_slice, reduce prod) on inputs
// small enough to check by hand: broadcasting, constant operands on either side, Python's
// floor division and modulo, slices with negative steps and bounds, negative gather indices,
// and the shape rules' refusals.
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

Node make_node(OpKind kind, OpParams params, std::vector<Tensor> weights = {}) {
  Node n;
  n.kind = kind;
  n.name = "op";
  n.params = std::move(params);
  n.weights = std::move(weights);
  return n;
}

Tensor run1(const Node& node, const std::vector<Tensor>& inputs) {
  std::vector<Shape> in_shapes;
  for (const Tensor& t : inputs) in_shapes.push_back(t.shape());
  std::vector<Tensor> outs;
  for (const Shape& s : infer_output_shapes(node, in_shapes)) outs.emplace_back(DType::f32, s);
  reference::run_node(node, inputs, outs);
  return outs.at(0);
}

TEST(UnaryOp, MathAndClip) {
  const Tensor x = tensor({1, 4}, {-2.5f, -0.5f, 0.5f, 2.5f});
  EXPECT_EQ(values_of(run1(make_node(OpKind::unary, UnaryParams{UnaryKind::round}), {x})),
            (std::vector<float>{-2.f, -0.f, 0.f, 2.f}));
  EXPECT_EQ(values_of(run1(make_node(OpKind::unary, UnaryParams{UnaryKind::cast_int}), {x})),
            (std::vector<float>{-2.f, 0.f, 0.f, 2.f}));
  EXPECT_EQ(values_of(run1(make_node(OpKind::unary, UnaryParams{UnaryKind::floor}), {x})),
            (std::vector<float>{-3.f, -1.f, 0.f, 2.f}));
  EXPECT_EQ(values_of(run1(make_node(OpKind::unary, UnaryParams{UnaryKind::sign}), {x})),
            (std::vector<float>{-1.f, -1.f, 1.f, 1.f}));
  EXPECT_EQ(values_of(run1(make_node(OpKind::unary, UnaryParams{UnaryKind::clip, -1.f, 1.f}), {x})),
            (std::vector<float>{-1.f, -0.5f, 0.5f, 1.f}));
  EXPECT_EQ(values_of(run1(make_node(OpKind::unary, UnaryParams{UnaryKind::logical_not}),
                           {tensor({1, 2}, {0.f, 3.f})})),
            (std::vector<float>{1.f, 0.f}));
}

TEST(BinaryOp, BroadcastsTensors) {
  const Tensor a = tensor({2, 1}, {1.f, 2.f});
  const Tensor b = tensor({1, 3}, {10.f, 20.f, 30.f});
  const Tensor y = run1(make_node(OpKind::binary, BinaryParams{BinaryKind::subtract}), {a, b});
  EXPECT_EQ(shape_to_string(y.shape()), "(2, 3)");
  EXPECT_EQ(values_of(y), (std::vector<float>{-9.f, -19.f, -29.f, -8.f, -18.f, -28.f}));
}

TEST(BinaryOp, ConstantOnEitherSide) {
  const Tensor x = tensor({1, 2}, {1.f, 4.f});
  // 3 - x: the constant is operand 0; x - 3: operand 1.
  EXPECT_EQ(values_of(run1(make_node(OpKind::binary, BinaryParams{BinaryKind::subtract, 1u},
                                     {tensor({}, {3.f})}),
                           {x})),
            (std::vector<float>{2.f, -1.f}));
  EXPECT_EQ(values_of(run1(make_node(OpKind::binary, BinaryParams{BinaryKind::subtract, 2u},
                                     {tensor({}, {3.f})}),
                           {x})),
            (std::vector<float>{-2.f, 1.f}));
  // 2 ** x, and a constant array broadcast on the last axis.
  EXPECT_EQ(values_of(run1(
                make_node(OpKind::binary, BinaryParams{BinaryKind::power, 1u}, {tensor({}, {2.f})}),
                {x})),
            (std::vector<float>{2.f, 16.f}));
  EXPECT_EQ(values_of(run1(make_node(OpKind::binary, BinaryParams{BinaryKind::multiply, 2u},
                                     {tensor({2}, {10.f, -1.f})}),
                           {x})),
            (std::vector<float>{10.f, -4.f}));
}

TEST(BinaryOp, FloorDivideAndModFollowPython) {
  const Tensor a = tensor({1, 4}, {7.f, -7.f, 7.f, -7.f});
  const Tensor b = tensor({1, 4}, {2.f, 2.f, -2.f, -2.f});
  EXPECT_EQ(
      values_of(run1(make_node(OpKind::binary, BinaryParams{BinaryKind::floor_divide}), {a, b})),
      (std::vector<float>{3.f, -4.f, -4.f, 3.f}));
  EXPECT_EQ(values_of(run1(make_node(OpKind::binary, BinaryParams{BinaryKind::mod}), {a, b})),
            (std::vector<float>{1.f, 1.f, -1.f, -1.f}));
  EXPECT_EQ(
      values_of(run1(make_node(OpKind::binary, BinaryParams{BinaryKind::greater_equal}), {a, b})),
      (std::vector<float>{1.f, 0.f, 1.f, 0.f}));
}

TEST(BinaryOp, RefusesShapesThatDoNotBroadcast) {
  Node n = make_node(OpKind::binary, BinaryParams{BinaryKind::add});
  Error e = test::expect_error([&] { infer_output_shapes(n, {{-1, 3}, {-1, 4}}); });
  EXPECT_NE(std::string(e.what()).find("cannot be broadcast"), std::string::npos) << e.what();
  // A constant operand without its weight.
  Node missing = make_node(OpKind::binary, BinaryParams{BinaryKind::add, 2u});
  test::expect_error([&] { infer_output_shapes(missing, {{-1, 3}}); });
}

TEST(WhereOp, SelectsWithBroadcastAndConstants) {
  const Tensor cond = tensor({2, 1}, {1.f, 0.f});
  const Tensor x = tensor({1, 2}, {5.f, 6.f});
  // where(cond, x, -1): the third operand is a constant.
  const Tensor y = run1(make_node(OpKind::where, WhereParams{4u}, {tensor({}, {-1.f})}), {cond, x});
  EXPECT_EQ(shape_to_string(y.shape()), "(2, 2)");
  EXPECT_EQ(values_of(y), (std::vector<float>{5.f, 6.f, -1.f, -1.f}));
}

TEST(GatherOp, TakesAlongAnAxisWithNegativeIndices) {
  const Tensor x = tensor({2, 3}, {0.f, 1.f, 2.f, 10.f, 11.f, 12.f});
  const Tensor idx = tensor({2, 2}, {2.f, -3.f, 1.f, 1.f});
  const Tensor y = run1(make_node(OpKind::gather, GatherParams{1}, {idx}), {x});
  EXPECT_EQ(shape_to_string(y.shape()), "(2, 2, 2)");
  EXPECT_EQ(values_of(y), (std::vector<float>{2.f, 0.f, 1.f, 1.f, 12.f, 10.f, 11.f, 11.f}));
  // Indices as an input: checked at run time.
  const Tensor rows = run1(make_node(OpKind::gather, GatherParams{0}), {x, tensor({1}, {-1.f})});
  EXPECT_EQ(values_of(rows), (std::vector<float>{10.f, 11.f, 12.f}));
  Error e = test::expect_error([&] {
    run1(make_node(OpKind::gather, GatherParams{0}), {x, tensor({1}, {2.f})});
  });
  EXPECT_EQ(e.code(), ErrorCode::invalid_argument) << e.what();
  // Constant indices are checked at load.
  test::expect_error([&] {
    infer_output_shapes(make_node(OpKind::gather, GatherParams{1}, {tensor({1}, {3.f})}),
                        {{-1, 3}});
  });
}

TEST(StridedSliceOp, FollowsPythonSlices) {
  const Tensor x = tensor({1, 6}, {0.f, 1.f, 2.f, 3.f, 4.f, 5.f});
  auto slice = [&](SliceSpec s) {
    return values_of(
        run1(make_node(OpKind::strided_slice, StridedSliceParams{{SliceSpec{}, s}}), {x}));
  };
  EXPECT_EQ(slice({false, false, 0, 0, -1}),
            (std::vector<float>{5.f, 4.f, 3.f, 2.f, 1.f, 0.f}));              // [::-1]
  EXPECT_EQ(slice({true, false, -2, 0, 1}), (std::vector<float>{4.f, 5.f}));  // [-2:]
  EXPECT_EQ(slice({true, true, 1, -1, 2}), (std::vector<float>{1.f, 3.f}));   // [1:-1:2]
  EXPECT_EQ(slice({true, true, 4, 0, -2}), (std::vector<float>{4.f, 2.f}));   // [4:0:-2]
  EXPECT_EQ(slice({true, true, -100, 100, 1}).size(), 6u);                    // clamped
  EXPECT_EQ(slice({true, true, 3, 1, 1}).size(), 0u);                         // empty
  // Dynamic dims stay dynamic until the run gives the size.
  Node n = make_node(OpKind::strided_slice,
                     StridedSliceParams{{SliceSpec{}, SliceSpec{true, false, -2, 0, 1}}});
  EXPECT_EQ(shape_to_string(infer_output_shapes(n, {{-1, -1}})[0]), "(None, None)");
  EXPECT_EQ(shape_to_string(infer_output_shapes(n, {{-1, 7}})[0]), "(None, 2)");
}

TEST(ShapeOfOp, GivesTheRunTimeShape) {
  Node n = make_node(OpKind::shape_of, ShapeOfParams{});
  EXPECT_EQ(shape_to_string(infer_output_shapes(n, {{-1, 3, 4}})[0]), "(3,)");
  EXPECT_EQ(values_of(run1(n, {Tensor(DType::f32, {2, 3, 4})})),
            (std::vector<float>{2.f, 3.f, 4.f}));
}

TEST(ReduceOp, ArgmaxKeepsTheFirstMaximum) {
  const Tensor x = tensor({2, 3}, {1.f, 5.f, 5.f, 7.f, 0.f, 7.f});
  EXPECT_EQ(
      values_of(run1(make_node(OpKind::reduce, ReduceParams{ReduceKind::argmax, {1}, false}), {x})),
      (std::vector<float>{1.f, 0.f}));
  EXPECT_EQ(
      values_of(run1(make_node(OpKind::reduce, ReduceParams{ReduceKind::argmin, {0}, false}), {x})),
      (std::vector<float>{0.f, 1.f, 0.f}));
  test::expect_error([&] {
    infer_output_shapes(make_node(OpKind::reduce, ReduceParams{ReduceKind::argmax, {0, 1}, false}),
                        {{2, 3}});
  });
}

TEST(ReduceOp, Prod) {
  const Tensor x = tensor({1, 2, 3}, {1.f, 2.f, 3.f, 4.f, 5.f, 6.f});
  const Tensor y = run1(make_node(OpKind::reduce, ReduceParams{ReduceKind::prod, {2}, false}), {x});
  EXPECT_EQ(values_of(y), (std::vector<float>{6.f, 120.f}));
}

}  // namespace
}  // namespace krt
