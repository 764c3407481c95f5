#include "batcher.h"

#include <cstring>

#include "inference.h"

namespace krt::serve {

namespace {

double micros(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::micro>(d).count();
}

// The rows of `t` from `first` on, as a tensor sharing the batch output's storage.
Tensor row_slice(const Tensor& t, int64_t first, int64_t rows) {
  Shape shape = t.shape();
  size_t row_bytes = shape[0] == 0 ? 0 : t.nbytes() / static_cast<size_t>(shape[0]);
  shape[0] = rows;
  auto owner = std::make_shared<Tensor>(t);
  auto* data = static_cast<char*>(owner->data()) + static_cast<size_t>(first) * row_bytes;
  return Tensor::adopt(t.dtype(), std::move(shape), owner, data);
}

// Errors the engine raises for a request become the request's error; anything else is ours.
std::exception_ptr as_serve_error(const std::exception& e) {
  const auto* krt_error = dynamic_cast<const Error*>(&e);
  bool caller = krt_error && (krt_error->code() == ErrorCode::invalid_argument ||
                              krt_error->code() == ErrorCode::limit_exceeded);
  return std::make_exception_ptr(
      ServeError(caller ? ErrorKind::bad_request : ErrorKind::internal, e.what()));
}

}  // namespace

Batcher::Batcher(size_t instances, RunFn run, BatchOptions options, bool batchable,
                 BatchObserver observer)
    : run_(std::move(run)),
      options_(options),
      batchable_(batchable && options.max_batch > 1),
      observer_(std::move(observer)) {
  for (size_t i = 0; i < std::max<size_t>(instances, 1); ++i)
    workers_.emplace_back([this, i] { worker(i); });
}

Batcher::~Batcher() { stop(); }

void Batcher::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : workers_)
    if (t.joinable()) t.join();
}

size_t Batcher::queued() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queue_.size();
}

std::future<JobResult> Batcher::submit(std::vector<Tensor> inputs) {
  Job job;
  job.rows = inputs.empty() || inputs[0].rank() == 0 ? 0 : inputs[0].dim(0);
  if (batchable_) {
    for (const Tensor& t : inputs) {
      job.signature += std::to_string(static_cast<int>(t.dtype())) + ":";
      for (int d = 1; d < t.rank(); ++d) job.signature += std::to_string(t.dim(d)) + ",";
      job.signature += ";";
    }
  }
  job.inputs = std::move(inputs);
  std::future<JobResult> future = job.promise.get_future();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) throw ServeError(ErrorKind::unavailable, "the server is shutting down");
    if (static_cast<int64_t>(queue_.size()) >= options_.max_queue)
      throw ServeError(ErrorKind::unavailable, "the queue is full (" +
                                                   std::to_string(options_.max_queue) +
                                                   " requests waiting); try again later");
    job.enqueued = Clock::now();
    queue_.push_back(std::move(job));
  }
  // Every worker may be waiting: the collector for more rows, the others for the role.
  cv_.notify_all();
  return future;
}

bool Batcher::expired(const Job& job, Clock::time_point now) const {
  return now - job.enqueued > std::chrono::milliseconds(options_.timeout_ms);
}

void Batcher::collect(std::vector<Job>& batch, int64_t& rows) {
  const Clock::time_point now = Clock::now();
  for (auto it = queue_.begin(); it != queue_.end() && rows < options_.max_batch;) {
    if (expired(*it, now)) {
      it->promise.set_exception(std::make_exception_ptr(ServeError(
          ErrorKind::unavailable,
          "timed out after " + std::to_string(options_.timeout_ms) + " ms in the queue")));
      it = queue_.erase(it);
    } else if (it->signature == batch.front().signature && rows + it->rows <= options_.max_batch) {
      rows += it->rows;
      batch.push_back(std::move(*it));
      it = queue_.erase(it);
    } else {
      ++it;
    }
  }
}

void Batcher::worker(size_t instance) {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    cv_.wait(lock,
             [&] { return (!collecting_ && !queue_.empty()) || (stopping_ && queue_.empty()); });
    if (queue_.empty()) return;  // stopping, and everything queued has run
    std::vector<Job> batch;
    batch.push_back(std::move(queue_.front()));
    queue_.pop_front();
    if (expired(batch.front(), Clock::now())) {
      batch.front().promise.set_exception(std::make_exception_ptr(ServeError(
          ErrorKind::unavailable,
          "timed out after " + std::to_string(options_.timeout_ms) + " ms in the queue")));
      continue;
    }
    if (batchable_ && batch.front().rows < options_.max_batch) {
      collecting_ = true;
      int64_t rows = batch.front().rows;
      const Clock::time_point close =
          batch.front().enqueued + std::chrono::microseconds(options_.max_queue_delay_us);
      for (;;) {
        collect(batch, rows);
        if (rows >= options_.max_batch || stopping_ || Clock::now() >= close) break;
        cv_.wait_until(lock, close);  // woken early by each new request
      }
      collecting_ = false;
      cv_.notify_all();  // another idle worker may collect the next batch meanwhile
    }
    lock.unlock();
    run_batch(instance, batch);
    lock.lock();
  }
}

void Batcher::run_alone(size_t instance, Job& job, Clock::time_point start) {
  try {
    JobResult result;
    result.outputs = run_(instance, job.inputs);
    const Clock::time_point end = Clock::now();
    result.queue_us = micros(start - job.enqueued);
    result.compute_us = micros(end - start);
    result.batch_rows = job.rows;
    if (observer_) observer_(job.rows, 1, result.compute_us);
    job.promise.set_value(std::move(result));
  } catch (const std::exception& e) {
    job.promise.set_exception(as_serve_error(e));
  }
}

void Batcher::run_batch(size_t instance, std::vector<Job>& batch) {
  const Clock::time_point start = Clock::now();
  if (batch.size() == 1) return run_alone(instance, batch.front(), start);
  int64_t rows = 0;
  for (const Job& job : batch) rows += job.rows;
  std::vector<Tensor> outputs;
  try {
    // Concatenate along dim 0: the per-row shapes are equal (same signature).
    std::vector<Tensor> inputs;
    for (size_t i = 0; i < batch.front().inputs.size(); ++i) {
      Shape shape = batch.front().inputs[i].shape();
      shape[0] = rows;
      Tensor cat(batch.front().inputs[i].dtype(), shape);
      auto* dst = static_cast<char*>(cat.data());
      for (const Job& job : batch) {
        std::memcpy(dst, job.inputs[i].data(), job.inputs[i].nbytes());
        dst += job.inputs[i].nbytes();
      }
      inputs.push_back(std::move(cat));
    }
    outputs = run_(instance, inputs);
    for (const Tensor& t : outputs)
      if (t.rank() == 0 || t.dim(0) != rows)
        throw Error(ErrorCode::internal, "an output of the batched run has shape " +
                                             shape_to_string(t.shape()) + ", not " +
                                             std::to_string(rows) + " rows");
  } catch (const std::exception&) {
    // One bad request must not fail the others it was batched with: run each alone.
    for (Job& job : batch) run_alone(instance, job, start);
    return;
  }
  const Clock::time_point end = Clock::now();
  if (observer_) observer_(rows, batch.size(), micros(end - start));
  int64_t first = 0;
  for (Job& job : batch) {
    JobResult result;
    for (const Tensor& t : outputs) result.outputs.push_back(row_slice(t, first, job.rows));
    result.queue_us = micros(start - job.enqueued);
    result.compute_us = micros(end - start);
    result.batch_rows = rows;
    first += job.rows;
    job.promise.set_value(std::move(result));
  }
}

}  // namespace krt::serve
