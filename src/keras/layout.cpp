#include "keras/layout.h"

namespace krt::keras {

bool is_channels_first(const LayerContext& ctx) {
  std::string format = ctx.config().get_string("data_format", "channels_last");
  if (ctx.config().has("dim_ordering")) return ctx.config().get_string("dim_ordering") == "th";
  if (format != "channels_last" && format != "channels_first")
    ctx.error("data_format '" + format + "' is not supported", ErrorCode::unsupported);
  return format == "channels_first";
}

ValueId to_channels_last(LayerContext& ctx, ValueId x) {
  int64_t rank = static_cast<int64_t>(ctx.graph().values[x].shape.size());
  TransposeParams t{{0}};
  for (int64_t i = 2; i < rank; ++i) t.perm.push_back(i);
  t.perm.push_back(1);
  return ctx.emit(OpKind::transpose, t, {x}, {}, "to_channels_last");
}

ValueId to_channels_first(LayerContext& ctx, ValueId x) {
  int64_t rank = static_cast<int64_t>(ctx.graph().values[x].shape.size());
  TransposeParams t{{0, rank - 1}};
  for (int64_t i = 1; i < rank - 1; ++i) t.perm.push_back(i);
  return ctx.emit(OpKind::transpose, t, {x}, {}, "to_channels_first");
}

}  // namespace krt::keras
