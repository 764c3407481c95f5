// Placement, at compile time: each node goes to the compiled model's device when that device
// supports it, otherwise to the fallback (the cpu backend), and a copy node is inserted wherever
// a value crosses between memory spaces. Decided once and reported, never caught at run time.
#pragma once

#include <string>
#include <vector>

#include "graph/graph.h"
#include "runtime/backend.h"

namespace krt {

struct Placement {
  // The backends in use: [0] the device's, [1] the fallback when any node needed it.
  std::vector<const Backend*> backends;
  std::vector<int> node_backend;       // per node of the rewritten graph: index into `backends`
  std::vector<int> value_space;        // per value: 0 host, 1 the device's memory (when not host)
  std::vector<MemoryLocation> spaces;  // per space: where it is
  int copies = 0;                      // copy nodes, plus model outputs left in device memory
  // Why nodes went to the fallback, one line per node ("layer 'x' (Lambda): ...").
  std::vector<std::string> fallbacks;
};

// The options the fallback backend compiles its nodes with: it computes in fp32 whatever the
// device's precision (its values live on the host in f32; the copies convert).
CompileOptions fallback_options(const CompileOptions& options);

// Places every node of `graph` and inserts the copy nodes (kind `copy`) into it. Model inputs
// start on the host; model outputs stay where they are computed (the run copies them out).
// Throws krt::Error (unsupported) when neither backend runs a node.
Placement place_nodes(Graph& graph, const Backend& device, const Backend& fallback,
                      const CompileOptions& options);

}  // namespace krt
