// Models inside models, in both directions and at several depths, on hand-made Keras 3 files
// (scripts/make_nested_test_files.py, h5py + numpy): a branching Functional called twice and
// named by output_layers, a Sequential holding a Functional holding a Sequential, and a
// Sequential whose last layer returns two tensors. Each runs on every device against numpy.
#include <gtest/gtest.h>

#include <filesystem>

#include "golden/fixture_case.h"
#include "kerasrt/kerasrt.h"
#include "test_paths.h"

namespace krt::test {
namespace {

class NestedModelFile : public ::testing::TestWithParam<std::string> {};

TEST_P(NestedModelFile, MatchesNumpy) {
  const std::string dir = data_dir() + "/nested/";
  Model model = load(dir + GetParam() + ".keras");
  const std::vector<Tensor> inputs = read_numbered(dir, GetParam() + "_input_");
  const std::vector<Tensor> want = read_numbered(dir, GetParam() + "_output_");
  ASSERT_FALSE(want.empty());
  for (Device device : {Device::reference(), Device::cpu()}) {
    CompileOptions options;
    options.device = device;
    const std::vector<Tensor> got = model.compile(options).run(inputs);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i)
      EXPECT_EQ(compare_tensors(got[i], want[i], {1e-5, 1e-5}), "")
          << GetParam() << " output " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Files, NestedModelFile,
                         ::testing::Values("nested_branching", "sequential_of_functional",
                                           "sequential_multi_output"));

TEST(NestedModels, SequentialWithATwoOutputLastLayerHasTwoOutputs) {
  Model model = load(data_dir() + "/nested/sequential_multi_output.keras");
  ASSERT_EQ(model.outputs().size(), 2u);
  EXPECT_EQ(shape_to_string(model.outputs()[1].shape), "(None, 4)");
}

}  // namespace
}  // namespace krt::test
