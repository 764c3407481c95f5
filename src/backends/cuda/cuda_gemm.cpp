#include "backends/cuda/cuda_gemm.h"

#include <cstdlib>
#include <string>

#include "backends/cuda/cuda_check.h"
#include "backends/cuda/cuda_matmul_kernels.h"
#include "core/check.h"

namespace krt::cuda {

namespace {

DType storage_of(Precision precision) {
  return precision == Precision::fp16   ? DType::f16
         : precision == Precision::bf16 ? DType::bf16
                                        : DType::f32;
}

cudaDataType_t cuda_type(DType dtype) {
  switch (dtype) {
    case DType::f16:
      return CUDA_R_16F;
    case DType::bf16:
      return CUDA_R_16BF;
    default:
      return CUDA_R_32F;
  }
}

constexpr int kAlgoCandidates = 8;  // cuBLASLt suggestions timed on a row count's first run

// The largest power of two (up to 256) dividing the address: cuBLASLt must know it.
uint32_t alignment_of(const void* p) {
  const auto a = reinterpret_cast<uintptr_t>(p);
  uint32_t align = 256;
  while (align > 1 && a % align != 0) align /= 2;
  return align;
}

// Plain ReLU (no cap, threshold or slope): what cuBLASLt's RELU epilogue computes.
bool plain_relu(const ActParams& a) {
  return a.kind == ActivationKind::relu && a.max_value < 0.f && a.threshold == 0.f &&
         a.negative_slope == 0.f;
}

// GPU time in ms of three calls of `call` (which returns false where it cannot run) after one
// warm-up, or -1 where it cannot be timed (inside a CUDA Graph capture, or call failed).
template <class Call>
float time_three_calls(CudaRunContext& context, const Call& call) {
  cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
  if (cudaStreamIsCapturing(context.stream(), &capture) != cudaSuccess ||
      capture != cudaStreamCaptureStatusNone)
    return -1.f;
  cudaEvent_t start = nullptr, stop = nullptr;
  check_cuda(cudaEventCreate(&start), "cudaEventCreate");
  check_cuda(cudaEventCreate(&stop), "cudaEventCreate");
  float ms = -1.f;
  if (call()) {
    check_cuda(cudaEventRecord(start, context.stream()), "cudaEventRecord");
    for (int r = 0; r < 3; ++r) call();
    check_cuda(cudaEventRecord(stop, context.stream()), "cudaEventRecord");
    check_cuda(cudaEventSynchronize(stop), "timing GEMM candidates");
    check_cuda(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return ms;
}

}  // namespace

ActParams act_params(const Activation& a) {
  ActParams p;
  p.kind = a.kind;
  p.alpha = a.alpha;
  p.max_value = a.max_value;
  p.threshold = a.threshold;
  p.negative_slope = a.negative_slope;
  return p;
}

struct Gemm::Plan {
  bool use_lt = false;    // cuBLASLt; else our tiled GEMM (which applies bias and activation)
  bool use_gemv = false;  // our GEMV timed faster than cuBLASLt (a few rows past kGemvMaxRows)
  bool use_mma = false;   // our tensor-core GEMM (timed faster, or forced, or no cuBLASLt)
  bool bias_in_epilogue = false;
  bool act_after = false;  // our epilogue kernel applies the activation (and bias if not fused)
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, d = nullptr;
  cublasLtMatmulAlgo_t algo{};

  Plan() = default;
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;
  ~Plan() {
    if (d) cublasLtMatrixLayoutDestroy(d);
    if (b) cublasLtMatrixLayoutDestroy(b);
    if (a) cublasLtMatrixLayoutDestroy(a);
    if (desc) cublasLtMatmulDescDestroy(desc);
  }
};

Gemm::Gemm(const Tensor& kernel, const Tensor* bias, const Activation& act,
           const CompileOptions& options)
    : K_(kernel.dim(0)),
      N_(kernel.dim(1)),
      act_(act_params(act)),
      dtype_(storage_of(options.precision)),
      precision_(options.precision) {
  const int device = options.device.index;
  w_ = upload_as(kernel, dtype_, device);
  if (bias) {
    bias_f32_ = upload_as(*bias, DType::f32, device);
    bias_storage_ = upload_as(*bias, dtype_, device);
  }
}

Gemm::Gemm(int64_t K, int64_t N, std::shared_ptr<void> w, std::shared_ptr<void> bias_f32,
           std::shared_ptr<void> bias_storage, const Activation& act, DType dtype,
           Precision precision)
    : K_(K),
      N_(N),
      w_(std::move(w)),
      bias_f32_(std::move(bias_f32)),
      bias_storage_(std::move(bias_storage)),
      act_(act_params(act)),
      dtype_(dtype),
      precision_(precision) {}

Gemm::~Gemm() = default;

const Gemm::Plan& Gemm::plan_for(CudaRunContext& context, int64_t rows, const void* x,
                                 void* y) const {
  const uint32_t ax = alignment_of(x), ay = alignment_of(y);
  const auto key = std::make_tuple(rows, static_cast<int>(ax), static_cast<int>(ay));
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = plans_.find(key);
  if (it != plans_.end()) return *it->second;

  auto plan = std::make_unique<Plan>();
  const cublasComputeType_t compute =
      precision_ == Precision::tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  check_cublas(cublasLtMatmulDescCreate(&plan->desc, compute, CUDA_R_32F),
               "cublasLtMatmulDescCreate");
  const cublasOperation_t op_n = CUBLAS_OP_N;
  check_cublas(
      cublasLtMatmulDescSetAttribute(plan->desc, CUBLASLT_MATMUL_DESC_TRANSA, &op_n, sizeof(op_n)),
      "cublasLtMatmulDescSetAttribute (transa)");
  check_cublas(
      cublasLtMatmulDescSetAttribute(plan->desc, CUBLASLT_MATMUL_DESC_TRANSB, &op_n, sizeof(op_n)),
      "cublasLtMatmulDescSetAttribute (transb)");
  const bool has_bias = bias_storage_ != nullptr;
  const bool relu = plain_relu(act_);
  cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_DEFAULT;
  if (has_bias)
    epilogue = relu ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_BIAS;
  else if (relu)
    epilogue = CUBLASLT_EPILOGUE_RELU;
  plan->bias_in_epilogue = has_bias;
  plan->act_after = !relu && act_.kind != ActivationKind::linear;
  check_cublas(cublasLtMatmulDescSetAttribute(plan->desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue,
                                              sizeof(epilogue)),
               "cublasLtMatmulDescSetAttribute (epilogue)");
  if (has_bias) {
    const void* bias = bias_storage_.get();
    check_cublas(cublasLtMatmulDescSetAttribute(plan->desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER,
                                                &bias, sizeof(bias)),
                 "cublasLtMatmulDescSetAttribute (bias)");
  }
  // Row-major y = x @ w is column-major y^T (N, rows) = w^T (N, K) @ x^T (K, rows).
  const cudaDataType_t t = cuda_type(dtype_);
  const auto K = static_cast<uint64_t>(K_), N = static_cast<uint64_t>(N_),
             M = static_cast<uint64_t>(rows);
  check_cublas(cublasLtMatrixLayoutCreate(&plan->a, t, N, K, static_cast<int64_t>(N)),
               "cublasLtMatrixLayoutCreate");
  check_cublas(cublasLtMatrixLayoutCreate(&plan->b, t, K, M, static_cast<int64_t>(K)),
               "cublasLtMatrixLayoutCreate");
  check_cublas(cublasLtMatrixLayoutCreate(&plan->d, t, N, M, static_cast<int64_t>(N)),
               "cublasLtMatrixLayoutCreate");

  cublasLtMatmulPreference_t pref = nullptr;
  check_cublas(cublasLtMatmulPreferenceCreate(&pref), "cublasLtMatmulPreferenceCreate");
  const uint64_t workspace = kGemmWorkspaceBytes;
  const uint32_t aw = alignment_of(w_.get());
  cublasStatus_t status = cublasLtMatmulPreferenceSetAttribute(
      pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace, sizeof(workspace));
  if (status == CUBLAS_STATUS_SUCCESS)
    status = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES,
                                                  &aw, sizeof(aw));
  if (status == CUBLAS_STATUS_SUCCESS)
    status = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
                                                  &ax, sizeof(ax));
  if (status == CUBLAS_STATUS_SUCCESS)
    status = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES,
                                                  &ay, sizeof(ay));
  if (status == CUBLAS_STATUS_SUCCESS)
    status = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES,
                                                  &ay, sizeof(ay));
  cublasLtMatmulHeuristicResult_t results[kAlgoCandidates]{};
  int count = 0;
  if (status == CUBLAS_STATUS_SUCCESS)
    status =
        cublasLtMatmulAlgoGetHeuristic(context.cublaslt(), plan->desc, plan->a, plan->b, plan->d,
                                       plan->d, pref, kAlgoCandidates, results, &count);
  cublasLtMatmulPreferenceDestroy(pref);
  std::vector<cublasLtMatmulAlgo_t> algos;
  for (int i = 0; status == CUBLAS_STATUS_SUCCESS && i < count; ++i)
    if (results[i].state == CUBLAS_STATUS_SUCCESS) algos.push_back(results[i].algo);
  // Our tensor-core GEMM where it applies (f16/bf16, aligned) and asked for: timed or forced.
  const MmaMode mode = mma_mode();
  const bool mma = (mode == MmaMode::timed || mode == MmaMode::forced) &&
                   mma_gemm_supported(x, w_.get(), y, K_, N_, dtype_);
  if (mma && mode == MmaMode::forced) {
    plan->use_mma = true;
  } else if (!algos.empty()) {
    plan->use_lt = true;
    // Up to kGemvTimedRows rows our GEMV (weights re-read from L2 per four rows) often beats
    // cuBLASLt's kernels on such skinny shapes, and our tensor-core GEMM (launched with PDL)
    // often does on small ones: each is timed the same way and kept if faster.
    const bool try_gemv = rows <= kGemvTimedRows;
    float lt_ms = -1.f;
    plan->algo = fastest(context, *plan, algos, x, y, try_gemv || mma ? &lt_ms : nullptr);
    if (lt_ms > 0.f && plan->act_after)  // cuBLASLt's time includes our activation pass
      lt_ms += time_three_calls(context, [&] {
        launch_bias_act(y, nullptr, rows, N_, act_, dtype_, context.stream());
        return true;
      });
    float best_ms = lt_ms;
    auto faster = [&](auto&& call) {
      const float ms = time_three_calls(context, [&] {
        call();
        return true;
      });
      if (ms < 0.f || ms >= best_ms) return false;
      best_ms = ms;
      return true;
    };
    if (try_gemv && lt_ms > 0.f && faster([&] { run_gemv(context, x, y, rows); }))
      plan->use_gemv = true;
    if (mma && lt_ms > 0.f && faster([&] { run_mma(context, x, y, rows); }))
      plan->use_gemv = false, plan->use_mma = true;
  } else {
    plan->use_mma = mma;  // no cuBLASLt algorithm: ours on tensor cores, else the tiled GEMM
  }
  const Plan& out = *plan;
  plans_.emplace(key, std::move(plan));
  return out;
}

cublasStatus_t Gemm::matmul(CudaRunContext& context, const Plan& plan,
                            const cublasLtMatmulAlgo_t& algo, const void* x, void* y) const {
  const float alpha = 1.f, beta = 0.f;
  return cublasLtMatmul(context.cublaslt(), plan.desc, &alpha, w_.get(), plan.a, x, plan.b, &beta,
                        y, plan.d, y, plan.d, &algo, context.workspace(), kGemmWorkspaceBytes,
                        context.stream());
}

// cuBLASLt's first suggestion is often not its fastest on the skinny and half-precision shapes
// of small models, so the first (eager) run of a row count times each suggestion on its own
// buffers and keeps the fastest; its time goes to *best_ms where asked for (-1 if untimed).
// A lone suggestion is timed only then. Inside a CUDA Graph capture nothing can be timed: the
// first suggestion stands.
cublasLtMatmulAlgo_t Gemm::fastest(CudaRunContext& context, const Plan& plan,
                                   const std::vector<cublasLtMatmulAlgo_t>& algos, const void* x,
                                   void* y, float* best_ms) const {
  if (algos.size() == 1 && !best_ms) return algos[0];
  size_t best = 0;
  float best_time = -1.f;
  for (size_t i = 0; i < algos.size(); ++i) {
    const float ms = time_three_calls(
        context, [&] { return matmul(context, plan, algos[i], x, y) == CUBLAS_STATUS_SUCCESS; });
    if (ms >= 0.f && (best_time < 0.f || ms < best_time)) best_time = ms, best = i;
  }
  if (best_ms) *best_ms = best_time;
  return algos[best];
}

MmaMode mma_mode() {
  const char* v = std::getenv("KERASRT_CUDA_MMA");
  const std::string mode = v ? v : "conv";
  if (mode == "0") return MmaMode::off;
  return mode == "1" ? MmaMode::timed : mode == "force" ? MmaMode::forced : MmaMode::conv;
}

namespace {

// The parts of a split K go where cuBLASLt's workspace is: nothing else of the stream uses it
// meanwhile.
GemvScratch split_scratch(CudaRunContext& context) {
  GemvScratch scratch;
  scratch.partial = static_cast<float*>(context.workspace());
  scratch.partial_bytes = kGemmWorkspaceBytes;
  scratch.counters = context.gemv_tickets();
  scratch.counter_count = CudaRunContext::kGemvTickets;
  return scratch;
}

}  // namespace

void Gemm::run_gemv(CudaRunContext& context, const void* x, void* y, int64_t rows) const {
  launch_gemv_bias_act(x, w_.get(), bias_f32(), y, rows, K_, N_, act_, dtype_,
                       split_scratch(context), context.stream());
}

void Gemm::run_mma(CudaRunContext& context, const void* x, void* y, int64_t rows) const {
  launch_mma_gemm_bias_act(x, w_.get(), bias_f32(), y, rows, K_, N_, act_, dtype_,
                           split_scratch(context), context.stream());
}

void Gemm::run(CudaRunContext& context, const void* x, void* y, int64_t rows) const {
  if (rows <= 0) return;
  const auto* bias = static_cast<const float*>(bias_f32_.get());
  if (rows <= kGemvMaxRows) {
    run_gemv(context, x, y, rows);
    return;
  }
  const Plan& plan = plan_for(context, rows, x, y);
  if (plan.use_gemv) {
    run_gemv(context, x, y, rows);
    return;
  }
  if (plan.use_mma) {
    run_mma(context, x, y, rows);
    return;
  }
  if (!plan.use_lt) {
    launch_gemm_bias_act(x, w_.get(), bias, y, rows, K_, N_, act_, dtype_, context.stream());
    return;
  }
  check_cublas(matmul(context, plan, plan.algo, x, y), "cublasLtMatmul");
  if (plan.act_after)
    launch_bias_act(y, plan.bias_in_epilogue ? nullptr : bias, rows, N_, act_, dtype_,
                    context.stream());
}

}  // namespace krt::cuda
