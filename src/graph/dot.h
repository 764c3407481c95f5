// Graphviz (dot) rendering of a graph, for `kerasrt dot`: one cluster per graph so the graph as
// imported and as compiled can sit side by side in one picture.
#pragma once

#include <string>

#include "graph/graph.h"

namespace krt {

// A `subgraph cluster_<id> { ... }` block. Node ids are prefixed with `id` so several clusters
// can share one digraph. Reshapes (views of their input's bytes) are dashed, identities dotted,
// and activations fused into Dense/Conv/Einsum nodes are named on the node ("fc1 +relu").
std::string graph_to_dot_cluster(const Graph& graph, const std::string& id,
                                 const std::string& title);

}  // namespace krt
