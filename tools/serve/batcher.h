// Dynamic batching for one served model: requests that arrive within the queue delay and
// have the same per-row shape are concatenated along the batch dimension, run once, and the
// outputs are split back by rows. N workers (one per compiled instance) run batches in
// parallel; one of them at a time collects the next batch, so batches fill instead of being
// shared out between idle workers.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "kerasrt/kerasrt.h"

namespace krt::serve {

struct BatchOptions {
  int64_t max_batch = 0;           // rows per batch; 0 or 1: every request runs alone
  int64_t max_queue_delay_us = 0;  // how long the first request of a batch waits for others
  int64_t max_queue = 1024;        // requests waiting; more are refused (unavailable)
  int64_t timeout_ms = 30000;      // a request still queued after this fails (unavailable)
};

// What a request got back, and how long it waited and ran (for the metrics).
struct JobResult {
  std::vector<Tensor> outputs;
  double queue_us = 0;
  double compute_us = 0;
  int64_t batch_rows = 0;  // rows of the batch it ran in
};

class Batcher {
 public:
  // Runs one (possibly concatenated) input set on compiled instance `instance`.
  using RunFn =
      std::function<std::vector<Tensor>(size_t instance, const std::vector<Tensor>& inputs)>;
  // Told about every batch run: its rows, how many requests it joined, compute time.
  using BatchObserver = std::function<void(int64_t rows, size_t requests, double compute_us)>;

  // `batchable`: every input and output has a dynamic batch dimension 0, so requests may be
  // concatenated; otherwise each request runs alone whatever the options say.
  Batcher(size_t instances, RunFn run, BatchOptions options, bool batchable,
          BatchObserver observer = nullptr);
  ~Batcher();  // stop()
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  // Queues one request (inputs in the model's order, all of one dtype for a batchable model).
  // Throws ServeError(unavailable) when the queue is full or the batcher is stopping.
  std::future<JobResult> submit(std::vector<Tensor> inputs);
  // Runs what is queued, then stops the workers (graceful shutdown). Idempotent.
  void stop();
  size_t queued() const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Job {
    std::vector<Tensor> inputs;
    int64_t rows = 0;
    std::string signature;  // dtype and per-row shape of every input: what may be concatenated
    Clock::time_point enqueued;
    std::promise<JobResult> promise;
  };

  void worker(size_t instance);
  // Moves the jobs that may join `first`'s batch out of the queue (caller holds the lock).
  void collect(std::vector<Job>& batch, int64_t& rows);
  bool expired(const Job& job, Clock::time_point now) const;
  void run_batch(size_t instance, std::vector<Job>& batch);
  void run_alone(size_t instance, Job& job, Clock::time_point start);

  RunFn run_;
  BatchOptions options_;
  bool batchable_;
  BatchObserver observer_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  bool collecting_ = false;  // one worker at a time forms a batch
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace krt::serve
