// The registries of recorded operations, the helpers their importers share, and the layers
// tf.keras records operations as (TFOpLambda, SlicingOpLambda).
#include <algorithm>

#include "core/check.h"
#include "keras/op_importers.h"
#include "kerasrt/operations.h"

namespace krt::keras {

void OpTables::keras(const std::string& class_name, std::vector<std::string> signature,
                     OpImportFn fn, std::string notes) {
  keras3_.add(
      class_name,
      [signature = std::move(signature), fn = std::move(fn)](LayerContext& ctx) {
        OpCall call(ctx, signature, false);
        return fn(call);
      },
      std::move(notes));
}

void OpTables::tf(const std::vector<std::string>& functions, std::vector<std::string> signature,
                  OpImportFn fn, std::string notes) {
  for (const std::string& f : functions)
    tf_.add(
        f,
        [signature, fn](LayerContext& ctx) {
          OpCall call(ctx, signature, true);
          return fn(call);
        },
        notes);
}

namespace {

struct Registries {
  LayerRegistry keras3, tf;
  Registries() {
    OpTables t(keras3, tf);
    register_math_ops(t);
    register_shape_ops(t);
    register_array_ops(t);
  }
};

const Registries& registries() {
  static const Registries r;
  return r;
}

// TFOpLambda / SlicingOpLambda: the recorded TF function, by name. Nothing from the file is
// executed: the name selects one of kerasrt's importers, or the layer is refused.
std::vector<ValueId> import_tf_op_layer(LayerContext& ctx) {
  const std::string function = ctx.config().get_string("function");
  const LayerImporter* importer = tf_function_registry().find(function);
  if (!importer)
    ctx.error(str_cat("TensorFlow function 'tf.", function,
                      "' is not supported; docs/layers.md lists the supported ones"),
              ErrorCode::unsupported);
  return importer->import(ctx);
}

}  // namespace

const LayerRegistry& keras3_op_registry() { return registries().keras3; }
const LayerRegistry& tf_function_registry() { return registries().tf; }

void register_tf_op_layers(LayerRegistry& r) {
  r.add("TFOpLambda", import_tf_op_layer,
        "tf.keras recorded TF function (config.function): see the TF functions table below");
  r.add("SlicingOpLambda", import_tf_op_layer, "tf.keras recorded slicing (__operators__.getitem)");
}

int64_t normalize_axis(const OpCall& c, int64_t a, int64_t rank) {
  if (a < -rank || a >= rank)
    c.error(str_cat("axis ", a, " is out of range for a tensor of rank ", rank));
  return a < 0 ? a + rank : a;
}

ValueId reshape_to(OpCall& c, ValueId x, const Shape& out, bool batch_kept,
                   const std::string& suffix) {
  const Shape in = c.ctx().graph().values[x].shape;
  if (in == out) return x;
  batch_kept = batch_kept && !in.empty() && !out.empty();
  Shape target(out.begin() + (batch_kept ? 1 : 0), out.end());
  int unknown = 0;
  for (int64_t& d : target)
    if (d < 0) {
      d = -1;
      ++unknown;
    }
  if (unknown > 1)
    c.error(str_cat("reshaping ", shape_to_string(in), " to ", shape_to_string(out),
                    " needs more than one dimension known only at run time"),
            ErrorCode::unsupported);
  return c.ctx().emit(OpKind::reshape, ReshapeParams{target, !batch_kept}, {x}, {}, suffix);
}

ValueId emit_binary(OpCall& c, BinaryKind kind, const OpCall::Operand& a, const OpCall::Operand& b,
                    const std::string& suffix) {
  if (!a.value && !b.value)
    c.error("an operation on two constants is not supported", ErrorCode::unsupported);
  if (a.value && b.value) {
    // Tensor with tensor: the merge op where it computes the same (it has fast CPU kernels).
    std::optional<ElementwiseKind> merge;
    switch (kind) {
      case BinaryKind::add:
        merge = ElementwiseKind::add;
        break;
      case BinaryKind::subtract:
        merge = ElementwiseKind::subtract;
        break;
      case BinaryKind::multiply:
        merge = ElementwiseKind::multiply;
        break;
      default:
        break;
    }
    if (merge)
      return c.ctx().emit(OpKind::elementwise, ElementwiseParams{*merge}, {*a.value, *b.value}, {},
                          suffix);
    return c.ctx().emit(OpKind::binary, BinaryParams{kind, 0}, {*a.value, *b.value}, {}, suffix);
  }
  const bool first_constant = !a.value;
  return c.ctx().emit(OpKind::binary, BinaryParams{kind, first_constant ? 1u : 2u},
                      {first_constant ? *b.value : *a.value},
                      {first_constant ? a.constant : b.constant}, suffix);
}

}  // namespace krt::keras

namespace krt {

namespace {
std::vector<SupportedOperation> listed(const keras::LayerRegistry& r) {
  std::vector<SupportedOperation> out;
  for (const keras::LayerImporter& imp : r.all()) out.push_back({imp.class_name, imp.notes});
  std::sort(out.begin(), out.end(), [](const SupportedOperation& a, const SupportedOperation& b) {
    return a.name < b.name;
  });
  return out;
}
}  // namespace

std::vector<SupportedOperation> supported_keras_operations() {
  return listed(keras::keras3_op_registry());
}
std::vector<SupportedOperation> supported_tf_functions() {
  return listed(keras::tf_function_registry());
}

}  // namespace krt
