// Sequence ops: embedding lookup, the recurrent layers (SimpleRNN, LSTM, GRU) and the mask ops
// (compare, reduce). The recurrent loop mirrors keras/src/backend/numpy/rnn.py step for step.
#include <cmath>
#include <limits>

#include "backends/reference/kernels.h"
#include "core/check.h"

namespace krt::reference {

void run_embedding(const Node& node, const Tensor& ids, Tensor& y) {
  const Tensor& table = node.weights[0];
  const int64_t rows = table.shape()[0], dim = table.shape()[1];
  const float* tp = table.data_as<float>();
  const float* ip = ids.data_as<float>();
  float* yp = y.data_as<float>();
  for (int64_t i = 0; i < ids.size(); ++i) {
    // Keras casts float ids to int32 (truncation toward zero) before the lookup.
    const float f = ip[i];
    if (!(f > -1.f && f < static_cast<float>(rows)))
      fail(ErrorCode::invalid_argument, node.label(), ": id ", f, " at flat index ", i,
           " is outside [0, ", rows, ")");
    const int64_t row = static_cast<int64_t>(f);
    for (int64_t d = 0; d < dim; ++d) yp[i * dim + d] = tp[row * dim + d];
  }
}

namespace {

// out[n, :] = bias + x[n, :] @ w, accumulated in double; w is (in, cols) row-major.
void matmul_rows(const float* x, int64_t rows, int64_t in, const float* w, int64_t cols,
                 const float* bias, float* out) {
  std::vector<double> acc(cols);
  for (int64_t n = 0; n < rows; ++n) {
    for (int64_t c = 0; c < cols; ++c) acc[c] = bias ? bias[c] : 0.0;
    for (int64_t k = 0; k < in; ++k) {
      const double xv = x[n * in + k];
      if (xv == 0.0) continue;
      const float* wr = w + k * cols;
      for (int64_t c = 0; c < cols; ++c) acc[c] += xv * wr[c];
    }
    for (int64_t c = 0; c < cols; ++c) out[n * cols + c] = static_cast<float>(acc[c]);
  }
}

}  // namespace

void run_recurrent(const Node& node, std::span<const Tensor> inputs, std::span<Tensor> outputs) {
  const auto& p = node.get<RecurrentParams>();
  const Tensor& x = inputs[0];
  const int64_t batch = x.shape()[0], steps = x.shape()[1], features = x.shape()[2];
  const int64_t u = p.units, gates = recurrent_gate_count(p.kind), g = gates * u;
  const int n_states = recurrent_state_count(p.kind);
  const float* mask = p.has_mask ? inputs[1].data_as<float>() : nullptr;
  const float* kernel = node.weights[0].data_as<float>();
  const float* rkernel = node.weights[1].data_as<float>();
  const float* input_bias = p.has_bias ? node.weights[2].data_as<float>() : nullptr;
  const float* recurrent_bias =
      p.has_bias && p.kind == RecurrentKind::gru && p.reset_after ? input_bias + g : nullptr;

  // The input projection of every step at once: xw[b, t, :] = x[b, t, :] @ kernel + input bias.
  std::vector<float> xw(batch * steps * g);
  matmul_rows(x.data_as<float>(), batch * steps, features, kernel, g, input_bias, xw.data());

  // states[s] is (batch, u); h is states[0] (and LSTM's c is states[1]).
  std::vector<std::vector<float>> states(n_states, std::vector<float>(batch * u, 0.f));
  if (p.has_initial_state) {
    const size_t first = p.has_mask ? 2 : 1;
    for (int s = 0; s < n_states; ++s) {
      const float* src = inputs[first + s].data_as<float>();
      states[s].assign(src, src + batch * u);
    }
  }
  float* seq_out = outputs[0].data_as<float>();  // (batch, steps, u) or (batch, u)
  const Activation& act = p.activation;
  const Activation& ract = p.recurrent_activation;
  std::vector<float> hw(batch * g), hr(batch * u), cand(batch * u), new_h(batch * u),
      new_c(batch * u), out(batch * u);

  for (int64_t k = 0; k < steps; ++k) {
    const int64_t t = p.go_backwards ? steps - 1 - k : k;
    std::vector<float>& h = states[0];
    const bool reset_before = p.kind == RecurrentKind::gru && !p.reset_after;
    // Recurrent projection; a GRU with the reset gate before the matmul projects z and r only
    // here and (r * h) for the candidate below.
    matmul_rows(h.data(), batch, u, rkernel, g, recurrent_bias, hw.data());
    for (int64_t b = 0; b < batch; ++b) {
      const float* xs = &xw[(b * steps + t) * g];
      const float* hs = &hw[b * g];
      const float* hp = &h[b * u];
      for (int64_t j = 0; j < u; ++j) {
        switch (p.kind) {
          case RecurrentKind::simple:
            new_h[b * u + j] = apply_activation(act, xs[j] + hs[j]);
            break;
          case RecurrentKind::lstm: {
            const float i = apply_activation(ract, xs[j] + hs[j]);
            const float f = apply_activation(ract, xs[u + j] + hs[u + j]);
            const float c =
                f * states[1][b * u + j] + i * apply_activation(act, xs[2 * u + j] + hs[2 * u + j]);
            const float o = apply_activation(ract, xs[3 * u + j] + hs[3 * u + j]);
            new_c[b * u + j] = c;
            new_h[b * u + j] = o * apply_activation(act, c);
            break;
          }
          case RecurrentKind::gru: {
            const float r = apply_activation(ract, xs[u + j] + hs[u + j]);
            if (reset_before)
              hr[b * u + j] = r * hp[j];
            else
              cand[b * u + j] = r * hs[2 * u + j];
            break;
          }
        }
      }
    }
    if (p.kind == RecurrentKind::gru) {
      // The candidate's recurrent part: r * (h @ U_h + b_h) with reset_after (done above), or
      // (r * h) @ U_h before, U_h being the recurrent kernel's last u columns.
      if (reset_before)
        for (int64_t b = 0; b < batch; ++b)
          for (int64_t j = 0; j < u; ++j) {
            double acc = 0.0;
            for (int64_t m = 0; m < u; ++m)
              acc += static_cast<double>(hr[b * u + m]) * rkernel[m * g + 2 * u + j];
            cand[b * u + j] = static_cast<float>(acc);
          }
      for (int64_t b = 0; b < batch; ++b) {
        const float* xs = &xw[(b * steps + t) * g];
        const float* hs = &hw[b * g];
        for (int64_t j = 0; j < u; ++j) {
          const float z = apply_activation(ract, xs[j] + hs[j]);
          const float hh = apply_activation(act, xs[2 * u + j] + cand[b * u + j]);
          const float hp = h[b * u + j];
          new_h[b * u + j] = z * hp + (1.f - z) * hh;
        }
      }
    }
    // Masked samples keep their states; their output is the previous h (or zeros).
    for (int64_t b = 0; b < batch; ++b) {
      const bool keep = !mask || mask[b * steps + t] != 0.f;
      for (int64_t j = 0; j < u; ++j) {
        const int64_t i = b * u + j;
        if (keep) {
          out[i] = new_h[i];
          h[i] = new_h[i];
          if (p.kind == RecurrentKind::lstm) states[1][i] = new_c[i];
        } else {
          out[i] = p.zero_output_for_mask ? 0.f : h[i];
        }
      }
    }
    if (p.return_sequences) {
      for (int64_t b = 0; b < batch; ++b)
        for (int64_t j = 0; j < u; ++j)
          seq_out[(b * steps + (p.sequence_in_input_order ? t : k)) * u + j] = out[b * u + j];
    } else if (k == steps - 1) {
      std::copy(out.begin(), out.end(), seq_out);
    }
  }
  if (p.return_state)
    for (int s = 0; s < n_states; ++s)
      std::copy(states[s].begin(), states[s].end(), outputs[1 + s].data_as<float>());
}

void run_compare(const Node& node, const Tensor& x, Tensor& y) {
  const auto& p = node.get<CompareParams>();
  const float* xp = x.data_as<float>();
  float* yp = y.data_as<float>();
  const float v = p.value;
  for (int64_t i = 0; i < x.size(); ++i) {
    const float a = xp[i];
    bool r = false;
    switch (p.kind) {
      case CompareKind::equal:
        r = a == v;
        break;
      case CompareKind::not_equal:
        r = a != v;
        break;
      case CompareKind::less:
        r = a < v;
        break;
      case CompareKind::less_equal:
        r = a <= v;
        break;
      case CompareKind::greater:
        r = a > v;
        break;
      case CompareKind::greater_equal:
        r = a >= v;
        break;
    }
    yp[i] = r ? 1.f : 0.f;
  }
}

void run_reduce(const Node& node, const Tensor& x, Tensor& y) {
  const auto& p = node.get<ReduceParams>();
  const Shape& s = x.shape();
  // Output index of each input element: drop (or zero) the reduced coordinates.
  std::vector<bool> reduced(s.size(), false);
  for (int64_t a : p.axes) reduced[a] = true;
  Shape kept;  // the output shape with keepdims
  for (size_t a = 0; a < s.size(); ++a) kept.push_back(reduced[a] ? 1 : s[a]);
  const auto ks = strides_of(kept);
  const int64_t n_out = y.size();
  const int64_t group = n_out ? x.size() / n_out : 0;
  std::vector<double> acc(n_out);
  double init = 0.0;
  switch (p.kind) {
    case ReduceKind::all:
    case ReduceKind::prod:
      init = 1.0;
      break;
    case ReduceKind::max:
    case ReduceKind::argmax:
      init = -std::numeric_limits<double>::infinity();
      break;
    case ReduceKind::min:
    case ReduceKind::argmin:
      init = std::numeric_limits<double>::infinity();
      break;
    default:
      break;
  }
  std::fill(acc.begin(), acc.end(), init);
  // argmax/argmin: the index along the (single) reduced axis of the best value so far; elements
  // come in increasing index along it, so a strict comparison keeps the first.
  std::vector<int64_t> best(n_out, 0);
  const size_t arg_axis = p.axes.empty() ? 0 : static_cast<size_t>(p.axes[0]);
  std::vector<bool> seen(p.kind == ReduceKind::argmax || p.kind == ReduceKind::argmin ? n_out : 0,
                         false);
  const float* xp = x.data_as<float>();
  std::vector<int64_t> c;
  for (int64_t i = 0; i < x.size(); ++i) {
    unravel(i, s, c);
    int64_t o = 0;
    for (size_t a = 0; a < s.size(); ++a)
      if (!reduced[a]) o += c[a] * ks[a];
    const double v = xp[i];
    switch (p.kind) {
      case ReduceKind::any:
        acc[o] = (acc[o] != 0.0 || v != 0.0) ? 1.0 : 0.0;
        break;
      case ReduceKind::all:
        acc[o] = (acc[o] != 0.0 && v != 0.0) ? 1.0 : 0.0;
        break;
      case ReduceKind::sum:
      case ReduceKind::mean:
        acc[o] += v;
        break;
      case ReduceKind::max:
        acc[o] = std::max(acc[o], v);
        break;
      case ReduceKind::min:
        acc[o] = std::min(acc[o], v);
        break;
      case ReduceKind::prod:
        acc[o] *= v;
        break;
      case ReduceKind::argmax:
      case ReduceKind::argmin:
        if (!seen[o] || (p.kind == ReduceKind::argmax ? v > acc[o] : v < acc[o])) {
          seen[o] = true;
          acc[o] = v;
          best[o] = c[arg_axis];
        }
        break;
    }
  }
  float* yp = y.data_as<float>();
  for (int64_t o = 0; o < n_out; ++o) {
    if (p.kind == ReduceKind::argmax || p.kind == ReduceKind::argmin)
      yp[o] = static_cast<float>(best[o]);
    else
      yp[o] = static_cast<float>(p.kind == ReduceKind::mean ? acc[o] / static_cast<double>(group)
                                                            : acc[o]);
  }
}

}  // namespace krt::reference
