// ConvLSTM1D/2D/3D, unrolled over the time steps into convolutions and element-wise ops
// (keras/src/layers/rnn/conv_lstm.py, ConvLSTMCell). The input convolution of every step runs
// at once, time folded into the batch; each step then adds the recurrent "same" convolution of
// h, splits the 4 gates (i, f, c, o) off the channels and updates c and h. The number of time
// steps must be known at load (it sets the number of unrolled steps).
#include "core/check.h"
#include "keras/activations.h"
#include "keras/layer_importer.h"

namespace krt::keras {

namespace {

Activation elementwise_activation(const LayerContext& ctx, const char* key, const char* fallback) {
  const io::Json* v = ctx.config().find(key);
  const io::Json fallback_json = io::Json::string(fallback);
  ParsedActivation a = parse_activation(ctx, v && !v->is_null() ? v : &fallback_json);
  if (!a.elementwise)
    ctx.error(str_cat("'", key, "' must be an element-wise activation"), ErrorCode::unsupported);
  return *a.elementwise;
}

Tensor cell_weight(const LayerContext& ctx, const WeightScope& scope, int index, const char* name,
                   size_t rank) {
  std::optional<Tensor> w = scope.find(index, name);
  if (!w)
    ctx.error(
        str_cat("weight '", name, "' (variable ", index, ") is missing from the weights file"));
  if (w->rank() != static_cast<int>(rank))
    ctx.error(str_cat(name, " has shape ", shape_to_string(w->shape()), ", expected rank ", rank));
  return w->dtype() == DType::f32 ? *w : w->cast(DType::f32);
}

LayerImportFn conv_lstm(size_t spatial) {
  return [spatial](LayerContext& ctx) -> std::vector<ValueId> {
    ctx.expect_inputs(1);
    const LayerConfig& c = ctx.config();
    const Shape in = ctx.input_shape();
    if (in.size() != spatial + 3)
      ctx.error(str_cat("expects an input of shape (batch, time, ", spatial,
                        " spatial axes, channels), got ", shape_to_string(in)));
    if (c.get_string("data_format", "channels_last") != "channels_last")
      ctx.error("channels_first is not supported", ErrorCode::unsupported);
    if (c.get_bool("stateful", false))
      ctx.error("stateful=True is not supported", ErrorCode::unsupported);
    if (ctx.input_mask()) ctx.error("masks are not supported", ErrorCode::unsupported);
    for (size_t i = 1; i < in.size(); ++i)
      if (in[i] < 0)
        ctx.error(
            str_cat("the time steps and sizes must be known at load, got ", shape_to_string(in)),
            ErrorCode::unsupported);
    const int64_t steps = in[1], filters = c.get_int("filters");
    if (filters <= 0) ctx.error("'filters' must be positive");
    const std::string padding = c.get_string("padding", "valid");
    if (padding != "valid" && padding != "same")
      ctx.error(str_cat("padding '", padding, "' is not supported"), ErrorCode::unsupported);
    const Activation act = elementwise_activation(ctx, "activation", "tanh");
    const Activation gate = elementwise_activation(ctx, "recurrent_activation", "sigmoid");
    const bool use_bias = c.get_bool("use_bias", true);

    std::unique_ptr<WeightScope> cell = ctx.weights().attribute("cell");
    const WeightScope& scope = cell->find(0, "kernel") ? *cell : ctx.weights();
    std::vector<Tensor> kernel{cell_weight(ctx, scope, 0, "kernel", spatial + 2)};
    const Tensor recurrent = cell_weight(ctx, scope, 1, "recurrent_kernel", spatial + 2);
    if (use_bias) kernel.push_back(cell_weight(ctx, scope, 2, "bias", 1));

    ConvParams xp;
    xp.kernel_size = c.get_ints("kernel_size", spatial);
    xp.strides = c.get_ints("strides", spatial, 1);
    xp.dilation = c.get_ints("dilation_rate", spatial, 1);
    xp.padding = padding == "same" ? Padding::same : Padding::valid;
    xp.filters = 4 * filters;
    xp.has_bias = use_bias;
    ConvParams hp = xp;
    hp.strides.assign(spatial, 1);
    hp.dilation.assign(spatial, 1);
    hp.padding = Padding::same;
    hp.has_bias = false;

    // Every step's input convolution at once: (batch * time, spatial..., channels).
    Shape folded{-1};
    folded.insert(folded.end(), in.begin() + 2, in.end());
    ValueId x =
        ctx.emit(OpKind::reshape, ReshapeParams{folded, true}, {ctx.input()}, {}, "fold_time");
    x = ctx.emit(OpKind::conv, xp, {x}, kernel, "input_conv");
    Shape step_shape(ctx.graph().values[x].shape.begin() + 1,
                     ctx.graph().values[x].shape.end());  // spatial'..., 4F
    Shape unfolded{-1, steps};
    unfolded.insert(unfolded.end(), step_shape.begin(), step_shape.end());
    x = ctx.emit(OpKind::reshape, ReshapeParams{unfolded, true}, {x}, {}, "unfold_time");

    const int64_t rank =
        static_cast<int64_t>(spatial) + 2;  // of one step: batch, spatial..., channels
    auto channels = [&](ValueId z, int64_t k, const std::string& name) {
      StridedSliceParams p;
      p.axes.resize(rank);
      p.axes[rank - 1] = SliceSpec{true, true, k * filters, (k + 1) * filters, 1};
      return ctx.emit(OpKind::strided_slice, p, {z}, {}, name);
    };
    auto apply = [&](const Activation& a, ValueId v, const std::string& name) {
      return ctx.emit(OpKind::activation, ActivationParams{a}, {v}, {}, name);
    };
    auto merge = [&](ElementwiseKind k, ValueId a, ValueId b, const std::string& name) {
      return ctx.emit(OpKind::elementwise, ElementwiseParams{k}, {a, b}, {}, name);
    };
    const bool backwards = c.get_bool("go_backwards", false);
    std::optional<ValueId> h, cs;
    std::vector<ValueId> sequence;
    for (int64_t n = 0; n < steps; ++n) {
      const int64_t t = backwards ? steps - 1 - n : n;
      const std::string s = str_cat("t", n, "_");
      StridedSliceParams sp;
      sp.axes.resize(2);
      sp.axes[1] = SliceSpec{true, true, t, t + 1, 1};
      ValueId z =
          ctx.emit(OpKind::reshape, ReshapeParams{step_shape, false},
                   {ctx.emit(OpKind::strided_slice, sp, {x}, {}, s + "input")}, {}, s + "step");
      // From zero states the recurrent convolution adds nothing and f * c vanishes.
      if (h)
        z = merge(ElementwiseKind::add, z,
                  ctx.emit(OpKind::conv, hp, {*h}, {recurrent}, s + "recurrent_conv"), s + "z");
      const ValueId i = apply(gate, channels(z, 0, s + "zi"), s + "i");
      const ValueId g = apply(act, channels(z, 2, s + "zc"), s + "g");
      const ValueId o = apply(gate, channels(z, 3, s + "zo"), s + "o");
      ValueId ig = merge(ElementwiseKind::multiply, i, g, s + "ig");
      if (cs)
        ig = merge(ElementwiseKind::add,
                   merge(ElementwiseKind::multiply, apply(gate, channels(z, 1, s + "zf"), s + "f"),
                         *cs, s + "fc"),
                   ig, s + "c");
      cs = ig;
      h = merge(ElementwiseKind::multiply, o, apply(act, *cs, s + "act_c"), s + "h");
      sequence.push_back(*h);
    }
    ValueId out = *h;
    if (c.get_bool("return_sequences", false)) {
      Shape one{1};
      one.insert(one.end(), ctx.graph().values[*h].shape.begin() + 1,
                 ctx.graph().values[*h].shape.end());
      std::vector<ValueId> expanded;
      for (size_t n = 0; n < sequence.size(); ++n)
        expanded.push_back(ctx.emit(OpKind::reshape, ReshapeParams{one, false}, {sequence[n]}, {},
                                    str_cat("t", n, "_expand")));
      out = expanded.size() == 1
                ? expanded[0]
                : ctx.emit(OpKind::concat, ConcatParams{1}, expanded, {}, "sequence");
    }
    if (c.get_bool("return_state", false)) return {out, *h, *cs};
    return {out};
  };
}

}  // namespace

void register_conv_recurrent_layers(LayerRegistry& r) {
  for (size_t rank = 1; rank <= 3; ++rank)
    r.add("ConvLSTM" + std::to_string(rank) + "D", conv_lstm(rank),
          "unrolled over time steps known at load; valid/same padding, strides, dilation, "
          "return_sequences, return_state, "
          "go_backwards; channels_last, no masks");
}

}  // namespace krt::keras
