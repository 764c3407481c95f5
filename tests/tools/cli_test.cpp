// The kerasrt command-line contract: summary table, run writing output_<i>.npy in output
// order, comparisons, and usage errors.
#include <gtest/gtest.h>

#include <filesystem>

#include "golden/fixture_case.h"
#include "kerasrt/kerasrt.h"
#include "test_paths.h"
#include "test_process.h"

namespace fs = std::filesystem;

namespace krt::test {
namespace {

std::string seed(const std::string& file) {
  return data_dir() + "/fixtures/seed/seed_small_functional/" + file;
}

TEST(Cli, SummaryPrintsKerasTableWithKerasParamCounts) {
  ProcessResult r = run_process(cli_path(), {"summary", seed("model.keras")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Keras's own numbers for this model (meta.json num_params = 155824; Dense(16->128) = 2176).
  EXPECT_NE(r.out.find("Model: \"seed\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("conv (Conv2D)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(None, 1, 1, 16)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("flat (Reshape)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2,176"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Total params: 155,824"), std::string::npos) << r.out;
}

TEST(Cli, RunWritesOutputsThatMatchKeras) {
  fs::path out = fs::temp_directory_path() / ("krt_cli_run_" + std::to_string(::getpid()));
  fs::remove_all(out);
  for (const char* model : {"model.keras", "model.h5"}) {
    ProcessResult r = run_process(
        cli_path(), {"run", seed(model), "-i", seed("input_0.npy"), "-o", out.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    Tensor got = Tensor::from_npy((out / "output_0.npy").string());
    EXPECT_EQ(compare_tensors(got, Tensor::from_npy(seed("output_0.npy")), {1e-5, 1e-5}), "");
    EXPECT_FALSE(fs::exists(out / "output_1.npy"));
  }
  fs::remove_all(out);
}

TEST(Cli, RunTakesInputsByName) {
  // keras.Model({"features": ..., "extra": ...}, {...}): inputs sorted by key, addressable by it.
  std::string dir = data_dir() + "/fixtures/models2/dict_inputs_outputs/";
  ProcessResult r =
      run_process(cli_path(), {"run", dir + "model.keras", "-i", "features=" + dir + "input_1.npy",
                               "-i", "extra=" + dir + "input_0.npy", "--expect",
                               dir + "output_0.npy", "--expect", dir + "output_1.npy"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("output 0 'logits'"), std::string::npos) << r.out;
  r = run_process(cli_path(),
                  {"run", dir + "model.keras", "-i", "features=" + dir + "input_1.npy"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("input 'extra' is missing"), std::string::npos) << r.err;
}

TEST(NamedTensors, InputsAndOutputsByName) {
  std::string dir = data_dir() + "/fixtures/models2/dict_inputs_outputs/";
  Model model = load(dir + "model.keras");
  ASSERT_EQ(model.inputs().size(), 2u);
  EXPECT_EQ(model.inputs()[0].name, "extra");  // sorted by key, as Keras flattens the dict
  EXPECT_EQ(model.outputs()[0].name, "logits");
  std::vector<Tensor> inputs =
      inputs_by_name(model, {{"features", Tensor::from_npy(dir + "input_1.npy")},
                             {"extra", Tensor::from_npy(dir + "input_0.npy")}});
  std::map<std::string, Tensor> out = outputs_by_name(model, model.compile().run(inputs));
  EXPECT_EQ(
      compare_tensors(out.at("score"), Tensor::from_npy(dir + "output_1.npy"), read_tolerance(dir)),
      "");
  EXPECT_EQ(compare_tensors(out.at("logits"), Tensor::from_npy(dir + "output_0.npy"),
                            read_tolerance(dir)),
            "");
  try {
    inputs_by_name(model, {{"features", inputs[1]}});
    ADD_FAILURE() << "a missing input was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("input 'extra' is missing"), std::string::npos)
        << e.what();
  }
}

TEST(Cli, RunWritesEveryOutputInModelOrder) {
  std::string dir = data_dir() + "/fixtures/models/multi_input_multi_output/";
  fs::path out = fs::temp_directory_path() / ("krt_cli_mimo_" + std::to_string(::getpid()));
  std::vector<std::string> args{"run", dir + "model.keras", "-o", out.string()};
  for (int i = 0; fs::exists(dir + "input_" + std::to_string(i) + ".npy"); ++i) {
    args.push_back("-i");
    args.push_back(dir + "input_" + std::to_string(i) + ".npy");
  }
  ProcessResult r = run_process(cli_path(), args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<Tensor> want = read_numbered(dir, "output_");
  std::vector<Tensor> got = read_numbered(out.string(), "output_");
  ASSERT_GE(want.size(), 2u);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_EQ(compare_tensors(got[i], want[i], read_tolerance(dir)), "") << i;
  fs::remove_all(out);
}

TEST(Cli, ExpectReportsTheLargestDifferenceAndFailsOutsideTolerance) {
  ProcessResult ok = run_process(cli_path(), {"run", seed("model.keras"), "-i", seed("input_0.npy"),
                                              "--expect", seed("output_0.npy")});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("max |kerasrt - expected|"), std::string::npos) << ok.out;
  // One element moved by 0.01 is outside the default tolerance: exit code 3, and the report says
  // so.
  Tensor perturbed = Tensor::from_npy(seed("output_0.npy"));
  perturbed.data_as<float>()[7] += 0.01f;
  fs::path wrong =
      fs::temp_directory_path() / ("krt_cli_wrong_" + std::to_string(::getpid()) + ".npy");
  perturbed.save_npy(wrong.string());
  ProcessResult bad = run_process(cli_path(), {"run", seed("model.keras"), "-i",
                                               seed("input_0.npy"), "--expect", wrong.string()});
  EXPECT_EQ(bad.exit_code, 3) << bad.err;
  EXPECT_NE(bad.out.find("OUTSIDE"), std::string::npos) << bad.out;
  // An expectation of another shape is an error.
  ProcessResult shape =
      run_process(cli_path(), {"run", seed("model.keras"), "-i", seed("input_0.npy"), "--expect",
                               seed("layers/unflat.npy")});
  EXPECT_EQ(shape.exit_code, 1);
  EXPECT_EQ(shape.err.rfind("error: ", 0), 0u) << shape.err;
  fs::remove(wrong);
}

TEST(Cli, UsageErrorsAreOneLine) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"frobnicate"},
        {"run"},
        {"run", seed("model.keras")},
        {"summary"},
        {"run", seed("model.keras"), "-i", seed("input_0.npy"), "--rtol", "abc"},
        {"bench", seed("model.keras"), "--stored-inputs"}}) {
    ProcessResult r = run_process(cli_path(), args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

TEST(Cli, WrongInputShapeIsAnError) {
  std::string other = data_dir() + "/fixtures/layers/dense_bias/input_0.npy";
  ProcessResult r = run_process(cli_path(), {"run", seed("model.keras"), "-i", other});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("expects (None, 8, 8, 3)"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace krt::test
