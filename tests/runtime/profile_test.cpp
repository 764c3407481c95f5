// RunOptions::profile: one entry per executed node, in order, with names, op kinds, the backend
// and kernel that ran it and a time; the outputs are the same as an ordinary run's.
#include <gtest/gtest.h>

#include <cstring>

#include "kerasrt/kerasrt.h"
#include "test_paths.h"

namespace krt::test {
namespace {

std::string seed(const std::string& file) {
  return data_dir() + "/fixtures/seed/seed_small_functional/" + file;
}

TEST(RunProfile, EveryNodeInOrderWithItsKernelAndSameOutputs) {
  Model model = load(seed("model.keras"));
  for (Device device : {Device::cpu(), Device::reference()}) {
    CompiledModel exe = model.compile({.device = device});
    Tensor x = Tensor::from_npy(seed("input_0.npy"));
    std::vector<Tensor> plain = exe.run({x});
    std::vector<NodeProfile> profile(3);  // cleared by the run
    RunOptions options;
    options.profile = &profile;
    std::vector<Tensor> profiled = exe.run({x}, options);
    ASSERT_EQ(profiled.size(), plain.size());
    ASSERT_EQ(profiled[0].nbytes(), plain[0].nbytes());
    EXPECT_EQ(std::memcmp(profiled[0].data(), plain[0].data(), plain[0].nbytes()), 0);
    ASSERT_EQ(static_cast<int>(profile.size()), exe.report().nodes) << device.to_string();
    std::vector<std::string> names, ops;
    for (const NodeProfile& n : profile) {
      names.push_back(n.name);
      ops.push_back(n.op);
      EXPECT_GE(n.ms, 0);
      EXPECT_EQ(n.backend, device.to_string());
      EXPECT_FALSE(n.kernel.empty());
    }
    // The seed model: Conv2D -> Reshape -> Dense -> Dense -> Reshape -> Conv2DTranspose.
    EXPECT_EQ(names, (std::vector<std::string>{"conv", "flat", "fc1", "fc2", "unflat", "deconv"}));
    EXPECT_EQ(ops[0], "conv");
    EXPECT_EQ(ops[2], "dense");
    EXPECT_EQ(ops[5], "conv_transpose");
    if (device == Device::cpu()) {
      // "onednn", or our batch-1 Dense kernel in front of it ("gemv avx512 / onednn"); the
      // transposed convolution is oneDNN's matmul and our gather ("onednn matmul + gather").
      EXPECT_NE(profile[2].kernel.find("onednn"), std::string::npos) << profile[2].kernel;
      EXPECT_NE(profile[5].kernel.find("onednn"), std::string::npos) << profile[5].kernel;
    }
    // An ordinary run after a profiled one leaves the vector alone.
    exe.run({x});
    EXPECT_EQ(static_cast<int>(profile.size()), exe.report().nodes);
  }
}

}  // namespace
}  // namespace krt::test
