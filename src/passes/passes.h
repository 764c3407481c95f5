// Graph rewrites applied at compile time. Passes change the graph, never run it.
#pragma once

#include "graph/graph.h"

namespace krt {

struct PassStats {
  int identities_removed = 0;
  int transposes_cancelled = 0;
};

// Removes identity nodes (Dropout and friends), rewiring their consumers to their input.
int remove_identities(Graph& graph);
// Removes pairs of transposes that undo each other (the channels_first wrappers that meet).
int cancel_inverse_transposes(Graph& graph);
// Drops nodes whose outputs nothing uses, and values nothing references, renumbering ids.
void remove_dead_nodes(Graph& graph);

// The standard pipeline for inference.
PassStats run_inference_passes(Graph& graph);

}  // namespace krt
