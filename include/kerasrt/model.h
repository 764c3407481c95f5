// Loading, inspecting, compiling and running a model.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kerasrt/custom_layer.h"
#include "kerasrt/limits.h"
#include "kerasrt/tensor.h"

namespace krt {

// Where a compiled model runs: a backend of the registry by name, and a device index for
// backends with several devices. Written as users write it: "cpu", "reference", "cuda",
// "cuda:1". `kerasrt devices` (and krt::available_devices()) lists what this build has.
struct Device {
  std::string backend = "cpu";
  int index = 0;
  // The plain, obviously-correct kernels: the oracle the fast backends are tested against.
  static Device reference() { return {"reference", 0}; }
  // The fast CPU path: oneDNN primitives and our own loops (the default).
  static Device cpu() { return {"cpu", 0}; }
  // An NVIDIA GPU (builds with CUDA only; compile() says why when none is usable).
  static Device cuda(int index = 0) { return {"cuda", index}; }
  // Parses "name" or "name:index"; throws krt::Error (invalid_argument) naming the registered
  // backends when the name is not one of them.
  static Device parse(const std::string& text);
  std::string to_string() const;  // "cpu", "cuda:0"
  bool operator==(const Device&) const = default;
};

// Arithmetic precision of the compiled model. fp32 is Keras's float32 (TF32 off). tf32 lets
// matrix units round products to TF32; fp16 and bf16 convert weights and activations at
// compile time and accumulate in fp32. A backend refuses the ones it does not offer.
enum class Precision { fp32, tf32, fp16, bf16 };
const char* precision_name(Precision precision);  // "fp32", ...
// Parses "fp32", "tf32", "fp16", "bf16"; throws krt::Error (invalid_argument) otherwise.
Precision parse_precision(const std::string& text);

// A backend this build knows, and whether it can run here.
struct DeviceInfo {
  std::string name;         // "cuda"
  std::string description;  // "NVIDIA GPU through cuDNN and cuBLASLt"
  bool available = false;
  std::string unavailable_reason;  // why not ("no CUDA device found"), when not available
  std::vector<Precision> precisions;
};
// Every registered backend, in registration order.
std::vector<DeviceInfo> available_devices();
// The hardware behind a device ("NVIDIA H100 80GB HBM3", "AMD EPYC 9R14 ..."), for reports.
std::string device_name(const Device& device);

// How Model::compile() builds the executable plan.
struct CompileOptions {
  Device device = Device::cpu();
  Precision precision = Precision::fp32;
  // Threads each run of the CPU device may use (0: one per core). The setting belongs to the
  // thread that calls run(): concurrent runs from different threads each use this many.
  int threads = 0;
};

// How krt::load reads a file.
struct LoadOptions {
  // Caps on sizes read from the (untrusted) file; raise them for unusually large models.
  Limits limits;
  // C++ implementations of custom layer classes, keyed by the saved class name ("ScaleShift")
  // or Keras's registered name ("MyPkg>ScaleShift"); see kerasrt/custom_layer.h.
  std::map<std::string, CustomLayerFactory> custom_layers;
};

// A named model input or output; `dynamic` (-1) marks dimensions fixed only at run time.
struct TensorInfo {
  std::string name;
  Shape shape;
  DType dtype = DType::f32;
};

// One row of the Keras-style summary: a top-level Keras layer.
struct LayerInfo {
  std::string name;
  std::string class_name;
  std::vector<Shape> output_shapes;
  int64_t param_count = 0;
};

// What compile() did, for tooling and tests.
struct CompileReport {
  int nodes_before_passes = 0;
  int nodes = 0;                // nodes in the executed graph
  int zero_copy_views = 0;      // reshape/flatten nodes executed as views of their input
  int identities_removed = 0;   // Dropout and other inference-time identities
  int scale_shifts_folded = 0;  // BatchNormalizations folded into the Dense/Conv before them (cpu)
  int activations_fused = 0;    // activation layers run inside the Dense/Conv before them (cpu)
  std::string device;           // where it runs ("cpu", "cuda:0")
  std::string precision;        // "fp32", ...
  // Placement: nodes per backend ("cuda": 40, "cpu": 1), and the copies between memory spaces
  // inserted where a node runs on another backend than its inputs' producer (model inputs and
  // outputs that cross to or from a device count too).
  std::map<std::string, int> nodes_per_backend;
  int copies = 0;
  std::vector<std::string> fallbacks;    // why each node not on the device runs elsewhere
  int64_t peak_intermediate_bytes = 0;   // arena size for the batch given to plan_for()
  int64_t naive_intermediate_bytes = 0;  // what one buffer per intermediate value would take
};

// One executed node of a profiled run (RunOptions::profile).
struct NodeProfile {
  std::string name;     // the node: its Keras layer's name, or a name derived from it
  std::string op;       // its op kind ("conv", "depthwise_conv", "dense", "copy", ...)
  std::string backend;  // the backend that ran it ("cpu", "cuda", "reference")
  std::string kernel;   // how that backend ran it ("onednn", "reference", ...)
  double ms = 0;        // its wall time; device backends are synchronized after each node
};

// How CompiledModel::run hands back its outputs.
struct RunOptions {
  // Leave the outputs in the device's memory (GPU devices), as tensors that own it: no copy to
  // the host. Inputs given as tensors in that device's memory are read there either way. The
  // memory comes from a pool: once a warm run's outputs are let go, the next run reuses them
  // (finish any work of your own on a device tensor before letting go of it).
  bool outputs_on_device = false;
  // With outputs_on_device: converted to float32 on the device, instead of left in the dtype the
  // device keeps values in (CompiledModel::storage_dtype(): float16 under fp16). The C API's
  // device outputs are float32.
  bool outputs_as_float32 = false;
  // When set, receives the run's time in milliseconds on the device's own clock (CUDA events
  // around the run's work on a GPU; the wall clock on the host), without the copies of host
  // inputs and outputs.
  double* device_time_ms = nullptr;
  // When set, receives one entry per node, in execution order, with the time each took. A
  // profiled run waits for every node and records no CUDA Graphs, so it is a little slower than
  // an ordinary run; runs without it pay nothing.
  std::vector<NodeProfile>* profile = nullptr;
};

class CompiledModel;
struct ModelData;

// One top-level Keras layer's outputs, from Model::trace().
struct LayerOutputs {
  std::string name;
  std::vector<Tensor> outputs;
};

// A loaded (or built) model: its graph and weights, ready to compile. Cheap to copy.
class Model {
 public:
  // Inputs and outputs in Keras's order (the order run() takes and returns them).
  const std::vector<TensorInfo>& inputs() const;
  const std::vector<TensorInfo>& outputs() const;
  // Top-level layers in summary order, with Keras's parameter counts.
  const std::vector<LayerInfo>& layers() const;
  int64_t param_count() const;  // Keras's count_params(): every stored variable
  const std::string& name() const;
  // The table Keras's model.summary() prints: layer, output shape, params; totals.
  std::string summary() const;
  // Runs the graph passes and prepares kernels; the result may be run many times, from many
  // threads. Compiling again is cheap but gives a separate plan and memory pool.
  CompiledModel compile(const CompileOptions& options = {}) const;
  // Runs the graph as imported, with the reference kernels, and returns every top-level
  // layer's outputs in summary order: for checking a model against Keras layer by layer.
  std::vector<LayerOutputs> trace(const std::vector<Tensor>& inputs) const;
  // The weights the engine holds for a layer, in Keras's variable order (kernel, bias, ...).
  // Layers folded at import (BatchNormalization) hold their folded scale and shift.
  std::vector<Tensor> layer_weights(const std::string& layer_name) const;

  // For the loader, the builder and tools inside the project: ModelData is not a public type.
  explicit Model(std::shared_ptr<const ModelData> data);
  const ModelData& data() const { return *data_; }

 private:
  std::shared_ptr<const ModelData> data_;
};

// A Keras layer class kerasrt can import, with the options it supports.
struct SupportedLayer {
  std::string class_name;
  std::string notes;
};
// Every supported Keras layer class (aliases included), sorted by name.
std::vector<SupportedLayer> supported_layers();

// Loads a Keras model: `.keras` (Keras 3 zip), legacy full-model `.h5` (Keras 1.x to 3.x) or a
// TF.js layers model (`model.json` with its weight shards beside it). Computes what the Keras
// that wrote the file computed. Throws krt::Error naming the file and, where relevant, the layer.
Model load(const std::string& path, const LoadOptions& options = {});
// Loads an architecture JSON (`model.to_json()`) with the weights `save_weights` wrote to .h5.
Model load(const std::string& json_path, const std::string& weights_path,
           const LoadOptions& options = {});
// Loads a `.keras` or legacy `.h5` model from bytes in memory (an embedded resource, a download).
// The bytes are copied, so the caller may free them on return; `name` stands for the file in
// error messages. (A TF.js model.json names weight shards beside it: load it from its file.)
Model load_from_memory(const void* data, size_t size, const std::string& name = "<memory>",
                       const LoadOptions& options = {});

struct ExecutionPlan;

// A model compiled for one device. run() may be called from many threads at once.
class CompiledModel {
 public:
  // Inputs in the model's input order; the batch (and any dynamic dims) come from them.
  // Returns the outputs in the model's output order, as tensors that own their storage.
  std::vector<Tensor> run(const std::vector<Tensor>& inputs, const RunOptions& options = {}) const;
  // Where it runs, as compiled.
  const CompileOptions& options() const;
  // A copy of a host tensor in the device's memory for run(), as float32 or as `dtype` (f16 or
  // bf16), and a host copy of a device tensor (as float32). On host devices both are plain
  // copies. run() reads a device input in place when it is in storage_dtype(), and converts it
  // on the device (inside the recorded run) when it is another float dtype.
  Tensor upload(const Tensor& host, DType dtype = DType::f32) const;
  Tensor download(const Tensor& device_tensor) const;
  // The dtype the device keeps values in at this precision: f16 under fp16, bf16 under bf16,
  // f32 otherwise (and on host devices). Device outputs (RunOptions::outputs_on_device) come
  // back in it.
  DType storage_dtype() const;
  // Plans memory for the given input shapes and reports it (run() does this on demand).
  CompileReport plan_for(const std::vector<Shape>& input_shapes) const;
  const CompileReport& report() const;
  const std::vector<TensorInfo>& inputs() const;
  const std::vector<TensorInfo>& outputs() const;

  explicit CompiledModel(std::shared_ptr<const ExecutionPlan> plan);

 private:
  std::shared_ptr<const ExecutionPlan> plan_;
};

}  // namespace krt
