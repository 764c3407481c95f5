// `kerasrt bench --profile`: where a run's time goes, per node and per op kind, from profiled
// runs (RunOptions::profile) made after the ordinary timed calls, so they do not change them.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "io/json.h"
#include "kerasrt/kerasrt.h"

namespace krt::cli {

struct ProfileRow {
  std::string name, op, backend, kernel;
  int count = 1;     // nodes summed into this row (per-op rows)
  double ms = 0;     // the median over the profiled runs (a per-op row: the sum of its nodes')
  double share = 0;  // of the sum over all nodes
};

struct RunProfile {
  int runs = 0;
  double total_ms = 0;            // the sum of the nodes' medians
  std::vector<ProfileRow> nodes;  // in execution order
  std::vector<ProfileRow> ops;    // by op kind and kernel, the most time first
};

// `runs` profiled calls of `exe` on `inputs`.
RunProfile profile_runs(const CompiledModel& exe, const std::vector<Tensor>& inputs, int64_t runs);

// The two tables, readable; `top` nodes at most (0: all).
void print_profile(std::ostream& out, const RunProfile& profile, size_t top = 0);
// {"runs", "total_ms", "nodes": [{name, op, backend, kernel, ms, share}], "ops": [...]}
io::Json profile_json(const RunProfile& profile);

}  // namespace krt::cli
