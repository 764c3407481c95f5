#include "keras/layer_importer.h"

#include <algorithm>

#include "core/check.h"
#include "ops/shape_inference.h"

namespace krt::keras {

LayerContext::LayerContext(Graph& graph, const FileInfo& file, const io::Json& config,
                           std::string name, std::string class_name, std::vector<ValueId> inputs,
                           const WeightScope& weights, const io::Json* call_kwargs)
    : graph_(graph),
      file_(file),
      config_(config, str_cat(file.display_name, ": layer '", name, "' (", class_name, ")")),
      name_(std::move(name)),
      class_name_(std::move(class_name)),
      inputs_(std::move(inputs)),
      weights_(weights),
      call_kwargs_(call_kwargs) {}

ValueId LayerContext::input(size_t i) const {
  if (i >= inputs_.size())
    error(str_cat("expects at least ", i + 1, " inputs, got ", inputs_.size()));
  return inputs_[i];
}

const Shape& LayerContext::input_shape(size_t i) const { return graph_.values[input(i)].shape; }

void LayerContext::expect_inputs(size_t n) const {
  if (inputs_.size() != n) error(str_cat("expects ", n, " input(s), got ", inputs_.size()));
}

bool LayerContext::has_weight(int index, std::string_view name) const {
  return weights_.find(index, name).has_value();
}

Tensor LayerContext::weight(int index, std::string_view name, const Shape& expected) const {
  std::optional<Tensor> w = weights_.find(index, name);
  if (!w)
    error(str_cat("weight '", name, "' (variable ", index, ") is missing from the weights file"));
  bool ok = w->rank() == static_cast<int>(expected.size());
  for (size_t i = 0; ok && i < expected.size(); ++i)
    ok = expected[i] < 0 || expected[i] == w->shape()[i];
  if (!ok)
    error(str_cat(name, " has shape ", shape_to_string(w->shape()), ", expected ",
                  shape_to_string(expected)));
  if (w->dtype() != DType::f32) return w->cast(DType::f32);
  return *w;
}

void LayerContext::set_call(const io::Json* args,
                            std::map<std::string, std::vector<ValueId>> kwarg_values,
                            std::optional<ValueId> implicit_mask) {
  call_args_ = args;
  kwarg_values_ = std::move(kwarg_values);
  implicit_mask_ = implicit_mask;
}

std::vector<ValueId> LayerContext::kwarg_values(std::string_view name) const {
  auto it = kwarg_values_.find(std::string(name));
  return it == kwarg_values_.end() ? std::vector<ValueId>{} : it->second;
}

std::optional<ValueId> LayerContext::input_mask() const {
  mask_used_ = true;
  std::vector<ValueId> explicit_mask = kwarg_values("mask");
  if (explicit_mask.size() > 1)
    error("a mask per input is not supported here", ErrorCode::unsupported);
  if (!explicit_mask.empty()) return explicit_mask[0];
  return implicit_mask_;
}

void LayerContext::set_output_mask(size_t i, ValueId mask) { output_masks_[i] = mask; }

ValueId LayerContext::emit(OpKind kind, OpParams params, std::vector<ValueId> inputs,
                           std::vector<Tensor> weights, const std::string& suffix) {
  return emit_all(kind, std::move(params), std::move(inputs), std::move(weights), suffix).at(0);
}

std::vector<ValueId> LayerContext::emit_all(OpKind kind, OpParams params,
                                            std::vector<ValueId> inputs,
                                            std::vector<Tensor> weights,
                                            const std::string& suffix) {
  Node node;
  node.kind = kind;
  node.params = std::move(params);
  node.name = suffix.empty() ? name_ : name_ + "/" + suffix;
  node.keras_class = class_name_;
  node.inputs = std::move(inputs);
  node.weights = std::move(weights);
  std::vector<Shape> in_shapes;
  for (ValueId v : node.inputs) in_shapes.push_back(graph_.values.at(v).shape);
  std::vector<Shape> out_shapes;
  try {
    out_shapes = infer_output_shapes(node, in_shapes);
  } catch (const Error& e) {
    fail(e.code(), file_.display_name, ": ", e.what());
  }
  for (size_t i = 0; i < out_shapes.size(); ++i)
    node.outputs.push_back(
        graph_.add_value(node.name + (i ? ":" + std::to_string(i) : ""), out_shapes[i]));
  std::vector<ValueId> outputs = node.outputs;
  graph_.add_node(std::move(node));
  return outputs;
}

void LayerRegistry::add(std::string class_name, LayerImportFn fn, std::string notes) {
  importers_.push_back({std::move(class_name), std::move(fn), std::move(notes)});
}

void LayerRegistry::alias(const std::string& alias, const std::string& class_name) {
  aliases_.emplace_back(alias, class_name);
}

const LayerImporter* LayerRegistry::find(std::string_view class_name) const {
  for (const auto& [alias, target] : aliases_)
    if (alias == class_name) return find(target);
  for (const LayerImporter& imp : importers_)
    if (imp.class_name == class_name) return &imp;
  return nullptr;
}

const LayerRegistry& layer_registry() {
  static const LayerRegistry registry = [] {
    LayerRegistry r;
    register_core_layers(r);
    register_conv_layers(r);
    register_pooling_layers(r);
    register_merge_layers(r);
    register_normalization_layers(r);
    register_einsum_layers(r);
    register_attention_layers(r);
    register_preprocessing_layers(r);
    register_recurrent_layers(r);
    register_sequence_layers(r);
    register_tf_op_layers(r);
    register_categorical_layers(r);
    register_conv_recurrent_layers(r);
    return r;
  }();
  return registry;
}

}  // namespace krt::keras

namespace krt {

std::vector<SupportedLayer> supported_layers() {
  std::vector<SupportedLayer> out;
  const keras::LayerRegistry& r = keras::layer_registry();
  for (const keras::LayerImporter& imp : r.all()) out.push_back({imp.class_name, imp.notes});
  for (const auto& [alias, target] : r.aliases()) out.push_back({alias, "alias of " + target});
  std::sort(out.begin(), out.end(), [](const SupportedLayer& a, const SupportedLayer& b) {
    return a.class_name < b.class_name;
  });
  return out;
}

}  // namespace krt
