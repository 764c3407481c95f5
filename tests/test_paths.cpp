#include "test_paths.h"

#include <filesystem>

namespace krt::test {

std::string data_dir() { return KRT_TEST_DATA_DIR; }

std::string shared_fixtures_dir() {
  std::filesystem::path p = KRT_SHARED_FIXTURES_DIR;
  return std::filesystem::is_directory(p) ? std::filesystem::canonical(p).string() : "";
}

std::string cli_path() { return KRT_CLI_PATH; }

}  // namespace krt::test
