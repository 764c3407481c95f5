// `kerasrt verify`: runs a Keras reference case (inputs, per-layer outputs, outputs, tolerance)
// and reports layer by layer, so a mismatch points at the first layer that diverges.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli_common.h"
#include "io/bytes.h"
#include "io/json.h"

namespace fs = std::filesystem;

namespace krt::cli {

namespace {

struct Tolerance {
  double rtol = 1e-5, atol = 1e-6;
};

// meta.json's {"tolerance": {"rtol", "atol"}} when present.
Tolerance read_tolerance(const std::string& case_dir) {
  Tolerance tol;
  fs::path meta = fs::path(case_dir) / "meta.json";
  if (!fs::exists(meta)) return tol;
  io::Bytes bytes = io::map_file(meta.string());
  io::Json json = io::parse_json(bytes.as_string_view(), meta.string(), Limits{});
  if (const io::Json* t = json.find("tolerance")) {
    if (const io::Json* r = t->find("rtol")) tol.rtol = r->as_number();
    if (const io::Json* a = t->find("atol")) tol.atol = a->as_number();
  }
  return tol;
}

std::vector<std::string> numbered_files(const std::string& dir, const std::string& prefix) {
  std::vector<std::string> files;
  for (int i = 0;; ++i) {
    fs::path p = fs::path(dir) / (prefix + std::to_string(i) + ".npy");
    if (!fs::exists(p)) break;
    files.push_back(p.string());
  }
  return files;
}

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

// "" when within tolerance, else what went wrong (count, worst element, both values).
std::string compare(const Tensor& got, const Tensor& want_any, const Tolerance& tol,
                    double* max_diff) {
  *max_diff = 0;
  if (got.shape() != want_any.shape())
    return "shape " + shape_to_string(got.shape()) + ", Keras has " +
           shape_to_string(want_any.shape());
  Tensor g = got.dtype() == DType::f32 ? got : got.cast(DType::f32);
  Tensor w = want_any.dtype() == DType::f32 ? want_any : want_any.cast(DType::f32);
  const float* a = g.data_as<float>();
  const float* b = w.data_as<float>();
  int64_t bad = 0, worst = -1;
  double worst_excess = -1;
  for (int64_t i = 0; i < g.size(); ++i) {
    double diff = std::fabs(static_cast<double>(a[i]) - b[i]);
    if (std::isnan(a[i]) && std::isnan(b[i])) continue;
    double limit = tol.atol + tol.rtol * std::fabs(b[i]);
    if (std::isnan(diff)) diff = INFINITY;
    *max_diff = std::max(*max_diff, diff);
    if (diff <= limit) continue;
    ++bad;
    if (diff - limit > worst_excess) worst_excess = diff - limit, worst = i;
  }
  if (bad == 0) return "";
  return std::to_string(bad) + " of " + std::to_string(g.size()) +
         " elements differ; worst at flat index " + std::to_string(worst) + ": kerasrt " +
         fmt(a[worst]) + ", Keras " + fmt(b[worst]);
}

}  // namespace

int cmd_verify(const std::vector<std::string>& args) {
  std::string model_path, weights, case_dir;
  double rtol = -1, atol = -1;
  CompileOptions options;
  ArgReader a(args);
  while (a.next()) {
    if (a.is("--reference"))
      case_dir = a.value();
    else if (a.is("--device"))
      options.device = parse_device_flag(a.value());
    else if (a.is("--precision"))
      options.precision = parse_precision_flag(a.value());
    else if (a.is("--weights"))
      weights = a.value();
    else if (a.is("--rtol"))
      rtol = parse_number("--rtol", a.value());
    else if (a.is("--atol"))
      atol = parse_number("--atol", a.value());
    else if (!a.is_option() && model_path.empty())
      model_path = a.arg();
    else
      a.unknown();
  }
  if (model_path.empty()) throw UsageError("verify needs a MODEL");
  if (case_dir.empty()) throw UsageError("verify needs --reference CASE_DIR");
  if (!fs::is_directory(case_dir)) throw Error(ErrorCode::io_error, case_dir + ": not a folder");
  Tolerance tol = read_tolerance(case_dir);
  if (rtol >= 0) tol.rtol = rtol;
  if (atol >= 0) tol.atol = atol;
  std::string tol_text = "atol " + fmt(tol.atol) + " + rtol " + fmt(tol.rtol) + " * |keras|";

  Model model = load_model(model_path, weights);
  std::vector<Tensor> inputs;
  for (const std::string& f : numbered_files(case_dir, "input_"))
    inputs.push_back(Tensor::from_npy(f));
  if (inputs.empty()) throw Error(ErrorCode::invalid_argument, case_dir + ": no input_0.npy");
  std::vector<std::string> want_outputs = numbered_files(case_dir, "output_");

  std::string first_divergence;
  int checked = 0, missing = 0;
  auto report = [&](const std::string& what, const Tensor& got, const std::string& file) {
    if (!fs::exists(file)) {
      ++missing;
      std::cout << what << ": no reference (" << fs::path(file).filename().string() << ")\n";
      return;
    }
    ++checked;
    double max_diff = 0;
    std::string problem = compare(got, Tensor::from_npy(file), tol, &max_diff);
    std::cout << what << ": max |diff| " << fmt(max_diff)
              << (problem.empty() ? "  ok" : "  DIVERGES") << "\n";
    if (!problem.empty() && first_divergence.empty()) first_divergence = what + ": " + problem;
  };

  // Layers in summary order, as Model::trace runs them (reference kernels, no passes).
  fs::path layer_dir = fs::path(case_dir) / "layers";
  std::vector<LayerOutputs> traced = model.trace(inputs);
  for (size_t i = 0; i < traced.size(); ++i) {
    const LayerOutputs& layer = traced[i];
    const std::string& cls = model.layers()[i].class_name;
    if (cls == "InputLayer") continue;  // Keras saves no output for it: it is the input
    for (size_t k = 0; k < layer.outputs.size(); ++k) {
      std::string stem =
          layer.outputs.size() == 1 ? layer.name : layer.name + "__" + std::to_string(k);
      std::string what = "layer '" + layer.name + "' (" + cls + ")" +
                         (layer.outputs.size() == 1 ? "" : " output " + std::to_string(k));
      report(what, layer.outputs[k], (layer_dir / (stem + ".npy")).string());
    }
  }
  // The outputs, through the compiled (optimized) path a user runs.
  std::vector<Tensor> outputs = model.compile(options).run(inputs);
  for (size_t i = 0; i < outputs.size(); ++i)
    report("output " + std::to_string(i) + " '" + model.outputs()[i].name + "'", outputs[i],
           i < want_outputs.size()
               ? want_outputs[i]
               : (fs::path(case_dir) / ("output_" + std::to_string(i) + ".npy")).string());

  if (!first_divergence.empty()) {
    std::cout << "first divergence: " << first_divergence << " (tolerance " << tol_text << ")\n";
    return 3;
  }
  if (checked == 0)
    throw Error(ErrorCode::invalid_argument, case_dir + ": no reference outputs to compare with");
  std::cout << "verified: " << checked << " tensors within " << tol_text;
  if (missing) std::cout << " (" << missing << " without reference)";
  std::cout << "\n";
  return 0;
}

}  // namespace krt::cli
