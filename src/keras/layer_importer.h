// The interface every Keras layer importer implements, and the registry of them.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "keras/layer_config.h"
#include "keras/weights.h"
#include "kerasrt/model.h"

namespace krt::keras {

// What the file says about the Keras that wrote it; semantics follow that version.
struct FileInfo {
  std::string display_name;   // the path as the user gave it, prefixes every error
  std::string keras_version;  // "3.15.1", "2.13.1", ... ("" when unknown)
  int keras_major = 3;
  std::string backend;  // "tensorflow", "theano", ... ("" when unknown)
  // The program's custom layer implementations (LoadOptions::custom_layers), or null.
  const std::map<std::string, CustomLayerFactory>* custom_layers = nullptr;
};

// Everything one layer call needs: its config, inputs, weights and the graph to add nodes to.
class LayerContext {
 public:
  LayerContext(Graph& graph, const FileInfo& file, const io::Json& config, std::string name,
               std::string class_name, std::vector<ValueId> inputs, const WeightScope& weights,
               const io::Json* call_kwargs);

  const FileInfo& file() const { return file_; }
  const LayerConfig& config() const { return config_; }
  const std::string& name() const { return name_; }
  const std::string& class_name() const { return class_name_; }
  const std::vector<ValueId>& inputs() const { return inputs_; }
  ValueId input(size_t i = 0) const;
  const Shape& input_shape(size_t i = 0) const;
  const io::Json* call_kwargs() const { return call_kwargs_; }
  Graph& graph() { return graph_; }

  // The call's positional arguments as the config writes them (tensors and literals such as
  // the 0 of NotEqual(x, 0)), or null (Sequential models, Keras 1/2 configs).
  const io::Json* call_args() const { return call_args_; }
  // Tensors passed as keyword arguments (Keras 3 `kwargs`: mask, initial_state, ...), in the
  // order written; a list argument gives several. Empty when absent or null.
  std::vector<ValueId> kwarg_values(std::string_view name) const;
  // The mask of the first input, 1 = keep: the explicit `mask` kwarg where the config records
  // it (Keras 3 Functional), else the one propagated implicitly (Sequential models and Keras 1/2
  // configs, from Embedding(mask_zero=True) or Masking), else none.
  std::optional<ValueId> input_mask() const;
  bool input_mask_used() const { return mask_used_; }
  // The mask the layer's output `i` carries implicitly to the next layer.
  void set_output_mask(size_t i, ValueId mask);
  const std::map<size_t, ValueId>& output_masks() const { return output_masks_; }
  // Set by the model builder before the import.
  void set_call(const io::Json* args, std::map<std::string, std::vector<ValueId>> kwarg_values,
                std::optional<ValueId> implicit_mask);

  // Variable `index` named `name`; its shape must equal `expected` (-1 entries match anything).
  Tensor weight(int index, std::string_view name, const Shape& expected) const;
  bool has_weight(int index, std::string_view name) const;
  const WeightScope& weights() const { return weights_; }

  // Adds a node computing `kind` and returns its single output (shape inferred).
  ValueId emit(OpKind kind, OpParams params, std::vector<ValueId> inputs,
               std::vector<Tensor> weights = {}, const std::string& suffix = "");
  // The same for ops with several outputs (recurrent: output and states): returns them all.
  std::vector<ValueId> emit_all(OpKind kind, OpParams params, std::vector<ValueId> inputs,
                                std::vector<Tensor> weights = {}, const std::string& suffix = "");

  void expect_inputs(size_t n) const;
  [[noreturn]] void error(const std::string& what, ErrorCode code = ErrorCode::invalid_file) const {
    config_.error(what, code);
  }

 private:
  Graph& graph_;
  const FileInfo& file_;
  LayerConfig config_;
  std::string name_, class_name_;
  std::vector<ValueId> inputs_;
  const WeightScope& weights_;
  const io::Json* call_kwargs_;
  const io::Json* call_args_ = nullptr;
  std::map<std::string, std::vector<ValueId>> kwarg_values_;
  std::optional<ValueId> implicit_mask_;
  mutable bool mask_used_ = false;
  std::map<size_t, ValueId> output_masks_;
};

// Imports one call of a layer: returns the values of its outputs.
using LayerImportFn = std::function<std::vector<ValueId>(LayerContext&)>;

struct LayerImporter {
  std::string class_name;
  LayerImportFn import;
  std::string notes;  // options supported or not, for docs/layers.md
};

class LayerRegistry {
 public:
  void add(std::string class_name, LayerImportFn fn, std::string notes = "");
  void alias(const std::string& alias, const std::string& class_name);
  const LayerImporter* find(std::string_view class_name) const;
  const std::vector<LayerImporter>& all() const { return importers_; }
  const std::vector<std::pair<std::string, std::string>>& aliases() const { return aliases_; }

 private:
  std::vector<LayerImporter> importers_;
  std::vector<std::pair<std::string, std::string>> aliases_;
};

// The registry of every built-in layer importer (built once, thread-safe).
const LayerRegistry& layer_registry();

// Registration functions, one per layer family file.
void register_core_layers(LayerRegistry& r);
void register_conv_layers(LayerRegistry& r);
void register_pooling_layers(LayerRegistry& r);
void register_merge_layers(LayerRegistry& r);
void register_normalization_layers(LayerRegistry& r);
void register_einsum_layers(LayerRegistry& r);  // EinsumDense, Dot
void register_attention_layers(
    LayerRegistry& r);  // Attention, AdditiveAttention, MultiHeadAttention
void register_preprocessing_layers(
    LayerRegistry& r);  // Rescaling, Normalization, Resizing, CenterCrop, Random*
void register_recurrent_layers(LayerRegistry& r);  // SimpleRNN, LSTM, GRU, Bidirectional
void register_sequence_layers(
    LayerRegistry& r);  // Embedding, Masking, RepeatVector, TimeDistributed
void register_tf_op_layers(LayerRegistry& r);
void register_categorical_layers(LayerRegistry& r);  // CategoryEncoding, Discretization
void register_conv_recurrent_layers(
    LayerRegistry& r);  // ConvLSTM1D/2D/3D      // TFOpLambda, SlicingOpLambda (op_registry.cpp)

}  // namespace krt::keras
