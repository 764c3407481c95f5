// Run-time safety of a compiled model: clear errors for wrong inputs, bit-identical results
// when one compiled model runs from many threads at once (also run under ThreadSanitizer,
// see KERASRT_TSAN), and no memory growth across many runs.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <thread>

#include "kerasrt/kerasrt.h"
#include "test_paths.h"

#if defined(__SANITIZE_ADDRESS__)
#define KRT_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KRT_TEST_ASAN 1
#endif
#endif
#ifdef KRT_TEST_ASAN
// From ASan's allocator interface (declared here: GCC ships no allocator_interface.h).
extern "C" size_t __sanitizer_get_current_allocated_bytes();
#endif

namespace krt::test {
namespace {

std::string fixture(const std::string& name) { return data_dir() + "/fixtures/" + name; }

std::string error_of(const CompiledModel& exe, const std::vector<Tensor>& inputs) {
  try {
    exe.run(inputs);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument) << e.what();
    return e.what();
  }
  return "(accepted)";
}

TEST(RunSafety, WrongInputsGetClearErrors) {
  CompiledModel exe = load(fixture("layers/dense_bias/model.keras")).compile();  // (None, 12) -> 16
  EXPECT_EQ(error_of(exe, {}), "the model takes 1 input(s), got 0");
  EXPECT_EQ(error_of(exe, {Tensor(DType::f32, {1, 12}), Tensor(DType::f32, {1, 12})}),
            "the model takes 1 input(s), got 2");
  EXPECT_NE(error_of(exe, {Tensor(DType::f32, {1, 13})})
                .find("has shape (1, 13), the model expects (None, 12)"),
            std::string::npos);
  EXPECT_NE(error_of(exe, {Tensor(DType::f32, {12})}).find("the model expects (None, 12)"),
            std::string::npos);
  EXPECT_NE(error_of(exe, {Tensor(DType::f32, {1, 2, 12})}).find("the model expects (None, 12)"),
            std::string::npos);
  EXPECT_NE(error_of(exe, {Tensor(DType::f32, {0, 12})}).find("is empty"), std::string::npos);
  EXPECT_NE(error_of(exe, {Tensor()}).find("input 0"), std::string::npos);
  // Other numeric dtypes are converted to the model's float32, as Keras does.
  Tensor ints(DType::i64, {1, 12});
  std::memset(ints.data(), 0, ints.nbytes());
  EXPECT_EQ(exe.run({ints})[0].shape(), (Shape{1, 16}));
}

bool bit_identical(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].shape() != b[i].shape() || a[i].nbytes() != b[i].nbytes() ||
        std::memcmp(a[i].data(), b[i].data(), a[i].nbytes()) != 0)
      return false;
  return true;
}

TEST(RunSafety, EightThreadsGiveBitIdenticalResults) {
  // Conv2D -> Reshape -> Dense -> Dense -> Reshape -> Conv2DTranspose: arenas, views and the
  // per-shape plan cache are all exercised; two batch sizes make threads race on the cache.
  std::string dir = fixture("seed/seed_small_functional");
  CompiledModel exe = load(dir + "/model.keras").compile();
  Tensor x2 = Tensor::from_npy(dir + "/input_0.npy");  // batch 2
  Tensor x1(DType::f32, {1, 8, 8, 3});
  std::memcpy(x1.data(), x2.data(), x1.nbytes());
  const std::vector<Tensor> want2 = exe.run({x2}), want1 = exe.run({x1});

  constexpr int kThreads = 8, kRuns = 25;
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRuns; ++i) {
        bool two = (i + t) % 2 == 0;
        if (!bit_identical(exe.run({two ? x2 : x1}), two ? want2 : want1)) ++mismatches[t];
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(mismatches[t], 0) << "thread " << t;
}

// Bytes in use: the heap as ASan counts it under ASan (exact), else the resident set.
int64_t memory_in_use() {
#ifdef KRT_TEST_ASAN
  return static_cast<int64_t>(__sanitizer_get_current_allocated_bytes());
#else
  std::ifstream statm("/proc/self/statm");
  int64_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * 4096;
#endif
}

TEST(RunSafety, MemoryDoesNotGrowOverTenThousandRuns) {
  CompiledModel exe = load(fixture("layers/dense_bias/model.keras")).compile();
  Tensor x(DType::f32, {1, 12});
  std::memset(x.data(), 0, x.nbytes());
  for (int i = 0; i < 200; ++i) exe.run({x});  // warm up: plan cache, arena pool, allocator
  int64_t before = memory_in_use();
  for (int i = 0; i < 10000; ++i) exe.run({x});
  int64_t growth = memory_in_use() - before;
  // One leaked output tensor per run would be 640 KB; allow allocator noise well below that.
  EXPECT_LT(growth, 256 * 1024) << "memory grew by " << growth << " bytes over 10,000 runs";
}

}  // namespace
}  // namespace krt::test
