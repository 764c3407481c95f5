// The C API on a GPU (krt_compiled_run_device): float32 inputs in device memory, outputs left
// there or copied back, at fp32 and at fp16, where the engine keeps float16 values: the C API's
// device outputs are float32 all the same (krt_outputs_data returns float pointers). Skipped,
// with the reason, where no CUDA device can be used.
#include <gtest/gtest.h>

#include <cmath>

#include "kerasrt/kerasrt.h"
#include "kerasrt/kerasrt_c.h"
#include "runtime/backend_registry.h"
#include "test_paths.h"

namespace krt::test {
namespace {

std::string seed(const std::string& file) {
  return data_dir() + "/fixtures/seed/seed_small_functional/" + file;
}

TEST(CApiDevice, DeviceInputsAndFloat32DeviceOutputsAtEveryPrecision) {
  const Backend* cuda = find_backend("cuda");
  if (!cuda || !cuda->unavailable_reason().empty())
    GTEST_SKIP() << "cuda: " << (cuda ? cuda->unavailable_reason() : "not built");
  krt_model* model = nullptr;
  ASSERT_EQ(krt_model_load(seed("model.keras").c_str(), &model), KRT_OK) << krt_last_error();
  const Model cpp_model = load(seed("model.keras"));
  const Tensor x = Tensor::from_npy(seed("input_0.npy"));
  for (const char* precision : {"fp32", "fp16"}) {
    SCOPED_TRACE(precision);
    krt_compiled* compiled = nullptr;
    ASSERT_EQ(krt_model_compile_on(model, "cuda", precision, 1, &compiled), KRT_OK)
        << krt_last_error();
    // The same model through the C++ API: the reference result, and device memory to read.
    const CompiledModel gpu = cpp_model.compile({Device::cuda(), parse_precision(precision)});
    const Tensor want = gpu.run({x})[0];
    const Tensor device_x = gpu.upload(x);  // float32 in device memory
    const float* inputs[] = {static_cast<const float*>(device_x.data())};
    const int64_t* shapes[] = {x.shape().data()};
    const size_t ranks[] = {x.shape().size()};
    for (int on_device : {1, 0}) {
      krt_outputs* outputs = nullptr;
      ASSERT_EQ(krt_compiled_run_device(compiled, 1, inputs, shapes, ranks, on_device, &outputs),
                KRT_OK)
          << krt_last_error();
      ASSERT_EQ(krt_outputs_size(outputs, 0), want.size());
      const float* data = krt_outputs_data(outputs, 0);
      ASSERT_NE(data, nullptr) << "on_device " << on_device;
      Tensor got = Tensor::wrap(DType::f32, want.shape(), const_cast<float*>(data));
      if (on_device)
        got = gpu.download(
            Tensor::wrap_device(DType::f32, want.shape(), const_cast<float*>(data), {"cuda", 0}));
      for (int64_t i = 0; i < want.size(); ++i)
        ASSERT_NEAR(got.data_as<float>()[i], want.data_as<float>()[i],
                    1e-3 * (1 + std::fabs(want.data_as<float>()[i])))
            << "on_device " << on_device << " element " << i;
      krt_outputs_free(outputs);
    }
    krt_compiled_free(compiled);
  }
  krt_model_free(model);
}

}  // namespace
}  // namespace krt::test
