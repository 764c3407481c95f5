#include "backends/cuda/cuda_context.h"

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "backends/cuda/cuda_check.h"
#include "backends/cuda/cuda_convert.h"
#include "core/check.h"

namespace krt::cuda {

void throw_cuda_error(const char* library, const std::string& what, const std::string& message) {
  fail(ErrorCode::internal, library, " error in ", what, ": ", message);
}

bool programmatic_launch_enabled() {
  static const bool allowed = [] {
    const char* env = std::getenv("KERASRT_CUDA_PDL");
    return !(env && std::string(env) == "0");
  }();
  constexpr int kDevices = 64;
  static std::atomic<int8_t> capable[kDevices] = {};  // 0 unknown, 1 yes, -1 no
  int device = 0;
  if (!allowed || cudaGetDevice(&device) != cudaSuccess || device < 0 || device >= kDevices)
    return false;
  int8_t known = capable[device].load(std::memory_order_relaxed);
  if (known == 0) {
    int major = 0;
    cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device);
    known = major >= 9 ? 1 : -1;
    capable[device].store(known, std::memory_order_relaxed);
  }
  return known > 0;
}

CudaRunContext::CudaRunContext(int device) : device_(device) {
  check_cuda(cudaSetDevice(device), "cudaSetDevice");
  check_cuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
  check_cublas(cublasLtCreate(&cublaslt_), "cublasLtCreate");
  check_cuda(cudaMalloc(&workspace_, kWorkspaceBytes), "cudaMalloc (run workspace)");
  check_cuda(cudaMalloc(&tickets_, kGemvTickets * sizeof(unsigned)), "cudaMalloc (tickets)");
  check_cuda(cudaMemset(tickets_, 0, kGemvTickets * sizeof(unsigned)), "cudaMemset (tickets)");
  check_cuda(cudaEventCreate(&start_), "cudaEventCreate");
  check_cuda(cudaEventCreate(&end_), "cudaEventCreate");
}

void CudaRunContext::mark_start() {
  check_cuda(cudaEventRecord(start_, stream_), "cudaEventRecord");
}
void CudaRunContext::mark_end() { check_cuda(cudaEventRecord(end_, stream_), "cudaEventRecord"); }
double CudaRunContext::elapsed_ms() {
  float ms = 0;
  check_cuda(cudaEventElapsedTime(&ms, start_, end_), "cudaEventElapsedTime");
  return ms;
}

CudaRunContext::~CudaRunContext() {
  // Errors are ignored here: a destructor cannot report them, and the process may be ending.
  if (!recording_.empty()) {  // a kernel threw while its segment was being captured
    cudaGraph_t graph = nullptr;
    if (cudaStreamEndCapture(stream_, &graph) == cudaSuccess && graph) cudaGraphDestroy(graph);
  }
  if (stream_) cudaStreamSynchronize(stream_);
  for (auto& [key, exec] : recordings_) cudaGraphExecDestroy(exec);
  if (start_) cudaEventDestroy(start_);
  if (end_) cudaEventDestroy(end_);
  if (staging_) cudaFree(staging_);
  if (workspace_) cudaFree(workspace_);
  if (tickets_) cudaFree(tickets_);
  if (cublaslt_) cublasLtDestroy(cublaslt_);
  if (stream_) cudaStreamDestroy(stream_);
}

void CudaRunContext::begin_run() { check_cuda(cudaSetDevice(device_), "cudaSetDevice"); }

void CudaRunContext::synchronize() {
  check_cuda(cudaStreamSynchronize(stream_), "the run's kernels");
}

void* CudaRunContext::staging(size_t bytes) {
  if (bytes > staging_bytes_) {
    check_cuda(cudaStreamSynchronize(stream_), "the run's kernels");
    if (staging_) check_cuda(cudaFree(staging_), "cudaFree");
    staging_ = nullptr;
    check_cuda(cudaMalloc(&staging_, bytes), "cudaMalloc (staging)");
    staging_bytes_ = bytes;
  }
  return staging_;
}

bool CudaRunContext::replay(const std::string& key) {
  auto it = recordings_.find(key);
  if (it == recordings_.end()) return false;
  check_cuda(cudaGraphLaunch(it->second, stream_), "cudaGraphLaunch");
  return true;
}

void CudaRunContext::begin_recording(const std::string& key) {
  if (seen_.insert(key).second) return;  // first time: run eagerly, so kernels can set up
  if (recordings_.size() >= 64) {        // bound it for callers with ever-changing shapes
    check_cuda(cudaStreamSynchronize(stream_), "the run's kernels");
    for (auto& [k, exec] : recordings_) cudaGraphExecDestroy(exec);
    recordings_.clear();
  }
  check_cuda(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal),
             "cudaStreamBeginCapture");
  recording_ = key;
}

void CudaRunContext::end_recording() {
  if (recording_.empty()) return;
  const std::string key = std::move(recording_);
  recording_.clear();
  cudaGraph_t graph = nullptr;
  check_cuda(cudaStreamEndCapture(stream_, &graph), "cudaStreamEndCapture");
  cudaGraphExec_t exec = nullptr;
  cudaError_t status = cudaGraphInstantiate(&exec, graph, 0);
  cudaGraphDestroy(graph);
  check_cuda(status, "cudaGraphInstantiate");
  recordings_[key] = exec;
  check_cuda(cudaGraphLaunch(exec, stream_), "cudaGraphLaunch");
}

namespace {

// `bytes` (at least 1) of fresh device memory on `device`, the caller to free it.
void* malloc_on(size_t bytes, int device) {
  check_cuda(cudaSetDevice(device), "cudaSetDevice");
  void* p = nullptr;
  check_cuda(cudaMalloc(&p, bytes ? bytes : 1), "cudaMalloc");
  return p;
}

}  // namespace

std::shared_ptr<void> device_alloc(size_t bytes, int device) {
  return std::shared_ptr<void>(malloc_on(bytes, device), [](void* q) { cudaFree(q); });
}

namespace {

// Buffers given back, by (device, bytes). Never destroyed: tensors may outlive every static.
class BufferPool {
 public:
  std::shared_ptr<void> take(size_t bytes, int device) {
    bytes = bytes ? bytes : 1;
    void* p = nullptr;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = free_.find({device, bytes});
      if (it != free_.end()) {
        p = it->second;
        free_.erase(it);
        free_bytes_ -= bytes;
      }
    }
    if (!p) p = malloc_on(bytes, device);
    return std::shared_ptr<void>(p,
                                 [this, bytes, device](void* q) { give_back(q, bytes, device); });
  }

 private:
  void give_back(void* p, size_t bytes, int device) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (free_bytes_ + bytes <= kPooledBytes) {
        free_.emplace(std::make_pair(device, bytes), p);
        free_bytes_ += bytes;
        return;
      }
    }
    cudaFree(p);
  }

  std::mutex mutex_;
  std::multimap<std::pair<int, size_t>, void*> free_;
  size_t free_bytes_ = 0;
};

}  // namespace

std::shared_ptr<void> pooled_device_alloc(size_t bytes, int device) {
  static BufferPool* pool = new BufferPool;  // never destroyed (see BufferPool)
  return pool->take(bytes, device);
}

std::shared_ptr<void> upload(const void* host, size_t bytes, int device) {
  std::shared_ptr<void> d = device_alloc(bytes, device);
  if (bytes)
    check_cuda(cudaMemcpy(d.get(), host, bytes, cudaMemcpyHostToDevice), "cudaMemcpy (weights)");
  return d;
}

std::shared_ptr<void> upload_as(const Tensor& host, DType dtype, int device) {
  if (host.dtype() == dtype) return upload(host.data(), host.nbytes(), device);
  Tensor converted = host.cast(dtype);
  return upload(converted.data(), converted.nbytes(), device);
}

}  // namespace krt::cuda
