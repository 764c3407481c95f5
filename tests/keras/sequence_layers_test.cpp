// Recurrent-layer features the golden fixtures leave out, on variants of them whose expected
// values still follow from Keras's outputs (tests/data/keras/make_variants.py says how):
// - masks a config leaves implicit: Keras 3 Functional configs write the mask computation out
//   (NotEqual/Any nodes and the RNN's `mask` kwarg), a Sequential config records nothing and
//   Keras propagates the mask from Embedding(mask_zero) or Masking to the LSTM by itself;
// - initial_state given as keyword tensors; Bidirectional with merge_mode None and return_state.
#include <gtest/gtest.h>

#include "golden/fixture_case.h"
#include "kerasrt/kerasrt.h"
#include "test_paths.h"

namespace krt::test {
namespace {

void expect_matches_fixture(const std::string& twin, const std::string& fixture) {
  const std::string dir = data_dir() + "/fixtures/" + fixture;
  Model model = load(data_dir() + "/keras/" + twin);
  std::vector<Tensor> out = model.compile().run(read_numbered(dir, "input_"));
  ASSERT_EQ(out.size(), 1u);
  std::string diff =
      compare_tensors(out[0], Tensor::from_npy(dir + "/output_0.npy"), read_tolerance(dir));
  EXPECT_TRUE(diff.empty()) << twin << ": " << diff;
}

TEST(ImplicitMasks, EmbeddingMaskZeroReachesTheLstmInASequentialModel) {
  expect_matches_fixture("sequential_mask_zero.keras", "models/text_classifier_lstm_mask_zero");
}

TEST(ImplicitMasks, MaskingReachesTheLstmInASequentialModel) {
  expect_matches_fixture("sequential_masking.keras", "layers/masking_lstm");
}

TEST(ImplicitMasks, OpNodesStayOutOfTheSummary) {
  // Keras's summary lists layers only; the NotEqual/Any nodes of the Functional config are not.
  Model model = load(data_dir() + "/fixtures/layers/masking_lstm/model.keras");
  std::vector<std::string> names;
  for (const LayerInfo& l : model.layers()) names.push_back(l.name);
  EXPECT_EQ(names, (std::vector<std::string>{"input", "masking", "rnn"}));
}

// x[:, begin:end, :] of a (batch, time, features) tensor.
Tensor time_slice(const Tensor& x, int64_t begin, int64_t end) {
  const int64_t batch = x.dim(0), steps = x.dim(1), f = x.dim(2);
  Tensor out(DType::f32, {batch, end - begin, f});
  const float* src = x.data_as<float>();
  float* dst = out.data_as<float>();
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t t = begin; t < end; ++t)
      for (int64_t k = 0; k < f; ++k) *dst++ = src[(b * steps + t) * f + k];
  return out;
}

// Columns [begin, end) of a (batch, n) tensor.
Tensor columns(const Tensor& x, int64_t begin, int64_t end) {
  Tensor out(DType::f32, {x.dim(0), end - begin});
  for (int64_t b = 0; b < x.dim(0); ++b)
    for (int64_t j = begin; j < end; ++j)
      out.data_as<float>()[b * (end - begin) + j - begin] = x.data_as<float>()[b * x.dim(1) + j];
  return out;
}

TEST(InitialState, TwoHalvesFromCarriedStatesEqualTheWholeSequence) {
  // The fixture's LSTM (return_state) over 6 steps, redone as steps 0-2 from zero states and
  // steps 3-5 from the states the first half ended with, passed as initial_state kwargs.
  const std::string dir = data_dir() + "/fixtures/layers/lstm_return_state";
  const Tensor x = Tensor::from_npy(dir + "/input_0.npy");
  CompiledModel half = load(data_dir() + "/keras/lstm_initial_state_t3.keras").compile();
  const int64_t batch = x.dim(0), units = 4;
  Tensor zeros(DType::f32, {batch, units});
  std::vector<Tensor> first = half.run({time_slice(x, 0, 3), zeros, zeros});
  ASSERT_EQ(first.size(), 3u);
  std::vector<Tensor> second = half.run({time_slice(x, 3, 6), first[1], first[2]});
  const Tolerance tol = read_tolerance(dir);
  std::vector<Tensor> want = read_numbered(dir, "output_");
  ASSERT_EQ(want.size(), 3u);
  for (size_t i = 0; i < 3; ++i)
    EXPECT_EQ(compare_tensors(second[i], want[i], tol), "") << "output " << i;
}

TEST(Bidirectional, MergeNoneWithStatesGivesBothHalvesAndFourStates) {
  const std::string dir = data_dir() + "/fixtures/layers/bidir_lstm_concat";
  Model model = load(data_dir() + "/keras/bidir_none_states.keras");
  ASSERT_EQ(model.outputs().size(), 6u);
  std::vector<Tensor> out = model.compile().run(read_numbered(dir, "input_"));
  ASSERT_EQ(out.size(), 6u);
  const Tensor concat =
      Tensor::from_npy(dir + "/output_0.npy");  // (batch, 8) = [forward | backward]
  const Tolerance tol = read_tolerance(dir);
  const Tensor fwd = columns(concat, 0, 4), bwd = columns(concat, 4, 8);
  EXPECT_EQ(compare_tensors(out[0], fwd, tol), "");
  EXPECT_EQ(compare_tensors(out[1], bwd, tol), "");
  EXPECT_EQ(compare_tensors(out[2], fwd, tol), "") << "forward h";
  EXPECT_EQ(compare_tensors(out[4], bwd, tol), "") << "backward h";
  EXPECT_EQ(shape_to_string(out[3].shape()), shape_to_string(fwd.shape())) << "forward c";
  EXPECT_EQ(shape_to_string(out[5].shape()), shape_to_string(bwd.shape())) << "backward c";
}

}  // namespace
}  // namespace krt::test
