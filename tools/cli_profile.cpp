#include "cli_profile.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

namespace krt::cli {

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size(), m = n / 2;
  return n == 0 ? 0 : n % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

double round4(double v) { return std::round(v * 10000) / 10000; }

}  // namespace

RunProfile profile_runs(const CompiledModel& exe, const std::vector<Tensor>& inputs, int64_t runs) {
  std::vector<NodeProfile> one;
  RunOptions options;
  options.profile = &one;
  std::vector<std::vector<double>> times;  // per node, per run
  RunProfile p;
  for (int64_t r = 0; r < std::max<int64_t>(runs, 1); ++r) {
    exe.run(inputs, options);
    if (p.nodes.empty()) {
      for (const NodeProfile& n : one) p.nodes.push_back({n.name, n.op, n.backend, n.kernel});
      times.resize(one.size());
    }
    for (size_t i = 0; i < one.size() && i < times.size(); ++i) times[i].push_back(one[i].ms);
    ++p.runs;
  }
  std::map<std::string, size_t> op_row;  // "op|backend|kernel" -> index in p.ops
  for (size_t i = 0; i < p.nodes.size(); ++i) {
    ProfileRow& row = p.nodes[i];
    row.ms = median(times[i]);
    p.total_ms += row.ms;
    const std::string key = row.op + "|" + row.backend + "|" + row.kernel;
    auto [it, added] = op_row.emplace(key, p.ops.size());
    if (added) {
      p.ops.push_back({"", row.op, row.backend, row.kernel, 0, 0, 0});
    }
    ProfileRow& op = p.ops[it->second];
    op.count += 1;
    op.ms += row.ms;
  }
  for (ProfileRow& r : p.nodes) r.share = p.total_ms > 0 ? r.ms / p.total_ms : 0;
  for (ProfileRow& r : p.ops) r.share = p.total_ms > 0 ? r.ms / p.total_ms : 0;
  std::stable_sort(p.ops.begin(), p.ops.end(),
                   [](const ProfileRow& a, const ProfileRow& b) { return a.ms > b.ms; });
  return p;
}

void print_profile(std::ostream& out, const RunProfile& p, size_t top) {
  char line[320];
  std::snprintf(line, sizeof line,
                "profile:    %d profiled runs, medians per node; nodes sum to %.3f ms\n", p.runs,
                p.total_ms);
  out << line;
  std::snprintf(line, sizeof line, "  %-22s %5s %10s %7s  %s\n", "op", "nodes", "ms", "share",
                "backend / kernel");
  out << line;
  for (const ProfileRow& r : p.ops) {
    std::snprintf(line, sizeof line, "  %-22s %5d %10.4f %6.1f%%  %s / %s\n", r.op.c_str(), r.count,
                  r.ms, 100 * r.share, r.backend.c_str(), r.kernel.c_str());
    out << line;
  }
  std::vector<size_t> order(p.nodes.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  const bool all = top == 0 || top >= order.size();
  if (!all) {  // the slowest nodes, shown in execution order
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return p.nodes[a].ms > p.nodes[b].ms; });
    order.resize(top);
    std::sort(order.begin(), order.end());
  }
  std::snprintf(line, sizeof line, "  %-4s %-30s %-16s %10s %7s  %s\n", "#",
                all ? "node" : "node (slowest)", "op", "ms", "share", "kernel");
  out << line;
  for (size_t i : order) {
    const ProfileRow& r = p.nodes[i];
    std::snprintf(line, sizeof line, "  %-4zu %-30s %-16s %10.4f %6.1f%%  %s\n", i, r.name.c_str(),
                  r.op.c_str(), r.ms, 100 * r.share, r.kernel.c_str());
    out << line;
  }
}

io::Json profile_json(const RunProfile& p) {
  auto rows = [](const std::vector<ProfileRow>& rows, bool nodes) {
    std::vector<io::Json> items;
    for (const ProfileRow& r : rows) {
      std::vector<std::pair<std::string, io::Json>> j;
      if (nodes) j.emplace_back("name", io::Json::string(r.name));
      j.emplace_back("op", io::Json::string(r.op));
      j.emplace_back("backend", io::Json::string(r.backend));
      j.emplace_back("kernel", io::Json::string(r.kernel));
      if (!nodes) j.emplace_back("nodes", io::Json::integer(r.count));
      j.emplace_back("ms", io::Json::number(round4(r.ms)));
      j.emplace_back("share", io::Json::number(round4(r.share)));
      items.push_back(io::Json::object(std::move(j)));
    }
    return io::Json::array(std::move(items));
  };
  return io::Json::object({{"runs", io::Json::integer(p.runs)},
                           {"total_ms", io::Json::number(round4(p.total_ms))},
                           {"ops", rows(p.ops, false)},
                           {"nodes", rows(p.nodes, true)}});
}

}  // namespace krt::cli
