// Bytes::copy_and_release and allocate_aligned: the copy is exact whatever the alignment, and
// the released pages of a file's map read back the file's bytes when touched again.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "io/bytes.h"

namespace krt::test {
namespace {

TEST(Bytes, CopyAndReleaseOfAMappedFileIsExactAndTheMapStillReads) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("krt_bytes_" + std::to_string(::getpid()) + ".bin"))
                               .string();
  std::vector<uint8_t> content(5 * (1 << 20) + 12345);
  for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<uint8_t>(i * 7 + i / 4099);
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(content.data()),
             static_cast<std::streamsize>(content.size()));
  io::Bytes file = io::map_file(path);
  ASSERT_TRUE(file.file_mapped());
  for (uint64_t offset : {0ul, 3ul, 4093ul}) {  // misaligned starts, as in a .keras zip
    io::Bytes part = file.slice(offset, file.size() - offset - 7);
    EXPECT_TRUE(part.file_mapped());
    std::shared_ptr<void> copy = io::allocate_aligned(part.size());
    EXPECT_EQ(reinterpret_cast<uintptr_t>(copy.get()) % 64, 0u);
    part.copy_and_release(copy.get());
    EXPECT_EQ(std::memcmp(copy.get(), content.data() + offset, part.size()), 0) << offset;
    // The map's released pages refault from the file.
    EXPECT_EQ(std::memcmp(file.data(), content.data(), content.size()), 0) << offset;
  }
  io::Bytes heap = io::Bytes::copy_of(content.data(), 1000);
  EXPECT_FALSE(heap.file_mapped());
  std::vector<uint8_t> out(1000);
  heap.copy_and_release(out.data());
  EXPECT_EQ(std::memcmp(out.data(), content.data(), 1000), 0);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace krt::test
