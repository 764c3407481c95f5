// Placement through the Backend seam, with a test device registered the way a plug-in would
// be: it runs only Dense and activations, in its own memory space, so every other node goes to
// the cpu backend with copies between, and the report counts them.
#include <gtest/gtest.h>

#include <atomic>
#include <random>

#include "backend_cases.h"
#include "backends/reference/reference_device.h"
#include "kerasrt/kerasrt.h"
#include "runtime/backend_registry.h"

namespace krt {
namespace {

std::atomic<int> kernels_run{0};
std::atomic<int> wrong_memory{0};

// Runs the reference kernel, after checking that every tensor it is given is in its memory.
class CheckedKernel : public NodeKernel {
 public:
  explicit CheckedKernel(std::unique_ptr<NodeKernel> inner) : inner_(std::move(inner)) {}
  void run(RunContext& context, std::span<const Tensor> inputs,
           std::span<Tensor> outputs) const override {
    for (const Tensor& t : inputs) wrong_memory += t.location() != MemoryLocation{"test_device", 0};
    for (const Tensor& t : outputs)
      wrong_memory += t.location() != MemoryLocation{"test_device", 0};
    ++kernels_run;
    // Its "device memory" is host memory under another label: the reference kernel reads it.
    std::vector<Tensor> in, out;
    for (const Tensor& t : inputs)
      in.push_back(Tensor::wrap(t.dtype(), t.shape(), const_cast<void*>(t.data())));
    for (const Tensor& t : outputs)
      out.push_back(Tensor::wrap(t.dtype(), t.shape(), const_cast<void*>(t.data())));
    inner_->run(context, in, out);
  }
  std::string describe() const override { return "test device"; }

 private:
  std::unique_ptr<NodeKernel> inner_;
};

class TestDevice : public Backend {
 public:
  std::string name() const override { return "test_device"; }
  std::string description() const override {
    return "Dense and activations in a memory space of its own";
  }
  MemoryLocation memory(int index) const override { return {"test_device", index}; }
  std::vector<Precision> precisions() const override { return {Precision::fp32, Precision::tf32}; }
  Support supports(const Node& node, const Graph&, const CompileOptions&) const override {
    if (node.kind == OpKind::dense || node.kind == OpKind::activation) return Support::yes();
    return Support::no("the test device runs only dense and activation");
  }
  std::unique_ptr<NodeKernel> prepare(const Node& node, const Graph& graph,
                                      const CompileOptions& options) const override {
    return std::make_unique<CheckedKernel>(reference_->prepare(node, graph, options));
  }

 private:
  std::shared_ptr<const Backend> reference_ = reference::make_reference_backend();
};

struct RegisteredTestDevice {
  RegisteredTestDevice() { register_backend(std::make_shared<TestDevice>()); }
  ~RegisteredTestDevice() { unregister_backend("test_device"); }
};

using test::random_tensor;

// input -> Dense(16, relu) -> softmax (not on the device) -> Dense(4) -> output
Model dense_softmax_dense(std::mt19937& rng) {
  GraphBuilder g("placement");
  auto x = g.input("x", {dynamic, 8});
  auto h = g.dense(x, random_tensor({8, 16}, rng), random_tensor({16}, rng), ActivationKind::relu);
  h = g.softmax(h);
  auto y = g.dense(h, random_tensor({16, 4}, rng), random_tensor({4}, rng));
  return g.build({y});
}

TEST(Placement, UnsupportedNodeRunsOnTheCpuWithCopiesAndTheReportCountsThem) {
  RegisteredTestDevice device;
  std::mt19937 rng(7);
  Model model = dense_softmax_dense(rng);
  CompileOptions options;
  options.device = Device::parse("test_device");
  CompiledModel exe = model.compile(options);
  const CompileReport& r = exe.report();
  EXPECT_EQ(r.device, "test_device:0");
  EXPECT_EQ(r.nodes_per_backend.at("test_device"), 2);
  EXPECT_EQ(r.nodes_per_backend.at("cpu"), 1);
  // input to the device, dense -> host for the softmax, back to the device, output to the host
  EXPECT_EQ(r.copies, 4);
  ASSERT_EQ(r.fallbacks.size(), 1u);
  EXPECT_NE(r.fallbacks[0].find("runs on cpu: the test device runs only dense and activation"),
            std::string::npos)
      << r.fallbacks[0];

  Tensor x = random_tensor({3, 8}, rng);
  kernels_run = 0;
  wrong_memory = 0;
  Tensor got = exe.run({x})[0];
  EXPECT_EQ(kernels_run, 2);
  EXPECT_EQ(wrong_memory, 0) << "a device kernel was handed a tensor from another memory space";
  EXPECT_TRUE(got.is_host());
  Tensor want = model.compile({Device::reference()}).run({x})[0];
  ASSERT_EQ(got.shape(), want.shape());
  for (int64_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got.data_as<float>()[i], want.data_as<float>()[i], 1e-6f);
}

TEST(Placement, DeviceInputsAreReadInPlaceAndOutputsCanStayOnTheDevice) {
  RegisteredTestDevice device;
  std::mt19937 rng(8);
  Model model = dense_softmax_dense(rng);
  CompiledModel exe = model.compile({Device::parse("test_device")});
  Tensor host_x = random_tensor({2, 8}, rng);
  // "Device memory" of the test device is host memory labelled as its own.
  Tensor x = Tensor::wrap_device(DType::f32, {2, 8}, host_x.data(), {"test_device", 0});
  RunOptions keep;
  keep.outputs_on_device = true;
  Tensor y = exe.run({x}, keep)[0];
  EXPECT_EQ(y.location(), (MemoryLocation{"test_device", 0}));
  EXPECT_THROW(y.clone(), Error);  // device tensors are not read as host memory
  Tensor want = model.compile({Device::reference()}).run({host_x})[0];
  const float* got = static_cast<const float*>(y.data());
  for (int64_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want.data_as<float>()[i], 1e-6f);
  // A tensor of another device is refused with a message naming both.
  Tensor elsewhere = Tensor::wrap_device(DType::f32, {2, 8}, host_x.data(), {"cuda", 3});
  try {
    exe.run({elsewhere});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("lives on cuda:3 but the model runs on test_device:0"),
              std::string::npos)
        << e.what();
  }
}

// The cpu backend computes in fp32 only, but as the fallback of a device compiled in another
// precision it still takes the nodes the device declines (found on the GPU: a tf32 model with
// a mask op failed to compile).
TEST(Placement, TheFallbackRunsInFp32UnderADeviceCompiledInAnotherPrecision) {
  RegisteredTestDevice device;
  std::mt19937 rng(11);
  Model model = dense_softmax_dense(rng);
  CompiledModel exe = model.compile({Device::parse("test_device"), Precision::tf32});
  EXPECT_EQ(exe.report().nodes_per_backend.at("cpu"), 1);
  EXPECT_EQ(exe.report().precision, "tf32");
  Tensor x = random_tensor({2, 8}, rng);
  Tensor got = exe.run({x})[0], want = model.compile({Device::reference()}).run({x})[0];
  for (int64_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(got.data_as<float>()[i], want.data_as<float>()[i], 1e-6f);
}

TEST(Placement, DeviceNamesArePreciseAndUnknownOnesNameTheAvailable) {
  EXPECT_EQ(Device::parse("cpu"), Device::cpu());
  EXPECT_EQ(Device::parse("reference").to_string(), "reference");
  try {
    Device::parse("tpu:0");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("unknown device 'tpu:0' (available: reference, cpu"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(Device::parse("cpu:x"), Error);
  EXPECT_THROW(Device::parse("cpu:-1"), Error);
  EXPECT_EQ(parse_precision("bf16"), Precision::bf16);
  EXPECT_THROW(parse_precision("fp64"), Error);
}

TEST(Placement, HostBackendsRefuseReducedPrecisionsByName) {
  std::mt19937 rng(9);
  Model model = dense_softmax_dense(rng);
  try {
    model.compile({Device::cpu(), Precision::fp16});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unsupported);
    EXPECT_NE(
        std::string(e.what()).find("device 'cpu' does not offer precision fp16 (it offers fp32)"),
        std::string::npos)
        << e.what();
  }
}

TEST(Placement, HostDevicesNeedNoCopies) {
  std::mt19937 rng(10);
  Model model = dense_softmax_dense(rng);
  for (const test::BackendCase& c : test::backend_cases()) {
    if (c.options.device.backend == "cuda") continue;
    const CompileReport& r = model.compile(c.options).report();
    EXPECT_EQ(r.copies, 0) << c.label;
    EXPECT_EQ(r.nodes_per_backend.size(), 1u) << c.label;
  }
}

}  // namespace
}  // namespace krt
