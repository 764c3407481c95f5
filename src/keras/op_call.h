// The arguments of one recorded tensor operation, whichever Keras wrote it:
// - Keras 3 op nodes (module keras.src.ops.*): the constructor's arguments in `config` (axis,
//   keepdims, newshape, ...) and the call's in the inbound node's `args` / `kwargs`, with tensors
//   as `__keras_tensor__` references and Python values inline;
// - tf.keras TFOpLambda / SlicingOpLambda layers: the first argument as the inbound node's
//   entries ([layer, node, tensor, kwargs], or a list of them; `_CONSTANT_VALUE` for a constant),
//   every other argument by name in the entries' kwargs, tensors there as [layer, node, tensor].
// Operation importers read arguments by name through one interface; a registration gives the
// operation's signature (the parameter names in positional order) so positions resolve too.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keras/layer_importer.h"

namespace krt::keras {

// One argument: a graph value, a literal from the file, or a list holding tensors.
struct OpArg {
  enum class Kind { tensor, literal, list };
  Kind kind = Kind::literal;
  ValueId tensor = -1;
  const io::Json* json = nullptr;  // literal (also set for lists, to quote them in messages)
  std::vector<OpArg> items;        // list

  bool is_none() const { return kind == Kind::literal && (!json || json->is_null()); }
};

class OpCall {
 public:
  // `signature`: parameter names in positional order; "x1=x" reads the file's `x` for the
  // importer's `x1` (TF functions name their parameters differently from keras.ops).
  OpCall(LayerContext& ctx, std::vector<std::string> signature, bool tf_layer);

  LayerContext& ctx() { return ctx_; }
  const LayerContext& ctx() const { return ctx_; }
  // The argument `name`: a keyword argument, else its positional one, else the config's entry
  // (Keras 3 op constructors keep axis, keepdims, ... there); null when absent.
  const OpArg* find(std::string_view name) const;
  bool has(std::string_view name) const;  // present and not None

  ValueId tensor(std::string_view name) const;                // a required tensor argument
  std::vector<ValueId> tensors(std::string_view name) const;  // a list of tensors (concatenate)
  // A tensor, or a constant made from a literal (numbers, nested lists, serialized arrays).
  struct Operand {
    std::optional<ValueId> value;
    Tensor constant;
  };
  Operand operand(std::string_view name) const;

  int64_t get_int(std::string_view name, std::optional<int64_t> fallback = std::nullopt) const;
  double get_float(std::string_view name, std::optional<double> fallback = std::nullopt) const;
  bool get_bool(std::string_view name, bool fallback) const;
  std::string get_string(std::string_view name, const std::string& fallback) const;
  // None -> nullopt; an int -> {it}; a list/tuple of ints -> them.
  std::optional<std::vector<int64_t>> int_list(std::string_view name) const;

  // The literal JSON of an argument (errors for tensors).
  const io::Json& literal(std::string_view name) const;

  [[noreturn]] void error(const std::string& what, ErrorCode code = ErrorCode::invalid_file) const {
    ctx_.error(what, code);
  }

 private:
  void parse_keras3();
  void parse_tf();
  OpArg convert_keras3(const io::Json& v, size_t& next_input, const std::vector<ValueId>& pool,
                       int depth);
  OpArg convert_tf(const io::Json& v, size_t& next, const std::vector<ValueId>& pool, int depth);

  LayerContext& ctx_;
  std::vector<std::pair<std::string, std::string>> signature_;  // (importer name, file name)
  std::vector<OpArg> positional_;
  std::vector<std::pair<std::string, OpArg>> keyword_;
  mutable std::vector<std::unique_ptr<OpArg>>
      scratch_;  // arguments found in the config, made on demand
};

// A literal as a tensor (f32), or nullopt when it is not numeric: numbers, booleans, nested
// lists of them, and Keras's serialized arrays ({"class_name": "__tensor__" or "__numpy__",
// "config": {"value": ..., "dtype": ...}}).
std::optional<Tensor> literal_tensor(const io::Json& v);

// tf.keras node data: is `v` a reference [layer, node, tensor] or [layer, node, tensor, kwargs]?
bool is_tf_tensor_ref(const io::Json& v);
// The entries of a TFOpLambda inbound node that make its first argument (one entry, or a
// list), and the keyword arguments shared by the entries (null when none).
struct TfNode {
  std::vector<const io::Json*> entries;
  bool first_is_list = false;
  const io::Json* kwargs = nullptr;
};
TfNode parse_tf_node(const io::Json& node, const std::string& context);
// Appends the tensor references inside a TF keyword argument, in reading order.
void collect_tf_refs(const io::Json& v, std::vector<const io::Json*>& out, int depth);

// Keras 3: is this layer entry a recorded operation (module keras.src.ops.*) rather than a layer?
bool is_keras3_op_module(std::string_view module);

}  // namespace krt::keras
