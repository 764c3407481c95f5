// Recurrent layers: SimpleRNN, LSTM, GRU (one `recurrent` node each) and the Bidirectional
// wrapper. Semantics follow keras/src/layers/rnn/*.py and keras/src/backend/numpy/rnn.py.
//
// Weights: .keras keeps the cell's variables under the layer's `cell` attribute
// (layers/lstm/cell/vars/{0,1,2} = kernel, recurrent_kernel, bias); legacy .h5 names them
// "lstm/lstm_cell/kernel" (Keras 3, tf.keras 2) or "lstm_1/kernel:0" (Keras 2).
// Bidirectional keeps its two layers under `forward_layer` / `backward_layer` (.keras) or under
// their names, "bidir/forward_lstm/lstm_cell/kernel" (.h5).
#include <map>

#include "core/check.h"
#include "keras/activations.h"
#include "keras/layer_importer.h"

namespace krt::keras {

namespace {

// What a wrapper changes in a wrapped RNN's own config.
struct RnnOverrides {
  std::optional<bool> go_backwards;
  std::optional<bool> zero_output_for_mask;
  bool sequence_in_input_order = false;
};

std::optional<RecurrentKind> recurrent_kind_of(std::string_view class_name) {
  if (class_name == "SimpleRNN") return RecurrentKind::simple;
  if (class_name == "LSTM") return RecurrentKind::lstm;
  if (class_name == "GRU") return RecurrentKind::gru;
  return std::nullopt;
}

// An element-wise activation from `key` in the config; `fallback` when the key is absent
// (Keras 1 spelled the recurrent one `inner_activation`).
Activation rnn_activation(const LayerContext& ctx, std::initializer_list<std::string_view> keys,
                          const char* fallback) {
  const io::Json* value = nullptr;
  bool present = false;
  for (std::string_view key : keys) {
    if (const io::Json* v = ctx.config().json().find(key)) {
      value = v;
      present = true;
      break;
    }
  }
  io::Json fallback_json = io::Json::string(fallback);
  ParsedActivation act = parse_activation(ctx, present ? value : &fallback_json);
  if (!act.elementwise)
    ctx.error("a recurrent layer's activation must be element-wise", ErrorCode::unsupported);
  return *act.elementwise;
}

// Variable `index` named `name` in `scope`, with the shape checked against `expected`.
Tensor scoped_weight(const LayerContext& ctx, const WeightScope& scope, int index,
                     std::string_view name, const Shape& expected) {
  std::optional<Tensor> w = scope.find(index, name);
  if (!w)
    ctx.error(
        str_cat("weight '", name, "' (variable ", index, ") is missing from the weights file"));
  bool ok = w->rank() == static_cast<int>(expected.size());
  for (size_t i = 0; ok && i < expected.size(); ++i)
    ok = expected[i] < 0 || expected[i] == w->shape()[i];
  if (!ok)
    ctx.error(str_cat(name, " has shape ", shape_to_string(w->shape()), ", expected ",
                      shape_to_string(expected)));
  return w->dtype() == DType::f32 ? *w : w->cast(DType::f32);
}

// The kernel, recurrent kernel and bias (when p.has_bias) of the cell; sets p.reset_after for
// a GRU. Keras 1's per-gate arrays arrive already joined (legacy_weights.cpp).
std::vector<Tensor> rnn_weights(const LayerContext& ctx, RecurrentParams& p, int64_t features) {
  const int64_t gates = recurrent_gate_count(p.kind), g = gates * p.units;
  // The cell's variables: the `cell` attribute in .keras; legacy files list them on the layer.
  std::unique_ptr<WeightScope> cell = ctx.weights().attribute("cell");
  const WeightScope& scope = cell->find(0, "kernel") ? *cell : ctx.weights();
  std::vector<Tensor> w;
  w.push_back(scoped_weight(ctx, scope, 0, "kernel", {features, g}));
  w.push_back(scoped_weight(ctx, scope, 1, "recurrent_kernel", {p.units, g}));
  if (p.kind != RecurrentKind::gru) {
    if (p.has_bias) w.push_back(scoped_weight(ctx, scope, 2, "bias", {g}));
    return w;
  }
  // A GRU's bias is (2, 3*units) with reset_after, else (3*units,). Files from before
  // reset_after existed (Keras <= 2.1) reset before the matmul.
  std::optional<Tensor> bias = p.has_bias ? scope.find(2, "bias") : std::nullopt;
  if (p.has_bias && !bias) ctx.error("weight 'bias' (variable 2) is missing from the weights file");
  p.reset_after =
      ctx.config().get_bool("reset_after", bias ? bias->rank() == 2 : ctx.file().keras_major >= 3);
  if (bias) {
    Shape want = p.reset_after ? Shape{2, g} : Shape{g};
    if (bias->shape() != want)
      ctx.error(str_cat("bias has shape ", shape_to_string(bias->shape()), ", expected ",
                        shape_to_string(want),
                        " for reset_after=", p.reset_after ? "True" : "False"));
    w.push_back(bias->dtype() == DType::f32 ? *bias : bias->cast(DType::f32));
  }
  return w;
}

// Emits one RNN layer (its config and weights are ctx's) over x. Returns the output and, with
// return_state, the final states.
std::vector<ValueId> emit_rnn(LayerContext& ctx, RecurrentKind kind, ValueId x,
                              std::optional<ValueId> mask,
                              const std::vector<ValueId>& initial_state,
                              const RnnOverrides& over = {}) {
  const LayerConfig& c = ctx.config();
  const Shape in = ctx.graph().values[x].shape;
  if (in.size() != 3)
    ctx.error(
        str_cat("expects an input of shape (batch, time, features), got ", shape_to_string(in)));
  if (c.get_bool("stateful", false))
    ctx.error("stateful=True is not supported: kerasrt runs every batch from zero states",
              ErrorCode::unsupported);
  if (c.get_bool("time_major", false))
    ctx.error("time_major=True is not supported", ErrorCode::unsupported);
  if (c.has("cell") && !c.has("units"))
    ctx.error("RNN layers with a custom cell are not supported", ErrorCode::unsupported);

  RecurrentParams p;
  p.kind = kind;
  p.units = c.has("units") ? c.get_int("units") : c.get_int("output_dim");  // Keras 1: output_dim
  if (p.units <= 0) ctx.error(str_cat("'units' must be positive, found ", p.units));
  p.activation = rnn_activation(ctx, {"activation"}, "tanh");
  // Keras <= 2.2 defaulted the gates to hard_sigmoid; configs name it explicitly from then on.
  p.recurrent_activation = rnn_activation(ctx, {"recurrent_activation", "inner_activation"},
                                          ctx.file().keras_major >= 3 ? "sigmoid" : "hard_sigmoid");
  p.has_bias = c.get_bool("use_bias", true);
  p.go_backwards = over.go_backwards.value_or(c.get_bool("go_backwards", false));
  p.return_sequences = c.get_bool("return_sequences", false);
  p.return_state = c.get_bool("return_state", false);
  // The unrolled loop of Keras's backends carries the previous output at masked steps
  // whatever zero_output_for_mask says.
  p.zero_output_for_mask =
      over.zero_output_for_mask.value_or(c.get_bool("zero_output_for_mask", false)) &&
      !c.get_bool("unroll", false);
  p.sequence_in_input_order = over.sequence_in_input_order;

  std::vector<Tensor> w = rnn_weights(ctx, p, in[2]);
  std::vector<ValueId> inputs{x};
  if (mask) {
    p.has_mask = true;
    inputs.push_back(*mask);
  }
  const int n_states = recurrent_state_count(kind);
  if (!initial_state.empty()) {
    if (static_cast<int>(initial_state.size()) != n_states)
      ctx.error(
          str_cat("expects ", n_states, " initial state tensor(s), got ", initial_state.size()));
    p.has_initial_state = true;
    inputs.insert(inputs.end(), initial_state.begin(), initial_state.end());
  }
  return ctx.emit_all(OpKind::recurrent, p, std::move(inputs), std::move(w));
}

// The initial states of a call: the `initial_state` keyword, or positional inputs after the
// sequence (Keras 2 configs and positional Keras 3 calls).
std::vector<ValueId> initial_states_of(const LayerContext& ctx) {
  std::vector<ValueId> states = ctx.kwarg_values("initial_state");
  if (states.empty())
    states.assign(ctx.inputs().begin() + 1, ctx.inputs().end());
  else if (ctx.inputs().size() != 1)
    ctx.error("expects one sequence input besides initial_state");
  return states;
}

LayerImportFn rnn_layer(RecurrentKind kind) {
  return [kind](LayerContext& ctx) {
    if (ctx.inputs().empty()) ctx.expect_inputs(1);
    std::optional<ValueId> mask = ctx.input_mask();
    std::vector<ValueId> out = emit_rnn(ctx, kind, ctx.input(), mask, initial_states_of(ctx));
    // Keras's RNN.compute_mask: the sequence output keeps the input's mask.
    if (mask && ctx.config().get_bool("return_sequences", false)) ctx.set_output_mask(0, *mask);
    return out;
  };
}

std::string remove_prefix(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0 ? s.substr(prefix.size()) : s;
}

// The weight scope of a wrapped layer: `attr` in .keras; in legacy .h5 the first candidate
// name that owns weights.
std::unique_ptr<WeightScope> wrapped_scope(const LayerContext& ctx, const std::string& attr,
                                           const std::vector<std::string>& names) {
  for (const std::string& n : names) {
    std::unique_ptr<WeightScope> s = ctx.weights().sub_layer(attr, n);
    if (s->total_elements() > 0) return s;
  }
  return ctx.weights().sub_layer(attr, names.front());
}

std::vector<ValueId> import_bidirectional(LayerContext& ctx) {
  if (ctx.inputs().empty()) ctx.expect_inputs(1);
  const LayerConfig& c = ctx.config();
  const io::Json* layer = c.find("layer");
  if (!layer || !layer->is_object()) ctx.error("config has no wrapped 'layer'");
  const io::Json* cls = layer->find("class_name");
  const io::Json* inner = layer->find("config");
  if (!cls || !cls->is_string() || !inner || !inner->is_object())
    ctx.error("the wrapped 'layer' has no class_name or config");
  std::optional<RecurrentKind> kind = recurrent_kind_of(cls->as_string());
  if (!kind)
    ctx.error(
        str_cat("wrapping a ", cls->as_string(), " is not supported (SimpleRNN, LSTM and GRU are)"),
        ErrorCode::unsupported);

  std::string merge = "concat";
  if (const io::Json* m = c.json().find("merge_mode"))
    merge = m->is_null() ? "none" : c.get_string("merge_mode");
  if (merge != "concat" && merge != "sum" && merge != "mul" && merge != "ave" && merge != "none")
    ctx.error(str_cat("merge_mode '", merge, "' is not supported"), ErrorCode::unsupported);

  // Keras renames the wrapped layer "forward_<name>"; without a backward_layer config the
  // backward copy is "backward_<name>" with go_backwards flipped (Keras 2 prefixed the given
  // backward layer's name too).
  const io::Json* inner_name = inner->find("name");
  std::string base = inner_name && inner_name->is_string() ? inner_name->as_string() : "rnn";
  std::string fwd_name = "forward_" + remove_prefix(base, "forward_");
  const io::Json* bwd_config = inner;
  std::optional<RecurrentKind> bwd_kind = kind;
  std::vector<std::string> bwd_names{"backward_" + remove_prefix(base, "backward_")};
  std::optional<bool> bwd_go_backwards;
  if (const io::Json* b = c.find("backward_layer"); b && b->is_object()) {
    const io::Json* bcls = b->find("class_name");
    bwd_config = b->find("config");
    if (!bcls || !bcls->is_string() || !bwd_config || !bwd_config->is_object())
      ctx.error("'backward_layer' has no class_name or config");
    bwd_kind = recurrent_kind_of(bcls->as_string());
    if (!bwd_kind)
      ctx.error(str_cat("a ", bcls->as_string(), " backward layer is not supported"),
                ErrorCode::unsupported);
    const io::Json* n = bwd_config->find("name");
    std::string name = n && n->is_string() ? n->as_string() : "backward";
    bwd_names = {name, "backward_" + name};
  } else {
    bool forward_backwards = LayerConfig(*inner, "").get_bool("go_backwards", false);
    bwd_go_backwards = !forward_backwards;
  }

  const bool return_sequences = LayerConfig(*inner, "").get_bool("return_sequences", false);
  const bool return_state = LayerConfig(*inner, "").get_bool("return_state", false);
  std::optional<ValueId> mask = ctx.input_mask();
  std::vector<ValueId> states = initial_states_of(ctx);
  if (states.size() % 2 != 0)
    ctx.error(str_cat("expects an even number of initial states, got ", states.size()));
  std::vector<ValueId> fwd_states(states.begin(), states.begin() + states.size() / 2);
  std::vector<ValueId> bwd_states(states.begin() + states.size() / 2, states.end());

  std::unique_ptr<WeightScope> fwd_scope = wrapped_scope(ctx, "forward_layer", {fwd_name});
  std::unique_ptr<WeightScope> bwd_scope = wrapped_scope(ctx, "backward_layer", bwd_names);
  LayerContext fwd(ctx.graph(), ctx.file(), *inner, ctx.name() + "/" + fwd_name, cls->as_string(),
                   ctx.inputs(), *fwd_scope, nullptr);
  LayerContext bwd(ctx.graph(), ctx.file(), *bwd_config, ctx.name() + "/" + bwd_names.front(),
                   cls->as_string(), ctx.inputs(), *bwd_scope, nullptr);
  // Bidirectional forces zero outputs at masked steps when returning sequences, and flips the
  // backward sequence back into input order.
  RnnOverrides fo{std::nullopt, return_sequences, false};
  RnnOverrides bo{bwd_go_backwards, return_sequences, return_sequences};
  std::vector<ValueId> y = emit_rnn(fwd, *kind, ctx.input(), mask, fwd_states, fo);
  std::vector<ValueId> y_rev = emit_rnn(bwd, *bwd_kind, ctx.input(), mask, bwd_states, bo);
  if (LayerConfig(*bwd_config, "").get_bool("return_sequences", false) != return_sequences ||
      LayerConfig(*bwd_config, "").get_bool("return_state", false) != return_state)
    ctx.error("the forward and backward layers disagree on return_sequences or return_state");

  std::vector<ValueId> out;
  if (merge == "none") {
    out = {y[0], y_rev[0]};
  } else if (merge == "concat") {
    int64_t rank = static_cast<int64_t>(ctx.graph().values[y[0]].shape.size());
    out = {ctx.emit(OpKind::concat, ConcatParams{rank - 1}, {y[0], y_rev[0]})};
  } else {
    ElementwiseKind k = merge == "sum"   ? ElementwiseKind::add
                        : merge == "mul" ? ElementwiseKind::multiply
                                         : ElementwiseKind::average;
    out = {ctx.emit(OpKind::elementwise, ElementwiseParams{k}, {y[0], y_rev[0]})};
  }
  if (return_state) {
    out.insert(out.end(), y.begin() + 1, y.end());
    out.insert(out.end(), y_rev.begin() + 1, y_rev.end());
  }
  if (mask && return_sequences) {
    ctx.set_output_mask(0, *mask);
    if (merge == "none") ctx.set_output_mask(1, *mask);
  }
  return out;
}

std::optional<RecurrentKind> cell_kind_of(std::string_view class_name) {
  if (class_name == "SimpleRNNCell") return RecurrentKind::simple;
  if (class_name == "LSTMCell") return RecurrentKind::lstm;
  if (class_name == "GRUCell") return RecurrentKind::gru;
  return std::nullopt;
}

// The RNN layer's own options joined with a cell's (units, activations, ...): the config an
// LSTM/GRU/SimpleRNN layer with that cell would have.
io::Json merged_rnn_config(const io::Json& rnn, const io::Json& cell, bool return_sequences,
                           bool go_backwards) {
  std::vector<std::pair<std::string, io::Json>> members;
  for (const auto& [k, v] : cell.members()) members.emplace_back(k, v);
  for (const auto& [k, v] : rnn.members())
    if (k != "cell" && k != "return_sequences" && k != "go_backwards") members.emplace_back(k, v);
  members.emplace_back("return_sequences", io::Json::boolean(return_sequences));
  members.emplace_back("go_backwards", io::Json::boolean(go_backwards));
  return io::Json::object(std::move(members));
}

// keras.layers.RNN over an LSTMCell, GRUCell or SimpleRNNCell (one recurrent node, as the
// matching layer), or over StackedRNNCells: one recurrent node per cell, each feeding its output
// sequence to the next; Keras returns the last cell's output and every cell's final states.
std::vector<ValueId> import_rnn(LayerContext& ctx) {
  if (ctx.inputs().empty()) ctx.expect_inputs(1);
  const io::Json* cell = ctx.config().find("cell");
  const io::Json* cls = cell && cell->is_object() ? cell->find("class_name") : nullptr;
  const io::Json* cell_config = cell && cell->is_object() ? cell->find("config") : nullptr;
  if (!cls || !cls->is_string() || !cell_config || !cell_config->is_object())
    ctx.error("config has no 'cell' with a class_name and config");
  struct Cell {
    RecurrentKind kind;
    const io::Json* config;
    std::string key, name;
  };
  std::vector<Cell> cells;
  const bool stacked = cls->as_string() == "StackedRNNCells";
  if (stacked) {
    const io::Json* list = cell_config->find("cells");
    if (!list || !list->is_array() || list->size() == 0)
      ctx.error("StackedRNNCells has no 'cells'");
    std::map<std::string, int> counts;
    for (const io::Json& c : list->items()) {
      const io::Json* ccls = c.is_object() ? c.find("class_name") : nullptr;
      const io::Json* cconf = c.is_object() ? c.find("config") : nullptr;
      if (!ccls || !ccls->is_string() || !cconf || !cconf->is_object())
        ctx.error("a stacked cell has no class_name or config");
      std::optional<RecurrentKind> k = cell_kind_of(ccls->as_string());
      if (!k)
        ctx.error(str_cat("RNN cells of class ", ccls->as_string(), " are not supported"),
                  ErrorCode::unsupported);
      const std::string base = keras_snake_case(ccls->as_string());
      const int n = counts[base]++;
      const io::Json* name = cconf->find("name");
      cells.push_back({*k, cconf, n == 0 ? base : base + "_" + std::to_string(n),
                       name && name->is_string() ? name->as_string() : base});
    }
  } else {
    std::optional<RecurrentKind> k = cell_kind_of(cls->as_string());
    if (!k)
      ctx.error(str_cat("RNN cells of class ", cls->as_string(), " are not supported"),
                ErrorCode::unsupported);
    cells.push_back({*k, cell_config, "", ""});
  }
  const bool return_sequences = ctx.config().get_bool("return_sequences", false);
  const bool return_state = ctx.config().get_bool("return_state", false);
  const bool go_backwards = ctx.config().get_bool("go_backwards", false);
  std::optional<ValueId> mask = ctx.input_mask();
  std::vector<ValueId> initial = initial_states_of(ctx);
  if (stacked && !initial.empty())
    ctx.error("initial states for stacked cells are not supported", ErrorCode::unsupported);
  if (stacked && go_backwards && mask)
    ctx.error("go_backwards with a mask over stacked cells is not supported",
              ErrorCode::unsupported);

  ValueId x = ctx.input();
  std::vector<ValueId> states;
  for (size_t i = 0; i < cells.size(); ++i) {
    const bool last = i + 1 == cells.size();
    // Inner cells return their whole sequence, in processing order: the next cell reads it
    // forwards.
    const io::Json config =
        merged_rnn_config(ctx.config().json(), *cells[i].config, last ? return_sequences : true,
                          i == 0 && go_backwards);
    std::unique_ptr<WeightScope> scope;
    if (stacked) {
      // .keras: cell/cells/<key>/vars; legacy .h5 (whose scopes ignore attributes and so see
      // every cell): the weights with the cell's name in their path.
      scope = ctx.weights().attribute("cell")->attribute("cells")->attribute(cells[i].key);
      if (cells.size() > 1 && scope->total_elements() == ctx.weights().total_elements())
        scope = ctx.weights().sub_layer("cell", cells[i].name);
    }
    LayerContext inner(ctx.graph(), ctx.file(), config,
                       stacked ? ctx.name() + "/" + cells[i].name : ctx.name(), ctx.class_name(),
                       {x}, stacked ? *scope : ctx.weights(), nullptr);
    std::vector<ValueId> y = emit_rnn(inner, cells[i].kind, x, mask, initial);
    x = y[0];
    states.insert(states.end(), y.begin() + 1, y.end());
  }
  std::vector<ValueId> out{x};
  if (return_state) out.insert(out.end(), states.begin(), states.end());
  if (mask && return_sequences) ctx.set_output_mask(0, *mask);
  return out;
}

}  // namespace

void register_recurrent_layers(LayerRegistry& r) {
  r.add("RNN", import_rnn,
        "over LSTMCell, GRUCell, SimpleRNNCell or StackedRNNCells of them; the layers' options");
  const char* notes =
      "return_sequences, return_state, go_backwards, masks (explicit or from Embedding/Masking), "
      "initial_state, "
      "every element-wise activation; stateful=False only";
  r.add("SimpleRNN", rnn_layer(RecurrentKind::simple), notes);
  r.add("LSTM", rnn_layer(RecurrentKind::lstm), notes);
  r.add("GRU", rnn_layer(RecurrentKind::gru), std::string(notes) + "; reset_after True and False");
  r.add("Bidirectional", import_bidirectional,
        "SimpleRNN/LSTM/GRU inside; merge_mode concat, sum, mul, ave, None; backward_layer; "
        "return_state; masks");
}

}  // namespace krt::keras
