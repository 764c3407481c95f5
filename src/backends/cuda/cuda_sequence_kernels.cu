#include "backends/cuda/cuda_check.h"
#include "backends/cuda/cuda_sequence_elements.cuh"
#include "backends/cuda/cuda_sequence_kernels.h"
#include "backends/cuda/cuda_types.cuh"
#include "core/check.h"

namespace krt::cuda {

namespace {

constexpr int kBlock = 256;
#define KRT_GRID_STRIDE_LOOP(i, n)                                          \
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < (n); \
       i += int64_t{gridDim.x} * blockDim.x)

// One thread per (tile of kRowTile rows, column); neighbouring threads take neighbouring
// columns, so the weight reads are coalesced and the input reads are broadcasts.
template <class In>
__global__ void rows_matmul_kernel(const In* in, int64_t in_stride, int64_t rows, int64_t depth,
                                   const float* w, int64_t ldw, int64_t cols, const float* bias,
                                   float* out, int64_t ldo) {
  wait_for_producers();
  const int64_t tiles = (rows + kRowTile - 1) / kRowTile;
  KRT_GRID_STRIDE_LOOP(i, tiles * cols)
  rows_matmul_tile(in, in_stride, rows, depth, w, ldw, cols, bias, out, ldo, i);
}

template <class Out>
__global__ void cell_step_kernel(CellStep s, Out* y) {
  wait_for_producers();
  KRT_GRID_STRIDE_LOOP(i, s.batch * s.units) cell_step_element(s, y, i);
}

__global__ void gru_reset_before_gate_kernel(CellStep s, float* hr) {
  wait_for_producers();
  KRT_GRID_STRIDE_LOOP(i, s.batch * s.units) gru_reset_before_gate_element(s, hr, i);
}

}  // namespace

void launch_rows_matmul(const void* in, DType in_dtype, int64_t in_offset, int64_t in_stride,
                        int64_t rows, int64_t depth, const float* w, int64_t ldw, int64_t cols,
                        const float* bias, float* out, int64_t ldo, cudaStream_t stream) {
  const int64_t n = (rows + kRowTile - 1) / kRowTile * cols;
  if (n <= 0) return;
  const bool ok = dispatch_float(in_dtype, [&](auto tag) {
    using In = decltype(tag);
    launch_kernel(rows_matmul_kernel<In>, grid_for(n, kBlock), kBlock, 0, stream,
                  static_cast<const In*>(in) + in_offset, in_stride, rows, depth, w, ldw, cols,
                  bias, out, ldo);
    check_launch("rows_matmul_kernel");
  });
  if (!ok) fail(ErrorCode::internal, "CUDA rows_matmul: unsupported dtype ", dtype_name(in_dtype));
}

void launch_cell_step(const CellStep& step, DType y_dtype, cudaStream_t stream) {
  const int64_t n = step.batch * step.units;
  if (n <= 0) return;
  const bool ok = dispatch_float(y_dtype, [&](auto tag) {
    using Out = decltype(tag);
    launch_kernel(cell_step_kernel<Out>, grid_for(n, kBlock), kBlock, 0, stream, step,
                  static_cast<Out*>(step.y));
    check_launch("cell_step_kernel");
  });
  if (!ok)
    fail(ErrorCode::internal, "CUDA recurrent cell: unsupported dtype ", dtype_name(y_dtype));
}

void launch_gru_reset_before_gate(const CellStep& step, float* hr, cudaStream_t stream) {
  const int64_t n = step.batch * step.units;
  if (n <= 0) return;
  launch_kernel(gru_reset_before_gate_kernel, grid_for(n, kBlock), kBlock, 0, stream, step, hr);
  check_launch("gru_reset_before_gate_kernel");
}

}  // namespace krt::cuda
