// allocate_host: arenas of 2 MiB and more start on a huge-page boundary (so transparent huge
// pages can back them: a MobileNet's first run faulted ~1,200 4 KiB pages in), smaller ones
// stay 64-byte aligned without rounding; both hold every byte asked for.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>

#include "runtime/backend.h"

namespace krt::test {
namespace {

TEST(AllocateHost, LargeArenasStartOnAHugePageAndSmallOnesStay64ByteAligned) {
  constexpr uintptr_t kHuge = uintptr_t{2} << 20;
  for (size_t bytes : {size_t{2} << 20, (size_t{2} << 20) + 1, size_t{4816896}}) {
    std::shared_ptr<void> p = allocate_host(bytes);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p.get()) % kHuge, 0u) << bytes;
    std::memset(p.get(), 0x5A, bytes);  // every byte is ours
    EXPECT_EQ(static_cast<uint8_t*>(p.get())[bytes - 1], 0x5A);
  }
  for (size_t bytes : {size_t{1}, size_t{4096}, (size_t{2} << 20) - 1}) {
    std::shared_ptr<void> p = allocate_host(bytes);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p.get()) % 64, 0u) << bytes;
    std::memset(p.get(), 0x5A, bytes);
  }
}

}  // namespace
}  // namespace krt::test
