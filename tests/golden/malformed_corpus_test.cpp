// The malformed-file corpus (tests/data/malformed, made by scripts/make_malformed_corpus.py):
// every file listed in MANIFEST.tsv is loaded through the library and the CLI. Files marked
// `refuse` must throw krt::Error (the CLI: non-zero exit, one `error:` line, no crash); `load`
// files must load and run; `either` files may do either, but only through krt::Error.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "kerasrt/kerasrt.h"
#include "test_paths.h"
#include "test_process.h"

namespace fs = std::filesystem;

namespace krt::test {
namespace {

struct Case {
  std::string file, expect, what, mention;  // mention: a word the error must contain ("" = any)
};

std::string corpus_dir() { return data_dir() + "/malformed"; }

std::vector<Case> manifest() {
  std::vector<Case> cases;
  std::ifstream in(corpus_dir() + "/MANIFEST.tsv");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    Case c;
    std::getline(fields, c.file, '\t');
    std::getline(fields, c.expect, '\t');
    std::getline(fields, c.what, '\t');
    std::getline(fields, c.mention, '\t');
    cases.push_back(c);
  }
  return cases;
}

bool is_npy(const Case& c) { return fs::path(c.file).extension() == ".npy"; }

// The model every .npy case is fed to: Input(12) -> Dense(16), the base of the corpus.
std::string base_model() { return data_dir() + "/fixtures/layers/dense_bias/model.keras"; }

// Loads (and, for models, compiles and runs on a batch of 1) one case; throws what it throws.
void load_and_run(const std::string& path, bool npy) {
  if (npy) {
    Tensor x = Tensor::from_npy(path);
    load(base_model()).compile().run({x});
    return;
  }
  Model model = load(path);
  std::vector<Tensor> inputs;
  for (const TensorInfo& info : model.inputs()) {
    Shape shape = info.shape;
    for (int64_t& d : shape)
      if (d == dynamic) d = 1;
    inputs.emplace_back(DType::f32, shape);
  }
  model.compile().run(inputs);
}

TEST(MalformedCorpus, ManifestListsEveryFile) {
  std::vector<Case> cases = manifest();
  EXPECT_GE(cases.size(), 100u);
  size_t files = 0;
  for (const auto& f : fs::directory_iterator(corpus_dir()))
    if (f.path().filename() != "MANIFEST.tsv") ++files;
  EXPECT_EQ(files, cases.size()) << "regenerate with scripts/make_malformed_corpus.py";
  for (const Case& c : cases) {
    EXPECT_TRUE(fs::exists(corpus_dir() + "/" + c.file)) << c.file;
    EXPECT_TRUE(c.expect == "refuse" || c.expect == "load" || c.expect == "either")
        << c.file << ": " << c.expect;
  }
}

TEST(MalformedCorpus, LibraryRefusesCleanlyOrRuns) {
  for (const Case& c : manifest()) {
    std::string path = corpus_dir() + "/" + c.file;
    SCOPED_TRACE(c.file + " (" + c.what + ")");
    try {
      load_and_run(path, is_npy(c));
      EXPECT_NE(c.expect, "refuse") << "was accepted";
    } catch (const Error& e) {
      EXPECT_NE(c.expect, "load") << "was refused: " << e.what();
      if (c.expect != "load") {
        std::string message = e.what();
        if (!is_npy(c)) {
          EXPECT_NE(message.find(path), std::string::npos) << "does not name the file: " << message;
        }
        if (!c.mention.empty()) {
          EXPECT_NE(message.find(c.mention), std::string::npos) << message;
        }
      }
    } catch (const std::exception& e) {
      ADD_FAILURE() << "threw a non-krt::Error exception: " << e.what();
    }
  }
}

TEST(MalformedCorpus, CliPrintsOneErrorLine) {
  for (const Case& c : manifest()) {
    if (c.expect != "refuse") continue;
    std::string path = corpus_dir() + "/" + c.file;
    std::vector<std::string> args = is_npy(c)
                                        ? std::vector<std::string>{"run", base_model(), "-i", path}
                                        : std::vector<std::string>{"summary", path};
    ProcessResult r = run_process(cli_path(), args);
    EXPECT_EQ(r.exit_code, 1) << c.file << ": " << r.err;
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << c.file << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1)
        << c.file << ": not one line: " << r.err;
  }
}

}  // namespace
}  // namespace krt::test
