// SimpleRNN, LSTM and GRU on the GPU, step by step as the reference (sequence.cpp, after
// keras/src/backend/numpy/rnn.py): the input projection of every step up front when the
// workspace holds it (else per step), then per time step the recurrent projection and the
// cell update, each a launch. States and projections stay f32 in the run's workspace; x, the
// mask and the outputs are in the storage dtype. Batches too large for the workspace run in
// chunks of samples (each sample's recurrence is independent).
#include "backends/cuda/cuda_sequence.h"

#include <algorithm>

#include "backends/cuda/cuda_check.h"
#include "backends/cuda/cuda_context.h"
#include "backends/cuda/cuda_convert.h"
#include "backends/cuda/cuda_sequence_kernels.h"
#include "core/check.h"

namespace krt::cuda {

namespace {

SeqActivation seq_activation_of(const Activation& a) {
  SeqActivation s;
  s.kind = a.kind;
  s.alpha = a.alpha;
  s.max_value = a.max_value;
  s.threshold = a.threshold;
  s.negative_slope = a.negative_slope;
  return s;
}

// `elements` elements of `dtype` past p.
const void* advance(const void* p, int64_t elements, DType dtype) {
  return static_cast<const char*>(p) + elements * static_cast<int64_t>(dtype_size(dtype));
}
void* advance(void* p, int64_t elements, DType dtype) {
  return static_cast<char*>(p) + elements * static_cast<int64_t>(dtype_size(dtype));
}

int64_t aligned_bytes(int64_t floats) { return (floats * 4 + 255) / 256 * 256; }

class RecurrentKernel : public CudaKernel {
 public:
  RecurrentKernel(const Node& node, const CompileOptions& options)
      : p_(node.get<RecurrentParams>()) {
    const int device = options.device.index;
    kernel_ = upload_as(node.weights[0], DType::f32, device);
    recurrent_kernel_ = upload_as(node.weights[1], DType::f32, device);
    if (p_.has_bias) bias_ = upload_as(node.weights[2], DType::f32, device);
    gates_ = recurrent_gate_count(p_.kind);
    if (p_.kind == RecurrentKind::simple)
      cell_ = CellKind::simple;
    else if (p_.kind == RecurrentKind::lstm)
      cell_ = CellKind::lstm;
    else
      cell_ = p_.reset_after ? CellKind::gru_reset_after : CellKind::gru_reset_before;
  }

  std::string describe() const override { return "cuda recurrent (per-step kernels)"; }

  void run_cuda(CudaRunContext& context, std::span<const Tensor> inputs,
                std::span<Tensor> outputs) const override {
    const Tensor& x = inputs[0];
    const int64_t batch = x.shape()[0], steps = x.shape()[1], features = x.shape()[2];
    if (batch == 0 || steps == 0) return;
    const int64_t u = p_.units, g = gates_ * u;
    const bool lstm = p_.kind == RecurrentKind::lstm;
    const bool reset_before = cell_ == CellKind::gru_reset_before;
    const int64_t workspace = static_cast<int64_t>(context.workspace_bytes());

    // Workspace per chunk of nb samples: h, c, hw, xw (all steps or one), hr and cand, mask.
    auto need = [&](int64_t nb, bool all_steps) {
      return aligned_bytes(nb * u) * (lstm ? 2 : 1) + aligned_bytes(nb * g) +
             aligned_bytes(all_steps ? nb * steps * g : nb * g) +
             (reset_before ? 2 * aligned_bytes(nb * u) : 0) +
             (p_.has_mask ? aligned_bytes(nb * steps) : 0);
    };
    int64_t chunk = batch;
    bool all_steps = need(chunk, true) <= workspace;
    if (!all_steps)
      while (chunk > 1 && need(chunk, false) > workspace) chunk = (chunk + 1) / 2;
    if (need(chunk, all_steps) > workspace)
      fail(ErrorCode::limit_exceeded, "CUDA recurrent layer: ", p_.units,
           " units need more than the ", workspace, "-byte workspace for one sample");

    char* at = static_cast<char*>(context.workspace());
    auto take = [&](int64_t floats) {
      float* p = reinterpret_cast<float*>(at);
      at += aligned_bytes(floats);
      return p;
    };
    float* h = take(chunk * u);
    float* c = lstm ? take(chunk * u) : nullptr;
    float* hw = take(chunk * g);
    float* xw = take(all_steps ? chunk * steps * g : chunk * g);
    float* hr = reset_before ? take(chunk * u) : nullptr;
    float* cand = reset_before ? take(chunk * u) : nullptr;
    float* mask = p_.has_mask ? take(chunk * steps) : nullptr;

    const cudaStream_t stream = context.stream();
    const float* kernel = static_cast<const float*>(kernel_.get());
    const float* rkernel = static_cast<const float*>(recurrent_kernel_.get());
    const float* input_bias = p_.has_bias ? static_cast<const float*>(bias_.get()) : nullptr;
    const float* recurrent_bias =
        p_.has_bias && cell_ == CellKind::gru_reset_after ? input_bias + g : nullptr;
    const size_t first_state = p_.has_mask ? 2 : 1;
    Tensor& y = outputs[0];

    for (int64_t b0 = 0; b0 < batch; b0 += chunk) {
      const int64_t nb = std::min(chunk, batch - b0);
      if (p_.has_mask) {
        const Tensor& m = inputs[1];
        convert_on_device(advance(m.data(), b0 * steps, m.dtype()), m.dtype(), mask, DType::f32,
                          nb * steps, stream);
      }
      for (int s = 0; s < (lstm ? 2 : 1); ++s) {
        float* state = s == 0 ? h : c;
        if (p_.has_initial_state) {
          const Tensor& init = inputs[first_state + s];
          convert_on_device(advance(init.data(), b0 * u, init.dtype()), init.dtype(), state,
                            DType::f32, nb * u, stream);
        } else {
          check_cuda(cudaMemsetAsync(state, 0, static_cast<size_t>(nb * u) * sizeof(float), stream),
                     "cudaMemsetAsync (recurrent state)");
        }
      }
      if (all_steps)  // xw[(b * steps + t) * g + col]
        launch_rows_matmul(x.data(), x.dtype(), b0 * steps * features, features, nb * steps,
                           features, kernel, g, g, input_bias, xw, g, stream);

      CellStep step;
      step.kind = cell_;
      step.batch = nb;
      step.units = u;
      step.act = seq_activation_of(p_.activation);
      step.ract = seq_activation_of(p_.recurrent_activation);
      step.hw = hw;
      step.h = h;
      step.c = c;
      step.cand = cand;
      step.mask = mask;
      step.mask_stride = steps;
      step.zero_output_for_mask = p_.zero_output_for_mask;
      for (int64_t k = 0; k < steps; ++k) {
        const int64_t t = p_.go_backwards ? steps - 1 - k : k;
        if (all_steps) {
          step.xw = xw + t * g;
          step.xw_stride = steps * g;
        } else {
          launch_rows_matmul(x.data(), x.dtype(), (b0 * steps + t) * features, steps * features, nb,
                             features, kernel, g, g, input_bias, xw, g, stream);
          step.xw = xw;
          step.xw_stride = g;
        }
        step.t = t;
        launch_rows_matmul(h, DType::f32, 0, u, nb, u, rkernel, g, g, recurrent_bias, hw, g,
                           stream);
        if (reset_before) {
          launch_gru_reset_before_gate(step, hr, stream);
          // (r * h) @ U_h, U_h being the recurrent kernel's last u columns.
          launch_rows_matmul(hr, DType::f32, 0, u, nb, u, rkernel + 2 * u, g, u, nullptr, cand, u,
                             stream);
        }
        if (p_.return_sequences) {
          const int64_t out_t = p_.sequence_in_input_order ? t : k;
          step.y = advance(y.data(), (b0 * steps + out_t) * u, y.dtype());
          step.y_stride = steps * u;
        } else if (k == steps - 1) {
          step.y = advance(y.data(), b0 * u, y.dtype());
          step.y_stride = u;
        } else {
          step.y = nullptr;
        }
        launch_cell_step(step, y.dtype(), stream);
      }
      if (p_.return_state)
        for (int s = 0; s < (lstm ? 2 : 1); ++s) {
          Tensor& out = outputs[1 + s];
          convert_on_device(s == 0 ? h : c, DType::f32, advance(out.data(), b0 * u, out.dtype()),
                            out.dtype(), nb * u, stream);
        }
    }
  }

 private:
  RecurrentParams p_;
  int64_t gates_ = 1;
  CellKind cell_ = CellKind::simple;
  std::shared_ptr<void> kernel_, recurrent_kernel_, bias_;
};

}  // namespace

Support recurrent_support(const Node& node, const Graph& graph, const CompileOptions&) {
  const auto& p = node.get<RecurrentParams>();
  const size_t n_states = static_cast<size_t>(recurrent_state_count(p.kind));
  if (node.inputs.empty() || graph.values[node.inputs[0]].shape.size() != 3)
    return Support::no("recurrent input is not (batch, time, features)");
  if (node.weights.size() < (p.has_bias ? 3u : 2u))
    return Support::no("recurrent weights are missing");
  if (node.outputs.size() != 1 + (p.return_state ? n_states : 0))
    return Support::no("unexpected recurrent outputs");
  return Support::yes();
}

std::unique_ptr<NodeKernel> make_recurrent_kernel(const Node& node, const Graph&,
                                                  const CompileOptions& options) {
  return std::make_unique<RecurrentKernel>(node, options);
}

}  // namespace krt::cuda
