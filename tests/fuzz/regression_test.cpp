// Replays the fuzz seed corpora and every saved crash reproducer through the fuzz targets'
// entry functions, in the ordinary test binary (no libFuzzer), on every CI run: a bug the
// fuzzers once found must stay fixed, and every seed must still be handled cleanly.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "fuzz/fuzz_entries.h"

namespace fs = std::filesystem;

namespace krt::fuzz {
namespace {

std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> files;
  if (!fs::is_directory(dir)) return files;
  for (const auto& f : fs::directory_iterator(dir))
    if (f.is_regular_file() && f.path().filename().string()[0] != '.') files.push_back(f.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<uint8_t> read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Runs one target over a folder; returns how many files it replayed.
size_t replay(const FuzzTarget& target, const fs::path& dir) {
  size_t count = 0;
  for (const fs::path& file : files_in(dir)) {
    std::vector<uint8_t> bytes = read_all(file);
    // A copy of exactly the file's size, so that an over-read is caught under ASan.
    std::unique_ptr<uint8_t[]> exact(new uint8_t[bytes.size()]);
    std::copy(bytes.begin(), bytes.end(), exact.get());
    EXPECT_NO_THROW(target.entry(exact.get(), bytes.size())) << target.name << ": " << file;
    ++count;
  }
  return count;
}

const fs::path kFuzzDir = fs::path(KRT_TEST_SOURCE_DIR) / "fuzz";

class FuzzReplay : public ::testing::TestWithParam<FuzzTarget> {};

// Seeds, then reproducers (tests/fuzz/regressions/<target>/ exists once the target found a bug).
TEST_P(FuzzReplay, SeedsAndRegressions) {
  size_t seeds = replay(GetParam(), kFuzzDir / "corpus" / GetParam().name);
  EXPECT_GT(seeds, 0u) << "no seeds in tests/fuzz/corpus/" << GetParam().name;
  replay(GetParam(), kFuzzDir / "regressions" / GetParam().name);
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzReplay, ::testing::ValuesIn(fuzz_targets()),
                         [](const ::testing::TestParamInfo<FuzzTarget>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace krt::fuzz
