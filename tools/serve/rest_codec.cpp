#include "rest_codec.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/half.h"

namespace krt::serve {

using nlohmann::json;

namespace {

[[noreturn]] void bad(const std::string& message) {
  throw ServeError(ErrorKind::bad_request, message);
}

const json& member(const json& object, const char* key, const std::string& where) {
  auto it = object.find(key);
  if (it == object.end()) bad(where + " has no \"" + key + "\"");
  return *it;
}

const std::string& string_member(const json& object, const char* key, const std::string& where) {
  const json& v = member(object, key, where);
  if (!v.is_string()) bad(where + ": \"" + key + "\" must be a string");
  return v.get_ref<const std::string&>();
}

// A parameter of `object`'s optional "parameters" object, or nullptr.
const json* parameter(const json& object, const char* key, const std::string& where) {
  auto params = object.find("parameters");
  if (params == object.end()) return nullptr;
  if (!params->is_object()) bad(where + ": \"parameters\" must be an object");
  auto it = params->find(key);
  return it == params->end() ? nullptr : &*it;
}

bool bool_parameter(const json& object, const char* key, const std::string& where) {
  const json* v = parameter(object, key, where);
  if (!v) return false;
  if (!v->is_boolean()) bad(where + ": parameter \"" + key + "\" must be true or false");
  return v->get<bool>();
}

// Depth-first over nested arrays: calls `leaf` for each non-array value in row-major order.
template <class Leaf>
void for_each_leaf(const json& data, Leaf&& leaf) {
  if (!data.is_array()) return leaf(data);
  for (const json& item : data) for_each_leaf(item, leaf);
}

template <class T>
T integer_value(const json& v, const std::string& name, int64_t index) {
  if (!v.is_number_integer())
    bad("input '" + name + "': element " + std::to_string(index) + " (" + v.dump() +
        ") is not an integer");
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<T>::max()))
      bad("input '" + name + "': element " + std::to_string(index) + " is out of range");
    return static_cast<T>(u);
  }
  int64_t i = v.get<int64_t>();
  if (i < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
      i > static_cast<int64_t>(std::numeric_limits<T>::max()))
    bad("input '" + name + "': element " + std::to_string(index) + " is out of range");
  return static_cast<T>(i);
}

double float_value(const json& v, const std::string& name, int64_t index) {
  if (!v.is_number())
    bad("input '" + name + "': element " + std::to_string(index) + " (" +
        v.dump(-1, ' ', false, json::error_handler_t::replace).substr(0, 40) + ") is not a number");
  return v.get<double>();
}

// Fills `t` (of the input's dtype and shape) from JSON "data", nested or flat, after checking
// that it holds exactly as many values as the shape.
void decode_json_data(const json& data, Tensor& t, const std::string& name) {
  int64_t count = 0;
  for_each_leaf(data, [&](const json&) { ++count; });
  if (count != t.size())
    bad("input '" + name + "': shape " + shape_text(t.shape()) + " has " +
        std::to_string(t.size()) + " elements but \"data\" has " + std::to_string(count));
  int64_t i = 0;
  void* out = t.data();
  for_each_leaf(data, [&](const json& v) {
    switch (t.dtype()) {
      case DType::f32:
        static_cast<float*>(out)[i] = static_cast<float>(float_value(v, name, i));
        break;
      case DType::f64:
        static_cast<double*>(out)[i] = float_value(v, name, i);
        break;
      case DType::f16:
        static_cast<uint16_t*>(out)[i] =
            float_to_half_bits(static_cast<float>(float_value(v, name, i)));
        break;
      case DType::bf16:
        static_cast<uint16_t*>(out)[i] =
            float_to_bfloat16_bits(static_cast<float>(float_value(v, name, i)));
        break;
      case DType::i32:
        static_cast<int32_t*>(out)[i] = integer_value<int32_t>(v, name, i);
        break;
      case DType::i64:
        static_cast<int64_t*>(out)[i] = integer_value<int64_t>(v, name, i);
        break;
      case DType::u8:
        static_cast<uint8_t*>(out)[i] = integer_value<uint8_t>(v, name, i);
        break;
    }
    ++i;
  });
}

Shape shape_member(const json& input, const std::string& where) {
  const json& s = member(input, "shape", where);
  if (!s.is_array()) bad(where + ": \"shape\" must be an array of integers");
  Shape shape;
  for (const json& d : s) {
    if (!d.is_number_integer() || (d.is_number_unsigned() && d.get<uint64_t>() > INT64_MAX))
      bad(where + ": \"shape\" must be an array of integers");
    shape.push_back(d.get<int64_t>());
  }
  return shape;
}

json parse_bounded(std::string_view text, const RequestLimits& limits) {
  int64_t values = 0;
  auto bound = [&](int depth, json::parse_event_t event, json&) {
    if (depth > limits.max_json_depth)
      bad("the JSON nests deeper than " + std::to_string(limits.max_json_depth) + " levels");
    if (event == json::parse_event_t::value && ++values > limits.max_json_values)
      throw ServeError(ErrorKind::too_large, "the JSON has more than " +
                                                 std::to_string(limits.max_json_values) +
                                                 " values; send large tensors as binary data");
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), bound);
  } catch (const json::exception& e) {
    bad(std::string("invalid JSON: ") + e.what());
  }
}

}  // namespace

InferRequest parse_infer_request(std::string_view body, int64_t json_length,
                                 const std::string& model, const std::string& version,
                                 const RequestLimits& limits) {
  std::string_view binary;
  if (json_length >= 0) {
    if (static_cast<uint64_t>(json_length) > body.size())
      bad("Inference-Header-Content-Length is " + std::to_string(json_length) +
          " but the body has only " + std::to_string(body.size()) + " bytes");
    binary = body.substr(json_length);
    body = body.substr(0, json_length);
  }
  const json doc = parse_bounded(body, limits);
  if (!doc.is_object()) bad("the request must be a JSON object");
  InferRequest request;
  request.model = model;
  request.version = version;
  if (auto id = doc.find("id"); id != doc.end()) {
    if (!id->is_string()) bad("\"id\" must be a string");
    request.id = id->get<std::string>();
  }
  request.binary_outputs = bool_parameter(doc, "binary_data_output", "the request");
  const json& inputs = member(doc, "inputs", "the request");
  if (!inputs.is_array() || inputs.empty()) bad("\"inputs\" must be a non-empty array");
  for (const json& in : inputs) {
    if (!in.is_object()) bad("each of \"inputs\" must be an object");
    InferInput input;
    input.name = string_member(in, "name", "an input");
    const std::string where = "input '" + input.name + "'";
    input.datatype = string_member(in, "datatype", where);
    DType dtype = parse_datatype(input.datatype, input.name);
    Shape shape = shape_member(in, where);
    checked_elements(shape, input.name, limits);
    const json* size = parameter(in, "binary_data_size", where);
    auto data = in.find("data");
    if (size) {
      if (data != in.end()) bad(where + " has both \"data\" and binary_data_size");
      if (!size->is_number_integer() || size->get<int64_t>() < 0)
        bad(where + ": binary_data_size must be a whole number of bytes");
      const uint64_t bytes = size->get<uint64_t>();
      const uint64_t expected = static_cast<uint64_t>(shape_elements(shape)) * dtype_size(dtype);
      if (bytes != expected)
        bad(where + ": binary_data_size is " + std::to_string(bytes) + " but shape " +
            shape_text(shape) + " of " + input.datatype + " takes " + std::to_string(expected) +
            " bytes");
      if (bytes > binary.size())
        bad(where + ": binary_data_size is " + std::to_string(bytes) + " but only " +
            std::to_string(binary.size()) + " bytes of binary data are left");
      input.data = Tensor(dtype, shape);
      std::memcpy(input.data.data(), binary.data(), bytes);
      binary.remove_prefix(bytes);
    } else {
      if (data == in.end()) bad(where + " has neither \"data\" nor binary_data_size");
      input.data = Tensor(dtype, shape);
      decode_json_data(*data, input.data, input.name);
    }
    request.inputs.push_back(std::move(input));
  }
  if (!binary.empty())
    bad(std::to_string(binary.size()) +
        " bytes of binary data follow the JSON that no input's binary_data_size accounts for");
  if (auto outputs = doc.find("outputs"); outputs != doc.end()) {
    if (!outputs->is_array()) bad("\"outputs\" must be an array");
    for (const json& out : *outputs) {
      if (!out.is_object()) bad("each of \"outputs\" must be an object");
      RequestedOutput o;
      o.name = string_member(out, "name", "a requested output");
      o.binary = bool_parameter(out, "binary_data", "output '" + o.name + "'");
      request.outputs.push_back(std::move(o));
    }
  }
  return request;
}

namespace {

// Shortest text that reads back as the same double (floats widen exactly); NaN and the
// infinities as Python's json writes them, since JSON itself has no spelling for them.
void append_number(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "Infinity" : "-Infinity";
  } else {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, end);
  }
}

void append_integer(std::string& out, int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

void append_values(std::string& out, const Tensor& t) {
  out += '[';
  for (int64_t i = 0; i < t.size(); ++i) {
    if (i) out += ',';
    const void* p = t.data();
    switch (t.dtype()) {
      case DType::f32:
        append_number(out, static_cast<const float*>(p)[i]);
        break;
      case DType::f64:
        append_number(out, static_cast<const double*>(p)[i]);
        break;
      case DType::f16:
        append_number(out, half_bits_to_float(static_cast<const uint16_t*>(p)[i]));
        break;
      case DType::bf16:
        append_number(out, bfloat16_bits_to_float(static_cast<const uint16_t*>(p)[i]));
        break;
      case DType::i32:
        append_integer(out, static_cast<const int32_t*>(p)[i]);
        break;
      case DType::i64:
        append_integer(out, static_cast<const int64_t*>(p)[i]);
        break;
      case DType::u8:
        append_integer(out, static_cast<const uint8_t*>(p)[i]);
        break;
    }
  }
  out += ']';
}

void append_shape(std::string& out, const Shape& shape) {
  out += '[';
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) out += ',';
    append_integer(out, shape[i]);
  }
  out += ']';
}

std::string tensor_metadata(const std::vector<TensorInfo>& tensors) {
  std::string out = "[";
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (i) out += ',';
    out += "{\"name\":" + json_string(tensors[i].name) + ",\"datatype\":\"" +
           datatype_name(tensors[i].dtype) + "\",\"shape\":";
    append_shape(out, tensors[i].shape);  // dynamic dimensions are -1, as the protocol wants
    out += '}';
  }
  return out + "]";
}

}  // namespace

EncodedResponse encode_infer_response(const InferResponse& response) {
  EncodedResponse encoded;
  std::string& out = encoded.body;
  out = "{\"model_name\":" + json_string(response.model) +
        ",\"model_version\":" + json_string(response.version);
  if (!response.id.empty()) out += ",\"id\":" + json_string(response.id);
  out += ",\"outputs\":[";
  for (size_t i = 0; i < response.outputs.size(); ++i) {
    const InferOutput& o = response.outputs[i];
    if (i) out += ',';
    out += "{\"name\":" + json_string(o.name) + ",\"datatype\":\"" + datatype_name(o.data.dtype()) +
           "\",\"shape\":";
    append_shape(out, o.data.shape());
    if (o.binary) {
      out += ",\"parameters\":{\"binary_data_size\":";
      append_integer(out, static_cast<int64_t>(o.data.nbytes()));
      out += '}';
      encoded.binary = true;
    } else {
      out += ",\"data\":";
      append_values(out, o.data);
    }
    out += '}';
  }
  out += "]}";
  encoded.json_length = out.size();
  for (const InferOutput& o : response.outputs)
    if (o.binary) out.append(static_cast<const char*>(o.data.data()), o.data.nbytes());
  return encoded;
}

std::string server_metadata_json(const std::string& version) {
  return json{{"name", kServerName}, {"version", version}, {"extensions", kExtensions}}.dump();
}

std::string model_metadata_json(const ServedModel& model,
                                const std::vector<std::string>& versions) {
  return "{\"name\":" + json_string(model.name) + ",\"versions\":" + json(versions).dump() +
         ",\"platform\":\"kerasrt\",\"inputs\":" + tensor_metadata(model.inputs) +
         ",\"outputs\":" + tensor_metadata(model.outputs) + "}";
}

std::string model_ready_json(const ServedModel& model) {
  return "{\"name\":" + json_string(model.name) + ",\"version\":" + json_string(model.version) +
         ",\"ready\":true}";
}

std::string json_string(const std::string& text) {
  return json(text).dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string error_json(const std::string& message) {
  return json{{"error", message}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace krt::serve
