// docs/layers.md is generated from the importer registry and must not drift from it.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "test_paths.h"
#include "test_process.h"

namespace krt::test {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(LayersDoc, MatchesTheRegistry) {
  ProcessResult r = run_process(cli_path(), {"layers"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("| Conv2DTranspose |"), std::string::npos);
  EXPECT_NE(r.out.find("| Reshape |"), std::string::npos);
  std::string docs = std::string(KRT_TEST_SOURCE_DIR) + "/../docs/";
  std::string expected = slurp(docs + "layers_header.md") + r.out;
  EXPECT_EQ(slurp(docs + "layers.md"), expected)
      << "docs/layers.md is stale: run scripts/gen_layers_doc.sh";
}

}  // namespace
}  // namespace krt::test
