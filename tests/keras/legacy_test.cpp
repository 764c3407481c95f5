// Old and foreign files: Keras 1 configs and weights, chunked attributes, TF.js quantized shards.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "io/json.h"
#include "keras/legacy_config.h"
#include "kerasrt/kerasrt.h"
#include "test_paths.h"

namespace fs = std::filesystem;

namespace krt::test {
namespace {

std::string legacy(const std::string& name) { return data_dir() + "/legacy/" + name; }

void expect_close(const Tensor& got, const Tensor& want, float tol) {
  ASSERT_EQ(got.shape(), want.shape());
  for (int64_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got.data_as<float>()[i], want.data_as<float>()[i], tol) << i;
}

TEST(Legacy, ChunkedLayerAndWeightNames) {
  // layer_names0/1 and weight_names0/1, as Keras writes lists past HDF5's header limit.
  Model model = load(legacy("chunked_names.h5"));
  EXPECT_EQ(model.param_count(), 4 * 3 + 3 + 3 * 2 + 2);
  std::vector<Tensor> y =
      model.compile().run({Tensor::from_npy(legacy("chunked_names_input_0.npy"))});
  expect_close(y[0], Tensor::from_npy(legacy("chunked_names_output_0.npy")), 1e-5f);
}

TEST(Legacy, Keras1ChannelsFirstConvolution) {
  // Convolution2D with dim_ordering 'th' stores (filters, channels, rows, cols); Flatten then
  // flattens in channels-first order.
  Model model = load(legacy("keras1_dense_th.h5"));
  std::vector<Tensor> y =
      model.compile().run({Tensor::from_npy(legacy("keras1_dense_th_input_0.npy"))});
  expect_close(y[0], Tensor::from_npy(legacy("keras1_dense_th_output_0.npy")), 1e-4f);
}

keras::FileInfo keras1() { return {"old.h5", "1.2.2", 1, ""}; }

const io::Json& layer_config(const io::Json& model, size_t i) {
  return *(*model.find("config"))[i].find("config");
}

TEST(Legacy, Keras1ConfigIsRewrittenToKeras2) {
  io::Json model = io::parse_json(R"({"class_name": "Sequential", "config": [
    {"class_name": "Convolution2D", "config": {"name": "c", "nb_filter": 8, "nb_row": 3, "nb_col": 5, "border_mode": "same",
      "subsample": [2, 1], "dim_ordering": "th", "bias": false, "batch_input_shape": [null, 3, 9, 9]}},
    {"class_name": "Dropout", "config": {"name": "d", "p": 0.5}},
    {"class_name": "LSTM", "config": {"name": "l", "output_dim": 4, "inner_activation": "hard_sigmoid", "dropout_W": 0.1}},
    {"class_name": "MaxPooling1D", "config": {"name": "p", "pool_length": 2, "stride": null, "border_mode": "valid"}},
    {"class_name": "Embedding", "config": {"name": "e", "input_dim": 10, "output_dim": 3}}]})",
                                  "test");
  io::Json out = keras::normalize_model_config(model, keras1());
  const io::Json& conv = layer_config(out, 0);
  EXPECT_EQ((*out.find("config"))[0].find("class_name")->as_string(), "Conv2D");
  EXPECT_EQ(conv.find("filters")->as_int(), 8);
  EXPECT_EQ(conv.find("kernel_size")->dump(), "[3,5]");
  EXPECT_EQ(conv.find("padding")->as_string(), "same");
  EXPECT_EQ(conv.find("strides")->dump(), "[2,1]");
  EXPECT_EQ(conv.find("data_format")->as_string(), "channels_first");
  EXPECT_FALSE(conv.find("use_bias")->as_bool());
  EXPECT_EQ(layer_config(out, 1).find("rate")->as_number(), 0.5);
  EXPECT_EQ(layer_config(out, 2).find("units")->as_int(), 4);
  EXPECT_EQ(layer_config(out, 2).find("recurrent_activation")->as_string(), "hard_sigmoid");
  EXPECT_EQ(layer_config(out, 3).find("pool_size")->dump(), "[2]");
  EXPECT_EQ(layer_config(out, 3).find("padding")->as_string(), "valid");
  EXPECT_EQ(layer_config(out, 4).find("output_dim")->as_int(), 3);  // Embedding keeps output_dim
}

TEST(Legacy, Keras1MergeBecomesItsKeras2Layer) {
  io::Json model = io::parse_json(R"({"class_name": "Model", "config": {"layers": [
    {"class_name": "Merge", "name": "m", "config": {"name": "m", "mode": "concat", "concat_axis": 1}, "inbound_nodes": []}],
    "input_layers": [], "output_layers": []}})",
                                  "test");
  io::Json out = keras::normalize_model_config(model, keras1());
  const io::Json& merge = (*(*out.find("config")).find("layers"))[0];
  EXPECT_EQ(merge.find("class_name")->as_string(), "Concatenate");
  EXPECT_EQ(merge.find("config")->find("axis")->as_int(), 1);
}

TEST(Legacy, UnsupportedKeras1OptionsNameTheVersionAndLayer) {
  io::Json model = io::parse_json(R"({"class_name": "Sequential", "config": [
    {"class_name": "BatchNormalization", "config": {"name": "bn_1", "mode": 2, "batch_input_shape": [null, 4]}}]})",
                                  "test");
  try {
    keras::normalize_model_config(model, keras1());
    FAIL() << "BatchNormalization mode 2 was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unsupported);
    EXPECT_NE(std::string(e.what()).find("'bn_1'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("Keras 1.2.2"), std::string::npos) << e.what();
  }
}

uint16_t float_to_half(float f) {  // exact for the values used below
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  uint32_t sign = bits >> 31, exponent = (bits >> 23) & 0xff, mantissa = bits & 0x7fffff;
  if (exponent == 0) return static_cast<uint16_t>(sign << 15);
  return static_cast<uint16_t>((sign << 15) | ((exponent - 112) << 10) | (mantissa >> 13));
}

TEST(Legacy, TfjsQuantizedWeights) {
  // Dense(2) on 3 features: kernel quantized to uint8 (min -1, scale 0.01), bias as float16.
  fs::path dir = fs::temp_directory_path() /
                 ("krt_tfjs_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()));
  fs::create_directories(dir);
  const uint8_t q[6] = {0, 50, 100, 150, 200, 250};
  const float bias[2] = {0.5f, -2.0f};
  std::ofstream shard(dir / "group1-shard1of1.bin", std::ios::binary);
  shard.write(reinterpret_cast<const char*>(q), 6);
  for (float b : bias) {
    uint16_t h = float_to_half(b);
    shard.write(reinterpret_cast<const char*>(&h), 2);
  }
  shard.close();
  std::ofstream(dir / "model.json")
      << R"({"format": "layers-model", "modelTopology": {"keras_version": "tfjs-layers 4.0.0",
    "backend": "tensor_flow.js", "model_config": {"class_name": "Sequential", "config": {"name": "s", "layers": [
    {"class_name": "Dense", "config": {"name": "dense_Dense1", "units": 2, "activation": "linear", "use_bias": true,
     "batch_input_shape": [null, 3]}}]}}},
    "weightsManifest": [{"paths": ["group1-shard1of1.bin"], "weights": [
      {"name": "dense_Dense1/kernel", "shape": [3, 2], "dtype": "float32", "quantization": {"dtype": "uint8", "min": -1, "scale": 0.01}},
      {"name": "dense_Dense1/bias", "shape": [2], "dtype": "float32", "quantization": {"dtype": "float16"}}]}]})";
  Model model = load((dir / "model.json").string());
  Tensor x(DType::f32, {1, 3});
  for (int i = 0; i < 3; ++i) x.data_as<float>()[i] = static_cast<float>(i + 1);
  Tensor y = model.compile().run({x})[0];
  for (int j = 0; j < 2; ++j) {
    double want = bias[j];
    for (int i = 0; i < 3; ++i) want += (i + 1) * (-1.0 + 0.01 * q[i * 2 + j]);
    EXPECT_NEAR(y.data_as<float>()[j], want, 1e-5) << j;
  }
  fs::remove_all(dir);
}

TEST(Legacy, TfjsShardPathsStayBesideModelJson) {
  fs::path dir = fs::temp_directory_path() / "krt_tfjs_escape";
  fs::create_directories(dir);
  std::ofstream(dir / "model.json")
      << R"({"modelTopology": {"class_name": "Sequential", "config": {"name": "s", "layers": [
    {"class_name": "Dense", "config": {"name": "d", "units": 1, "batch_input_shape": [null, 1]}}]}},
    "weightsManifest": [{"paths": ["../secret.bin"], "weights": []}]})";
  try {
    load((dir / "model.json").string());
    FAIL() << "a shard outside the model's directory was read";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_file);
    EXPECT_NE(std::string(e.what()).find("leaves the model's directory"), std::string::npos)
        << e.what();
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace krt::test
