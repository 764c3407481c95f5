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
    const bool refused = e.path().filename().string().rfind("refused_", 0) == 0;
    if ((ext == ".keras" || ext == ".h5") && !refused)
      names.push_back(e.path().filename().string());
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
    for (size_t i = 0; i < got.size(); ++i)
      EXPECT_EQ(compare_tensors(got[i], want[i], tol), "") << GetParam() << " output " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Files, OpNodeFile, ::testing::ValuesIn(op_files()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name;
                           for (char c : info.param)
                             name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return name;
                         });

TEST(OpNodes, UnknownOperationsAreRefusedByName) {
  const std::string dir = data_dir() + "/opnodes/";
  Error k3 = expect_error([&] { load(dir + "refused_k3_op.keras"); });
  EXPECT_EQ(k3.code(), ErrorCode::unsupported);
  EXPECT_NE(std::string(k3.what()).find(
                "operation 'fft2' (Fft2 from keras.src.ops.math) is not supported"),
            std::string::npos)
      << k3.what();
  Error tf = expect_error([&] { load(dir + "refused_tf_function.h5"); });
  EXPECT_EQ(tf.code(), ErrorCode::unsupported);
  EXPECT_NE(std::string(tf.what()).find("layer 'tf.signal.rfft' (TFOpLambda): TensorFlow function "
                                        "'tf.signal.rfft' is not supported"),
            std::string::npos)
      << tf.what();
}

}  // namespace
}  // namespace krt::test
