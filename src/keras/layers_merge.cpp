// Merge layers: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate.
#include "core/check.h"
#include "keras/layer_importer.h"

namespace krt::keras {

namespace {

LayerImportFn elementwise(ElementwiseKind kind) {
  return [kind](LayerContext& ctx) -> std::vector<ValueId> {
    size_t n = ctx.inputs().size();
    if (kind == ElementwiseKind::subtract ? n != 2 : n < 1)
      ctx.error(str_cat(kind == ElementwiseKind::subtract ? "expects exactly 2 inputs"
                                                          : "expects at least 1 input",
                        ", got ", n));
    return {ctx.emit(OpKind::elementwise, ElementwiseParams{kind}, ctx.inputs())};
  };
}

std::vector<ValueId> import_concatenate(LayerContext& ctx) {
  if (ctx.inputs().empty()) ctx.error("expects at least 1 input");
  int64_t rank = static_cast<int64_t>(ctx.input_shape().size());
  int64_t axis = ctx.config().get_int("axis", -1);
  if (axis < -rank || axis >= rank)
    ctx.error(str_cat("axis ", axis, " is out of range for inputs of rank ", rank));
  if (axis < 0) axis += rank;
  if (axis == 0)
    ctx.error("concatenation along the batch axis is not supported", ErrorCode::unsupported);
  return {ctx.emit(OpKind::concat, ConcatParams{axis}, ctx.inputs())};
}

}  // namespace

void register_merge_layers(LayerRegistry& r) {
  r.add("Add", elementwise(ElementwiseKind::add), "n inputs, broadcasting");
  r.add("Subtract", elementwise(ElementwiseKind::subtract), "2 inputs, broadcasting");
  r.add("Multiply", elementwise(ElementwiseKind::multiply), "n inputs, broadcasting");
  r.add("Average", elementwise(ElementwiseKind::average), "n inputs, broadcasting");
  r.add("Maximum", elementwise(ElementwiseKind::maximum), "n inputs, broadcasting");
  r.add("Minimum", elementwise(ElementwiseKind::minimum), "n inputs, broadcasting");
  r.add("Concatenate", import_concatenate, "any non-batch axis");
}

}  // namespace krt::keras
