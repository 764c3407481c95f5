// Graph rewrites applied at compile time. Passes change the graph, never run it.
#pragma once

#include "graph/graph.h"

namespace krt {

struct PassStats {
  int identities_removed = 0;
  int transposes_cancelled = 0;
  int scale_shifts_folded = 0;
  int activations_fused = 0;
};

// Replaces every use of `from` (node inputs and graph outputs) with `to`.
void replace_uses(Graph& graph, ValueId from, ValueId to);

// Removes identity nodes (Dropout and friends), rewiring their consumers to their input.
int remove_identities(Graph& graph);
// Removes pairs of transposes that undo each other (the channels_first wrappers that meet).
int cancel_inverse_transposes(Graph& graph);
// Drops nodes whose outputs nothing uses, and values nothing references, renumbering ids.
void remove_dead_nodes(Graph& graph);

// Folds a channels-last scale_shift (inference BatchNormalization) into the dense or
// convolution before it, when that node has no activation and nothing else reads its output.
// `graph_owns_weights`: nothing outside the graph reads its weights (the caller let go of the
// model), so a kernel that no other node shares is scaled in place instead of copied.
int fold_scale_shifts(Graph& graph, bool graph_owns_weights = false);
// Moves an activation node into the dense or convolution before it, on the same conditions.
int fuse_activations(Graph& graph);

// The standard pipeline for inference; `fuse` adds the two fusions (the CPU device's: the
// reference device keeps one Keras layer per kernel).
PassStats run_inference_passes(Graph& graph, bool fuse = false, bool graph_owns_weights = false);

}  // namespace krt
