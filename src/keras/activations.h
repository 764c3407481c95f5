// Keras activation names (as `activation=` arguments and Activation layers) to ops.
#pragma once

#include <optional>
#include <string>

#include "keras/layer_importer.h"

namespace krt::keras {

// An activation as a Keras config names it: element-wise (fusable) or along an axis.
struct ParsedActivation {
  std::optional<Activation> elementwise;
  std::optional<AxisActivationParams> along_axis;
  bool is_linear() const { return elementwise && elementwise->is_linear(); }
};

// Parses a config's activation entry: a name ("relu"), or a serialized function dict.
// Semantics follow the file's Keras version (hard_sigmoid changed in Keras 3).
ParsedActivation parse_activation(const LayerContext& ctx, const io::Json* value);
// Applies a parsed activation to x, adding a node unless it is linear.
ValueId emit_activation(LayerContext& ctx, const ParsedActivation& act, ValueId x,
                        const std::string& suffix = "activation");
// For layers with a fusable `activation=`: the element-wise part to fuse (or linear), and
// what must follow as its own node (an axis activation) in `rest`.
Activation fusable_activation(const LayerContext& ctx, ParsedActivation* rest);

}  // namespace krt::keras
