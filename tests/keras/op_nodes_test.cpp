// Recorded tensor operations beyond what the ops/ fixtures show: the hand-made files of
// tests/data/opnodes (scripts/make_op_test_files.py writes them with h5py and numpy) hold Keras 3
// op nodes and tf.keras TFOpLambda / SlicingOpLambda layers in the form each Keras serializes,
// with numpy's results of each operation's documented semantics. Each file runs on every device.
#include <gtest/gtest.h>

#include <filesystem>

#include "expect_error.h"
#include "golden/fixture_case.h"
#include "kerasrt/kerasrt.h"
#include "test_paths.h"

namespace fs = std::filesystem;

namespace krt::test {
namespace {

std::vector<std::string> op_files() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(data_dir() + "/opnodes")) {
    const std::string ext = e.path().extension().string();
    if (ext == ".keras" || ext == ".h5") names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class OpNodeFile : public ::testing::TestWithParam<std::string> {};

TEST_P(OpNodeFile, MatchesNumpy) {
  const std::string dir = data_dir() + "/opnodes";
  const std::string stem = fs::path(GetParam()).stem().string();
  Model model = load(dir + "/" + GetParam());
  const std::vector<Tensor> inputs = read_numbered(dir, stem + "_input_");
  const std::vector<Tensor> want = read_numbered(dir, stem + "_output_");
  ASSERT_FALSE(want.empty());
  Tolerance tol;
  tol.atol = 1e-5;
  for (Device device : {Device::reference(), Device::cpu()}) {
    CompileOptions options;
    options.device = device;
    const std::vector<Tensor> got = model.compile(options).run(inputs);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(compare_tensors(got[i], want[i], tol), "") << GetParam() << " output " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Files, OpNodeFile, ::testing::ValuesIn(op_files()), [](const ::testing::TestParamInfo<std::string>& info) {
  std::string name;
  for (char c : info.param) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return name;
});

}  // namespace
}  // namespace krt::test
