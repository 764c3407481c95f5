// Files of a few KB that claim terabytes (a 2^40-element kernel, a 1 TiB dataset, a 2^40
// element .npy) must be refused before anything large is allocated, with the default limits
// and with limits the user raised. Each load runs in a child process whose address space may
// grow by at most 1 GiB, so an attempted large allocation fails the test (std::bad_alloc, or
// an out-of-memory report under ASan) instead of passing by luck. Also: users can raise limits.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <functional>

#include "expect_error.h"
#include "io/bytes.h"
#include "io/hdf5.h"
#include "io/npy.h"
#include "kerasrt/kerasrt.h"
#include "test_paths.h"

namespace krt::test {
namespace {

using krt::test::expect_error;

std::string malformed(const std::string& name) { return data_dir() + "/malformed/" + name; }

int64_t address_space_bytes() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmSize:") {
      int64_t kb = 0;
      status >> kb;
      return kb * 1024;
    }
  }
  return 0;
}

// Child exit codes; krt::Error gives 10 + its ErrorCode.
constexpr int kAccepted = 2, kBadAlloc = 3, kOtherException = 4;

// Runs `body` in a child whose address space may grow by only 1 GiB; returns its exit code
// (or 128 + signal).
int run_with_small_address_space(const std::function<void()>& body) {
  pid_t pid = fork();
  if (pid == 0) {
    rlim_t cap = static_cast<rlim_t>(address_space_bytes()) + (rlim_t{1} << 30);
    rlimit limit{cap, cap};
    if (setrlimit(RLIMIT_AS, &limit) != 0) _exit(5);
    int code = kAccepted;
    try {
      body();
    } catch (const Error& e) {
      code = 10 + static_cast<int>(e.code());
    } catch (const std::bad_alloc&) {
      code = kBadAlloc;
    } catch (...) {
      code = kOtherException;
    }
    _exit(code);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

LoadOptions raised_limits() {
  LoadOptions options;
  options.limits.max_elements = int64_t{1} << 42;
  options.limits.max_total_bytes = uint64_t{1} << 44;  // 16 TiB: the limits alone would allow it
  return options;
}

bool refused(int code) {
  return code == 10 + static_cast<int>(ErrorCode::invalid_file) ||
         code == 10 + static_cast<int>(ErrorCode::limit_exceeded);
}

TEST(HugeClaims, ModelsClaimingTwoToTheFortyElementsAreRefusedWithoutAllocating) {
  for (const char* name : {"huge_2e40_kernel.keras", "huge_2e40_kernel.h5"}) {
    std::string path = malformed(name);
    int with_defaults = run_with_small_address_space([&] { load(path); });
    EXPECT_EQ(with_defaults, 10 + static_cast<int>(ErrorCode::limit_exceeded)) << name;
    int with_raised = run_with_small_address_space([&] { load(path, raised_limits()); });
    EXPECT_EQ(with_raised, 10 + static_cast<int>(ErrorCode::invalid_file)) << name;
  }
}

TEST(HugeClaims, OneTerabyteHdf5DatasetIsRefusedWithoutAllocating) {
  std::string path = malformed("huge_1tb_dataset.h5");
  // With the default limits the claim is refused as soon as its dataspace is read...
  Error e = expect_error([&] { io::Hdf5File(io::map_file(path), path).dataset_shape("data"); });
  EXPECT_EQ(e.code(), ErrorCode::limit_exceeded) << e.what();
  // ...and with raised limits it is read (a valid dataspace)...
  EXPECT_EQ(io::Hdf5File(io::map_file(path), path, raised_limits().limits).dataset_shape("data"),
            (Shape{int64_t{1} << 38}));
  for (const LoadOptions& options : {LoadOptions{}, raised_limits()}) {
    // ...but not believed.
    int code = run_with_small_address_space(
        [&] { io::Hdf5File(io::map_file(path), path, options.limits).read_dataset("data"); });
    EXPECT_TRUE(refused(code)) << "child exit " << code;
  }
}

TEST(HugeClaims, NpyClaimingTwoToTheFortyElementsIsRefusedWithoutAllocating) {
  std::string path = malformed("npy_shape_2e40.npy");
  for (const LoadOptions& options : {LoadOptions{}, raised_limits()}) {
    int code = run_with_small_address_space(
        [&] { io::read_npy(io::map_file(path), path, options.limits); });
    EXPECT_TRUE(refused(code)) << "child exit " << code;
  }
}

TEST(HugeClaims, TheAddressSpaceCapCatchesLargeAllocations) {
  // The harness itself: a 4 GiB allocation in the child must fail, or the tests above prove
  // nothing.
  int code = run_with_small_address_space([] {
    std::vector<uint8_t> big(size_t{4} << 30);
    big[12345] = 1;
  });
  EXPECT_NE(code, kAccepted);
}

TEST(Limits, UsersCanRaiseThem) {
  std::string path = data_dir() + "/fixtures/layers/dense_bias/model.keras";  // kernel (12, 16)
  LoadOptions tight;
  tight.limits.max_elements = 100;
  try {
    load(path, tight);
    ADD_FAILURE() << "a 192-element kernel passed max_elements = 100";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::limit_exceeded);
    EXPECT_NE(std::string(e.what()).find("max_elements"), std::string::npos) << e.what();
  }
  tight.limits.max_elements = 192;
  EXPECT_EQ(load(path, tight).param_count(), 12 * 16 + 16);

  LoadOptions few_layers;
  few_layers.limits.max_layers = 1;
  EXPECT_THROW(load(data_dir() + "/fixtures/seed/seed_small_functional/model.keras", few_layers),
               Error);
  few_layers.limits.max_layers = 100;
  EXPECT_NO_THROW(
      load(data_dir() + "/fixtures/seed/seed_small_functional/model.keras", few_layers));
}

TEST(Limits, OneLoadSharesOneBudgetAcrossItsZipMembers) {
  // The elu_layer model with its three members deflated (tests/data/io/make_test_files.py):
  // they inflate to 64 + 849 + 8888 bytes. Each fits a budget of their sum minus one, but
  // not all three together.
  std::string deflated = data_dir() + "/io/deflated_model.keras";
  std::string stored = data_dir() + "/fixtures/layers/elu_layer/model.keras";
  Tensor input = Tensor::from_npy(data_dir() + "/fixtures/layers/elu_layer/input_0.npy");
  Tensor a = load(deflated).compile().run({input})[0];
  Tensor b = load(stored).compile().run({input})[0];
  ASSERT_EQ(a.size(), b.size());
  for (int64_t i = 0; i < a.size(); ++i)
    EXPECT_EQ(a.data_as<float>()[i], b.data_as<float>()[i]) << i;

  LoadOptions tight;
  tight.limits.max_total_bytes = 64 + 849 + 8888 - 1;
  Error e = expect_error([&] { load(deflated, tight); });
  EXPECT_EQ(e.code(), ErrorCode::limit_exceeded);
  EXPECT_NE(std::string(e.what()).find("already inflated from this archive"), std::string::npos)
      << e.what();
  EXPECT_NE(std::string(e.what()).find("model.weights.h5"), std::string::npos) << e.what();
}

}  // namespace
}  // namespace krt::test
