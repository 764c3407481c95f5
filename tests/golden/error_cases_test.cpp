// Files that must be refused with a clear error: every case in fixtures/errors, through the
// library (krt::Error naming the file and the problem) and through the CLI (non-zero exit,
// one "error: ..." line on stderr, never a crash).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "kerasrt/kerasrt.h"
#include "test_paths.h"
#include "test_process.h"

namespace fs = std::filesystem;

namespace krt::test {
namespace {

// What each message must mention so that a user can tell the problem.
const std::map<std::string, std::vector<std::string>>& expected_mentions() {
  static const std::map<std::string, std::vector<std::string>> m{
      {"custom_layer", {"ScaleShift", "scale_shift", "unknown layer class"}},
      {"empty_file", {"empty"}},
      {"h5_bad_model_config", {"model_config", "invalid JSON"}},
      {"h5_weights_only", {"model_config", "weights only"}},
      {"keras_bad_config_json", {"config.json", "invalid JSON"}},
      {"keras_missing_config", {"config.json"}},
      {"keras_missing_weights", {"model.weights.h5"}},
      {"keras_weight_shape_mismatch", {"fc2", "Dense", "(8, 3)", "(8, 5)"}},
      {"lambda_layer", {"lambda", "Lambda", "Python code"}},
      {"truncated_h5", {"truncated"}},
      {"truncated_keras", {"truncated"}},
  };
  return m;
}

struct ErrorFile {
  std::string case_name;
  std::string path;
};

std::vector<ErrorFile> error_files() {
  std::vector<ErrorFile> files;
  fs::path root = fs::path(data_dir()) / "fixtures" / "errors";
  for (const auto& c : fs::directory_iterator(root)) {
    if (!c.is_directory()) continue;
    for (const auto& f : fs::directory_iterator(c.path())) {
      std::string ext = f.path().extension().string();
      if (ext == ".keras" || ext == ".h5")
        files.push_back({c.path().filename().string(), f.path().string()});
    }
  }
  std::sort(files.begin(), files.end(),
            [](const ErrorFile& a, const ErrorFile& b) { return a.path < b.path; });
  return files;
}

TEST(ErrorCases, EveryCaseHasExpectations) {
  std::vector<ErrorFile> files = error_files();
  ASSERT_GE(files.size(), 14u);
  for (const ErrorFile& f : files)
    EXPECT_TRUE(expected_mentions().count(f.case_name)) << f.case_name;
}

TEST(ErrorCases, LibraryThrowsANamedError) {
  for (const ErrorFile& f : error_files()) {
    std::string message;
    try {
      Model model = load(f.path);
      model.compile().run({Tensor(DType::f32, {1, 8})});
      ADD_FAILURE() << f.path << " was accepted";
      continue;
    } catch (const Error& e) {
      message = e.what();
    }
    EXPECT_NE(message.find(f.path), std::string::npos)
        << "message does not name the file: " << message;
    for (const std::string& word : expected_mentions().at(f.case_name))
      EXPECT_NE(message.find(word), std::string::npos)
          << f.case_name << ": '" << word << "' missing from: " << message;
  }
}

TEST(ErrorCases, CliPrintsOneErrorLineAndFails) {
  std::string input = data_dir() + "/fixtures/seed/seed_small_functional/input_0.npy";
  for (const ErrorFile& f : error_files()) {
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"summary", f.path},
          std::vector<std::string>{"run", f.path, "-i", input}}) {
      ProcessResult r = run_process(cli_path(), args);
      EXPECT_NE(r.exit_code, 0) << f.path;
      EXPECT_LT(r.exit_code, 128) << f.path << " crashed: " << r.err;
      EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
      EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "not one line: " << r.err;
      for (const std::string& word : expected_mentions().at(f.case_name))
        EXPECT_NE(r.err.find(word), std::string::npos)
            << "'" << word << "' missing from: " << r.err;
    }
  }
}

}  // namespace
}  // namespace krt::test
