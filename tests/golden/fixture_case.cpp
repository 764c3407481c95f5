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

io::Json read_meta(const fs::path& case_dir) {
  io::Bytes bytes = io::map_file((case_dir / "meta.json").string());
  return io::parse_json(bytes.as_string_view(), (case_dir / "meta.json").string());
}

void add_sets(const fs::path& case_dir, const FixtureRun& base, std::vector<FixtureRun>& runs) {
  runs.push_back(base);
  if (!fs::is_directory(case_dir / "sets")) return;
  std::vector<fs::path> sets;
  for (const auto& s : fs::directory_iterator(case_dir / "sets")) sets.push_back(s.path());
  std::sort(sets.begin(), sets.end());
  for (const fs::path& s : sets) {
    FixtureRun run = base;
    run.set_dir = s.string();
    run.id += "/" + s.filename().string();
    runs.push_back(run);
  }
}

// meta.json's "model_files": one model file (.h5, .keras), a TF.js folder (its model.json),
// or an architecture .json with its weights-only .h5.
bool add_listed_runs(const fs::path& case_dir, const std::string& case_id,
                     std::vector<FixtureRun>& runs) {
  io::Json meta = read_meta(case_dir);
  const io::Json* files = meta.find("model_files");
  if (!files || !files->is_array() || files->size() == 0) return false;
  std::string json, h5, other;
  for (const io::Json& f : files->items()) {
    std::string name = f.as_string();
    if (fs::is_directory(case_dir / name))
      other = (fs::path(name) / "model.json").string();
    else if (fs::path(name).extension() == ".json")
      json = name;
    else if (fs::path(name).extension() == ".h5" && h5.empty())
      h5 = name;
    else
      other = name;
  }
  FixtureRun run{case_dir.string(), "", "", case_dir.string(), case_id};
  const io::Json* format = meta.find("format");
  const bool full_h5 =
      format && format->is_string() && format->as_string().rfind("h5-full-model", 0) == 0;
  if (!json.empty() && !h5.empty()) {
    if (full_h5)
      add_sets(case_dir, {case_dir.string(), h5, "", case_dir.string(), case_id + "/h5"}, runs);
    run.model_file = json;
    run.weights_file = h5;
    run.id += "/json_h5";
  } else if (!other.empty()) {
    run.model_file = other;
    run.id += fs::path(other).filename() == "model.json"
                  ? "/tfjs"
                  : "/" + fs::path(other).extension().string().substr(1);
  } else if (!h5.empty()) {
    run.model_file = h5;
    run.id += "/h5";
  } else {
    return false;
  }
  add_sets(case_dir, run, runs);
  return true;
}

void add_case_runs(const fs::path& case_dir, const std::string& case_id,
                   std::vector<FixtureRun>& runs) {
  if (add_listed_runs(case_dir, case_id, runs)) return;
  for (const char* file : {"model.keras", "model.h5"}) {
    if (!fs::exists(case_dir / file)) continue;
    std::string format = fs::path(file).extension().string().substr(1);
    add_sets(case_dir, {case_dir.string(), file, "", case_dir.string(), case_id + "/" + format},
             runs);
  }
}

}  // namespace

std::vector<FixtureRun> discover_fixture_runs() {
  std::vector<FixtureRun> runs;
  std::set<std::string> seen;
  std::vector<std::string> roots{data_dir() + "/fixtures"};
  if (!shared_fixtures_dir().empty()) roots.push_back(shared_fixtures_dir());
  for (const std::string& root : roots) {
    // ops/ and apps/: recorded tensor operations (Keras 3 op nodes); apps/ is too large to copy
    // into the project and runs from ../shared only.
    for (const char* group :
         {"seed", "layers", "models", "real", "ops", "apps", "layers2", "models2"}) {
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

Model load_fixture_model(const FixtureRun& run) {
  std::string model = (fs::path(run.case_dir) / run.model_file).string();
  if (run.weights_file.empty()) return load(model);
  return load(model, (fs::path(run.case_dir) / run.weights_file).string());
}

std::string reference_prefix(const FixtureRun& run) {
  // tests/golden/real_references.txt: "<case> <prefix>|none  # why" overrides output_.
  std::ifstream in(fs::path(KRT_TEST_SOURCE_DIR) / "golden" / "real_references.txt");
  std::string line, case_name = fs::path(run.case_dir).filename().string();
  while (std::getline(in, line)) {
    std::istringstream fields(line.substr(0, line.find('#')));
    std::string name, prefix;
    if (fields >> name >> prefix && name == case_name) return prefix == "none" ? "" : prefix;
  }
  return "output_";
}

Tolerance read_tolerance(const std::string& case_dir) {
  io::Json meta = read_meta(case_dir);
  Tolerance tol;
  if (const io::Json* t = meta.find("tolerance")) {
    if (const io::Json* r = t->find("rtol")) tol.rtol = r->as_number();
    if (const io::Json* a = t->find("atol")) tol.atol = a->as_number();
    // real/: "pass if |out-ref| <= atol*max|ref| + rtol*|ref| elementwise"
    if (const io::Json* rule = t->find("rule"); rule && rule->is_string())
      tol.atol_times_max_ref = rule->as_string().find("atol*max|ref|") != std::string::npos;
  } else if (fs::path(case_dir).parent_path().filename() == "real") {
    tol = {1e-4, 1e-5, false};  // the real/ README's default where a case gives none
  }
  return tol;
}

int64_t read_num_params(const std::string& meta_path) {
  io::Bytes bytes = io::map_file(meta_path);
  io::Json meta = io::parse_json(bytes.as_string_view(), meta_path);
  const io::Json* n = meta.find("num_params");
  if (!n) n = meta.find("n_params");  // real/ writes it as a string
  if (n && n->kind() == io::Json::Kind::string && !n->as_string().empty() &&
      n->as_string().find_first_not_of("0123456789") == std::string::npos)
    return std::stoll(n->as_string());
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
    return str_cat("shape ", shape_to_string(got.shape()), " != expected ",
                   shape_to_string(want_any.shape()));
  Tensor want = want_any.dtype() == DType::f32 ? want_any : want_any.cast(DType::f32);
  Tensor g = got.dtype() == DType::f32 ? got : got.cast(DType::f32);
  const float* a = g.data_as<float>();
  const float* b = want.data_as<float>();
  double atol = tol.atol;
  if (tol.atol_times_max_ref) {
    double max_ref = 0;
    for (int64_t i = 0; i < want.size(); ++i)
      max_ref = std::max(max_ref, static_cast<double>(std::fabs(b[i])));
    atol *= max_ref;
  }
  int64_t bad = 0, worst_index = -1;
  double worst = 0;
  for (int64_t i = 0; i < g.size(); ++i) {
    double diff = std::fabs(static_cast<double>(a[i]) - b[i]);
    bool ok = diff <= atol + tol.rtol * std::fabs(b[i]) || (std::isnan(a[i]) && std::isnan(b[i]));
    if (!ok) {
      ++bad;
      if (worst_index < 0 || diff > worst || std::isnan(diff)) {
        worst = diff;
        worst_index = i;
      }
    }
  }
  if (bad == 0) return "";
  return str_cat(bad, " of ", g.size(), " elements outside atol ", atol, " + rtol ", tol.rtol,
                 "; worst at flat index ", worst_index, ": got ", a[worst_index], ", expected ",
                 b[worst_index]);
}

std::vector<std::string> expected_unsupported_cases() {
  std::vector<std::string> cases;
  std::ifstream in(fs::path(KRT_TEST_SOURCE_DIR) / "golden" / "unsupported.txt");
  std::string line;
  while (std::getline(in, line)) {
    line = line.substr(0, line.find('#'));
    line.erase(
        std::remove_if(line.begin(), line.end(), [](unsigned char c) { return std::isspace(c); }),
        line.end());
    if (!line.empty()) cases.push_back(line);
  }
  return cases;
}

}  // namespace krt::test
