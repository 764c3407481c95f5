// `kerasrt run`: inputs from .npy files or images, outputs to .npy files, optional comparison
// with expected outputs, timing, and a readable print of small outputs and top-k classes.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <numeric>

#include "cli_common.h"
#include "cli_image.h"
#include "graph/model_data.h"
#include "runtime/execution_plan.h"

namespace krt::cli {

namespace {

struct RunArgs {
  std::string model, weights;
  std::vector<std::string> inputs, images, expected;
  std::string out_dir;
  Device device = Device::cpu();
  Precision precision = Precision::fp32;
  double rtol = 1e-5, atol = 1e-5;
  int64_t repeat = 0;
  int64_t threads = 0;
  bool print = false;
  int64_t top_k = 5;
  ImageOptions image;
  bool channels_given = false, resize_given = false;
};

// "224x224" -> width 224, height 224.
void parse_size(const std::string& text, ImageOptions& image) {
  size_t x = text.find('x');
  if (x == std::string::npos)
    throw UsageError("--resize expects WxH (e.g. 224x224), got '" + text + "'");
  image.width = parse_int("--resize width", text.substr(0, x), 1, 1 << 16);
  image.height = parse_int("--resize height", text.substr(x + 1), 1, 1 << 16);
}

RunArgs parse_run_args(const std::vector<std::string>& args) {
  RunArgs r;
  ArgReader a(args);
  while (a.next()) {
    if (a.is("-i", "--input"))
      r.inputs.push_back(a.value());
    else if (a.is("--image"))
      r.images.push_back(a.value());
    else if (a.is("-o", "--output"))
      r.out_dir = a.value();
    else if (a.is("--expect"))
      r.expected.push_back(a.value());
    else if (a.is("--weights"))
      r.weights = a.value();
    else if (a.is("--rtol"))
      r.rtol = parse_number("--rtol", a.value());
    else if (a.is("--atol"))
      r.atol = parse_number("--atol", a.value());
    else if (a.is("--repeat"))
      r.repeat = parse_int("--repeat", a.value(), 0, 1000000000);
    else if (a.is("--device"))
      r.device = parse_device_flag(a.value());
    else if (a.is("--precision"))
      r.precision = parse_precision_flag(a.value());
    else if (a.is("--threads"))
      r.threads = parse_int("--threads", a.value(), 0, 4096);
    else if (a.is("--print"))
      r.print = true;
    else if (a.is("--top"))
      r.top_k = parse_int("--top", a.value(), 1, 1000000);
    else if (a.is("--resize"))
      parse_size(a.value(), r.image), r.resize_given = true;
    else if (a.is("--scale"))
      r.image.scale = parse_number("--scale", a.value());
    else if (a.is("--offset"))
      r.image.offset = parse_number("--offset", a.value());
    else if (a.is("--channels"))
      r.image.channels = static_cast<int>(parse_int("--channels", a.value(), 1, 3)),
      r.channels_given = true;
    else if (!a.is_option() && r.model.empty())
      r.model = a.arg();
    else
      a.unknown();
  }
  if (r.model.empty()) throw UsageError("run needs a MODEL");
  if (r.inputs.empty() && r.images.empty())
    throw UsageError("run needs inputs (-i IN.npy or --image IMG)");
  if (!r.inputs.empty() && !r.images.empty())
    throw UsageError("give either -i IN.npy or --image IMG, not both");
  if (r.channels_given && r.image.channels == 2) throw UsageError("--channels must be 1 or 3");
  return r;
}

// The image input tensor: size and channels default to what the model's input declares.
Tensor image_input(const Model& model, RunArgs& args) {
  if (model.inputs().size() != 1 || model.inputs()[0].shape.size() != 4)
    throw Error(ErrorCode::invalid_argument,
                args.model +
                    ": --image needs a model with one image input (batch, height, "
                    "width, channels); this one takes " +
                    std::to_string(model.inputs().size()) + " input(s), the first of shape " +
                    shape_to_string(model.inputs()[0].shape));
  const Shape& s = model.inputs()[0].shape;
  if (!args.resize_given) {
    args.image.height = s[1] == dynamic ? 0 : s[1];
    args.image.width = s[2] == dynamic ? 0 : s[2];
  }
  if (!args.channels_given && s[3] != dynamic) {
    if (s[3] != 1 && s[3] != 3)
      throw Error(ErrorCode::unsupported, args.model + ": the input has " + std::to_string(s[3]) +
                                              " channels; images give 1 (gray) or 3 (RGB)");
    args.image.channels = static_cast<int>(s[3]);
  }
  return images_to_tensor(args.images, args.image);
}

// Largest |got - want| and whether every element is within atol + rtol * |want|.
std::pair<double, bool> compare(const Tensor& got, const Tensor& want, double rtol, double atol) {
  Tensor w = want.dtype() == DType::f32 ? want : want.cast(DType::f32);
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

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// Rows of the last axis that are probability distributions (softmax outputs): every value in
// [0, 1] and each row summing to 1.
bool looks_like_probabilities(const Tensor& t) {
  if (t.rank() < 1 || t.dim(-1) < 2) return false;
  const float* p = t.data_as<float>();
  int64_t n = t.dim(-1);
  for (int64_t row = 0; row < t.size() / n; ++row) {
    double sum = 0;
    for (int64_t j = 0; j < n; ++j) {
      float v = p[row * n + j];
      if (!(v >= 0 && v <= 1)) return false;
      sum += v;
    }
    if (std::fabs(sum - 1) > 1e-3) return false;
  }
  return true;
}

void print_output(const Tensor& t, int64_t top_k) {
  const float* p = t.data_as<float>();
  if (t.size() <= 64) {
    std::cout << "  values:";
    for (int64_t i = 0; i < t.size(); ++i) std::cout << (i ? ", " : " ") << fmt(p[i]);
    std::cout << "\n";
  }
  if (!looks_like_probabilities(t)) return;
  int64_t n = t.dim(-1), rows = t.size() / n, k = std::min(top_k, n);
  for (int64_t row = 0; row < std::min<int64_t>(rows, 16); ++row) {
    std::vector<int64_t> idx(n);
    std::iota(idx.begin(), idx.end(), 0);
    const float* r = p + row * n;
    std::partial_sort(idx.begin(), idx.begin() + k, idx.end(),
                      [&](int64_t a, int64_t b) { return r[a] > r[b] || (r[a] == r[b] && a < b); });
    std::cout << "  row " << row << " top-" << k << ":";
    for (int64_t j = 0; j < k; ++j)
      std::cout << (j ? ", " : " ") << "class " << idx[j] << " (" << fmt(r[idx[j]]) << ")";
    std::cout << "\n";
  }
}

}  // namespace

int cmd_run(const std::vector<std::string>& raw) {
  RunArgs args = parse_run_args(raw);
  Model model = load_model(args.model, args.weights);
  std::vector<Tensor> inputs;
  if (!args.images.empty()) inputs.push_back(image_input(model, args));
  for (Tensor& t : read_input_files(model, args.inputs)) inputs.push_back(std::move(t));
  CompileOptions options;
  options.device = args.device;
  options.precision = args.precision;
  options.threads = static_cast<int>(args.threads);
  // The model is not read again: its graph is compiled owning the weights, so BatchNormalization
  // folds into the kernels' own memory instead of copies (a MobileNet: 8.6 MB less to fill).
  const ModelData& data = model.data();
  CompiledModel exe(compile_graph(data.graph, data.inputs, data.outputs, options,
                                  /*optimize=*/true, /*graph_owns_weights=*/true));
  model = Model(std::shared_ptr<const ModelData>());  // the compiled graph alone holds them now
  std::vector<Tensor> outputs = exe.run(inputs);
  if (!args.out_dir.empty()) {
    std::filesystem::create_directories(args.out_dir);
    for (size_t i = 0; i < outputs.size(); ++i)
      outputs[i].save_npy(
          (std::filesystem::path(args.out_dir) / ("output_" + std::to_string(i) + ".npy"))
              .string());
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    std::cout << "output " << i << " '" << exe.outputs()[i].name << "': shape "
              << shape_to_string(outputs[i].shape()) << "\n";
    if (args.print) print_output(outputs[i], args.top_k);
  }
  int status = 0;
  if (!args.expected.empty()) {
    if (args.expected.size() != outputs.size())
      throw Error(ErrorCode::invalid_argument,
                  "--expect was given " + std::to_string(args.expected.size()) +
                      " files, the model has " + std::to_string(outputs.size()) + " outputs");
    for (size_t i = 0; i < outputs.size(); ++i) {
      Tensor want = Tensor::from_npy(args.expected[i]);
      if (want.shape() != outputs[i].shape())
        throw Error(ErrorCode::invalid_argument,
                    args.expected[i] + " has shape " + shape_to_string(want.shape()) + ", output " +
                        std::to_string(i) + " has " + shape_to_string(outputs[i].shape()));
      auto [worst, ok] = compare(outputs[i], want, args.rtol, args.atol);
      std::cout << "output " << i << ": max |kerasrt - expected| = " << worst
                << (ok ? " (within" : " (OUTSIDE") << " atol " << args.atol << " + rtol "
                << args.rtol << ")\n";
      if (!ok) status = 3;
    }
  }
  if (args.repeat > 0) {
    exe.run(inputs);  // warm-up: plans and arenas are ready afterwards
    auto start = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < args.repeat; ++i) exe.run(inputs);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                    .count() /
                args.repeat;
    std::cout << "time per inference: " << ms << " ms (mean of " << args.repeat << " runs, batch "
              << inputs[0].shape()[0] << ")\n";
  }
  exit_now(status);  // the process's last act: no need to free the compiled model
}

}  // namespace krt::cli
