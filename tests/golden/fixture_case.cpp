#include "golden/fixture_case.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/check.h"
#include "io/bytes.h"
#include "io/json.h"
#include "test_paths.h"

namespace fs = std::filesystem;

namespace krt::test {

namespace {

void add_case_runs(const fs::path& case_dir, const std::string& case_id, std::vector<FixtureRun>& runs) {
  for (const char* file : {"model.keras", "model.h5"}) {
    if (!fs::exists(case_dir / file)) continue;
    std::string format = fs::path(file).extension().string().substr(1);
    runs.push_back({case_dir.string(), file, case_dir.string(), case_id + "/" + format});
    if (fs::is_directory(case_dir / "sets")) {
      std::vector<fs::path> sets;
      for (const auto& s : fs::directory_iterator(case_dir / "sets")) sets.push_back(s.path());
      std::sort(sets.begin(), sets.end());
      for (const fs::path& s : sets)
        runs.push_back({case_dir.string(), file, s.string(), case_id + "/" + format + "/" + s.filename().string()});
    }
  }
}

}  // namespace

std::vector<FixtureRun> discover_fixture_runs() {
  std::vector<FixtureRun> runs;
  std::set<std::string> seen;
  std::vector<std::string> roots{data_dir() + "/fixtures"};
  if (!shared_fixtures_dir().empty()) roots.push_back(shared_fixtures_dir());
  for (const std::string& root : roots) {
    for (const char* group : {"seed", "layers", "models"}) {
      fs::path g = fs::path(root) / group;
      if (!fs::is_directory(g)) continue;
      std::vector<fs::path> cases;
      for (const auto& c : fs::directory_iterator(g))
        if (c.is_directory() && fs::exists(c.path() / "meta.json")) cases.push_back(c.path());
      std::sort(cases.begin(), cases.end());
      for (const fs::path& c : cases) {
        std::string id = std::string(group) + "/" + c.filename().string();
        if (seen.insert(id).second) add_case_runs(c, id, runs);
      }
    }
  }
  return runs;
}

Tolerance read_tolerance(const std::string& case_dir) {
  io::Bytes bytes = io::map_file(case_dir + "/meta.json");
  io::Json meta = io::parse_json(bytes.as_string_view(), case_dir + "/meta.json");
  Tolerance tol;
  if (const io::Json* t = meta.find("tolerance")) {
    if (const io::Json* r = t->find("rtol")) tol.rtol = r->as_number();
    if (const io::Json* a = t->find("atol")) tol.atol = a->as_number();
  }
  return tol;
}

int64_t read_num_params(const std::string& meta_path) {
  io::Bytes bytes = io::map_file(meta_path);
  io::Json meta = io::parse_json(bytes.as_string_view(), meta_path);
  const io::Json* n = meta.find("num_params");
  return n && n->kind() == io::Json::Kind::number ? static_cast<int64_t>(n->as_number()) : -1;
}

std::vector<Tensor> read_numbered(const std::string& dir, const std::string& prefix) {
  std::vector<Tensor> out;
  for (int i = 0;; ++i) {
    fs::path p = fs::path(dir) / (prefix + std::to_string(i) + ".npy");
    if (!fs::exists(p)) break;
    out.push_back(Tensor::from_npy(p.string()));
  }
  return out;
}

std::string compare_tensors(const Tensor& got, const Tensor& want_any, const Tolerance& tol) {
  if (got.shape() != want_any.shape())
    return str_cat("shape ", shape_to_string(got.shape()), " != expected ", shape_to_string(want_any.shape()));
  Tensor want = want_any.dtype() == DType::f32 ? want_any : want_any.cast(DType::f32);
  Tensor g = got.dtype() == DType::f32 ? got : got.cast(DType::f32);
  const float* a = g.data_as<float>();
  const float* b = want.data_as<float>();
  int64_t bad = 0, worst_index = -1;
  double worst = 0;
  for (int64_t i = 0; i < g.size(); ++i) {
    double diff = std::fabs(static_cast<double>(a[i]) - b[i]);
    bool ok = diff <= tol.atol + tol.rtol * std::fabs(b[i]) || (std::isnan(a[i]) && std::isnan(b[i]));
    if (!ok) {
      ++bad;
      if (worst_index < 0 || diff > worst || std::isnan(diff)) {
        worst = diff;
        worst_index = i;
      }
    }
  }
  if (bad == 0) return "";
  return str_cat(bad, " of ", g.size(), " elements outside atol ", tol.atol, " + rtol ", tol.rtol, "; worst at flat index ",
                 worst_index, ": got ", a[worst_index], ", expected ", b[worst_index]);
}

std::vector<std::string> expected_unsupported_cases() {
  std::vector<std::string> cases;
  std::ifstream in(fs::path(KRT_TEST_SOURCE_DIR) / "golden" / "unsupported.txt");
  std::string line;
  while (std::getline(in, line)) {
    line = line.substr(0, line.find('#'));
    line.erase(std::remove_if(line.begin(), line.end(), [](unsigned char c) { return std::isspace(c); }), line.end());
    if (!line.empty()) cases.push_back(line);
  }
  return cases;
}

}  // namespace krt::test
