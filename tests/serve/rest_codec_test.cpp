// The REST codec: JSON tensors (nested, flat, every datatype), the binary tensor data
// extension, responses, and the errors hostile bodies must get.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/half.h"
#include "rest_codec.h"

namespace krt::serve {
namespace {

using nlohmann::json;

InferRequest parse(const std::string& body, int64_t header = -1, RequestLimits limits = {}) {
  return parse_infer_request(body, header, "m", "", limits);
}

// The error kind and message a body gets (fails the test when it parses).
std::pair<ErrorKind, std::string> error_of(const std::string& body, int64_t header = -1,
                                           RequestLimits limits = {}) {
  try {
    parse(body, header, limits);
  } catch (const ServeError& e) {
    return {e.kind(), e.what()};
  }
  ADD_FAILURE() << "accepted: " << body.substr(0, 200);
  return {ErrorKind::internal, ""};
}

TEST(RestCodec, NestedAndFlatDataGiveTheSameTensor) {
  InferRequest nested = parse(R"({"id":"r1","inputs":[{"name":"x","datatype":"FP32",
      "shape":[2,3],"data":[[1.5,-2,3e-3],[4,5.25,6]]}]})");
  InferRequest flat = parse(R"({"inputs":[{"name":"x","datatype":"FP32","shape":[2,3],
      "data":[1.5,-2,3e-3,4,5.25,6]}]})");
  ASSERT_EQ(nested.inputs.size(), 1u);
  EXPECT_EQ(nested.id, "r1");
  EXPECT_EQ(nested.model, "m");
  const Tensor& a = nested.inputs[0].data;
  const Tensor& b = flat.inputs[0].data;
  EXPECT_EQ(a.shape(), (Shape{2, 3}));
  EXPECT_EQ(a.dtype(), DType::f32);
  const float want[] = {1.5f, -2.f, 3e-3f, 4.f, 5.25f, 6.f};
  EXPECT_EQ(std::memcmp(a.data(), want, sizeof want), 0);
  EXPECT_EQ(std::memcmp(b.data(), want, sizeof want), 0);
}

TEST(RestCodec, EveryDatatypeDecodes) {
  InferRequest r = parse(R"({"inputs":[
      {"name":"a","datatype":"INT32","shape":[3],"data":[-2147483648,0,2147483647]},
      {"name":"b","datatype":"INT64","shape":[2],"data":[-9007199254740993,9223372036854775807]},
      {"name":"c","datatype":"UINT8","shape":[2],"data":[0,255]},
      {"name":"d","datatype":"FP64","shape":[1],"data":[0.1]},
      {"name":"e","datatype":"FP16","shape":[2],"data":[1.0,65504]},
      {"name":"f","datatype":"BF16","shape":[1],"data":[-3.0]}]})");
  ASSERT_EQ(r.inputs.size(), 6u);
  const int32_t* a = r.inputs[0].data.data_as<int32_t>();
  EXPECT_EQ(a[0], INT32_MIN);
  EXPECT_EQ(a[2], INT32_MAX);
  const int64_t* b = r.inputs[1].data.data_as<int64_t>();
  EXPECT_EQ(b[0], -9007199254740993ll);  // not representable as a double: parsed as an integer
  EXPECT_EQ(b[1], INT64_MAX);
  EXPECT_EQ(r.inputs[2].data.data_as<uint8_t>()[1], 255);
  EXPECT_EQ(r.inputs[3].data.data_as<double>()[0], 0.1);
  EXPECT_EQ(r.inputs[4].data.dtype(), DType::f16);
  const auto* e = static_cast<const uint16_t*>(r.inputs[4].data.data());
  EXPECT_EQ(e[0], 0x3c00);  // IEEE half 1.0
  EXPECT_EQ(e[1], 0x7bff);  // the largest half
  EXPECT_EQ(bfloat16_bits_to_float(static_cast<const uint16_t*>(r.inputs[5].data.data())[0]), -3.f);
}

TEST(RestCodec, BinaryTensorDataFollowsTheJson) {
  const float x[4] = {1.f, -0.5f, 3.25f, 1e-30f};
  const int64_t y[2] = {7, -8};
  std::string header = R"({"inputs":[{"name":"x","datatype":"FP32","shape":[2,2],
      "parameters":{"binary_data_size":16}},{"name":"z","datatype":"FP32","shape":[1],"data":[2]},
      {"name":"y","datatype":"INT64","shape":[2],"parameters":{"binary_data_size":16}}],
      "outputs":[{"name":"o","parameters":{"binary_data":true}},{"name":"p"}]})";
  std::string body = header + std::string(reinterpret_cast<const char*>(x), sizeof x) +
                     std::string(reinterpret_cast<const char*>(y), sizeof y);
  InferRequest r = parse(body, static_cast<int64_t>(header.size()));
  ASSERT_EQ(r.inputs.size(), 3u);
  EXPECT_EQ(std::memcmp(r.inputs[0].data.data(), x, sizeof x), 0);
  EXPECT_EQ(r.inputs[1].data.data_as<float>()[0], 2.f);
  EXPECT_EQ(std::memcmp(r.inputs[2].data.data(), y, sizeof y), 0);
  ASSERT_EQ(r.outputs.size(), 2u);
  EXPECT_TRUE(r.outputs[0].binary);
  EXPECT_FALSE(r.outputs[1].binary);
  EXPECT_FALSE(r.binary_outputs);
}

TEST(RestCodec, HostileBodiesGetNamedErrors) {
  const std::string x = R"("name":"x","datatype":"FP32")";
  auto check = [&](const std::string& body, ErrorKind kind, const std::string& needle,
                   int64_t header = -1) {
    auto [k, message] = error_of(body, header);
    EXPECT_EQ(k, kind) << message;
    EXPECT_NE(message.find(needle), std::string::npos)
        << "'" << message << "' lacks '" << needle << "'";
  };
  check("{\"inputs\": [", ErrorKind::bad_request, "invalid JSON");
  check("[1,2]", ErrorKind::bad_request, "JSON object");
  check("{}", ErrorKind::bad_request, "\"inputs\"");
  check("{\"inputs\":[{" + x + ",\"shape\":[2,2],\"data\":[1,2,3]}]}", ErrorKind::bad_request,
        "has 4 elements but \"data\" has 3");
  check("{\"inputs\":[{" + x + ",\"shape\":[2,-3],\"data\":[1]}]}", ErrorKind::bad_request,
        "negative");
  check("{\"inputs\":[{" + x + ",\"shape\":[1000000000,1000000000,1000000000],\"data\":[1]}]}",
        ErrorKind::too_large, "limit");
  check("{\"inputs\":[{" + x + ",\"shape\":[9223372036854775807,2],\"data\":[1]}]}",
        ErrorKind::too_large, "limit");
  check(R"({"inputs":[{"name":"x","datatype":"BYTES","shape":[1],"data":["a"]}]})",
        ErrorKind::bad_request, "not supported");
  check(R"({"inputs":[{"name":"x","datatype":"INT32","shape":[2],"data":[1,2.5]}]})",
        ErrorKind::bad_request, "element 1");
  check(R"({"inputs":[{"name":"x","datatype":"UINT8","shape":[1],"data":[256]}]})",
        ErrorKind::bad_request, "out of range");
  check("{\"inputs\":[{" + x + ",\"shape\":[1],\"data\":[\"1\"]}]}", ErrorKind::bad_request,
        "not a number");
  check("{\"inputs\":[{" + x + ",\"shape\":[1]}]}", ErrorKind::bad_request, "neither");
  // The binary tensor data extension, lied about.
  const std::string bin =
      "{\"inputs\":[{" + x + ",\"shape\":[2],\"parameters\":{\"binary_data_size\":";
  std::string claims_more = bin + "8}}]}";
  check(claims_more + "1234", ErrorKind::bad_request, "only 4 bytes",
        static_cast<int64_t>(claims_more.size()));
  std::string wrong_size = bin + "12}}]}";
  check(wrong_size + std::string(12, 'a'), ErrorKind::bad_request, "takes 8 bytes",
        static_cast<int64_t>(wrong_size.size()));
  std::string extra = bin + "8}}]}";
  check(extra + std::string(9, 'a'), ErrorKind::bad_request, "1 bytes of binary data",
        static_cast<int64_t>(extra.size()));
  check("{}", ErrorKind::bad_request, "Inference-Header-Content-Length is 99", 99);
}

TEST(RestCodec, JsonDepthAndValueCountAreBounded) {
  RequestLimits limits;
  limits.max_json_depth = 10;
  limits.max_json_values = 100;
  std::string deep = "{\"inputs\":" + std::string(50, '[') + std::string(50, ']') + "}";
  auto [kind, message] = error_of(deep, -1, limits);
  EXPECT_EQ(kind, ErrorKind::bad_request);
  EXPECT_NE(message.find("deeper than 10"), std::string::npos) << message;
  std::string many = R"({"inputs":[{"name":"x","datatype":"FP32","shape":[200],"data":[)";
  for (int i = 0; i < 200; ++i) many += (i ? ",1" : "1");
  many += "]}]}";
  auto [kind2, message2] = error_of(many, -1, limits);
  EXPECT_EQ(kind2, ErrorKind::too_large);
  EXPECT_NE(message2.find("more than 100 values"), std::string::npos) << message2;
}

TEST(RestCodec, ResponsesRoundTripExactly) {
  InferResponse response;
  response.model = "seed";
  response.version = "2";
  response.id = "req-\"7\"";
  Tensor a(DType::f32, {2, 2});
  float* p = a.data_as<float>();
  p[0] = 0.1f;
  p[1] = -1.17549435e-38f;  // the smallest normal float
  p[2] = 3.4028235e38f;
  p[3] = 1.0f / 3.0f;
  Tensor b(DType::i64, {3});
  b.data_as<int64_t>()[0] = INT64_MIN;
  b.data_as<int64_t>()[2] = 42;
  response.outputs.push_back({"a", a, false});
  response.outputs.push_back({"b", b, true});
  EncodedResponse e = encode_infer_response(response);
  ASSERT_TRUE(e.binary);
  json doc = json::parse(e.body.substr(0, e.json_length));
  EXPECT_EQ(doc["model_name"], "seed");
  EXPECT_EQ(doc["model_version"], "2");
  EXPECT_EQ(doc["id"], "req-\"7\"");
  EXPECT_EQ(doc["outputs"][0]["datatype"], "FP32");
  EXPECT_EQ(doc["outputs"][0]["shape"], json::array({2, 2}));
  for (int i = 0; i < 4; ++i)  // read back as double, narrowed: the same float bits
    EXPECT_EQ(static_cast<float>(doc["outputs"][0]["data"][i].get<double>()), p[i]) << i;
  EXPECT_EQ(doc["outputs"][1]["datatype"], "INT64");
  EXPECT_EQ(doc["outputs"][1]["parameters"]["binary_data_size"], 24);
  EXPECT_FALSE(doc["outputs"][1].contains("data"));
  ASSERT_EQ(e.body.size(), e.json_length + 24);
  EXPECT_EQ(std::memcmp(e.body.data() + e.json_length, b.data(), 24), 0);
}

}  // namespace
}  // namespace krt::serve
