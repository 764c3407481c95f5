// y (rows, N) = act(x (rows, K) @ w (K, N) + bias) on the GPU, row-major, for Dense, 1x1 and
// im2col convolutions: our GEMV for a few rows (batch 1 reads the weights at memory speed),
// cuBLASLt with the bias/ReLU epilogue otherwise (its algorithm chosen once per row count and
// pointer alignment, then cached), our epilogue kernel for other activations, and our tiled
// GEMM where cuBLASLt offers no algorithm. With KERASRT_CUDA_MMA=1, in f16/bf16, our
// tensor-core GEMM is timed against cuBLASLt too and kept where faster (opt-in: see mma_mode).
#pragma once

#include <cublasLt.h>

#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <vector>

#include "backends/cuda/cuda_activation.h"
#include "backends/cuda/cuda_context.h"

namespace krt::cuda {

// The part of the run workspace a GEMM may use (the rest is free for im2col columns).
constexpr size_t kGemmWorkspaceBytes = size_t{16} << 20;

ActParams act_params(const Activation& a);

class Gemm {
 public:
  // `kernel` is the host (K, N) f32 matrix; `bias` a host (N) f32 vector or null.
  Gemm(const Tensor& kernel, const Tensor* bias, const Activation& act,
       const CompileOptions& options);
  // The same, with weights already on the device in `dtype` (w) and f32 (bias_f32), bias in
  // `dtype` for the cuBLASLt epilogue (bias_storage); the Gemm keeps them alive.
  Gemm(int64_t K, int64_t N, std::shared_ptr<void> w, std::shared_ptr<void> bias_f32,
       std::shared_ptr<void> bias_storage, const Activation& act, DType dtype, Precision precision);
  ~Gemm();
  Gemm(const Gemm&) = delete;
  Gemm& operator=(const Gemm&) = delete;

  // Enqueues on the context's stream; uses the first kGemmWorkspaceBytes of its workspace.
  void run(CudaRunContext& context, const void* x, void* y, int64_t rows) const;

  int64_t K() const { return K_; }
  int64_t N() const { return N_; }
  DType dtype() const { return dtype_; }
  const void* weights() const { return w_.get(); }
  const float* bias_f32() const { return static_cast<const float*>(bias_f32_.get()); }
  const ActParams& activation() const { return act_; }

 private:
  struct Plan;
  const Plan& plan_for(CudaRunContext& context, int64_t rows, const void* x, void* y) const;
  cublasStatus_t matmul(CudaRunContext& context, const Plan& plan, const cublasLtMatmulAlgo_t& algo,
                        const void* x, void* y) const;
  cublasLtMatmulAlgo_t fastest(CudaRunContext& context, const Plan& plan,
                               const std::vector<cublasLtMatmulAlgo_t>& algos, const void* x,
                               void* y, float* best_ms) const;
  void run_gemv(CudaRunContext& context, const void* x, void* y, int64_t rows) const;
  void run_mma(CudaRunContext& context, const void* x, void* y, int64_t rows) const;

  int64_t K_ = 0, N_ = 0;
  std::shared_ptr<void> w_, bias_f32_, bias_storage_;
  ActParams act_;
  DType dtype_ = DType::f32;
  Precision precision_ = Precision::fp32;

  // (rows, alignment of x, alignment of y) -> plan; plans live as long as the Gemm.
  mutable std::mutex mutex_;
  mutable std::map<std::tuple<int64_t, int, int>, std::unique_ptr<Plan>> plans_;
};

}  // namespace krt::cuda
