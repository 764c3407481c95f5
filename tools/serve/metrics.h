// Counters for /metrics, in Prometheus's text exposition format: requests, failures, queue
// and compute time per request, and batch sizes, per model and version.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace krt::serve {

class Metrics {
 public:
  // One finished inference request (`ok` false: it failed, for `reason`).
  void request(const std::string& model, const std::string& version, const char* protocol, bool ok,
               const char* reason = "");
  // Where a successful request spent its time.
  void timing(const std::string& model, const std::string& version, double queue_us,
              double compute_us);
  // One batch run by the batcher.
  void batch(const std::string& model, const std::string& version, int64_t rows);
  // The exposition text ("# HELP", "# TYPE", samples), for GET /metrics.
  std::string text() const;

  // Batch-size histogram bucket upper bounds (rows).
  static constexpr int64_t kBatchBuckets[] = {1, 2, 4, 8, 16, 32, 64, 128};

 private:
  struct ModelStats {
    std::map<std::string, int64_t> requests;  // by protocol
    std::map<std::string, int64_t> failures;  // by reason
    int64_t timed = 0;
    double queue_us = 0, compute_us = 0;
    int64_t batches = 0, batch_rows = 0;
    int64_t batch_buckets[std::size(kBatchBuckets)] = {};
  };
  using Key = std::pair<std::string, std::string>;  // model, version
  mutable std::mutex mutex_;
  std::map<Key, ModelStats> stats_;
};

}  // namespace krt::serve
