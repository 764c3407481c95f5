// channels_first support: kerasrt computes in channels-last (NHWC) and wraps channels_first
// layers in transposes, which a pass cancels where they meet.
#pragma once

#include "keras/layer_importer.h"

namespace krt::keras {

// The layer's data_format (Keras 2 also wrote `dim_ordering`: "th" is channels_first).
bool is_channels_first(const LayerContext& ctx);
// (N, C, s...) -> (N, s..., C)
ValueId to_channels_last(LayerContext& ctx, ValueId x);
// (N, s..., C) -> (N, C, s...)
ValueId to_channels_first(LayerContext& ctx, ValueId x);

}  // namespace krt::keras
