// `kerasrt dot`: the graph as imported and as compiled, in Graphviz format.
#include <iostream>

#include "cli_common.h"
#include "graph/dot.h"
#include "graph/model_data.h"
#include "runtime/execution_plan.h"

namespace krt::cli {

int cmd_dot(const std::vector<std::string>& args) {
  std::string model_path, weights, stage = "both";
  CompileOptions options;
  ArgReader a(args);
  while (a.next()) {
    if (a.is("--weights"))
      weights = a.value();
    else if (a.is("--device"))
      options.device = parse_device_flag(a.value());
    else if (a.is("--precision"))
      options.precision = parse_precision_flag(a.value());
    else if (a.is("--stage"))
      stage = a.value();
    else if (!a.is_option() && model_path.empty())
      model_path = a.arg();
    else
      a.unknown();
  }
  if (model_path.empty()) throw UsageError("dot needs a MODEL");
  if (stage != "both" && stage != "imported" && stage != "compiled")
    throw UsageError("--stage expects imported, compiled or both, got '" + stage + "'");
  Model model = load_model(model_path, weights);
  const ModelData& data = model.data();
  std::cout << "digraph \"" << model.name()
            << "\" {\n  rankdir=TB;\n  node [fontname=\"Helvetica\"];\n"
            << "  edge [fontname=\"Helvetica\", fontsize=10];\n";
  if (stage != "compiled")
    std::cout << graph_to_dot_cluster(
        data.graph, "imported",
        "as imported: " + std::to_string(data.graph.nodes.size()) + " nodes");
  if (stage != "imported") {
    // The same compile the library runs, so the picture shows what executes.
    std::shared_ptr<ExecutionPlan> plan =
        compile_graph(data.graph, data.inputs, data.outputs, options);
    const CompileReport& r = plan->report;
    std::cout << graph_to_dot_cluster(
        plan->graph, "compiled",
        "compiled: " + std::to_string(r.nodes) + " nodes, " + std::to_string(r.zero_copy_views) +
            " zero-copy views, " + std::to_string(r.identities_removed) + " identities removed, " +
            std::to_string(r.scale_shifts_folded) + " batch norms folded, " +
            std::to_string(r.activations_fused) + " activations fused; " + placement_text(r));
  }
  std::cout << "}\n";
  return 0;
}

}  // namespace krt::cli
