#include "metrics.h"

#include <iterator>
#include <sstream>

namespace krt::serve {

void Metrics::request(const std::string& model, const std::string& version, const char* protocol,
                      bool ok, const char* reason) {
  std::lock_guard<std::mutex> lock(mutex_);
  ModelStats& s = stats_[{model, version}];
  ++s.requests[protocol];
  if (!ok) ++s.failures[reason];
}

void Metrics::timing(const std::string& model, const std::string& version, double queue_us,
                     double compute_us) {
  std::lock_guard<std::mutex> lock(mutex_);
  ModelStats& s = stats_[{model, version}];
  ++s.timed;
  s.queue_us += queue_us;
  s.compute_us += compute_us;
}

void Metrics::batch(const std::string& model, const std::string& version, int64_t rows) {
  std::lock_guard<std::mutex> lock(mutex_);
  ModelStats& s = stats_[{model, version}];
  ++s.batches;
  s.batch_rows += rows;
  for (size_t b = 0; b < std::size(kBatchBuckets); ++b)
    if (rows <= kBatchBuckets[b]) ++s.batch_buckets[b];
}

namespace {

// Model and version names are restricted to [A-Za-z0-9_.-] by the repository, and reasons
// and protocols are ours, so label values need no escaping.
std::string labels(const std::string& model, const std::string& version) {
  return "model=\"" + model + "\",version=\"" + version + "\"";
}

void header(std::ostringstream& out, const char* name, const char* type, const char* help) {
  out << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
}

}  // namespace

std::string Metrics::text() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::ostringstream out;
  out.precision(17);
  header(out, "kerasrt_requests_total", "counter", "Inference requests received.");
  for (const auto& [key, s] : stats_)
    for (const auto& [protocol, n] : s.requests)
      out << "kerasrt_requests_total{" << labels(key.first, key.second) << ",protocol=\""
          << protocol << "\"} " << n << "\n";
  header(out, "kerasrt_request_failures_total", "counter", "Inference requests that failed.");
  for (const auto& [key, s] : stats_)
    for (const auto& [reason, n] : s.failures)
      out << "kerasrt_request_failures_total{" << labels(key.first, key.second) << ",reason=\""
          << reason << "\"} " << n << "\n";
  header(out, "kerasrt_queue_seconds", "summary",
         "Time successful requests waited in the batching queue.");
  for (const auto& [key, s] : stats_) {
    out << "kerasrt_queue_seconds_sum{" << labels(key.first, key.second) << "} "
        << s.queue_us * 1e-6 << "\n";
    out << "kerasrt_queue_seconds_count{" << labels(key.first, key.second) << "} " << s.timed
        << "\n";
  }
  header(out, "kerasrt_compute_seconds", "summary",
         "Model run time of the batch each successful request ran in.");
  for (const auto& [key, s] : stats_) {
    out << "kerasrt_compute_seconds_sum{" << labels(key.first, key.second) << "} "
        << s.compute_us * 1e-6 << "\n";
    out << "kerasrt_compute_seconds_count{" << labels(key.first, key.second) << "} " << s.timed
        << "\n";
  }
  header(out, "kerasrt_batch_size", "histogram", "Rows per model run (dynamic batching).");
  for (const auto& [key, s] : stats_) {
    if (s.batches == 0) continue;
    for (size_t b = 0; b < std::size(kBatchBuckets); ++b)
      out << "kerasrt_batch_size_bucket{" << labels(key.first, key.second) << ",le=\""
          << kBatchBuckets[b] << "\"} " << s.batch_buckets[b] << "\n";
    out << "kerasrt_batch_size_bucket{" << labels(key.first, key.second) << ",le=\"+Inf\"} "
        << s.batches << "\n";
    out << "kerasrt_batch_size_sum{" << labels(key.first, key.second) << "} " << s.batch_rows
        << "\n";
    out << "kerasrt_batch_size_count{" << labels(key.first, key.second) << "} " << s.batches
        << "\n";
  }
  return out.str();
}

}  // namespace krt::serve
