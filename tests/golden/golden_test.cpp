// Every golden fixture, in every format and input set, on every backend, against Keras.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "backend_cases.h"
#include "golden/fixture_case.h"
#include "kerasrt/kerasrt.h"

namespace fs = std::filesystem;

namespace krt::test {
namespace {

std::string test_name(const FixtureRun& run) {
  std::string name;
  for (char c : run.id) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return name;
}

std::string case_of(const FixtureRun& run) {
  // "layers/conv2d_valid/keras/batch1" -> "layers/conv2d_valid"
  size_t first = run.id.find('/');
  return run.id.substr(0, run.id.find('/', first + 1));
}

bool expected_unsupported(const FixtureRun& run) {
  static const std::vector<std::string> cases = expected_unsupported_cases();
  return std::find(cases.begin(), cases.end(), case_of(run)) != cases.end();
}

// The first top-level layer whose output differs from Keras's layers/<name>.npy.
std::string first_divergent_layer(const Model& model, const std::vector<Tensor>& inputs,
                                  const FixtureRun& run, const Tolerance& tol) {
  fs::path layer_dir = fs::path(run.case_dir) / "layers";
  if (run.set_dir != run.case_dir || !fs::is_directory(layer_dir))
    return "(no per-layer outputs for this run)";
  for (const LayerOutputs& layer : model.trace(inputs)) {
    for (size_t k = 0; k < layer.outputs.size(); ++k) {
      fs::path p = layer_dir / (layer.name + ".npy");
      if (layer.outputs.size() > 1 || !fs::exists(p))
        p = layer_dir / (layer.name + "__" + std::to_string(k) + ".npy");
      if (!fs::exists(p)) continue;
      std::string diff = compare_tensors(layer.outputs[k], Tensor::from_npy(p.string()), tol);
      if (!diff.empty())
        return "first divergent layer: '" + layer.name + "' output " + std::to_string(k) + ": " +
               diff;
    }
  }
  return "every layer output matches; the difference is in the compiled graph";
}

class GoldenTest : public ::testing::TestWithParam<FixtureRun> {};

TEST_P(GoldenTest, MatchesKeras) {
  const FixtureRun& run = GetParam();
  if (expected_unsupported(run)) {
    try {
      Model model = load_fixture_model(run);
      model.compile().run(read_numbered(run.set_dir, "input_"));
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::unsupported) << e.what();
      return;
    }
    FAIL() << run.id
           << " is listed in tests/golden/unsupported.txt but now loads and runs: remove it from "
              "the list";
  }
  Model model = load_fixture_model(run);
  std::vector<Tensor> inputs = read_numbered(run.set_dir, "input_");
  ASSERT_FALSE(inputs.empty());
  std::string prefix = reference_prefix(run);
  std::vector<Tensor> expected =
      prefix.empty() ? std::vector<Tensor>{} : read_numbered(run.set_dir, prefix);
  ASSERT_TRUE(prefix.empty() || !expected.empty()) << run.id << ": no " << prefix << "*.npy";
  std::vector<Tensor> first_device_outputs;
  const std::string group = run.id.substr(0, run.id.find('/'));
  for (const BackendCase& backend : backend_cases()) {
    // Reduced precisions are held to the whole-model groups, with their looser tolerance.
    if (backend.reduced_precision && group != "seed" && group != "models") continue;
    Tolerance tol = read_tolerance(run.case_dir);
    if (backend.reduced_precision) {
      const double extra = reduced_precision_tolerance(backend.options.precision);
      tol.rtol = std::max(tol.rtol, extra);
      tol.atol = std::max(tol.atol, extra);
      tol.atol_times_max_ref = true;
    }
    CompiledModel exe = model.compile(backend.options);
    std::vector<Tensor> outputs = exe.run(inputs);
    // A device backend runs every fixture whole: no node falls back to the cpu.
    if (backend.options.device.backend != "cpu" && backend.options.device.backend != "reference")
      for (const std::string& reason : exe.report().fallbacks)
        ADD_FAILURE() << run.id << " on " << backend.label << ": fell back to the cpu: " << reason;
    if (expected.empty()) {
      // No trustworthy reference: the model must still run, give finite numbers, and give
      // the same numbers on every device.
      for (const Tensor& t : outputs) {
        Tensor f = t.cast(DType::f32);
        for (int64_t i = 0; i < f.size(); ++i)
          ASSERT_TRUE(std::isfinite(f.data_as<float>()[i])) << run.id << ": non-finite output";
      }
      if (first_device_outputs.empty()) first_device_outputs = outputs;
      for (size_t i = 0; i < outputs.size(); ++i)
        EXPECT_EQ(compare_tensors(outputs[i], first_device_outputs[i], tol), "")
            << run.id << " output " << i << ": " << backend.label
            << " disagrees with the first device";
      continue;
    }
    ASSERT_EQ(outputs.size(), expected.size());
    for (size_t i = 0; i < outputs.size(); ++i) {
      std::string diff = compare_tensors(outputs[i], expected[i], tol);
      EXPECT_TRUE(diff.empty()) << run.id << " output " << i << " on " << backend.label << ": "
                                << diff << "\n  " << first_divergent_layer(model, inputs, run, tol);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, GoldenTest, ::testing::ValuesIn(discover_fixture_runs()),
                         [](const ::testing::TestParamInfo<FixtureRun>& info) {
                           return test_name(info.param);
                         });

// Registered backends that cannot run here (a CUDA build without a GPU) are a visible skip.
TEST(GoldenBackends, EveryRegisteredBackendRunsOrSaysWhyNot) {
  EXPECT_GE(backend_cases().size(), 2u) << "reference and cpu always run";
  std::string why;
  for (const std::string& line : unavailable_backends()) why += (why.empty() ? "" : "; ") + line;
  if (!why.empty()) GTEST_SKIP() << "not run on this machine: " << why;
}

// Keras's parameter count is part of the summary contract.
TEST(GoldenSummary, ParamCountsEqualKeras) {
  int checked = 0;
  for (const FixtureRun& run : discover_fixture_runs()) {
    if (run.set_dir != run.case_dir || expected_unsupported(run)) continue;
    {
      std::string meta = (fs::path(run.case_dir) / "meta.json").string();
      Model model = load_fixture_model(run);
      int64_t want = read_num_params(meta);
      if (want < 0) continue;
      EXPECT_EQ(model.param_count(), want) << run.id;
      ++checked;
    }
  }
  EXPECT_GT(checked, 0);
}

}  // namespace
}  // namespace krt::test
