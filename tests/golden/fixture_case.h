// Golden fixtures: folders made by real Keras holding a model, inputs, Keras's outputs,
// per-layer outputs and a tolerance (meta.json). Cases are discovered from the folders.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "kerasrt/model.h"

namespace krt::test {

struct FixtureRun {
  std::string case_dir;  // .../layers/conv2d_valid
  std::string
      model_file;  // model.keras, model.h5, <case>.h5, <dir>/model.json (TF.js), <case>.json
  std::string weights_file;  // the weights-only .h5 that goes with an architecture JSON, else ""
  std::string set_dir;       // case_dir, or case_dir/sets/<name> for extra input sets
  std::string id;  // "layers/conv2d_valid/keras[/batch1]": a valid test name after sanitizing
};

struct Tolerance {
  double rtol = 1e-5;
  double atol = 1e-6;
  bool atol_times_max_ref = false;  // real/ cases: atol scales with max |reference|
};

// Every (case, model file, input set) under the project's fixture copy and, for cases it
// lacks, under ../shared/fixtures; groups seed, layers, models and real. A case names its
// model files in meta.json's "model_files" (real/), else it holds model.keras / model.h5.
std::vector<FixtureRun> discover_fixture_runs();
// Loads the run's model (with its weights file where it has one).
Model load_fixture_model(const FixtureRun& run);
// The prefix of the files holding the reference outputs for the run ("output_"), or "" when
// the case has no trustworthy reference: see tests/golden/real_references.txt.
std::string reference_prefix(const FixtureRun& run);
Tolerance read_tolerance(const std::string& case_dir);
// meta.json's num_params (or real/'s n_params): Keras's count_params(), or -1 when absent.
int64_t read_num_params(const std::string& meta_path);
std::vector<Tensor> read_numbered(const std::string& dir, const std::string& prefix);
// "" when every element is within tolerance, else a description of the worst element.
std::string compare_tensors(const Tensor& got, const Tensor& want, const Tolerance& tol);
// Names of cases (group/case) that stay unsupported for now, from tests/golden/unsupported.txt.
std::vector<std::string> expected_unsupported_cases();

}  // namespace krt::test

namespace krt::test {
// gtest prints parameters with this instead of a byte dump.
inline void PrintTo(const FixtureRun& run, std::ostream* os) { *os << run.id; }
}  // namespace krt::test
