// Custom layer classes: refused by name without a registration, run through the registered
// C++ implementation with one.
#include <gtest/gtest.h>

#include "expect_error.h"
#include "io/json.h"
#include "kerasrt/kerasrt.h"
#include "test_paths.h"

namespace krt::test {
namespace {

std::string custom_fixture(const char* file) {
  return data_dir() + "/fixtures/errors/custom_layer/" + file;
}

// The fixture's ScaleShift layer has a config `factor` (1.5 in the file) and one stored
// variable `shift` of shape (3,): this implementation computes x * factor + shift.
class ScaleShift : public CustomLayer {
 public:
  ScaleShift(float factor, Tensor shift) : factor_(factor), shift_(std::move(shift)) {}
  std::vector<Shape> output_shapes(const std::vector<Shape>& in) const override { return in; }
  void run(const std::vector<Tensor>& in, std::vector<Tensor>& out) const override {
    const float* x = in[0].data_as<float>();
    float* y = out[0].data_as<float>();
    const float* shift = shift_.data_as<float>();
    for (int64_t i = 0; i < in[0].size(); ++i) y[i] = x[i] * factor_ + shift[i % shift_.size()];
  }

 private:
  float factor_;
  Tensor shift_;
};

TEST(CustomLayer, UnregisteredClassIsRefusedByName) {
  for (const char* file : {"model.keras", "model.h5"}) {
    Error e = expect_error([&] { load(custom_fixture(file)); });
    EXPECT_EQ(e.code(), ErrorCode::unsupported);
    EXPECT_NE(std::string(e.what()).find("ScaleShift"), std::string::npos) << e.what();
  }
}

TEST(CustomLayer, RegisteredImplementationRuns) {
  std::vector<CustomLayerInfo> seen;
  LoadOptions options;
  options.custom_layers["FixturePkg>ScaleShift"] = [&](const CustomLayerInfo& info) {
    seen.push_back(info);
    io::Json config = io::parse_json(info.config_json, "config");
    return std::make_shared<ScaleShift>(static_cast<float>(config.find("factor")->as_number()),
                                        info.weights.at(0));
  };
  for (const char* file : {"model.keras", "model.h5"}) {
    seen.clear();
    Model model = load(custom_fixture(file), options);
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].name, "scale_shift");
    EXPECT_EQ(seen[0].input_shapes, (std::vector<Shape>{{dynamic, 3}}));
    ASSERT_EQ(seen[0].weights.size(), 1u);
    EXPECT_EQ(seen[0].weights[0].shape(), (Shape{3}));
    const float* shift = seen[0].weights[0].data_as<float>();

    Tensor x(DType::f32, {2, 4});
    for (int i = 0; i < 8; ++i) x.data_as<float>()[i] = 0.25f * i - 1.f;
    // trace() runs the reference kernels, so compile for them too to compare bit for bit.
    Tensor y = model.compile({Device::reference()}).run({x})[0];
    // The layer before it is Dense 'fc'; the custom layer must transform exactly its output.
    Tensor fc = model.trace({x})[1].outputs[0];
    ASSERT_EQ(y.shape(), (Shape{2, 3}));
    for (int64_t i = 0; i < y.size(); ++i)
      EXPECT_EQ(y.data_as<float>()[i], fc.data_as<float>()[i] * 1.5f + shift[i % 3]);
  }
}

TEST(CustomLayer, FactoryMayRefuse) {
  LoadOptions options;
  options.custom_layers["ScaleShift"] = [](const CustomLayerInfo&) { return nullptr; };
  Error e = expect_error([&] { load(custom_fixture("model.keras"), options); });
  EXPECT_NE(std::string(e.what()).find("scale_shift"), std::string::npos) << e.what();
}

}  // namespace
}  // namespace krt::test
