// The one seam between the runtime and the devices. A backend (reference, cpu, cuda, ...)
// says what it supports, which passes it wants, prepares a kernel per node at compile time
// (weights packed or uploaded once), allocates its memory, copies to and from the host, and
// opens a run context (threads, stream, scratch) per run. The runtime names no device: it
// finds backends in the registry by name (runtime/backend_registry.h).
#pragma once

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "kerasrt/model.h"

namespace krt {

// The state of one run on one backend: its stream, threads and scratch memory. Contexts are
// pooled with their arenas, so a context's scratch and recorded graphs stay valid between runs.
class RunContext {
 public:
  virtual ~RunContext() = default;
  RunContext() = default;
  RunContext(const RunContext&) = delete;
  RunContext& operator=(const RunContext&) = delete;
  // Called at the start of every run on the calling thread (a CPU backend sets its threads).
  virtual void begin_run() {}
  // begin_run, for a run whose host kernels use `threads` threads rather than the compiled
  // count (sub-batches running side by side, one per thread). Device backends ignore it.
  virtual void begin_run_on_threads(int /*threads*/) { begin_run(); }
  // Waits until everything enqueued in this context is done (device backends).
  virtual void synchronize() {}
  // The run's own clock: mark the start and the end of its work; elapsed_ms (after
  // synchronize) is the time between, on the device's clock (CUDA events on a GPU).
  virtual void mark_start();
  virtual void mark_end();
  virtual double elapsed_ms();

  // Graph capture (CUDA Graphs): a segment of consecutive steps on this backend, identified
  // by `key` (which names the input shapes and arena addresses), is recorded once and replayed.
  // replay() returns true when it launched a recording for `key`; otherwise the runtime calls
  // begin_recording(key), runs the segment's steps, then end_recording(), which launches it.
  // Whether it records at all: the runtime builds no keys for contexts that do not (host runs).
  virtual bool records() const { return false; }
  virtual bool replay(const std::string& /*key*/) { return false; }
  virtual void begin_recording(const std::string& /*key*/) {}
  virtual void end_recording() {}

 private:
  std::chrono::steady_clock::time_point start_, end_;
};

// A node's kernel, prepared once at compile time. run() may be called from many threads at once
// (each with its own context). Inputs and outputs live in the backend's memory, with concrete
// shapes; outputs are preallocated and never overlap inputs (views excepted).
class NodeKernel {
 public:
  virtual ~NodeKernel() = default;
  virtual void run(RunContext& context, std::span<const Tensor> inputs,
                   std::span<Tensor> outputs) const = 0;
  // A short description for reports and tests ("onednn convolution", "reference").
  virtual std::string describe() const = 0;
};

// Whether a backend runs a node, and if not, why (reported by compile and `kerasrt summary`).
struct Support {
  bool supported = true;
  std::string reason;
  static Support yes() { return {true, ""}; }
  static Support no(std::string why) { return {false, std::move(why)}; }
};

class Backend {
 public:
  virtual ~Backend() = default;
  // The registry name users write ("cpu", "reference", "cuda").
  virtual std::string name() const = 0;
  virtual std::string description() const = 0;
  // "" when it can run on this machine; otherwise why not ("no CUDA device found").
  virtual std::string unavailable_reason() const { return ""; }
  // Where its memory lives: "host" for CPU backends, else its own name (device memory).
  virtual MemoryLocation memory(int device_index) const {
    (void)device_index;
    return {};
  }
  virtual std::vector<Precision> precisions() const { return {Precision::fp32}; }
  // The hardware of device `index` (a GPU's name); the host CPU's model name by default.
  virtual std::string device_name(int index) const;
  // The passes it wants: folding BatchNormalization and activations into the Dense/Conv
  // before them (fast backends), or none (the reference backend keeps one layer per kernel).
  virtual bool wants_fusion() const { return false; }

  // Whether it runs `node` (op, dtypes, shapes with dynamic dims) in this precision.
  virtual Support supports(const Node& node, const Graph& graph,
                           const CompileOptions& options) const = 0;
  // The node's kernel, with its weights packed or uploaded. Only for supported nodes. The
  // node and graph outlive the kernel.
  virtual std::unique_ptr<NodeKernel> prepare(const Node& node, const Graph& graph,
                                              const CompileOptions& options) const = 0;

  // A run's context on device `options.device.index`.
  virtual std::unique_ptr<RunContext> open_run(const CompileOptions& options) const;
  // `bytes` of its memory (an arena, a device output); freed when the last owner lets go.
  virtual std::shared_ptr<void> allocate(size_t bytes, int device_index) const;
  // The dtype its values are stored in at a precision: f32, or f16/bf16 for those precisions.
  virtual DType storage_dtype(Precision precision) const {
    (void)precision;
    return DType::f32;
  }

  // Copies between its memory and the host, converting the dtype where the two differ (same
  // shape), ordered with the context's other work; host memory given here stays valid until
  // the context is synchronized.
  virtual void copy_from_host(RunContext& context, const Tensor& host_src,
                              Tensor& device_dst) const;
  virtual void copy_to_host(RunContext& context, const Tensor& device_src, Tensor& host_dst) const;
  // Copies within its own memory (outputs handed to the caller on the device).
  virtual void copy_within(RunContext& context, const Tensor& src, Tensor& dst) const;
};

// Host memory, 64-byte aligned and uninitialized (the host backends' allocator).
std::shared_ptr<void> allocate_host(size_t bytes);

}  // namespace krt
