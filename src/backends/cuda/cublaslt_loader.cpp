// cuBLASLt, loaded on first use. libcublasLt is over 500 MB: linked normally, every program
// using kerasrt would map and relocate it at start-up, also on machines that never touch a GPU
// (about +150 MB RSS and +0.2 s per process, measured on the CLI). These definitions of the
// functions the backend calls resolve the real ones with dlopen/dlsym the first time each is
// called; the signatures come from cublasLt.h, so a mismatch does not compile.
#include <cublasLt.h>
#include <dlfcn.h>

#include <mutex>

#include "core/check.h"

namespace krt::cuda {
namespace {

void* cublaslt_library() {
  static void* library = [] {
    void* h = dlopen("libcublasLt.so.13", RTLD_NOW | RTLD_LOCAL);
    if (!h) h = dlopen("libcublasLt.so", RTLD_NOW | RTLD_LOCAL);
    if (!h)
      fail(ErrorCode::unsupported,
           "the cuda device needs cuBLASLt (libcublasLt.so.13): ", dlerror());
    return h;
  }();
  return library;
}

template <class F>
F resolve(const char* name) {
  void* symbol = dlsym(cublaslt_library(), name);
  if (!symbol) fail(ErrorCode::unsupported, "libcublasLt has no ", name, ": ", dlerror());
  return reinterpret_cast<F>(symbol);
}

}  // namespace
}  // namespace krt::cuda

// One line per function: its parameter list and the call's arguments.
#define KRT_CUBLASLT(name, params, args)                                 \
  cublasStatus_t CUBLASWINAPI name params {                              \
    static const auto real = krt::cuda::resolve<decltype(&name)>(#name); \
    return real args;                                                    \
  }

KRT_CUBLASLT(cublasLtCreate, (cublasLtHandle_t * handle), (handle))
KRT_CUBLASLT(cublasLtDestroy, (cublasLtHandle_t handle), (handle))
KRT_CUBLASLT(cublasLtMatmul,
             (cublasLtHandle_t handle, cublasLtMatmulDesc_t desc, const void* alpha, const void* A,
              cublasLtMatrixLayout_t a_desc, const void* B, cublasLtMatrixLayout_t b_desc,
              const void* beta, const void* C, cublasLtMatrixLayout_t c_desc, void* D,
              cublasLtMatrixLayout_t d_desc, const cublasLtMatmulAlgo_t* algo, void* workspace,
              size_t workspace_bytes, cudaStream_t stream),
             (handle, desc, alpha, A, a_desc, B, b_desc, beta, C, c_desc, D, d_desc, algo,
              workspace, workspace_bytes, stream))
KRT_CUBLASLT(cublasLtMatmulAlgoGetHeuristic,
             (cublasLtHandle_t handle, cublasLtMatmulDesc_t desc, cublasLtMatrixLayout_t a_desc,
              cublasLtMatrixLayout_t b_desc, cublasLtMatrixLayout_t c_desc,
              cublasLtMatrixLayout_t d_desc, cublasLtMatmulPreference_t preference, int requested,
              cublasLtMatmulHeuristicResult_t results[], int* returned),
             (handle, desc, a_desc, b_desc, c_desc, d_desc, preference, requested, results,
              returned))
KRT_CUBLASLT(cublasLtMatmulDescCreate,
             (cublasLtMatmulDesc_t * desc, cublasComputeType_t compute, cudaDataType_t scale),
             (desc, compute, scale))
KRT_CUBLASLT(cublasLtMatmulDescDestroy, (cublasLtMatmulDesc_t desc), (desc))
KRT_CUBLASLT(cublasLtMatmulDescSetAttribute,
             (cublasLtMatmulDesc_t desc, cublasLtMatmulDescAttributes_t attr, const void* buf,
              size_t bytes),
             (desc, attr, buf, bytes))
KRT_CUBLASLT(cublasLtMatmulPreferenceCreate, (cublasLtMatmulPreference_t * pref), (pref))
KRT_CUBLASLT(cublasLtMatmulPreferenceDestroy, (cublasLtMatmulPreference_t pref), (pref))
KRT_CUBLASLT(cublasLtMatmulPreferenceSetAttribute,
             (cublasLtMatmulPreference_t pref, cublasLtMatmulPreferenceAttributes_t attr,
              const void* buf, size_t bytes),
             (pref, attr, buf, bytes))
KRT_CUBLASLT(cublasLtMatrixLayoutCreate,
             (cublasLtMatrixLayout_t * layout, cudaDataType type, uint64_t rows, uint64_t cols,
              int64_t ld),
             (layout, type, rows, cols, ld))
KRT_CUBLASLT(cublasLtMatrixLayoutDestroy, (cublasLtMatrixLayout_t layout), (layout))
