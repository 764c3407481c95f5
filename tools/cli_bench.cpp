// `kerasrt bench` (timing with a readable or one-line JSON report) and `kerasrt peer-bench`
// (the peer kit's engine command: same arguments and JSON line as ort_bench.js).
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>

#include "cli_common.h"
#include "cli_profile.h"
#include "io/json.h"

namespace krt::cli {

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

double round3(double v) { return std::round(v * 1000) / 1000; }
// Per-call times to 0.1 us: a GPU call of 0.023 ms would otherwise lose its third digit.
double round4(double v) { return std::round(v * 10000) / 10000; }

struct Timing {
  std::vector<double> ms;  // per timed call, in call order
  double median = 0, p90 = 0, min = 0, mean = 0;
  double wall_s = 0, own_cpu_s = 0;
  double others_cpu_cores = -1;  // -1: unknown (no /proc/stat)
  double loadavg_1m = -1;
};

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024.0;  // Linux reports kilobytes
}

// Busy and total jiffies of all CPUs from /proc/stat, to tell the load other processes put on a
// shared machine while we timed (the peer kit reports the same).
bool cpu_ticks(double* busy, double* total) {
  std::ifstream in("/proc/stat");
  std::string cpu;
  if (!(in >> cpu) || cpu != "cpu") return false;
  std::vector<double> v;
  double x;
  for (int i = 0; i < 10 && in >> x; ++i) v.push_back(x);
  if (v.size() < 5) return false;
  *total = 0;
  for (double t : v) *total += t;
  *busy = *total - v[3] - v[4];
  return true;
}

// Warm-up calls, then `iters` timed calls; a progress line on stderr (redrawn in place).
// With `device_io`, inputs are uploaded to the device once (as `input_dtype`), outputs stay
// there, and each call is timed on the device's clock (CUDA events on a GPU): what a caller
// holding device buffers sees.
Timing time_calls(const CompiledModel& exe, const std::vector<Tensor>& host_inputs, int64_t warmup,
                  int64_t iters, bool device_io = false, DType input_dtype = DType::f32) {
  std::vector<Tensor> inputs = host_inputs;
  RunOptions options;
  double device_ms = 0;
  if (device_io) {
    for (Tensor& t : inputs) t = exe.upload(t, input_dtype);
    options.outputs_on_device = true;
    options.device_time_ms = &device_ms;
  }
  Clock::time_point last_progress = Clock::now();
  auto progress = [&](const std::string& text, bool force) {
    if (!force && ms_since(last_progress) < 200) return;
    last_progress = Clock::now();
    std::cerr << "\rbench: " << text << "          " << std::flush;
  };
  for (int64_t i = 0; i < warmup; ++i) {
    exe.run(inputs, options);
    progress("warm-up " + std::to_string(i + 1) + "/" + std::to_string(warmup), i == 0);
  }
  Timing t;
  double busy0 = 0, total0 = 0, busy1 = 0, total1 = 0;
  bool have_ticks = cpu_ticks(&busy0, &total0);
  if (double load[1]; getloadavg(load, 1) == 1) t.loadavg_1m = load[0];
  double cpu0 = cpu_seconds();
  Clock::time_point start = Clock::now();
  for (int64_t i = 0; i < iters; ++i) {
    Clock::time_point s = Clock::now();
    exe.run(inputs, options);
    t.ms.push_back(device_io ? device_ms : ms_since(s));
    char last[32];
    std::snprintf(last, sizeof last, "%.3f", t.ms.back());
    progress(std::to_string(i + 1) + "/" + std::to_string(iters) + " calls, last " + last + " ms",
             i + 1 == iters);
  }
  std::cerr << "\n";
  t.wall_s = ms_since(start) / 1000;
  t.own_cpu_s = cpu_seconds() - cpu0;
  if (have_ticks && cpu_ticks(&busy1, &total1) && t.wall_s > 0)
    t.others_cpu_cores =
        std::max(0.0, ((busy1 - busy0) / sysconf(_SC_CLK_TCK) - t.own_cpu_s) / t.wall_s);
  std::vector<double> s = t.ms;
  std::sort(s.begin(), s.end());
  size_t n = s.size(), m = n / 2;
  t.median = n % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  t.p90 = s[static_cast<size_t>(std::max<double>(0, std::ceil(0.9 * n) - 1))];  // as ort_bench.js
  t.min = s[0];
  for (double v : s) t.mean += v / n;
  return t;
}

// Uniform [0, 1) floats (or zeros for integer inputs such as token ids) of the model's shapes.
std::vector<Tensor> random_inputs(const Model& model, int64_t batch) {
  std::mt19937 rng(1234);
  std::uniform_real_distribution<float> uniform(0.f, 1.f);
  std::vector<Tensor> inputs;
  for (size_t i = 0; i < model.inputs().size(); ++i) {
    const TensorInfo& info = model.inputs()[i];
    for (size_t d = 1; d < info.shape.size(); ++d)
      if (info.shape[d] == dynamic)
        throw Error(ErrorCode::invalid_argument,
                    "input '" + info.name + "' has shape " + shape_to_string(info.shape) +
                        ": its size is known only at run time; give -i IN.npy");
    Tensor t(DType::f32, concrete_input_shapes(model, batch)[i]);
    if (info.dtype == DType::f32 || info.dtype == DType::f64)
      for (int64_t k = 0; k < t.size(); ++k) t.data_as<float>()[k] = uniform(rng);
    inputs.push_back(std::move(t));
  }
  return inputs;
}

// "decoder.keras" -> "decoder"; ".../seed_full/model.keras" -> "seed_full".
std::string model_label(const std::string& path) {
  std::filesystem::path p(path);
  std::string stem = p.stem().string();
  if ((stem == "model" || stem.empty()) && p.has_parent_path() &&
      !p.parent_path().filename().empty())
    return p.parent_path().filename().string();
  return stem;
}

struct Loaded {
  Model model;
  CompiledModel exe;
  double load_ms, compile_ms;
};

Loaded load_and_compile(const std::string& path, const std::string& weights, const Device& device,
                        int64_t threads, Precision precision = Precision::fp32) {
  Clock::time_point t0 = Clock::now();
  Model model = load_model(path, weights);
  double load_ms = ms_since(t0);
  Clock::time_point t1 = Clock::now();
  CompileOptions options;
  options.device = device;
  options.precision = precision;
  options.threads = static_cast<int>(threads);
  CompiledModel exe = model.compile(options);
  return {model, exe, load_ms, ms_since(t1)};
}

void add_timing(std::vector<std::pair<std::string, io::Json>>& j, const Timing& t, int64_t batch) {
  j.emplace_back("median_ms", io::Json::number(round4(t.median)));
  j.emplace_back("min_ms", io::Json::number(round4(t.min)));
  j.emplace_back("p90_ms", io::Json::number(round4(t.p90)));
  j.emplace_back("mean_ms", io::Json::number(round4(t.mean)));
  j.emplace_back("iters", io::Json::integer(static_cast<int64_t>(t.ms.size())));
  j.emplace_back("samples_per_s", io::Json::number(std::round(batch * 1000 / t.median * 10) / 10));
  j.emplace_back("loadavg_1m", t.loadavg_1m < 0
                                   ? io::Json()
                                   : io::Json::number(std::round(t.loadavg_1m * 100) / 100));
  j.emplace_back("own_cpu_cores",
                 io::Json::number(std::round(t.own_cpu_s / std::max(t.wall_s, 1e-9) * 100) / 100));
  j.emplace_back("others_cpu_cores",
                 t.others_cpu_cores < 0
                     ? io::Json()
                     : io::Json::number(std::round(t.others_cpu_cores * 100) / 100));
  j.emplace_back("ncpu", io::Json::integer(sysconf(_SC_NPROCESSORS_ONLN)));
}

}  // namespace

int cmd_bench(const std::vector<std::string>& args) {
  std::string model_path, weights;
  std::vector<std::string> input_files;
  int64_t batch = 1, threads = 1, iters = 20, warmup = 3;
  bool json = false, device_io = false, stored_inputs = false, profile = false;
  Device device = Device::cpu();
  Precision precision = Precision::fp32;
  ArgReader a(args);
  while (a.next()) {
    if (a.is("-i", "--input"))
      input_files.push_back(a.value());
    else if (a.is("--weights"))
      weights = a.value();
    else if (a.is("--batch"))
      batch = parse_int("--batch", a.value(), 1, 1 << 20);
    else if (a.is("--threads"))
      threads = parse_int("--threads", a.value(), 1, 4096);
    else if (a.is("--iters"))
      iters = parse_int("--iters", a.value(), 1, 100000000);
    else if (a.is("--warmup"))
      warmup = parse_int("--warmup", a.value(), 0, 100000000);
    else if (a.is("--json"))
      json = true;
    else if (a.is("--device-io"))
      device_io = true;
    else if (a.is("--stored-inputs"))
      stored_inputs = true;
    else if (a.is("--profile"))
      profile = true;
    else if (a.is("--device"))
      device = parse_device_flag(a.value());
    else if (a.is("--precision"))
      precision = parse_precision_flag(a.value());
    else if (!a.is_option() && model_path.empty())
      model_path = a.arg();
    else
      a.unknown();
  }
  if (model_path.empty()) throw UsageError("bench needs a MODEL");
  if (stored_inputs && !device_io) throw UsageError("--stored-inputs needs --device-io");
  Loaded m = load_and_compile(model_path, weights, device, threads, precision);
  std::vector<Tensor> inputs;
  for (const std::string& f : input_files) inputs.push_back(Tensor::from_npy(f));
  if (inputs.empty())
    inputs = random_inputs(m.model, batch);
  else
    batch = inputs[0].rank() > 0 ? inputs[0].dim(0) : 1;
  const DType input_dtype = stored_inputs ? m.exe.storage_dtype() : DType::f32;
  Timing t = time_calls(m.exe, inputs, warmup, iters, device_io, input_dtype);
  double rss = peak_rss_mb();
  // Profiled runs come after the timed ones, so the timing above is an ordinary run's.
  RunProfile prof;
  if (profile) prof = profile_runs(m.exe, inputs, iters);
  if (json) {
    std::vector<std::pair<std::string, io::Json>> j = {
        {"engine", io::Json::string("kerasrt")},
        {"model", io::Json::string(model_label(model_path))},
        {"batch", io::Json::integer(batch)},
        {"threads", io::Json::integer(threads)},
        {"device", io::Json::string(m.exe.report().device)},
        {"precision", io::Json::string(m.exe.report().precision)},
        {"device_name", io::Json::string(device_name(device))},
        {"timing", io::Json::string(device_io ? "device clock, inputs and outputs in device memory"
                                              : "wall clock, host in and out")},
        {"input_dtype", io::Json::string(dtype_name(input_dtype))},
        {"warmup", io::Json::integer(warmup)},
        {"inputs", io::Json::string(input_files.empty() ? "random" : "files")}};
    add_timing(j, t, batch);
    j.emplace_back("load_ms", io::Json::number(round3(m.load_ms)));
    j.emplace_back("compile_ms", io::Json::number(round3(m.compile_ms)));
    j.emplace_back("peak_rss_mb", io::Json::number(std::round(rss * 10) / 10));
    if (profile) j.emplace_back("profile", profile_json(prof));
    std::cout << io::Json::object(std::move(j)).dump() << "\n";
    return 0;
  }
  char line[256];
  std::cout << "model:      " << model_path << " ('" << m.model.name() << "', "
            << m.model.param_count() << " params)\n";
  std::cout << "inputs:     " << (input_files.empty() ? "random, " : "from files, ");
  for (size_t i = 0; i < inputs.size(); ++i)
    std::cout << (i ? ", " : "") << shape_to_string(inputs[i].shape());
  std::cout << "\n";
  std::cout << "device:     " << device_name(device) << "; " << placement_text(m.exe.report())
            << "\n";
  std::snprintf(line, sizeof line, "load:       %.2f ms\ncompile:    %.2f ms\n", m.load_ms,
                m.compile_ms);
  std::cout << line;
  std::snprintf(line, sizeof line,
                "per call:   median %.3f ms, p90 %.3f ms, min %.3f ms, mean %.3f ms (%zu calls "
                "after %lld warm-up)\n",
                t.median, t.p90, t.min, t.mean, t.ms.size(), static_cast<long long>(warmup));
  std::cout << line;
  std::snprintf(line, sizeof line, "throughput: %.1f samples/s at batch %lld, threads %lld\n",
                batch * 1000 / t.median, static_cast<long long>(batch),
                static_cast<long long>(threads));
  std::cout << line;
  std::snprintf(line, sizeof line, "peak RSS:   %.1f MB\n", rss);
  std::cout << line;
  if (profile) print_profile(std::cout, prof);
  return 0;
}

int cmd_peer_bench(const std::vector<std::string>& args) {
  std::vector<std::string> positional;
  std::string out_path, name;
  int64_t warmup = -1;
  ArgReader a(args);
  while (a.next()) {
    if (a.is("--out"))
      out_path = a.value();
    else if (a.is("--warmup"))
      warmup = parse_int("--warmup", a.value(), 0, 100000000);
    else if (a.is("--name"))
      name = a.value();
    else if (a.is("--quiet-wait"))
      a.value();  // accepted for ort_bench.js compatibility; we do not wait
    else if (!a.is_option())
      positional.push_back(a.arg());
    else
      a.unknown();
  }
  if (positional.size() != 4) throw UsageError("peer-bench needs MODEL INPUT.npy THREADS ITERS");
  int64_t threads = parse_int("THREADS", positional[2], 1, 4096);
  int64_t iters = parse_int("ITERS", positional[3], 1, 100000000);
  Loaded m = load_and_compile(positional[0], "", Device::cpu(), threads);
  std::vector<Tensor> inputs{Tensor::from_npy(positional[1])};
  int64_t batch = inputs[0].rank() > 0 ? inputs[0].dim(0) : 1;
  std::vector<Tensor> first =
      m.exe.run(inputs);  // the output written with --out, as ort_bench.js does
  if (!out_path.empty()) first.at(0).save_npy(out_path);
  if (warmup < 0) warmup = batch == 1 ? 20 : 3;
  Timing t = time_calls(m.exe, inputs, warmup, iters);
  std::vector<std::pair<std::string, io::Json>> j = {
      {"engine", io::Json::string("kerasrt")},
      {"model", io::Json::string(name.empty() ? model_label(positional[0]) : name)},
      {"batch", io::Json::integer(batch)},
      {"threads", io::Json::integer(threads)}};
  add_timing(j, t, batch);
  j.emplace_back("warmup", io::Json::integer(warmup));
  j.emplace_back("load_ms", io::Json::number(round3(m.load_ms)));
  j.emplace_back("compile_ms", io::Json::number(round3(m.compile_ms)));
  j.emplace_back("peak_rss_mb", io::Json::number(std::round(peak_rss_mb() * 10) / 10));
  if (!out_path.empty()) j.emplace_back("out", io::Json::string(out_path));
  std::cout << io::Json::object(std::move(j)).dump() << "\n";
  return 0;
}

}  // namespace krt::cli
