#include "model_repository.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <ostream>
#include <thread>

#include "inference.h"
#include "metrics.h"

namespace krt::serve {

namespace fs = std::filesystem;

namespace {

// Names go into URLs, metric labels and logs unescaped: keep them to a safe alphabet.
bool safe_name(const std::string& name) {
  if (name.empty() || name.size() > 128 || name[0] == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

// A version directory is a whole number without sign or leading zeros ("1", "12").
bool version_number(const std::string& name, int64_t& number) {
  if (name.empty() || name.size() > 18 || (name.size() > 1 && name[0] == '0')) return false;
  if (!std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  number = std::stoll(name);
  return true;
}

// The model file in a (version) directory, in order of preference; "" when there is none.
std::string model_file(const fs::path& dir) {
  for (const char* file : {"model.keras", "model.h5", "model.json"}) {
    std::error_code ec;
    if (fs::is_regular_file(dir / file, ec)) return (dir / file).string();
  }
  return "";
}

bool has_dynamic_batch(const std::vector<TensorInfo>& tensors) {
  return std::all_of(tensors.begin(), tensors.end(),
                     [](const TensorInfo& t) { return !t.shape.empty() && t.shape[0] == dynamic; });
}

std::unique_ptr<ServedModel> load_model(const std::string& name, int64_t version,
                                        const std::string& path, const RepositoryOptions& options,
                                        Metrics& metrics) {
  auto served = std::make_unique<ServedModel>();
  served->name = name;
  served->version = std::to_string(version);
  served->path = path;
  Model model = load(path);
  CompileOptions compile = options.compile;
  const int instances = std::max(options.instances, 1);
  if (compile.threads == 0) {
    // Instances run at once: share the cores between them rather than oversubscribe.
    int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    compile.threads = std::max(1, cores / instances);
  }
  for (int i = 0; i < instances; ++i) served->instances.push_back(model.compile(compile));
  served->inputs = model.inputs();
  served->outputs = model.outputs();
  served->batchable = has_dynamic_batch(served->inputs) && has_dynamic_batch(served->outputs);
  ServedModel* raw = served.get();
  served->batcher = std::make_unique<Batcher>(
      served->instances.size(),
      [raw](size_t instance, const std::vector<Tensor>& inputs) {
        return raw->instances[instance].run(inputs);
      },
      options.batching, served->batchable,
      [raw, &metrics](int64_t rows, size_t, double) {
        metrics.batch(raw->name, raw->version, rows);
      });
  return served;
}

}  // namespace

ModelRepository::ModelRepository(const std::string& dir, const RepositoryOptions& options,
                                 Metrics& metrics, std::ostream& log) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw Error(ErrorCode::invalid_argument,
                "--model-repository: '" + dir + "' is not a directory");
  std::vector<fs::path> entries;
  for (const fs::directory_entry& e : fs::directory_iterator(dir)) entries.push_back(e.path());
  std::sort(entries.begin(), entries.end());
  for (const fs::path& model_dir : entries) {
    const std::string name = model_dir.filename().string();
    if (!fs::is_directory(model_dir, ec) || name[0] == '.') continue;
    if (!safe_name(name)) {
      log << "skipped model directory '" << name
          << "': names may use only letters, digits, '_', '-' and '.'\n";
      continue;
    }
    // Numbered subdirectories are versions; otherwise the model file sits in the model's
    // directory and is version 1.
    std::map<int64_t, std::string> versions;
    for (const fs::directory_entry& v : fs::directory_iterator(model_dir)) {
      int64_t number = 0;
      if (v.is_directory(ec) && version_number(v.path().filename().string(), number)) {
        std::string file = model_file(v.path());
        if (!file.empty()) versions[number] = file;
      }
    }
    if (versions.empty() && !model_file(model_dir).empty()) versions[1] = model_file(model_dir);
    if (versions.empty()) {
      log << "skipped model '" << name
          << "': no model.keras, model.h5 or model.json in it or in a numbered version directory\n";
      continue;
    }
    for (const auto& [number, file] : versions) {
      try {
        auto served = load_model(name, number, file, options, metrics);
        log << "loaded model '" << name << "' version " << number << " from " << file << " ("
            << served->instances.size() << " instance(s) on "
            << served->instances[0].report().device
            << (served->batchable ? "" : ", no dynamic batch dimension: requests run alone")
            << ")\n";
        models_[name][number] = std::move(served);
      } catch (const std::exception& e) {
        log << "error: model '" << name << "' version " << number << " not loaded: " << e.what()
            << "\n";
      }
    }
  }
}

ModelRepository::~ModelRepository() { stop(); }

void ModelRepository::stop() {
  for (auto& [name, versions] : models_)
    for (auto& [number, served] : versions) served->batcher->stop();
}

ServedModel& ModelRepository::find(const std::string& name, const std::string& version) {
  auto it = models_.find(name);
  if (it == models_.end() || it->second.empty())
    throw ServeError(ErrorKind::not_found, "unknown model '" + name + "'");
  if (version.empty()) return *it->second.rbegin()->second;
  int64_t number = 0;
  auto v = version_number(version, number) ? it->second.find(number) : it->second.end();
  if (v == it->second.end())
    throw ServeError(ErrorKind::not_found, "model '" + name + "' has no version '" + version + "'");
  return *v->second;
}

std::vector<std::string> ModelRepository::versions(const std::string& name) const {
  std::vector<std::string> out;
  auto it = models_.find(name);
  if (it != models_.end())
    for (const auto& [number, served] : it->second) out.push_back(std::to_string(number));
  return out;
}

std::vector<std::string> ModelRepository::names() const {
  std::vector<std::string> out;
  for (const auto& [name, versions] : models_) out.push_back(name);
  return out;
}

size_t ModelRepository::size() const {
  size_t n = 0;
  for (const auto& [name, versions] : models_) n += versions.size();
  return n;
}

}  // namespace krt::serve
