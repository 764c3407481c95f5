// The kerasrt command-line tool. Other tools rely on its contract: outputs are written as
// OUTDIR/output_<i>.npy in the model's output order, and any failure prints one line
// "error: ..." on stderr and exits non-zero.
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "kerasrt/kerasrt.h"

namespace {

const char* kUsage =
    "usage:\n"
    "  kerasrt summary MODEL [--weights W.h5]\n"
    "      print the Keras-style table of layers, output shapes and parameter counts\n"
    "  kerasrt run MODEL [--weights W.h5] -i IN0.npy [-i IN1.npy ...] [-o OUTDIR] [--device cpu|reference]\n"
    "              [--expect OUT0.npy ...] [--rtol R] [--atol A] [--repeat N]\n"
    "      run the model on .npy inputs (in the model's input order); write OUTDIR/output_<i>.npy;\n"
    "      with --expect, print the largest difference from the expected outputs and fail if any\n"
    "      element is outside atol + rtol * |expected|; with --repeat, print the time per run\n"
    "  kerasrt layers\n"
    "      print the supported Keras layer classes and options as a Markdown table\n"
    "MODEL is a Keras .keras file, a legacy full-model .h5 file, a TF.js model.json, or an\n"
    "architecture JSON (model.to_json()) given with its weights-only .h5 as --weights W.h5.\n";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct RunArgs {
  std::string model, weights;
  std::vector<std::string> inputs, expected;
  std::string out_dir;
  krt::Device device = krt::Device::cpu();
  double rtol = 1e-5, atol = 1e-5;
  int repeat = 0;
};

double parse_number(const std::string& flag, const std::string& text) {
  try {
    size_t used = 0;
    double v = std::stod(text, &used);
    if (used == text.size() && std::isfinite(v)) return v;
  } catch (const std::exception&) {
  }
  throw UsageError(flag + " expects a number, got '" + text + "'");
}

RunArgs parse_run_args(const std::vector<std::string>& args) {
  RunArgs r;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> const std::string& {
      if (i + 1 >= args.size()) throw UsageError(a + " needs a value");
      return args[++i];
    };
    if (a == "-i" || a == "--input") r.inputs.push_back(value());
    else if (a == "-o" || a == "--output") r.out_dir = value();
    else if (a == "--expect") r.expected.push_back(value());
    else if (a == "--weights") r.weights = value();
    else if (a == "--rtol") r.rtol = parse_number(a, value());
    else if (a == "--atol") r.atol = parse_number(a, value());
    else if (a == "--repeat") r.repeat = static_cast<int>(parse_number(a, value()));
    else if (a == "--device") {
      const std::string& d = value();
      if (d == "cpu") r.device = krt::Device::cpu();
      else if (d == "reference") r.device = krt::Device::reference();
      else throw UsageError("unknown device '" + d + "' (expected cpu or reference)");
    } else if (!a.empty() && a[0] == '-') throw UsageError("unknown option '" + a + "'");
    else if (r.model.empty()) r.model = a;
    else throw UsageError("unexpected argument '" + a + "'");
  }
  if (r.model.empty()) throw UsageError("run needs a MODEL");
  if (r.inputs.empty()) throw UsageError("run needs at least one input (-i IN.npy)");
  if (r.repeat < 0) throw UsageError("--repeat must not be negative");
  return r;
}

int run_layers(const std::vector<std::string>& args) {
  if (!args.empty()) throw UsageError("layers takes no arguments");
  std::cout << "| Keras class | Supported options |\n|---|---|\n";
  for (const krt::SupportedLayer& l : krt::supported_layers()) std::cout << "| " << l.class_name << " | " << l.notes << " |\n";
  return 0;
}

int run_summary(const std::vector<std::string>& args) {
  if (args.size() == 3 && args[1] == "--weights") {
    std::cout << krt::load(args[0], args[2]).summary();
    return 0;
  }
  if (args.size() != 1) throw UsageError("summary takes exactly one MODEL (and --weights W.h5 for an architecture JSON)");
  krt::Model model = krt::load(args[0]);
  std::cout << model.summary();
  return 0;
}

// Largest |got - want| and whether every element is within atol + rtol * |want|.
std::pair<double, bool> compare(const krt::Tensor& got, const krt::Tensor& want, double rtol, double atol) {
  krt::Tensor w = want.dtype() == krt::DType::f32 ? want : want.cast(krt::DType::f32);
  const float* g = got.data_as<float>();
  const float* e = w.data_as<float>();
  double worst = 0;
  bool ok = true;
  for (int64_t i = 0; i < got.size(); ++i) {
    double diff = std::fabs(static_cast<double>(g[i]) - e[i]);
    if (!(diff <= atol + rtol * std::fabs(e[i]))) ok = false;
    if (diff > worst || std::isnan(diff)) worst = std::isnan(diff) ? INFINITY : diff;
  }
  return {worst, ok};
}

int run_model(const std::vector<std::string>& raw) {
  RunArgs args = parse_run_args(raw);
  krt::Model model = args.weights.empty() ? krt::load(args.model) : krt::load(args.model, args.weights);
  std::vector<krt::Tensor> inputs;
  for (const std::string& path : args.inputs) inputs.push_back(krt::Tensor::from_npy(path));
  krt::CompileOptions options;
  options.device = args.device;
  krt::CompiledModel exe = model.compile(options);
  std::vector<krt::Tensor> outputs = exe.run(inputs);
  if (!args.out_dir.empty()) {
    std::filesystem::create_directories(args.out_dir);
    for (size_t i = 0; i < outputs.size(); ++i)
      outputs[i].save_npy((std::filesystem::path(args.out_dir) / ("output_" + std::to_string(i) + ".npy")).string());
  }
  for (size_t i = 0; i < outputs.size(); ++i)
    std::cout << "output " << i << " '" << exe.outputs()[i].name << "': shape " << krt::shape_to_string(outputs[i].shape()) << "\n";
  int status = 0;
  if (!args.expected.empty()) {
    if (args.expected.size() != outputs.size())
      throw krt::Error(krt::ErrorCode::invalid_argument, "--expect was given " + std::to_string(args.expected.size()) +
                                                             " files, the model has " + std::to_string(outputs.size()) + " outputs");
    for (size_t i = 0; i < outputs.size(); ++i) {
      krt::Tensor want = krt::Tensor::from_npy(args.expected[i]);
      if (want.shape() != outputs[i].shape())
        throw krt::Error(krt::ErrorCode::invalid_argument, args.expected[i] + " has shape " + krt::shape_to_string(want.shape()) +
                                                               ", output " + std::to_string(i) + " has " + krt::shape_to_string(outputs[i].shape()));
      auto [worst, ok] = compare(outputs[i], want, args.rtol, args.atol);
      std::cout << "output " << i << ": max |kerasrt - expected| = " << worst << (ok ? " (within" : " (OUTSIDE")
                << " atol " << args.atol << " + rtol " << args.rtol << ")\n";
      if (!ok) status = 3;
    }
  }
  if (args.repeat > 0) {
    exe.run(inputs);  // warm-up: plans and arenas are ready afterwards
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < args.repeat; ++i) exe.run(inputs);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() / args.repeat;
    std::cout << "time per inference: " << ms << " ms (mean of " << args.repeat << " runs, batch "
              << inputs[0].shape()[0] << ")\n";
  }
  return status;
}

// The error contract is one line: fold any newline a message may carry.
std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
      std::cout << kUsage;
      return args.empty() ? 2 : 0;
    }
    std::string command = args[0];
    std::vector<std::string> rest(args.begin() + 1, args.end());
    if (command == "summary") return run_summary(rest);
    if (command == "run") return run_model(rest);
    if (command == "layers") return run_layers(rest);
    throw UsageError("unknown command '" + command + "'");
  } catch (const UsageError& e) {
    std::cerr << "error: " << one_line(e.what()) << " (see kerasrt --help)\n";
    return 2;
  } catch (const krt::Error& e) {
    std::cerr << "error: " << one_line(e.what()) << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "error: " << one_line(e.what()) << "\n";
    return 1;
  }
}
