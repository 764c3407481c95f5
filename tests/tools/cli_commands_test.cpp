// The CLI subcommands beyond run: help texts, summary --json, verify, dot, bench, peer-bench.
// Each test checks what the command prints or writes, not only its exit status.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "golden/fixture_case.h"
#include "io/json.h"
#include "kerasrt/kerasrt.h"
#include "test_paths.h"
#include "test_process.h"

namespace fs = std::filesystem;

namespace krt::test {
namespace {

std::string seed_dir() { return data_dir() + "/fixtures/seed/seed_small_functional"; }
std::string seed(const std::string& file) { return seed_dir() + "/" + file; }
bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Exactly one line on stdout, parsed as a JSON object.
io::Json one_json_line(const ProcessResult& r) {
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  io::Json j = io::parse_json(r.out, "stdout");
  EXPECT_TRUE(j.is_object()) << r.out;
  return j;
}

fs::path temp_dir(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("krt_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

TEST(CliHelp, EveryCommandHasHelpWithExamples) {
  for (const char* command : {"summary", "run", "verify", "dot", "bench", "peer-bench", "layers", "serve"}) {
    ProcessResult r = run_process(cli_path(), {command, "--help"});
    EXPECT_EQ(r.exit_code, 0) << command << ": " << r.err;
    EXPECT_EQ(r.out.rfind(std::string("usage: kerasrt ") + command, 0), 0u) << r.out;
    EXPECT_TRUE(contains(r.out, "examples:")) << r.out;
    EXPECT_TRUE(contains(r.out, std::string("    kerasrt ") + command) ||
                contains(r.out, "run_side_by_side"))
        << r.out;
  }
  ProcessResult overview = run_process(cli_path(), {"--help"});
  EXPECT_EQ(overview.exit_code, 0);
  for (const char* command : {"summary", "run", "verify", "dot", "bench", "peer-bench", "layers", "serve"})
    EXPECT_TRUE(contains(overview.out, std::string("  kerasrt ") + command)) << command;
}

TEST(CliSummary, JsonHasLayersShapesAndKerasParamCounts) {
  ProcessResult r = run_process(cli_path(), {"summary", seed("model.keras"), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  io::Json j = one_json_line(r);
  EXPECT_EQ(j.find("name")->as_string(), "seed");
  EXPECT_EQ(j.find("total_params")->as_int(), 155824);  // Keras's count_params() (meta.json)
  const io::Json& input = (*j.find("inputs"))[0];
  EXPECT_TRUE(input.find("shape")->operator[](0).is_null());  // the batch is None
  EXPECT_EQ(input.find("shape")->operator[](3).as_int(), 3);
  const io::Json& layers = *j.find("layers");
  std::vector<std::string> names;
  for (const io::Json& l : layers.items()) names.push_back(l.find("name")->as_string());
  EXPECT_EQ(names,
            (std::vector<std::string>{"input", "conv", "flat", "fc1", "fc2", "unflat", "deconv"}));
  EXPECT_EQ(layers[3].find("class")->as_string(), "Dense");
  EXPECT_EQ(layers[3].find("params")->as_int(), 2176);
  EXPECT_EQ((*layers[5].find("output_shapes"))[0].dump(), "[null,4,4,64]");
}

TEST(CliVerify, MatchingCaseReportsEveryLayerAndPasses) {
  ProcessResult r =
      run_process(cli_path(), {"verify", seed("model.keras"), "--reference", seed_dir()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  for (const char* layer : {"'conv' (Conv2D)", "'flat' (Reshape)", "'fc1' (Dense)", "'fc2' (Dense)",
                            "'unflat' (Reshape)", "'deconv' (Conv2DTranspose)"})
    EXPECT_TRUE(contains(r.out, std::string("layer ") + layer + ": max |diff|")) << layer << "\n"
                                                                                 << r.out;
  EXPECT_TRUE(contains(r.out, "output 0 'deconv'")) << r.out;
  EXPECT_TRUE(contains(r.out, "verified: 7 tensors within atol 1e-05 + rtol 1e-05")) << r.out;
  EXPECT_FALSE(contains(r.out, "DIVERGES")) << r.out;
}

TEST(CliVerify, MultiOutputLayersUseNumberedFiles) {
  std::string dir = data_dir() + "/fixtures/layers/mha_return_scores";
  ProcessResult r = run_process(cli_path(), {"verify", dir + "/model.keras", "--reference", dir});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "(MultiHeadAttention) output 0: max |diff|")) << r.out;
  EXPECT_TRUE(contains(r.out, "(MultiHeadAttention) output 1: max |diff|")) << r.out;
  EXPECT_FALSE(contains(r.out, "no reference")) << r.out;
}

TEST(CliVerify, PrintsTheFirstDivergentLayerWithTheTolerance) {
  fs::path dir = temp_dir("verify");
  fs::copy(seed_dir(), dir, fs::copy_options::recursive);
  Tensor fc2 = Tensor::from_npy(seed("layers/fc2.npy"));
  fc2.data_as<float>()[17] += 0.5f;
  fc2.save_npy((dir / "layers/fc2.npy").string());
  ProcessResult r =
      run_process(cli_path(), {"verify", seed("model.keras"), "--reference", dir.string()});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "layer 'fc1' (Dense): max |diff|")) << r.out;
  EXPECT_TRUE(contains(r.out, "layer 'fc2' (Dense): max |diff| 0.5  DIVERGES")) << r.out;
  EXPECT_TRUE(contains(
      r.out,
      "first divergence: layer 'fc2' (Dense): 1 of 2048 elements differ; worst at flat index 17"))
      << r.out;
  EXPECT_TRUE(contains(r.out, "(tolerance atol 1e-05 + rtol 1e-05 * |keras|)")) << r.out;
  // --atol loosens the comparison: the same case then passes.
  ProcessResult loose = run_process(
      cli_path(), {"verify", seed("model.keras"), "--reference", dir.string(), "--atol", "1"});
  EXPECT_EQ(loose.exit_code, 0) << loose.out;
  EXPECT_TRUE(contains(loose.out, "within atol 1 + rtol 1e-05")) << loose.out;
  fs::remove_all(dir);
}

TEST(CliVerify, MissingReferenceIsAUsageError) {
  ProcessResult r = run_process(cli_path(), {"verify", seed("model.keras")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "error: verify needs --reference CASE_DIR (see kerasrt --help)\n");
}

TEST(CliDot, ShowsBothGraphsWithViewsAndFusedActivations) {
  ProcessResult r = run_process(cli_path(), {"dot", seed("model.keras")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("digraph \"seed\" {", 0), 0u) << r.out;
  EXPECT_TRUE(contains(r.out, "subgraph cluster_imported")) << r.out;
  EXPECT_TRUE(contains(r.out, "subgraph cluster_compiled")) << r.out;
  EXPECT_TRUE(contains(r.out, "compiled: 6 nodes, 2 zero-copy views")) << r.out;
  EXPECT_TRUE(contains(r.out, "label=\"flat\\nreshape (view)\", style=dashed")) << r.out;
  EXPECT_TRUE(contains(r.out, "label=\"fc1\\ndense +relu\"")) << r.out;
  EXPECT_TRUE(contains(r.out, "-> compiled_n2 [label=\"(None, 16)\"]")) << r.out;
  EXPECT_EQ(r.out.substr(r.out.size() - 2), "}\n");
}

TEST(CliDot, CompiledGraphLosesTheDropouts) {
  std::string model = data_dir() + "/fixtures/models/mlp_classifier/model.keras";
  ProcessResult imported = run_process(cli_path(), {"dot", model, "--stage", "imported"});
  ProcessResult compiled = run_process(cli_path(), {"dot", model, "--stage", "compiled"});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  ASSERT_EQ(compiled.exit_code, 0) << compiled.err;
  EXPECT_TRUE(contains(imported.out, "identity\", style=dotted")) << imported.out;
  EXPECT_FALSE(contains(imported.out, "cluster_compiled"));
  EXPECT_FALSE(contains(compiled.out, "identity")) << compiled.out;
  EXPECT_TRUE(contains(compiled.out, "2 identities removed")) << compiled.out;
}

TEST(CliDot, CompiledGraphShowsTheFusions) {
  std::string model = data_dir() + "/fixtures/models/mobilenetv2_blocks/model.keras";
  ProcessResult r = run_process(cli_path(), {"dot", model, "--stage", "compiled"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "9 batch norms folded, 6 activations fused")) << r.out;
  EXPECT_TRUE(contains(r.out, "label=\"stem+stem_bn\\nconv +relu\"")) << r.out;  // relu6, fused
  EXPECT_FALSE(contains(r.out, "scale_shift")) << r.out;
}

TEST(CliBench, JsonIsOneLineWithTheContractKeys) {
  ProcessResult r =
      run_process(cli_path(), {"bench", seed("model.keras"), "--batch", "3", "--threads", "2",
                               "--iters", "7", "--warmup", "1", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  io::Json j = one_json_line(r);
  EXPECT_EQ(j.find("engine")->as_string(), "kerasrt");
  EXPECT_EQ(j.find("model")->as_string(), "seed_small_functional");
  EXPECT_EQ(j.find("batch")->as_int(), 3);
  EXPECT_EQ(j.find("threads")->as_int(), 2);
  EXPECT_EQ(j.find("iters")->as_int(), 7);
  EXPECT_EQ(j.find("inputs")->as_string(), "random");
  double median = j.find("median_ms")->as_number(), lo = j.find("min_ms")->as_number(),
         p90 = j.find("p90_ms")->as_number();
  EXPECT_GT(lo, 0);
  EXPECT_LE(lo, median);
  EXPECT_LE(median, p90);
  EXPECT_GT(j.find("peak_rss_mb")->as_number(), 1);
  EXPECT_GT(j.find("load_ms")->as_number(), 0);
  EXPECT_TRUE(j.find("compile_ms")->is_number());
  EXPECT_TRUE(contains(r.err, "bench: 7/7 calls")) << r.err;  // the progress line
}

TEST(CliBench, ReadableReportOnGivenInputs) {
  ProcessResult r = run_process(
      cli_path(), {"bench", seed("model.keras"), "-i", seed("input_0.npy"), "--iters", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "inputs:     from files, (2, 8, 8, 3)")) << r.out;
  for (const char* part : {"load:", "compile:", "per call:   median ", ", p90 ", ", min ",
                           "(3 calls after 3 warm-up)", "samples/s at batch 2", "peak RSS:"})
    EXPECT_TRUE(contains(r.out, part)) << part << "\n" << r.out;
}

TEST(CliBench, ProfileGivesEveryNodeAndOpKindWithShares) {
  ProcessResult r = run_process(cli_path(), {"bench", seed("model.keras"), "--iters", "5",
                                             "--warmup", "1", "--profile", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  io::Json j = one_json_line(r);
  const io::Json* profile = j.find("profile");
  ASSERT_NE(profile, nullptr) << r.out;
  EXPECT_EQ(profile->find("runs")->as_int(), 5);
  std::vector<std::string> names;
  double node_share = 0, node_ms = 0;
  for (const io::Json& n : profile->find("nodes")->items()) {
    names.push_back(n.find("name")->as_string());
    node_share += n.find("share")->as_number();
    node_ms += n.find("ms")->as_number();
    EXPECT_EQ(n.find("backend")->as_string(), "cpu");
  }
  EXPECT_EQ(names, (std::vector<std::string>{"conv", "flat", "fc1", "fc2", "unflat", "deconv"}));
  EXPECT_NEAR(node_share, 1.0, 0.01);
  EXPECT_NEAR(node_ms, profile->find("total_ms")->as_number(), 0.01);
  // Per op kind: the two dense nodes in one row, the most time first.
  double op_share = 0, last_ms = 1e30;
  int dense_nodes = 0;
  for (const io::Json& o : profile->find("ops")->items()) {
    op_share += o.find("share")->as_number();
    EXPECT_LE(o.find("ms")->as_number(), last_ms);
    last_ms = o.find("ms")->as_number();
    if (o.find("op")->as_string() == "dense") dense_nodes += o.find("nodes")->as_int();
  }
  EXPECT_NEAR(op_share, 1.0, 0.01);
  EXPECT_EQ(dense_nodes, 2);

  ProcessResult text = run_process(
      cli_path(), {"bench", seed("model.keras"), "--iters", "2", "--warmup", "0", "--profile"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  for (const char* part : {"profile:    2 profiled runs", "conv_transpose", "fc2", "onednn", "%"})
    EXPECT_TRUE(contains(text.out, part)) << part << "\n" << text.out;
}

TEST(CliPeerBench, PrintsTheOrtBenchLineAndWritesTheOutput) {
  fs::path dir = temp_dir("peer");
  std::string out = (dir / "y.npy").string();
  ProcessResult r = run_process(
      cli_path(), {"peer-bench", seed("model.keras"), seed("input_0.npy"), "1", "4", "--out", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  io::Json j = one_json_line(r);
  for (const char* key : {"engine", "model", "batch", "threads", "median_ms", "min_ms", "p90_ms",
                          "mean_ms", "samples_per_s", "iters", "warmup"})
    EXPECT_NE(j.find(key), nullptr) << key << " missing: " << r.out;
  EXPECT_EQ(j.find("engine")->as_string(), "kerasrt");
  EXPECT_EQ(j.find("batch")->as_int(), 2);
  EXPECT_EQ(j.find("warmup")->as_int(), 3);  // ort_bench.js's default for batch > 1
  EXPECT_EQ(j.find("out")->as_string(), out);
  EXPECT_EQ(compare_tensors(Tensor::from_npy(out), Tensor::from_npy(seed("output_0.npy")),
                            read_tolerance(seed_dir())),
            "");
  ProcessResult usage =
      run_process(cli_path(), {"peer-bench", seed("model.keras"), seed("input_0.npy"), "1"});
  EXPECT_EQ(usage.exit_code, 2);
  EXPECT_EQ(usage.err,
            "error: peer-bench needs MODEL INPUT.npy THREADS ITERS (see kerasrt --help)\n");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace krt::test
