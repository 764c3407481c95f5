// The CUDA backend's run context and the base of its kernels. One context per concurrent run:
// its own stream, cuBLASLt handle and workspace, so runs from several threads never
// share mutable state. Contexts are pooled with their arenas, so the addresses a recorded CUDA
// Graph holds stay valid when it is replayed.
#pragma once

#include <cublasLt.h>
#include <cuda_runtime.h>

#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>

#include "runtime/backend.h"

namespace krt::cuda {

class CudaRunContext : public RunContext {
 public:
  // The fixed scratch every kernel of a run may use (cuBLASLt's workspace included).
  // Fixed so that it exists before any recording starts and never moves.
  static constexpr size_t kWorkspaceBytes = size_t{64} << 20;

  explicit CudaRunContext(int device);
  ~CudaRunContext() override;

  void begin_run() override;
  void synchronize() override;
  bool records() const override { return true; }
  bool replay(const std::string& key) override;
  void begin_recording(const std::string& key) override;
  void end_recording() override;
  void mark_start() override;
  void mark_end() override;
  double elapsed_ms() override;

  int device() const { return device_; }
  cudaStream_t stream() const { return stream_; }
  cublasLtHandle_t cublaslt() const { return cublaslt_; }
  void* workspace() const { return workspace_; }
  // Zeroed counters for kernels whose blocks take tickets (the split-K GEMV); each kernel
  // leaves them 0, so they stay valid across runs and graph replays.
  static constexpr int64_t kGemvTickets = 4096;
  unsigned* gemv_tickets() const { return tickets_; }
  size_t workspace_bytes() const { return kWorkspaceBytes; }
  // Device memory of at least `bytes` for converting copies (grown outside recordings only:
  // copies are never recorded).
  void* staging(size_t bytes);

 private:
  int device_;
  cudaStream_t stream_ = nullptr;
  cublasLtHandle_t cublaslt_ = nullptr;
  void* workspace_ = nullptr;
  unsigned* tickets_ = nullptr;
  cudaEvent_t start_ = nullptr, end_ = nullptr;
  void* staging_ = nullptr;
  size_t staging_bytes_ = 0;
  // A segment runs eagerly the first time its key is seen (kernels may set themselves up for
  // a new shape then: allocate, choose algorithms), and is recorded the second time.
  std::set<std::string> seen_;
  std::map<std::string, cudaGraphExec_t> recordings_;
  std::string recording_;  // the key being captured, or ""
};

// A node's CUDA kernel. Kernels enqueue work on the context's stream and never synchronize.
// Per-shape setup (algorithm choice, descriptors) happens on a shape's first, eager run, is
// kept for the kernel's lifetime (recorded graphs refer to it) and guarded by a mutex, since
// runs from several threads share the kernel.
class CudaKernel : public NodeKernel {
 public:
  void run(RunContext& context, std::span<const Tensor> inputs,
           std::span<Tensor> outputs) const final {
    run_cuda(static_cast<CudaRunContext&>(context), inputs, outputs);
  }
  virtual void run_cuda(CudaRunContext& context, std::span<const Tensor> inputs,
                        std::span<Tensor> outputs) const = 0;
};

// Device memory holding a host tensor's bytes (weights, uploaded once at compile time).
std::shared_ptr<void> upload(const void* host, size_t bytes, int device);
// A host f32 tensor uploaded, converted to `dtype` (f32, f16 or bf16) first.
std::shared_ptr<void> upload_as(const Tensor& host, DType dtype, int device);
// `bytes` of device memory, freed when the last owner lets go.
std::shared_ptr<void> device_alloc(size_t bytes, int device);
// The same from a pool: when the last owner lets go the buffer is kept (up to kPooledBytes in
// all) for the next request of the same size on the same device, so a run that hands its
// outputs to the caller in device memory allocates nothing once warm. For what runs allocate
// (outputs, uploads, run arenas), not for weights.
constexpr size_t kPooledBytes = size_t{256} << 20;
std::shared_ptr<void> pooled_device_alloc(size_t bytes, int device);

}  // namespace krt::cuda
