// The dynamic batcher: requests join batches in arrival order, outputs are split back to the
// request they belong to, incompatible shapes are never mixed, time-outs and a full queue are
// refused cleanly, one failing request does not fail its batch, and a real model's batched
// results equal its results run alone.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <random>

#include "batcher.h"
#include "inference.h"
#include "test_paths.h"

namespace krt::serve {
namespace {

// A tensor of `rows` rows of `cols` floats, row r holding base + r in every column.
Tensor rows_of(float base, int64_t rows, int64_t cols = 3) {
  Tensor t(DType::f32, {rows, cols});
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) t.data_as<float>()[r * cols + c] = base + r;
  return t;
}

// A fake model: output = input * 10 + 1, row by row; records each batch's first column.
struct FakeModel {
  std::mutex mutex;
  std::vector<std::vector<float>> batches;
  std::function<void()> before_run;

  Batcher::RunFn fn() {
    return [this](size_t, const std::vector<Tensor>& in) {
      if (before_run) before_run();
      std::vector<float> firsts;
      Tensor out(DType::f32, in[0].shape());
      for (int64_t i = 0; i < in[0].size(); ++i) {
        float v = in[0].data_as<float>()[i];
        if (std::isnan(v)) throw Error(ErrorCode::invalid_argument, "NaN in the input");
        out.data_as<float>()[i] = v * 10 + 1;
      }
      for (int64_t r = 0; r < in[0].dim(0); ++r)
        firsts.push_back(in[0].data_as<float>()[r * in[0].dim(1)]);
      std::lock_guard<std::mutex> lock(mutex);
      batches.push_back(firsts);
      return std::vector<Tensor>{out};
    };
  }
};

// Blocks the model's first run until open() (the gate starts closed).
struct FirstRunGate {
  std::mutex mutex;
  std::atomic<int> runs{0};
  explicit FirstRunGate(FakeModel& model) {
    mutex.lock();
    model.before_run = [this] {
      if (runs++ == 0) std::lock_guard<std::mutex> wait(mutex);
    };
  }
  void open() { mutex.unlock(); }
};

void expect_rows(const Tensor& out, float base, int64_t rows, int64_t cols = 3) {
  ASSERT_EQ(out.shape(), (Shape{rows, cols}));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      EXPECT_EQ(out.data_as<float>()[r * cols + c], (base + r) * 10 + 1) << "row " << r;
}

TEST(Batcher, RequestsWithinTheDelayRunAsOneBatchAndSplitBack) {
  FakeModel model;
  std::vector<std::pair<int64_t, size_t>> seen;
  BatchOptions options{.max_batch = 8, .max_queue_delay_us = 200000};
  Batcher batcher(1, model.fn(), options, true, [&](int64_t rows, size_t requests, double) {
    seen.push_back({rows, requests});
  });
  std::vector<std::future<JobResult>> futures;
  for (int j = 0; j < 4; ++j) futures.push_back(batcher.submit({rows_of(100.f * j, 2)}));
  for (int j = 0; j < 4; ++j) {
    JobResult r = futures[j].get();
    EXPECT_EQ(r.batch_rows, 8);
    expect_rows(r.outputs.at(0), 100.f * j, 2);
  }
  ASSERT_EQ(model.batches.size(), 1u);
  EXPECT_EQ(model.batches[0], (std::vector<float>{0, 1, 100, 101, 200, 201, 300, 301}));
  EXPECT_EQ(seen, (std::vector<std::pair<int64_t, size_t>>{{8, 4}}));
}

TEST(Batcher, BatchesFillInArrivalOrderUpToMaxBatch) {
  FakeModel model;
  // Hold the single worker in its first run so that the requests below queue up meanwhile.
  FirstRunGate gate(model);
  Batcher batcher(1, model.fn(), {.max_batch = 4, .max_queue_delay_us = 0}, true);
  std::vector<std::future<JobResult>> futures;
  futures.push_back(batcher.submit({rows_of(0, 1)}));
  while (batcher.queued() != 0) std::this_thread::yield();  // the worker took it
  for (int j = 1; j <= 6; ++j) futures.push_back(batcher.submit({rows_of(float(j), 1)}));
  gate.open();
  for (int j = 0; j <= 6; ++j) expect_rows(futures[j].get().outputs.at(0), float(j), 1);
  ASSERT_EQ(model.batches.size(), 3u);
  EXPECT_EQ(model.batches[1], (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(model.batches[2], (std::vector<float>{5, 6}));
}

TEST(Batcher, DifferentRowShapesAreNeverConcatenated) {
  FakeModel model;
  Batcher batcher(1, model.fn(), {.max_batch = 16, .max_queue_delay_us = 100000}, true);
  auto a = batcher.submit({rows_of(1, 1, 3)});
  auto b = batcher.submit({rows_of(2, 1, 5)});
  auto c = batcher.submit({rows_of(3, 2, 3)});
  expect_rows(a.get().outputs.at(0), 1, 1, 3);
  expect_rows(b.get().outputs.at(0), 2, 1, 5);
  expect_rows(c.get().outputs.at(0), 3, 2, 3);
  ASSERT_EQ(model.batches.size(), 2u);
  EXPECT_EQ(model.batches[0], (std::vector<float>{1, 3, 4}));  // a and c: 3 columns each
  EXPECT_EQ(model.batches[1], (std::vector<float>{2}));
}

TEST(Batcher, QueuedTooLongTimesOutAndAFullQueueRefuses) {
  FakeModel model;
  // Hold the single worker in its first run so that the requests below queue up meanwhile.
  FirstRunGate gate(model);
  Batcher batcher(1, model.fn(), {.max_batch = 0, .max_queue = 1, .timeout_ms = 50}, true);
  auto first = batcher.submit({rows_of(0, 1)});
  while (batcher.queued() != 0) std::this_thread::yield();
  auto second = batcher.submit({rows_of(1, 1)});
  try {
    batcher.submit({rows_of(2, 1)});
    ADD_FAILURE() << "a third request was queued beyond --max-queue 1";
  } catch (const ServeError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::unavailable);
    EXPECT_NE(std::string(e.what()).find("queue is full"), std::string::npos);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(120));
  gate.open();
  expect_rows(first.get().outputs.at(0), 0, 1);
  try {
    second.get();
    ADD_FAILURE() << "the request queued for 120 ms did not time out";
  } catch (const ServeError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::unavailable);
    EXPECT_NE(std::string(e.what()).find("timed out after 50 ms"), std::string::npos) << e.what();
  }
}

TEST(Batcher, ABadRequestFailsAloneNotItsBatch) {
  FakeModel model;
  Batcher batcher(1, model.fn(), {.max_batch = 8, .max_queue_delay_us = 100000}, true);
  Tensor bad = rows_of(5, 1);
  bad.data_as<float>()[1] = NAN;
  auto a = batcher.submit({rows_of(1, 2)});
  auto b = batcher.submit({bad});
  auto c = batcher.submit({rows_of(7, 1)});
  expect_rows(a.get().outputs.at(0), 1, 2);
  expect_rows(c.get().outputs.at(0), 7, 1);
  try {
    b.get();
    ADD_FAILURE() << "the NaN request succeeded";
  } catch (const ServeError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::bad_request);
  }
}

TEST(Batcher, StopRunsWhatIsQueuedThenRefuses) {
  FakeModel model;
  Batcher batcher(2, model.fn(), {.max_batch = 4, .max_queue_delay_us = 50000}, true);
  std::vector<std::future<JobResult>> futures;
  for (int j = 0; j < 10; ++j) futures.push_back(batcher.submit({rows_of(float(j), 1)}));
  batcher.stop();
  for (int j = 0; j < 10; ++j) expect_rows(futures[j].get().outputs.at(0), float(j), 1);
  EXPECT_THROW(batcher.submit({rows_of(0, 1)}), ServeError);
}

// The seed model batched: each request's rows equal the model run on that request alone.
TEST(Batcher, SeedModelBatchedEqualsRunAlone) {
  Model model = load(test::data_dir() + "/fixtures/seed/seed_small_functional/model.keras");
  CompiledModel exe = model.compile({.threads = 1});
  std::mt19937 rng(7);
  std::normal_distribution<float> dist;
  std::vector<Tensor> inputs, alone;
  for (int j = 0; j < 12; ++j) {
    Tensor x(DType::f32, {1 + j % 3, 8, 8, 3});
    for (int64_t i = 0; i < x.size(); ++i) x.data_as<float>()[i] = dist(rng);
    inputs.push_back(x);
    alone.push_back(exe.run({x})[0]);
  }
  std::vector<int64_t> batch_rows;
  Batcher batcher(
      1, [&](size_t, const std::vector<Tensor>& in) { return exe.run(in); },
      {.max_batch = 32, .max_queue_delay_us = 200000}, true,
      [&](int64_t rows, size_t, double) { batch_rows.push_back(rows); });
  std::vector<std::future<JobResult>> futures;
  for (const Tensor& x : inputs) futures.push_back(batcher.submit({x}));
  for (size_t j = 0; j < inputs.size(); ++j) {
    Tensor got = futures[j].get().outputs.at(0);
    ASSERT_EQ(got.shape(), alone[j].shape());
    // The same numbers up to float rounding: a batch of many rows may take another kernel than
    // one request alone (on AVX-512 CPUs our GEMV runs Dense for up to 4 rows, oneDNN beyond),
    // which sums in another order. Rows are never mixed up or shifted: that would be far off.
    const float* g = got.data_as<float>();
    const float* a = alone[j].data_as<float>();
    float scale = 0.f, worst = 0.f;
    for (int64_t i = 0; i < got.size(); ++i) scale = std::max(scale, std::fabs(a[i]));
    for (int64_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::fabs(g[i] - a[i]));
    EXPECT_LE(worst, 1e-5f * std::max(scale, 1.f)) << "request " << j;
  }
  EXPECT_EQ(batch_rows, (std::vector<int64_t>{24}));
}

}  // namespace
}  // namespace krt::serve
