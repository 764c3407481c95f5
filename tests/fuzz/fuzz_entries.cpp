#include "fuzz/fuzz_entries.h"

#include <algorithm>
#include <string>

#include "graph/graph.h"
#include "io/bytes.h"
#include "io/hdf5.h"
#include "io/json.h"
#include "io/npy.h"
#include "io/zip_reader.h"
#include "keras/loader.h"
#include "keras/model_builder.h"
#include "keras/weights.h"
#include "kerasrt/kerasrt.h"

namespace krt::fuzz {

namespace {

// Touches every byte so that a slice pointing outside the input is caught by ASan.
uint8_t checksum(const io::Bytes& bytes) {
  uint8_t sum = 0;
  for (size_t i = 0; i < bytes.size(); ++i) sum ^= bytes.data()[i];
  return sum;
}

uint8_t checksum(const Tensor& t) {
  uint8_t sum = 0;
  const uint8_t* p = static_cast<const uint8_t*>(t.data());
  for (size_t i = 0; i < t.nbytes(); ++i) sum ^= p[i];
  return sum;
}

io::Bytes copy_input(const uint8_t* data, size_t size) {
  // An owned copy of exactly `size` bytes, so that any read past the end is an ASan report.
  return io::Bytes::copy_of(data, size);
}

// Visits groups, attributes and datasets of an HDF5 file, bounded in depth and count (a
// valid file may be a large tree; the reader's own limits guard the rest).
void walk_hdf5(const io::Hdf5File& h5, const std::string& path, int depth, int& budget) {
  if (depth > 16 || --budget < 0) return;
  for (const std::string& attr : h5.attribute_names(path)) {
    try {
      h5.string_attribute(path, attr);
    } catch (const Error&) {
    }
    try {
      h5.numeric_attribute(path, attr);
    } catch (const Error&) {
    }
  }
  if (h5.is_dataset(path)) {
    h5.dataset_shape(path);
    volatile uint8_t sink = checksum(h5.read_dataset(path));
    (void)sink;
    return;
  }
  if (!h5.is_group(path)) return;
  for (const std::string& child : h5.children(path)) {
    std::string child_path = path.empty() || path == "/" ? child : path + "/" + child;
    try {
      walk_hdf5(h5, child_path, depth + 1, budget);
    } catch (const Error&) {
      // One bad object must not hide bugs in its siblings.
    }
  }
}

// An input of the model's declared shape, dynamic dimensions set to 1 (the batch as well),
// or an empty tensor when that would exceed `max_elements`.
Tensor small_input(const TensorInfo& info, int64_t max_elements) {
  Shape shape = info.shape;
  for (int64_t& d : shape)
    if (d < 0) d = 1;
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d <= 0 || d > max_elements || n > max_elements / d) return Tensor();
    n *= d;
  }
  Tensor t(DType::f32, shape);
  float* p = t.data_as<float>();
  for (int64_t i = 0; i < n; ++i) p[i] = static_cast<float>(i % 7) * 0.25f - 0.5f;
  return t;
}

}  // namespace

Limits fuzz_limits() {
  Limits limits;
  limits.max_total_bytes = uint64_t{64} << 20;
  limits.max_elements = int64_t{1} << 22;
  limits.max_layers = 2000;
  limits.max_json_bytes = uint64_t{4} << 20;
  limits.max_json_depth = 64;
  limits.max_h5_depth = 32;
  limits.max_h5_objects = 20000;
  return limits;
}

void fuzz_zip(const uint8_t* data, size_t size) {
  try {
    io::ZipReader zip(copy_input(data, size), "fuzz.zip", fuzz_limits());
    for (const io::ZipEntry& entry : zip.entries()) {
      zip.find(entry.name);
      try {
        volatile uint8_t sink = checksum(zip.read(entry));
        (void)sink;
      } catch (const Error&) {
      }
    }
  } catch (const Error&) {
  }
}

void fuzz_hdf5(const uint8_t* data, size_t size) {
  try {
    io::Hdf5File h5(copy_input(data, size), "fuzz.h5", fuzz_limits());
    int budget = 2000;
    walk_hdf5(h5, "/", 0, budget);
  } catch (const Error&) {
  }
}

void fuzz_json_config(const uint8_t* data, size_t size) {
  try {
    Limits limits = fuzz_limits();
    std::string_view text(reinterpret_cast<const char*>(data), size);
    io::Json config = io::parse_json(text, "config.json", limits);
    config.dump();
    Graph graph;
    keras::FileInfo file{"config.json", "", 3, ""};
    std::unique_ptr<keras::WeightScope> scope = keras::empty_weight_scope();
    keras::import_model(graph, file, config, *scope, nullptr, limits);
    verify_graph(graph);
  } catch (const Error&) {
  }
}

void fuzz_npy(const uint8_t* data, size_t size) {
  try {
    volatile uint8_t sink =
        checksum(io::read_npy(copy_input(data, size), "fuzz.npy", fuzz_limits()));
    (void)sink;
  } catch (const Error&) {
  }
}

void fuzz_load_run(const uint8_t* data, size_t size) {
  // Inputs and intermediates are capped well below the RSS limit: a valid model may still
  // be expensive to run, and that is not a bug of the readers.
  constexpr int64_t kMaxInputElements = int64_t{1} << 16;
  constexpr int64_t kMaxArenaBytes = int64_t{256} << 20;
  try {
    LoadOptions options;
    options.limits = fuzz_limits();
    Model model = load_from_bytes(copy_input(data, size), "fuzz.model", options);
    model.summary();
    CompiledModel exe = model.compile({.device = Device::reference()});
    std::vector<Tensor> inputs;
    std::vector<Shape> shapes;
    for (const TensorInfo& info : exe.inputs()) {
      inputs.push_back(small_input(info, kMaxInputElements));
      if (inputs.back().empty()) return;
      shapes.push_back(inputs.back().shape());
    }
    if (exe.plan_for(shapes).peak_intermediate_bytes > kMaxArenaBytes) return;
    exe.run(inputs);
    // The CPU device too: its fusion passes and oneDNN descriptors see the same shapes.
    model.compile({.device = Device::cpu(), .threads = 1}).run(inputs);
  } catch (const Error&) {
  }
}

const std::vector<FuzzTarget>& fuzz_targets() {
  static const std::vector<FuzzTarget> targets{
      {"zip", fuzz_zip}, {"hdf5", fuzz_hdf5},         {"json_config", fuzz_json_config},
      {"npy", fuzz_npy}, {"load_run", fuzz_load_run},
  };
  return targets;
}

}  // namespace krt::fuzz
