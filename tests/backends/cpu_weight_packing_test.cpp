// The cpu backend's own packing of kernels into oneDNN's one-block layouts
// (backends/cpu/weight_packing.h) against oneDNN's reorder, bit for bit: 1x1, 3x3 and depthwise
// kernels in Keras's layout, blocks that do not divide the channels (zero padding), a source
// whose blocked axis is not innermost, and the layouts it must leave to a reorder.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "backends/cpu/weight_packing.h"

namespace krt::cpu {
namespace {

using dims = dnnl::memory::dims;
using tag = dnnl::memory::format_tag;

dnnl::memory::desc strided(const dims& sizes, const dims& strides) {
  return dnnl::memory::desc(sizes, dnnl::memory::data_type::f32, strides);
}

// A blocked layout given by its outer order and one inner block on axis 0 (oneDNN's 2.6 picks
// such layouts with blocks of 48 and 64 that have no format tag).
dnnl::memory::desc one_block(const dims& sizes, const std::vector<int>& outer, int64_t block) {
  dnnl::memory::desc d(sizes, dnnl::memory::data_type::f32, tag::any);
  dnnl_memory_desc_t& c = d.data;
  c.format_kind = dnnl_blocked;
  c.padded_dims[0] = (sizes[0] + block - 1) / block * block;
  for (size_t i = 1; i < sizes.size(); ++i) c.padded_dims[i] = sizes[i];
  c.format_desc.blocking.inner_nblks = 1;
  c.format_desc.blocking.inner_blks[0] = block;
  c.format_desc.blocking.inner_idxs[0] = 0;
  int64_t step = block;
  for (size_t k = outer.size(); k-- > 0;) {
    c.format_desc.blocking.strides[outer[k]] = step;
    step *= outer[k] == 0 ? c.padded_dims[0] / block : sizes[outer[k]];
  }
  return d;
}

void expect_same_as_reorder(const dnnl::memory::desc& from, const dnnl::memory::desc& to) {
  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> src(from.get_size() / sizeof(float));
  for (float& v : src) v = u(rng);
  std::vector<float> want(to.get_size() / sizeof(float), 9.f), got(want.size(), 9.f);
  dnnl::memory a(from, engine, src.data()), b(to, engine, want.data());
  dnnl::stream stream(engine);
  dnnl::reorder(a, b).execute(stream, a, b);
  stream.wait();
  ASSERT_TRUE(pack_one_block(from, src.data(), to, got.data()));
  EXPECT_EQ(got, want);
}

TEST(CpuWeightPacking, PointwiseKernelsInOutputChannelBlocks) {
  // Keras's (1, 1, cin, cout) kernel as oneDNN's (O, I, 1, 1): output channels innermost.
  for (int64_t cout : {64, 1000}) {
    const dims sizes{cout, 96, 1, 1};
    const auto keras = strided(sizes, {1, cout, 96 * cout, 96 * cout});
    for (int64_t block : {16, 48, 64})
      expect_same_as_reorder(keras, one_block(sizes, {0, 1, 2, 3}, block));
  }
}

TEST(CpuWeightPacking, SpatialAndDepthwiseKernels) {
  const dims stem{32, 3, 3, 3};  // Keras (3, 3, 3, 32)
  expect_same_as_reorder(strided(stem, {1, 32, 288, 96}),
                         dnnl::memory::desc(stem, dnnl::memory::data_type::f32, tag::Ohwi32o));
  const dims dw{40, 1, 1, 3, 3};  // Keras (3, 3, 40, 1): groups = channels
  expect_same_as_reorder(strided(dw, {1, 1, 1, 120, 40}),
                         dnnl::memory::desc(dw, dnnl::memory::data_type::f32, tag::Goihw16g));
}

TEST(CpuWeightPacking, BlockedAxisNotInnermostInTheSource) {
  const dims sizes{24, 32, 1, 1};
  expect_same_as_reorder(strided(sizes, {32, 1, 1, 1}),
                         dnnl::memory::desc(sizes, dnnl::memory::data_type::f32, tag::Oihw16o));
}

TEST(CpuWeightPacking, LeavesOtherLayoutsToAReorder) {
  const dims sizes{32, 32, 1, 1};
  const auto keras = strided(sizes, {1, 32, 1024, 1024});
  std::vector<float> src(32 * 32), dst(32 * 32);
  EXPECT_FALSE(pack_one_block(
      keras, src.data(), dnnl::memory::desc(sizes, dnnl::memory::data_type::f32, tag::OIhw16i16o),
      dst.data()));
  EXPECT_FALSE(pack_one_block(keras, src.data(), keras, dst.data()));  // no block
}

}  // namespace
}  // namespace krt::cpu
