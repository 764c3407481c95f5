#include "keras/model_builder.h"

#include <algorithm>
#include <deque>
#include <map>

#include "core/check.h"
#include "keras/op_importers.h"

namespace krt::keras {

bool is_model_class(std::string_view c) {
  return c == "Sequential" || c == "Functional" || c == "Model";
}

namespace {

using io::Json;

const Json& member(const Json& object, std::string_view key, const std::string& context) {
  const Json* v = object.find(key);
  if (!v) fail(ErrorCode::invalid_file, context, ": missing '", key, "'");
  return *v;
}

std::string string_member(const Json& object, std::string_view key, const std::string& context) {
  const Json& v = member(object, key, context);
  if (v.kind() != Json::Kind::string)
    fail(ErrorCode::invalid_file, context, ": '", key, "' should be a string, found ", v.dump());
  return v.as_string();
}

// A reference to one output of one call of a layer: Keras's keras_history / inbound entry.
struct TensorRef {
  std::string layer;
  int64_t node = 0;
  int64_t tensor = 0;
  // Keras 3 call arguments number a layer's calls among those of this model from 0, also for
  // a nested Functional, whose input_layers/output_layers references count from 1 (its
  // construction node comes first): keras/src/models/functional.py, serialize_node.
  bool own_call_index = false;
};

struct Call {
  std::vector<TensorRef> inputs;
  const Json* args = nullptr;  // Keras 3: the positional arguments as written
  const Json* kwargs = nullptr;
  // Keras 3: tensors among the keyword arguments (mask, initial_state, ...), per name.
  std::vector<std::pair<std::string, std::vector<TensorRef>>> kwarg_tensors;
};

TensorRef parse_ref(const Json& triple, const std::string& context) {
  if (triple.kind() != Json::Kind::array || triple.size() < 3 ||
      triple[0].kind() != Json::Kind::string)
    fail(ErrorCode::invalid_file, context, ": malformed tensor reference ", triple.dump());
  return {triple[0].as_string(), json_int(triple[1], context), json_int(triple[2], context)};
}

// Collects the Keras 3 `__keras_tensor__` references in call args, in order (lists flattened).
void collect_tensors(const Json& arg, std::vector<TensorRef>& out, const std::string& context,
                     int depth) {
  if (depth > 8) fail(ErrorCode::invalid_file, context, ": call arguments nest too deeply");
  if (arg.kind() == Json::Kind::array) {
    for (const Json& item : arg.items()) collect_tensors(item, out, context, depth + 1);
  } else if (arg.kind() == Json::Kind::object) {
    const Json* cls = arg.find("class_name");
    if (cls && cls->kind() == Json::Kind::string && cls->as_string() == "__keras_tensor__") {
      const Json& config = member(arg, "config", context);
      out.push_back(parse_ref(member(config, "keras_history", context), context));
      out.back().own_call_index = true;
    } else if (!cls) {
      // A dict of tensors (a model with named inputs called as a layer): keras.tree flattens
      // it in sorted key order.
      std::vector<const std::pair<std::string, Json>*> members;
      for (const auto& m : arg.members()) members.push_back(&m);
      std::sort(members.begin(), members.end(),
                [](const auto* a, const auto* b) { return a->first < b->first; });
      for (const auto* m : members) collect_tensors(m->second, out, context, depth + 1);
    }
  }
}

// tf.keras TFOpLambda / SlicingOpLambda nodes: the first call argument as entries (one or a
// list), every other argument by name in the entries' kwargs, where tensors are references too.
Call parse_tf_op_call(const Json& node, const std::string& context) {
  Call call;
  const TfNode tf = parse_tf_node(node, context);
  for (const Json* e : tf.entries)
    if ((*e)[0].as_string() != "_CONSTANT_VALUE") call.inputs.push_back(parse_ref(*e, context));
  call.args = &node;
  call.kwargs = tf.kwargs;
  if (tf.kwargs)
    for (const auto& [key, value] : tf.kwargs->members()) {
      std::vector<const Json*> found;
      collect_tf_refs(value, found, 0);
      std::vector<TensorRef> refs;
      for (const Json* r : found) refs.push_back(parse_ref(*r, context));
      if (!refs.empty()) call.kwarg_tensors.emplace_back(key, std::move(refs));
    }
  return call;
}

bool is_tf_op_layer(const Json& layer) {
  const Json* c = layer.find("class_name");
  return c && c->kind() == Json::Kind::string &&
         (c->as_string() == "TFOpLambda" || c->as_string() == "SlicingOpLambda");
}

std::vector<Call> parse_calls(const Json& layer, const std::string& context) {
  std::vector<Call> calls;
  const Json* nodes = layer.find("inbound_nodes");
  if (!nodes || nodes->is_null()) return calls;
  if (nodes->kind() != Json::Kind::array)
    fail(ErrorCode::invalid_file, context, ": 'inbound_nodes' should be a list");
  for (const Json& node : nodes->items()) {
    if (node.kind() == Json::Kind::array && is_tf_op_layer(layer)) {
      calls.push_back(parse_tf_op_call(node, context));
      continue;
    }
    Call call;
    if (node.kind() == Json::Kind::object) {  // Keras 3: {"args": [...], "kwargs": {...}}
      call.args = &member(node, "args", context);
      collect_tensors(*call.args, call.inputs, context, 0);
      call.kwargs = node.find("kwargs");
      if (call.kwargs && call.kwargs->kind() == Json::Kind::object) {
        for (const auto& [key, value] : call.kwargs->members()) {
          std::vector<TensorRef> refs;
          collect_tensors(value, refs, context, 0);
          if (!refs.empty()) call.kwarg_tensors.emplace_back(key, std::move(refs));
        }
      }
    } else if (node.kind() ==
               Json::Kind::array) {  // Keras 1/2: [[layer, node, tensor, kwargs], ...]
      for (const Json& entry : node.items()) call.inputs.push_back(parse_ref(entry, context));
      // Tensors passed by keyword (MultiHeadAttention's value=, a custom layer's memory=) are
      // references [layer, node, tensor] in the entries' kwargs, as tf.keras's node.py writes them.
      if (node.size() > 0 && node[0].kind() == Json::Kind::array && node[0].size() == 4 &&
          node[0][3].kind() == Json::Kind::object)
        for (const auto& [key, value] : node[0][3].members()) {
          std::vector<const Json*> found;
          collect_tf_refs(value, found, 0);
          std::vector<TensorRef> refs;
          for (const Json* r : found) refs.push_back(parse_ref(*r, context));
          if (!refs.empty()) call.kwarg_tensors.emplace_back(key, std::move(refs));
        }
    } else {
      fail(ErrorCode::invalid_file, context, ": malformed inbound node ", node.dump());
    }
    calls.push_back(std::move(call));
  }
  return calls;
}

// The input shape an InputLayer (or the first layer of an old Sequential) declares.
std::optional<Shape> declared_input_shape(const Json& config, const std::string& context) {
  for (const char* key : {"batch_shape", "batch_input_shape"}) {
    const Json* v = config.find(key);
    if (v && v->kind() == Json::Kind::array) {
      Shape s;
      for (const Json& d : v->items()) s.push_back(d.is_null() ? dynamic : json_int(d, context));
      if (s.empty()) fail(ErrorCode::invalid_file, context, ": '", key, "' is empty");
      return s;
    }
  }
  return std::nullopt;
}

void check_shape(const Shape& s, const Limits& limits, const std::string& context) {
  if (static_cast<int>(s.size()) > limits.max_rank)
    fail(ErrorCode::limit_exceeded, context, ": rank ", s.size(), " is above the limit");
  for (size_t i = 0; i < s.size(); ++i)
    if (s[i] < 0 && !(s[i] == dynamic))
      fail(ErrorCode::invalid_file, context, ": negative dimension in ", shape_to_string(s));
}

class Builder {
 public:
  Builder(Graph& graph, const FileInfo& file, const WeightScope& scope, const Limits& limits,
          int depth)
      : graph_(graph), file_(file), scope_(scope), limits_(limits), depth_(depth) {}

  ImportedModel build(const Json& model, const std::vector<ValueId>* given_inputs) {
    if (depth_ > 32)
      fail(ErrorCode::limit_exceeded, file_.display_name, ": models are nested too deeply");
    std::string cls = model.kind() == Json::Kind::array
                          ? "Sequential"
                          : string_member(model, "class_name", file_.display_name);
    const Json& config =
        model.kind() == Json::Kind::array ? model : member(model, "config", file_.display_name);
    implicit_masks_ = cls == "Sequential" || file_.keras_major < 3;
    if (cls == "Sequential") return build_sequential(config, given_inputs);
    if (cls == "Functional" || cls == "Model") return build_functional(config, given_inputs);
    fail(ErrorCode::unsupported, file_.display_name, ": model class '", cls, "' is not supported");
  }

 private:
  struct LayerEntry {
    const Json* json;
    const Json* config;
    std::string name, class_name, key;
    std::unique_ptr<WeightScope> weights;
  };

  std::vector<LayerEntry> parse_layers(const Json& layers) {
    if (layers.kind() != Json::Kind::array)
      fail(ErrorCode::invalid_file, file_.display_name, ": 'layers' should be a list");
    if (static_cast<int64_t>(layers.size()) > limits_.max_layers)
      fail(ErrorCode::limit_exceeded, file_.display_name, ": ", layers.size(),
           " layers is above the limit of ", limits_.max_layers);
    std::vector<LayerEntry> out;
    std::map<std::string, int> class_counts;
    for (const Json& layer : layers.items()) {
      LayerEntry e;
      e.json = &layer;
      e.class_name = string_member(layer, "class_name", file_.display_name);
      e.config =
          &member(layer, "config", str_cat(file_.display_name, ": layer of class ", e.class_name));
      const Json* name = layer.find("name");
      if (!name || name->kind() != Json::Kind::string)
        name = e.config->kind() == Json::Kind::object ? e.config->find("name") : nullptr;
      if (!name || name->kind() != Json::Kind::string)
        fail(ErrorCode::invalid_file, file_.display_name, ": a ", e.class_name,
             " layer has no name");
      e.name = name->as_string();
      // .keras keys: snake_case class name plus a per-class counter, in layer order.
      // Keras exports some classes under another name than the Python class whose name makes
      // the key (keras.layers.GroupQueryAttention is the class GroupedQueryAttention).
      std::string base = keras_snake_case(
          e.class_name == "GroupQueryAttention" ? "GroupedQueryAttention" : e.class_name);
      int count = class_counts[base]++;
      e.key = count == 0 ? base : base + "_" + std::to_string(count);
      e.weights = scope_.nested_layer(e.key, e.name);
      out.push_back(std::move(e));
    }
    return out;
  }

  // Models built from an Input start with a node of their own that configs leave out, so
  // references to their calls count from 1: Functional models in Keras 3; in Keras 2 also
  // Sequential models that know their input shape (Sequential was a Functional subclass).
  int64_t first_node_index(const LayerEntry& e) const {
    if (e.class_name == "Functional" || e.class_name == "Model") return 1;
    if (e.class_name != "Sequential" || file_.keras_major >= 3) return 0;
    const Json* layers =
        e.config->kind() == Json::Kind::array ? e.config : e.config->find("layers");
    if (!layers || layers->kind() != Json::Kind::array || layers->size() == 0) return 0;
    const Json& first = (*layers)[0];
    const Json* cls = first.find("class_name");
    if (cls && cls->kind() == Json::Kind::string && cls->as_string() == "InputLayer") return 1;
    const Json* config = first.find("config");
    return config && declared_input_shape(*config, e.name).has_value() ? 1 : 0;
  }

  // Keras 3 records tensor operations used between layers (NotEqual and Any for masks) as
  // nodes of their own; they are not layers, so the summary leaves them out as Keras does.
  static bool is_op_node(const LayerEntry& e) {
    const Json* module = e.json->find("module");
    if (module && module->kind() == Json::Kind::string)
      return is_keras3_op_module(module->as_string());
    if (module || !keras3_op_registry().find(e.class_name)) return false;
    if (!layer_registry().find(e.class_name)) return true;
    // A class that names both (Add, Multiply, Reshape, Softmax, ...) in a config without
    // modules (Keras 3's legacy .h5): an operation's config has no 'trainable' (Operation.
    // get_config), a layer's always has, and operations only come in Keras 3 call nodes.
    const Json* nodes = e.json->find("inbound_nodes");
    const bool keras3_call = nodes && nodes->kind() == Json::Kind::array && nodes->size() > 0 &&
                             (*nodes)[0].kind() == Json::Kind::object;
    return keras3_call && e.config->kind() == Json::Kind::object && !e.config->find("trainable");
  }

  // Layers that Keras applications define in their own modules (ConvNeXt's LayerScale and
  // StochasticDepth) are registered as "<application>.<Class>", so that a user's class of the
  // same name stays a custom layer.
  static std::string registry_name(const LayerEntry& e) {
    const Json* module = e.json->find("module");
    const std::string prefix = "keras.src.applications.";
    if (module && module->kind() == Json::Kind::string && module->as_string().rfind(prefix, 0) == 0)
      return module->as_string().substr(prefix.size()) + "." + e.class_name;
    return e.class_name;
  }

  const CustomLayerFactory* find_custom_layer(const std::string& class_name,
                                              const std::string& registered) const {
    if (!file_.custom_layers) return nullptr;
    for (const std::string& key : {registered, class_name}) {
      auto it = file_.custom_layers->find(key);
      if (!key.empty() && it != file_.custom_layers->end()) return &it->second;
    }
    return nullptr;
  }

  // A custom class with a registered C++ implementation: one node that calls it.
  std::vector<ValueId> call_custom_layer(const LayerEntry& e, const CustomLayerFactory& factory,
                                         const std::string& registered,
                                         const std::vector<ValueId>& inputs) {
    CustomLayerInfo info{e.name,           e.class_name, registered,
                         e.config->dump(), {},           e.weights->all_variables()};
    for (ValueId v : inputs) info.input_shapes.push_back(graph_.values[v].shape);
    std::shared_ptr<const CustomLayer> impl = factory(info);
    if (!impl)
      fail(ErrorCode::unsupported, layer_context(e),
           ": its registered implementation refused the layer");
    Node node;
    node.kind = OpKind::custom;
    node.params = CustomParams{impl};
    node.name = e.name;
    node.keras_class = e.class_name;
    node.inputs = inputs;
    node.weights = info.weights;
    std::vector<Shape> shapes = impl->output_shapes(info.input_shapes);
    if (shapes.empty())
      fail(ErrorCode::invalid_argument, layer_context(e),
           ": its implementation declares no outputs");
    for (size_t i = 0; i < shapes.size(); ++i)
      node.outputs.push_back(
          graph_.add_value(e.name + (i ? ":" + std::to_string(i) : ""), shapes[i]));
    std::vector<ValueId> outputs = node.outputs;
    graph_.add_node(std::move(node));
    return outputs;
  }

  std::string layer_context(const LayerEntry& e) const {
    return str_cat(file_.display_name, ": layer '", e.name, "' (", e.class_name, ")");
  }

  ValueId make_input(const LayerEntry& e, const Json& config) {
    std::optional<Shape> shape = declared_input_shape(config, layer_context(e));
    if (!shape) fail(ErrorCode::invalid_file, layer_context(e), ": no batch_shape");
    (*shape)[0] = dynamic;  // the batch comes from the inputs at run time
    check_shape(*shape, limits_, layer_context(e));
    ValueId v = graph_.add_value(e.name, *shape);
    graph_.inputs.push_back(v);
    return v;
  }

  // Imports one call of a layer (a nested model or a registered Keras layer). `call` is null
  // in Sequential models.
  std::vector<ValueId> call_layer(const LayerEntry& e, std::vector<ValueId> inputs,
                                  const Call* call,
                                  std::map<std::string, std::vector<ValueId>> kwarg_values = {}) {
    if (static_cast<int64_t>(graph_.nodes.size()) > limits_.max_layers * 4)
      fail(ErrorCode::limit_exceeded, file_.display_name, ": the model has too many nodes");
    if (is_model_class(e.class_name)) {
      ImportedModel inner =
          import_model(graph_, file_, *e.json, *e.weights, &inputs, limits_, depth_ + 1);
      return inner.outputs;
    }
    if (e.class_name == "Lambda")
      fail(ErrorCode::unsupported, layer_context(e),
           ": Lambda layers hold Python code, which kerasrt never executes; "
           "rebuild the model without it");
    if (e.class_name == "InputLayer") return inputs;
    const bool op_node = is_op_node(e);
    const LayerImporter* importer =
        op_node ? keras3_op_registry().find(e.class_name) : layer_registry().find(registry_name(e));
    if (!importer && op_node)
      fail(ErrorCode::unsupported, file_.display_name, ": operation '", e.name, "' (", e.class_name,
           " from ", e.json->find("module")->as_string(),
           ") is not supported; docs/layers.md lists the supported operations");
    if (!importer) {
      std::string registered;
      if (const Json* r = e.json->find("registered_name"); r && r->kind() == Json::Kind::string)
        registered = r->as_string();
      if (const CustomLayerFactory* factory = find_custom_layer(e.class_name, registered))
        return call_custom_layer(e, *factory, registered, inputs);
      fail(ErrorCode::unsupported, layer_context(e), ": unknown layer class",
           registered.empty() || registered == e.class_name
               ? ""
               : " (registered as '" + registered + "')",
           "; kerasrt supports the built-in Keras layers listed in docs/layers.md");
    }
    // The implicit masks of the inputs; kUnknownMask marks one kerasrt does not model.
    std::vector<std::optional<ValueId>> in_masks(inputs.size());
    if (implicit_masks_)
      for (size_t i = 0; i < inputs.size(); ++i)
        if (auto it = mask_of_.find(inputs[i]); it != mask_of_.end()) in_masks[i] = it->second;
    const bool unknown = !in_masks.empty() && in_masks[0] == kUnknownMask;
    const std::vector<ValueId> input_values = inputs;
    LayerContext ctx(graph_, file_, *e.config, e.name, e.class_name, std::move(inputs), *e.weights,
                     call ? call->kwargs : nullptr);
    ctx.set_call(call ? call->args : nullptr, std::move(kwarg_values),
                 unknown || in_masks.empty() ? std::nullopt : in_masks[0]);
    std::vector<ValueId> outputs = importer->import(ctx);
    if (unknown && ctx.input_mask_used())
      fail(ErrorCode::unsupported, layer_context(e),
           ": its implicit mask comes from concatenating masked sequences along "
           "an axis other than the features, which kerasrt does not model");
    if (implicit_masks_) propagate_mask(e, ctx, input_values, in_masks, outputs);
    return outputs;
  }

  static constexpr ValueId kUnknownMask = -2;

  // Where configs leave masks implicit (Sequential models, Keras 1/2), they follow the layers
  // as Keras's compute_mask does: set by Embedding(mask_zero)/Masking/RNNs through the context,
  // kept by the layers below that pass masks through unchanged, combined (logical and) by merge
  // layers, dropped by the others.
  void propagate_mask(const LayerEntry& e, LayerContext& ctx, const std::vector<ValueId>& inputs,
                      const std::vector<std::optional<ValueId>>& masks,
                      const std::vector<ValueId>& outputs) {
    for (const auto& [i, m] : ctx.output_masks())
      if (i < outputs.size()) mask_of_[outputs[i]] = m;
    std::vector<ValueId> given;  // the distinct masks of the inputs
    for (const std::optional<ValueId>& m : masks)
      if (m && std::find(given.begin(), given.end(), *m) == given.end()) given.push_back(*m);
    if (given.empty() || !ctx.output_masks().empty() || ctx.input_mask_used() || outputs.empty())
      return;
    auto same_time_axis = [&](ValueId a, ValueId b) {
      const Shape& x = graph_.values[a].shape;
      const Shape& y = graph_.values[b].shape;
      return x.size() >= 2 && y.size() >= 2 && x[1] == y[1];
    };
    static const char* const keep[] = {"Dense",
                                       "Activation",
                                       "Dropout",
                                       "SpatialDropout1D",
                                       "GaussianNoise",
                                       "GaussianDropout",
                                       "AlphaDropout",
                                       "ActivityRegularization",
                                       "ReLU",
                                       "LeakyReLU",
                                       "ELU",
                                       "PReLU",
                                       "ThresholdedReLU",
                                       "BatchNormalization",
                                       "LayerNormalization",
                                       "UnitNormalization",
                                       "Rescaling"};
    for (const char* k : keep)
      if (e.class_name == k) {
        if (masks[0] && same_time_axis(inputs[0], outputs[0])) mask_of_[outputs[0]] = *masks[0];
        return;
      }
    // Merge layers keep the values and and the masks of the masked inputs (Keras's
    // Merge.compute_mask); Concatenate does so along the features axis only.
    static const char* const merges[] = {"Add",     "Subtract", "Multiply",   "Average",
                                         "Maximum", "Minimum",  "Concatenate"};
    for (const char* m : merges)
      if (e.class_name == m) {
        const int64_t rank = static_cast<int64_t>(graph_.values[outputs[0]].shape.size());
        const int64_t axis =
            e.class_name == "Concatenate" ? LayerConfig(*e.config, "").get_int("axis", -1) : -1;
        if (std::find(given.begin(), given.end(), kUnknownMask) != given.end() ||
            (axis != -1 && axis != rank - 1) || !same_time_axis(inputs[0], outputs[0])) {
          mask_of_[outputs[0]] = kUnknownMask;
          return;
        }
        ValueId combined = given[0];
        for (size_t i = 1; i < given.size(); ++i)
          combined = ctx.emit(OpKind::elementwise, ElementwiseParams{ElementwiseKind::multiply},
                              {combined, given[i]}, {}, "mask");
        mask_of_[outputs[0]] = combined;
        return;
      }
    // Layers whose Keras call reads the mask: ignoring it would silently change the result.
    static const char* const readers[] = {"GlobalAveragePooling1D", "Attention",
                                          "AdditiveAttention", "MultiHeadAttention", "Softmax"};
    for (const char* r : readers)
      if (e.class_name == r)
        fail(ErrorCode::unsupported, layer_context(e),
             ": receives a mask from Embedding(mask_zero=True) or Masking "
             "implicitly, which kerasrt does not apply for this layer");
  }

  LayerInfo info_for(const LayerEntry& e, const std::vector<ValueId>& outputs) const {
    LayerInfo info{e.name, e.class_name, {}, e.weights->total_elements()};
    for (ValueId v : outputs) info.output_shapes.push_back(graph_.values[v].shape);
    return info;
  }

  static void record(ImportedModel& out, LayerInfo info, const std::vector<ValueId>& values) {
    out.layers.push_back(std::move(info));
    out.layer_values.push_back(values);
  }

  ImportedModel build_sequential(const Json& config, const std::vector<ValueId>* given_inputs) {
    const Json& layers_json =
        config.kind() == Json::Kind::array ? config : member(config, "layers", file_.display_name);
    ImportedModel out;
    if (config.kind() == Json::Kind::object)
      if (const Json* n = config.find("name"); n && n->kind() == Json::Kind::string)
        out.name = n->as_string();
    std::vector<LayerEntry> layers = parse_layers(layers_json);
    if (layers.empty())
      fail(ErrorCode::invalid_file, file_.display_name, ": the Sequential model has no layers");
    ValueId x;
    size_t first = 0;
    if (given_inputs) {
      if (given_inputs->size() != 1)
        fail(ErrorCode::invalid_file, file_.display_name, ": a Sequential model takes one input");
      x = given_inputs->front();
      if (layers[0].class_name == "InputLayer") first = 1;
    } else if (layers[0].class_name == "InputLayer") {
      x = make_input(layers[0], *layers[0].config);
      first = 1;
    } else {
      std::optional<Shape> shape =
          declared_input_shape(*layers[0].config, layer_context(layers[0]));
      if (!shape && config.kind() == Json::Kind::object) {
        if (const Json* b = config.find("build_input_shape"); b && b->kind() == Json::Kind::array) {
          shape = Shape{};
          for (const Json& d : b->items())
            shape->push_back(d.is_null() ? dynamic : json_int(d, file_.display_name));
        }
      }
      if (!shape)
        fail(ErrorCode::invalid_file, file_.display_name,
             ": cannot tell the Sequential model's input shape");
      (*shape)[0] = dynamic;
      check_shape(*shape, limits_, file_.display_name);
      x = graph_.add_value(layers[0].name + "_input", *shape);
      graph_.inputs.push_back(x);
    }
    out.inputs.push_back(x);
    out.input_names.push_back(graph_.values[x].name);
    std::vector<ValueId> y;
    for (size_t i = first; i < layers.size(); ++i) {
      y = call_layer(layers[i], {x}, nullptr);
      // Only the last layer may return several tensors (an RNN with return_state, a nested
      // model with several outputs): they become the model's outputs, as in Keras.
      if (y.size() != 1 && i + 1 < layers.size())
        fail(ErrorCode::invalid_file, layer_context(layers[i]), ": returns ", y.size(),
             " tensors, but only the last layer of a Sequential model may return more than one");
      if (y.empty()) fail(ErrorCode::invalid_file, layer_context(layers[i]), ": returns no tensor");
      record(out, info_for(layers[i], y), y);
      x = y[0];
    }
    if (y.empty()) y = {x};  // a model of an InputLayer only
    for (size_t k = 0; k < y.size(); ++k) {
      out.outputs.push_back(y[k]);
      out.output_names.push_back(k == 0 ? layers.back().name
                                        : layers.back().name + "_" + std::to_string(k));
    }
    return out;
  }

  // Keras writes input_layers/output_layers as a list of [name, node, tensor] triples, or as
  // a single triple when there is one; Keras 3 writes a dict ({"score": [...], ...}) for models
  // built with named inputs or outputs, flattened in sorted key order as keras.tree does. The
  // keys name the inputs and outputs then (empty names for the list forms).
  std::vector<std::pair<std::string, TensorRef>> parse_endpoint_list(const Json& config,
                                                                     const char* key) {
    const Json& v = member(config, key, file_.display_name);
    std::string context = str_cat(file_.display_name, ": '", key, "'");
    std::vector<std::pair<std::string, TensorRef>> refs;
    if (v.kind() == Json::Kind::array && v.size() >= 1 && v[0].kind() == Json::Kind::string) {
      refs.emplace_back("", parse_ref(v, context));
    } else if (v.kind() == Json::Kind::array) {
      for (const Json& item : v.items()) refs.emplace_back("", parse_ref(item, context));
    } else if (v.kind() == Json::Kind::object) {
      for (const auto& [name, item] : v.members())
        refs.emplace_back(name, parse_ref(item, str_cat(context, "['", name, "']")));
      std::sort(refs.begin(), refs.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
    } else {
      fail(ErrorCode::invalid_file, context, " should be a list or a dict");
    }
    return refs;
  }

  ImportedModel build_functional(const Json& config, const std::vector<ValueId>* given_inputs) {
    ImportedModel out;
    if (const Json* n = config.find("name"); n && n->kind() == Json::Kind::string)
      out.name = n->as_string();
    std::vector<LayerEntry> layers = parse_layers(member(config, "layers", file_.display_name));
    std::map<std::string, size_t> index_of;
    for (size_t i = 0; i < layers.size(); ++i)
      if (!index_of.emplace(layers[i].name, i).second)
        fail(ErrorCode::invalid_file, file_.display_name, ": two layers are named '",
             layers[i].name, "'");
    std::vector<std::pair<std::string, TensorRef>> input_refs =
        parse_endpoint_list(config, "input_layers");
    std::vector<std::pair<std::string, TensorRef>> output_refs =
        parse_endpoint_list(config, "output_layers");

    // Values produced so far: (layer index, call index) -> outputs.
    std::map<std::pair<size_t, int64_t>, std::vector<ValueId>> produced;
    auto key_of = [&](const TensorRef& r,
                      const std::string& context) -> std::pair<size_t, int64_t> {
      auto it = index_of.find(r.layer);
      if (it == index_of.end())
        fail(ErrorCode::invalid_file, context, ": refers to unknown layer '", r.layer, "'");
      return {it->second, r.node + (r.own_call_index ? first_node_index(layers[it->second]) : 0)};
    };
    auto lookup = [&](const TensorRef& r,
                      const std::string& context) -> const std::vector<ValueId>* {
      auto p = produced.find(key_of(r, context));
      return p == produced.end() ? nullptr : &p->second;
    };
    auto value_of = [&](const TensorRef& r, const std::string& context) {
      const std::vector<ValueId>* v = lookup(r, context);
      if (!v)
        fail(ErrorCode::invalid_file, context, ": layer '", r.layer, "' call ", r.node,
             " is never computed");
      if (r.tensor < 0 || r.tensor >= static_cast<int64_t>(v->size()))
        fail(ErrorCode::invalid_file, context, ": layer '", r.layer, "' has no output ", r.tensor);
      return (*v)[r.tensor];
    };

    if (given_inputs && given_inputs->size() != input_refs.size())
      fail(ErrorCode::invalid_file, file_.display_name, ": model '", out.name, "' takes ",
           input_refs.size(), " inputs, got ", given_inputs->size());
    for (size_t i = 0; i < input_refs.size(); ++i) {
      const TensorRef& ref = input_refs[i].second;
      auto it = index_of.find(ref.layer);
      if (it == index_of.end())
        fail(ErrorCode::invalid_file, file_.display_name, ": input layer '", ref.layer,
             "' does not exist");
      const LayerEntry& e = layers[it->second];
      ValueId v = given_inputs ? (*given_inputs)[i] : make_input(e, *e.config);
      produced[{it->second, 0}] = {v};
      out.inputs.push_back(v);
      out.input_names.push_back(input_refs[i].first.empty() ? e.name : input_refs[i].first);
    }

    // Kahn's algorithm over layer calls: a call runs once all the values it reads exist.
    struct PendingCall {
      size_t layer;
      int64_t index;
      Call call;
      size_t missing = 0;
    };
    std::vector<PendingCall> calls;
    for (size_t i = 0; i < layers.size(); ++i) {
      if (layers[i].class_name == "InputLayer") continue;
      std::vector<Call> parsed = parse_calls(*layers[i].json, layer_context(layers[i]));
      int64_t offset = first_node_index(layers[i]);
      for (size_t k = 0; k < parsed.size(); ++k)
        calls.push_back({i, static_cast<int64_t>(k) + offset, std::move(parsed[k])});
    }
    std::map<std::pair<size_t, int64_t>, std::vector<size_t>> waiting;  // producer call -> calls
    std::deque<size_t> ready;
    for (size_t c = 0; c < calls.size(); ++c) {
      std::vector<const TensorRef*> reads;
      for (const TensorRef& r : calls[c].call.inputs) reads.push_back(&r);
      for (const auto& kw : calls[c].call.kwarg_tensors)
        for (const TensorRef& r : kw.second) reads.push_back(&r);
      for (const TensorRef* r : reads) {
        if (lookup(*r, layer_context(layers[calls[c].layer]))) continue;
        ++calls[c].missing;
        waiting[key_of(*r, layer_context(layers[calls[c].layer]))].push_back(c);
      }
      if (calls[c].missing == 0) ready.push_back(c);
    }
    std::vector<bool> layer_seen(layers.size(), false);
    size_t done = 0;
    while (!ready.empty()) {
      PendingCall& pc = calls[ready.front()];
      ready.pop_front();
      const LayerEntry& e = layers[pc.layer];
      std::vector<ValueId> inputs;
      for (const TensorRef& r : pc.call.inputs) inputs.push_back(value_of(r, layer_context(e)));
      std::map<std::string, std::vector<ValueId>> kwarg_values;
      for (const auto& [key, refs] : pc.call.kwarg_tensors)
        for (const TensorRef& r : refs) kwarg_values[key].push_back(value_of(r, layer_context(e)));
      std::vector<ValueId> outputs =
          call_layer(e, std::move(inputs), &pc.call, std::move(kwarg_values));
      if (!layer_seen[pc.layer] && !is_op_node(e)) {
        layer_seen[pc.layer] = true;
        record(out, info_for(e, outputs), outputs);
      }
      produced[{pc.layer, pc.index}] = outputs;
      ++done;
      auto w = waiting.find({pc.layer, pc.index});
      if (w != waiting.end()) {
        for (size_t c : w->second)
          if (--calls[c].missing == 0) ready.push_back(c);
        waiting.erase(w);
      }
    }
    if (done != calls.size()) {
      for (const PendingCall& pc : calls)
        if (pc.missing > 0)
          fail(ErrorCode::invalid_file, layer_context(layers[pc.layer]),
               ": its inputs are never computed (a missing layer call or a cycle)");
    }
    for (const auto& [name, r] : output_refs) {
      out.outputs.push_back(value_of(r, file_.display_name + ": model output"));
      out.output_names.push_back(name.empty() ? r.layer : name);
    }
    // The summary lists InputLayers first, then layers in config order, as Keras does.
    std::map<std::string, size_t> row_of;
    for (size_t i = 0; i < out.layers.size(); ++i) row_of[out.layers[i].name] = i;
    ImportedModel ordered;
    for (const LayerEntry& e : layers) {
      if (e.class_name == "InputLayer") {
        auto it = produced.find({index_of[e.name], 0});
        if (it != produced.end()) record(ordered, info_for(e, it->second), it->second);
      } else if (auto it = row_of.find(e.name); it != row_of.end() && !is_op_node(e)) {
        record(ordered, out.layers[it->second], out.layer_values[it->second]);
      }
    }
    out.layers = std::move(ordered.layers);
    out.layer_values = std::move(ordered.layer_values);
    return out;
  }

  Graph& graph_;
  const FileInfo& file_;
  const WeightScope& scope_;
  const Limits& limits_;
  int depth_;
  // Implicit masks (see propagate_mask): on for Sequential models and files before Keras 3,
  // whose Functional configs do not record masks; value -> its mask.
  bool implicit_masks_ = false;
  std::map<ValueId, ValueId> mask_of_;
};

}  // namespace

ImportedModel import_model(Graph& graph, const FileInfo& file, const Json& model,
                           const WeightScope& scope, const std::vector<ValueId>* given_inputs,
                           const Limits& limits, int depth) {
  return Builder(graph, file, scope, limits, depth).build(model, given_inputs);
}

}  // namespace krt::keras
