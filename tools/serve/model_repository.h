// The model repository: DIR/<model>/[<version>/]model.keras|model.h5|model.json, every model
// loaded and compiled at start. A model that fails to load is reported and skipped; the
// others serve.
#pragma once

#include <iosfwd>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "batcher.h"
#include "kerasrt/kerasrt.h"

namespace krt::serve {

class Metrics;

struct RepositoryOptions {
  CompileOptions compile;  // device, precision; threads 0: the cores shared among instances
  int instances = 1;       // compiled copies per model, run in parallel
  BatchOptions batching;
};

// One version of one model, compiled `instances` times behind its batcher.
struct ServedModel {
  std::string name;
  std::string version;
  std::string path;
  std::vector<TensorInfo> inputs;
  std::vector<TensorInfo> outputs;
  bool batchable = false;  // dynamic batch dim 0 on every input and output
  std::vector<CompiledModel> instances;
  std::unique_ptr<Batcher> batcher;
};

class ModelRepository {
 public:
  // Loads every model under `dir`; writes one line per model (loaded or why not) to `log`.
  // Throws krt::Error (invalid_argument) when `dir` is not a directory.
  ModelRepository(const std::string& dir, const RepositoryOptions& options, Metrics& metrics,
                  std::ostream& log);
  ~ModelRepository();

  // The version asked for, or the latest (highest number) when `version` is empty.
  // Throws ServeError(not_found) naming what is missing.
  ServedModel& find(const std::string& name, const std::string& version);
  // Versions of a model, ascending (empty when unknown).
  std::vector<std::string> versions(const std::string& name) const;
  std::vector<std::string> names() const;
  size_t size() const;
  // Graceful shutdown: every batcher runs what it has queued, then stops.
  void stop();

 private:
  // name -> version number -> model; numbers sort versions numerically.
  std::map<std::string, std::map<int64_t, std::unique_ptr<ServedModel>>> models_;
};

}  // namespace krt::serve
