// Importers of recorded tensor operations: Keras 3 op nodes by class name (module
// keras.src.ops.*) and tf.keras TFOpLambda layers by TF function name. Both kinds of record are
// read through OpCall (op_call.h), so one importer serves both; each registration gives the
// operation's signature in the naming of the Keras that wrote it.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "keras/layer_importer.h"
#include "keras/op_call.h"

namespace krt::keras {

using OpImportFn = std::function<std::vector<ValueId>(OpCall&)>;

// Collects registrations into the two registries (their notes go to docs/layers.md).
class OpTables {
 public:
  OpTables(LayerRegistry& keras3, LayerRegistry& tf) : keras3_(keras3), tf_(tf) {}
  // A Keras 3 op class; `signature` names its call's positional parameters.
  void keras(const std::string& class_name, std::vector<std::string> signature, OpImportFn fn,
             std::string notes = "");
  // TF function names (config.function, without "tf."); "x1=x" maps the importer's x1 to TF's x.
  void tf(const std::vector<std::string>& functions, std::vector<std::string> signature,
          OpImportFn fn, std::string notes = "");

 private:
  LayerRegistry& keras3_;
  LayerRegistry& tf_;
};

// The registries, built once.
const LayerRegistry& keras3_op_registry();
const LayerRegistry& tf_function_registry();

void register_math_ops(
    OpTables& t);  // ops_math.cpp: arithmetic, unary math, activations, reductions, where, cast
void register_shape_ops(OpTables& t);  // ops_shape.cpp: reshape, transpose, concat, slicing,
                                       // gather, matmul, einsum, resize
void register_array_ops(
    OpTables& t);  // ops_array.cpp: tile, repeat, flip, pad, one_hot, argmax, attention, ...

// Helpers shared by the op importer files.
// The axis `a` of a rank-`rank` tensor, negative counting from the end; errors when out of range.
int64_t normalize_axis(const OpCall& c, int64_t a, int64_t rank);
// A reshape of x to `out` (dims of the result, `dynamic` where unknown). `batch_kept`: x's axis 0
// stays the result's axis 0 (the reshape is then per sample and keeps a dynamic batch).
ValueId reshape_to(OpCall& c, ValueId x, const Shape& out, bool batch_kept,
                   const std::string& suffix = "");
// x OP y with numpy broadcasting, either operand possibly a constant.
ValueId emit_binary(OpCall& c, BinaryKind kind, const OpCall::Operand& a, const OpCall::Operand& b,
                    const std::string& suffix = "");

}  // namespace krt::keras
