// A batch whose intermediates are large runs on the cpu device as sub-batches of one row: the
// outputs must be exactly those of running each row alone, and profiles and device times must
// cover the whole batch. (Small rows are not split; the golden fixtures run those.)
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "backend_cases.h"
#include "kerasrt/kerasrt.h"

namespace krt {
namespace {

using test::random_tensor;

TEST(SubBatches, LargeActivationsRunRowByRowWithTheSameOutputs) {
  std::mt19937 rng(11);
  GraphBuilder g("sub_batches");
  auto x = g.input("x", {dynamic, 128, 128, 8});
  // 4 MB then 1 MB of intermediates per row: above the 4 MB a sub-batch may hold.
  auto h = g.conv2d(x, random_tensor({3, 3, 8, 64}, rng), random_tensor({64}, rng),
                    {.padding = Padding::same, .activation = ActivationKind::relu});
  h = g.conv2d(h, random_tensor({1, 1, 64, 16}, rng), random_tensor({16}, rng));
  auto y = g.softmax(h);
  Model model = g.build({y});
  // One thread runs the sub-batches in turn; two run them side by side, one thread each.
  for (int threads : {1, 2}) {
    CompiledModel exe = model.compile({.device = Device::cpu(), .threads = threads});

    Tensor batch = random_tensor({3, 128, 128, 8}, rng);
    std::vector<NodeProfile> profile;
    double device_ms = -1;
    RunOptions options;
    options.profile = &profile;
    options.device_time_ms = &device_ms;
    std::vector<Tensor> whole = exe.run({batch}, options);
    ASSERT_EQ(whole.size(), 1u);
    ASSERT_EQ(whole[0].shape(), (Shape{3, 128, 128, 16}));
    EXPECT_EQ(static_cast<int>(profile.size()), exe.report().nodes);
    EXPECT_GT(device_ms, 0);

    const size_t row_in = batch.nbytes() / 3, row_out = whole[0].nbytes() / 3;
    for (int r = 0; r < 3; ++r) {
      Tensor one(DType::f32, {1, 128, 128, 8});
      std::memcpy(one.data(), static_cast<const uint8_t*>(batch.data()) + r * row_in, row_in);
      Tensor alone = exe.run({one})[0];
      EXPECT_EQ(std::memcmp(alone.data(),
                            static_cast<const uint8_t*>(whole[0].data()) + r * row_out, row_out),
                0)
          << "row " << r << ", threads " << threads;
    }
  }
}

}  // namespace
}  // namespace krt
