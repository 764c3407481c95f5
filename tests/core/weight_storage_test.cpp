#include "core/weight_storage.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

namespace krt {
namespace {

// Blocks of mixed sizes (small ones, one larger than a chunk) are 64-byte aligned, never
// overlap, and keep their bytes while blocks carved before and after them are freed.
TEST(WeightStorage, AlignedDisjointBlocksThatOutliveTheirNeighbours) {
  std::vector<std::pair<std::shared_ptr<void>, size_t>> blocks;
  for (size_t bytes : {size_t{1}, size_t{100}, size_t{3} << 20, size_t{4096}, size_t{700000},
                       size_t{64}, size_t{1} << 20, size_t{999999}}) {
    blocks.emplace_back(allocate_weight_storage(bytes), bytes);
    ASSERT_EQ(reinterpret_cast<uintptr_t>(blocks.back().first.get()) % 64, 0u) << bytes;
  }
  for (size_t i = 0; i < blocks.size(); ++i)
    std::memset(blocks[i].first.get(), static_cast<int>(i + 1), blocks[i].second);
  std::vector<std::pair<uintptr_t, uintptr_t>> ranges;
  for (const auto& [p, n] : blocks)
    ranges.emplace_back(reinterpret_cast<uintptr_t>(p.get()),
                        reinterpret_cast<uintptr_t>(p.get()) + n);
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i) EXPECT_LE(ranges[i - 1].second, ranges[i].first);
  // Free every other block; the rest keep their contents, and new blocks do not land on them.
  for (size_t i = 0; i < blocks.size(); i += 2) blocks[i].first.reset();
  auto fresh = allocate_weight_storage(500000);
  std::memset(fresh.get(), 0xEE, 500000);
  for (size_t i = 1; i < blocks.size(); i += 2) {
    const auto* p = static_cast<const uint8_t*>(blocks[i].first.get());
    EXPECT_TRUE(std::all_of(p, p + blocks[i].second, [&](uint8_t b) { return b == i + 1; })) << i;
  }
}

// in_weight_storage: any part of a block is ours; heap memory, and a range that runs past
// what has been handed out, are not.
TEST(WeightStorage, KnowsItsOwnBlocks) {
  std::shared_ptr<void> block = allocate_weight_storage(1000);
  const auto* p = static_cast<const uint8_t*>(block.get());
  EXPECT_TRUE(in_weight_storage(p, 1000));
  EXPECT_TRUE(in_weight_storage(p + 100, 200));
  std::vector<float> heap(256);
  EXPECT_FALSE(in_weight_storage(heap.data(), heap.size() * sizeof(float)));
  EXPECT_FALSE(in_weight_storage(p, size_t{64} << 20));  // beyond every chunk's blocks
}

}  // namespace
}  // namespace krt
