// The execution plan's recorded segments (CUDA Graphs on a GPU), seen through a test device
// whose run context records and replays: a caller's device input converted to the storage
// dtype is recorded with the nodes, so a replay covers the whole run, while a copy from the host
// stays outside (it cannot be recorded).
#include <gtest/gtest.h>

#include <mutex>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "backend_cases.h"
#include "kerasrt/kerasrt.h"
#include "runtime/backend_registry.h"

namespace krt {
namespace {

// What the device did, in order: its kernels, copies, recordings and replays.
std::mutex log_mutex;
std::vector<std::string> events;
void log_event(const std::string& e) {
  std::lock_guard<std::mutex> lock(log_mutex);
  events.push_back(e);
}

class RecordingContext : public RunContext {
 public:
  bool records() const override { return true; }
  bool replay(const std::string& key) override {
    if (!recorded_.count(key)) return false;
    log_event("replay");
    return true;
  }
  void begin_recording(const std::string& key) override {
    recording_ = key;
    log_event("record");
  }
  void end_recording() override {
    recorded_.insert(recording_);
    log_event("end");
  }

 private:
  std::set<std::string> recorded_;
  std::string recording_;
};

// Computes nothing: the test is about the order of the device's work, not its values.
class LoggedKernel : public NodeKernel {
 public:
  explicit LoggedKernel(std::string name) : name_(std::move(name)) {}
  void run(RunContext&, std::span<const Tensor>, std::span<Tensor>) const override {
    log_event(name_);
  }
  std::string describe() const override { return "logged"; }

 private:
  std::string name_;
};

// Stores values in f16 under tf32 (as the cuda device does under fp16), so a caller's f32
// device input needs a conversion on the device.
class RecordingDevice : public Backend {
 public:
  std::string name() const override { return "recording_device"; }
  std::string description() const override { return "records and replays its runs"; }
  MemoryLocation memory(int index) const override { return {"recording_device", index}; }
  std::vector<Precision> precisions() const override { return {Precision::fp32, Precision::tf32}; }
  DType storage_dtype(Precision precision) const override {
    return precision == Precision::tf32 ? DType::f16 : DType::f32;
  }
  Support supports(const Node& node, const Graph&, const CompileOptions&) const override {
    if (node.kind == OpKind::dense) return Support::yes();
    return Support::no("the recording device runs only dense");
  }
  std::unique_ptr<NodeKernel> prepare(const Node& node, const Graph&,
                                      const CompileOptions&) const override {
    return std::make_unique<LoggedKernel>(node.name);
  }
  std::unique_ptr<RunContext> open_run(const CompileOptions&) const override {
    return std::make_unique<RecordingContext>();
  }
  void copy_from_host(RunContext&, const Tensor&, Tensor&) const override {
    log_event("from host");
  }
  void copy_to_host(RunContext&, const Tensor&, Tensor&) const override { log_event("to host"); }
  void copy_within(RunContext&, const Tensor&, Tensor&) const override { log_event("convert"); }
};

struct RegisteredRecordingDevice {
  RegisteredRecordingDevice() { register_backend(std::make_shared<RecordingDevice>()); }
  ~RegisteredRecordingDevice() { unregister_backend("recording_device"); }
};

std::vector<std::string> run_and_log(const CompiledModel& exe, const Tensor& x) {
  {
    std::lock_guard<std::mutex> lock(log_mutex);
    events.clear();
  }
  exe.run({x});
  std::lock_guard<std::mutex> lock(log_mutex);
  return events;
}

// Input "x" of widths[0] features, then one dense layer per further width.
Model dense_chain(const std::vector<int64_t>& widths, std::mt19937& rng) {
  GraphBuilder g("chain");
  auto v = g.input("x", {dynamic, widths[0]});
  for (size_t i = 1; i < widths.size(); ++i)
    v = g.dense(v, test::random_tensor({widths[i - 1], widths[i]}, rng),
                test::random_tensor({widths[i]}, rng));
  return g.build({v});
}

TEST(Recording, DeviceInputConversionIsRecordedWithTheNodes) {
  RegisteredRecordingDevice device;
  std::mt19937 rng(5);
  Model model = dense_chain({8, 16, 4}, rng);
  CompiledModel exe = model.compile({Device::parse("recording_device"), Precision::tf32});

  Tensor host_x = test::random_tensor({2, 8}, rng);
  Tensor device_x = Tensor::wrap_device(DType::f32, {2, 8}, host_x.data(), {"recording_device", 0});
  const std::vector<std::string> first = run_and_log(exe, device_x);
  // The conversion runs inside the recording, before the two dense nodes.
  ASSERT_GE(first.size(), 5u);
  EXPECT_EQ(first[0], "record");
  EXPECT_EQ(first[1], "convert");
  EXPECT_EQ(first[4], "end");
  EXPECT_EQ(first.back(), "to host");
  // Replays cover the conversion: nothing of the run is done outside them.
  for (int run = 0; run < 2; ++run)
    EXPECT_EQ(run_and_log(exe, device_x), (std::vector<std::string>{"replay", "to host"}));

  // An input on the host is copied outside the recording (a host copy cannot be recorded).
  const std::vector<std::string> host_first = run_and_log(exe, host_x);
  ASSERT_FALSE(host_first.empty());
  EXPECT_EQ(host_first[0], "from host");
  EXPECT_EQ(run_and_log(exe, host_x), (std::vector<std::string>{"from host", "replay", "to host"}));
}

TEST(Recording, DeviceInputInTheStorageDtypeIsReadInPlace) {
  RegisteredRecordingDevice device;
  std::mt19937 rng(6);
  Model model = dense_chain({8, 4}, rng);
  CompiledModel exe = model.compile({Device::parse("recording_device"), Precision::tf32});
  EXPECT_EQ(exe.storage_dtype(), DType::f16);
  EXPECT_EQ(model.compile({Device::parse("recording_device"), Precision::fp32}).storage_dtype(),
            DType::f32);

  // Given in f16, the device's dtype under tf32: no conversion, the node reads it in place.
  // (The device's kernels only log: the buffer, sized for f32, is never read.)
  Tensor buffer = test::random_tensor({2, 8}, rng);
  Tensor device_x = Tensor::wrap_device(DType::f16, {2, 8}, buffer.data(), {"recording_device", 0});
  const std::vector<std::string> first = run_and_log(exe, device_x);
  ASSERT_EQ(first.size(), 4u);
  EXPECT_EQ(first[0], "record");
  EXPECT_EQ(first[2], "end");
  EXPECT_EQ(first[3], "to host");
  EXPECT_EQ(run_and_log(exe, device_x), (std::vector<std::string>{"replay", "to host"}));

  // The same address given as f32 (a buffer freed and allocated again, say) needs the conversion
  // again: it is recorded anew, not replayed from the f16 run's recording.
  Tensor same_address_f32 =
      Tensor::wrap_device(DType::f32, {2, 8}, buffer.data(), {"recording_device", 0});
  const std::vector<std::string> other = run_and_log(exe, same_address_f32);
  ASSERT_GE(other.size(), 2u);
  EXPECT_EQ(other[0], "record");
  EXPECT_EQ(other[1], "convert");

  // upload makes such a tensor from a host one.
  const Tensor uploaded = exe.upload(test::random_tensor({2, 8}, rng), DType::f16);
  EXPECT_EQ(uploaded.dtype(), DType::f16);
  EXPECT_EQ(uploaded.location(), (MemoryLocation{"recording_device", 0}));
  EXPECT_THROW(exe.upload(test::random_tensor({2, 8}, rng), DType::i32), Error);

  // Other dtypes are refused with the input's name.
  Tensor ids(DType::i32, {2, 8});
  Tensor device_ids = Tensor::wrap_device(DType::i32, {2, 8}, ids.data(), {"recording_device", 0});
  try {
    exe.run({device_ids});
    ADD_FAILURE() << "an int32 device input was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'x'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("float32, float16 or bfloat16"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace krt
