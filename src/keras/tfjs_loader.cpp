// TF.js layers models: model.json holds the Keras topology (`modelTopology`) and a
// `weightsManifest` of groups; each group's binary shards, concatenated, hold its weights back
// to back in manifest order, possibly quantized (uint8/uint16 with min and scale, or float16).
#include <cmath>
#include <cstring>
#include <filesystem>

#include "core/check.h"
#include "keras/legacy_config.h"
#include "keras/legacy_weights.h"
#include "keras/model_source.h"

namespace krt::keras {

namespace {

using io::Json;

float half_to_float(uint16_t h) {
  const uint32_t sign = (h >> 15) & 1, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  float magnitude;
  if (exponent == 0)
    magnitude = std::ldexp(static_cast<float>(mantissa), -24);  // subnormal
  else if (exponent == 31)
    magnitude = mantissa ? NAN : INFINITY;
  else
    magnitude = std::ldexp(static_cast<float>(mantissa | 0x400), static_cast<int>(exponent) - 25);
  return sign ? -magnitude : magnitude;
}

std::string string_of(const Json& object, const char* key, const std::string& context) {
  const Json* v = object.find(key);
  if (!v || !v->is_string())
    fail(ErrorCode::invalid_file, context, ": '", key, "' should be a string");
  return v->as_string();
}

// A shard path from the manifest: a file next to model.json, never elsewhere (the manifest
// comes from a stranger).
std::filesystem::path shard_path(const std::filesystem::path& dir, const std::string& name,
                                 const std::string& context) {
  std::filesystem::path p(name);
  if (name.empty() || p.is_absolute())
    fail(ErrorCode::invalid_file, context, ": shard path '", name,
         "' is not relative to model.json");
  for (const auto& part : p)
    if (part == "..")
      fail(ErrorCode::invalid_file, context, ": shard path '", name,
           "' leaves the model's directory");
  return dir / p;
}

// One weight of a group's buffer, decoded to float32 (int32 stays int32).
Tensor decode_weight(const Json& spec, const std::vector<uint8_t>& buffer, uint64_t& offset,
                     const Limits& limits, const std::string& context) {
  const std::string name = string_of(spec, "name", context);
  const std::string where = context + ": weight '" + name + "'";
  const Json* shape_json = spec.find("shape");
  if (!shape_json || !shape_json->is_array())
    fail(ErrorCode::invalid_file, where, ": 'shape' should be a list");
  if (static_cast<int>(shape_json->size()) > limits.max_rank)
    fail(ErrorCode::limit_exceeded, where, ": rank is above the limit");
  Shape shape;
  int64_t elements = 1;
  for (const Json& d : shape_json->items()) {
    int64_t n = d.as_int();
    if (n < 0) fail(ErrorCode::invalid_file, where, ": negative dimension");
    if (n > 0 && elements > limits.max_elements / n)
      fail(ErrorCode::limit_exceeded, where, ": more elements than the limit");
    elements *= n;
    shape.push_back(n);
  }
  std::string dtype = string_of(spec, "dtype", where);
  std::string stored = dtype;
  double min = 0, scale = 1;
  if (const Json* q = spec.find("quantization"); q && q->is_object()) {
    stored = string_of(*q, "dtype", where + " quantization");
    if (stored == "uint8" || stored == "uint16") {
      const Json* m = q->find("min");
      const Json* s = q->find("scale");
      if (!m || !s || !m->is_number() || !s->is_number())
        fail(ErrorCode::unsupported, where, ": ", stored,
             " quantization without 'min' and 'scale' is not supported");
      min = m->as_number();
      scale = s->as_number();
    } else if (stored != "float16") {
      fail(ErrorCode::unsupported, where, ": quantization dtype '", stored,
           "' is not supported (uint8, uint16, float16 are)");
    }
  }
  uint64_t width = stored == "float32" || stored == "int32"    ? 4
                   : stored == "uint16" || stored == "float16" ? 2
                   : stored == "uint8" || stored == "bool"     ? 1
                                                               : 0;
  if (width == 0) fail(ErrorCode::unsupported, where, ": dtype '", stored, "' is not supported");
  const uint64_t bytes = static_cast<uint64_t>(elements) * width;
  if (offset > buffer.size() || bytes > buffer.size() - offset)
    fail(ErrorCode::invalid_file, where, ": the shards hold ", buffer.size(),
         " bytes, too few for the weights listed");
  const uint8_t* src = buffer.data() + offset;
  offset += bytes;
  if (dtype == "int32" && stored == "int32") {
    Tensor t(DType::i32, shape);
    std::memcpy(t.data(), src, bytes);
    return t;
  }
  Tensor t(DType::f32, shape);
  float* dst = t.data_as<float>();
  for (int64_t i = 0; i < elements; ++i) {
    if (stored == "float32")
      std::memcpy(&dst[i], src + 4 * i, 4);
    else if (stored == "int32") {
      int32_t v;
      std::memcpy(&v, src + 4 * i, 4);
      dst[i] = static_cast<float>(v);
    } else if (stored == "bool")
      dst[i] = src[i] ? 1.f : 0.f;
    else if (stored == "float16") {
      uint16_t h;
      std::memcpy(&h, src + 2 * i, 2);
      dst[i] = half_to_float(h);
    } else if (stored == "uint16") {
      uint16_t q;
      std::memcpy(&q, src + 2 * i, 2);
      dst[i] = static_cast<float>(q * scale + min);
    } else
      dst[i] = static_cast<float>(src[i] * scale + min);  // uint8
  }
  return t;
}

std::vector<NamedArray> read_weights(const Json& manifest, const std::filesystem::path& dir,
                                     const std::string& path, const Limits& limits) {
  const std::string context = path + ": weightsManifest";
  if (!manifest.is_array()) fail(ErrorCode::invalid_file, context, " should be a list of groups");
  std::vector<NamedArray> out;
  uint64_t total = 0;
  for (const Json& group : manifest.items()) {
    const Json* paths = group.find("paths");
    const Json* weights = group.find("weights");
    if (!paths || !paths->is_array() || !weights || !weights->is_array())
      fail(ErrorCode::invalid_file, context, ": each group needs 'paths' and 'weights' lists");
    std::vector<uint8_t> buffer;
    for (const Json& p : paths->items()) {
      if (!p.is_string()) fail(ErrorCode::invalid_file, context, ": a shard path is not a string");
      io::Bytes shard = io::map_file(shard_path(dir, p.as_string(), context).string());
      total += shard.size();
      if (total > limits.max_total_bytes)
        fail(ErrorCode::limit_exceeded, context, ": the shards are larger than the load limit");
      buffer.insert(buffer.end(), shard.data(), shard.data() + shard.size());
    }
    uint64_t offset = 0;
    for (const Json& spec : weights->items()) {
      Tensor t = decode_weight(spec, buffer, offset, limits, context);
      out.push_back({string_of(spec, "name", context), std::move(t)});
    }
  }
  return out;
}

}  // namespace

ModelSource tfjs_source(const Json& model_json, const std::string& path, const Limits& limits) {
  if (const Json* format = model_json.find("format");
      format && format->is_string() && format->as_string() == "graph-model")
    fail(ErrorCode::unsupported, path,
         ": a TF.js graph model holds a TensorFlow graph, not Keras layers; only TF.js layers "
         "models are supported");
  const Json* topology = model_json.find("modelTopology");
  if (!topology || !topology->is_object())
    fail(ErrorCode::invalid_file, path, ": a TF.js model.json needs a 'modelTopology' object");
  // tfjs-converter nests the Keras config under model_config; TF.js's own save() does not.
  const Json* config = topology->find("model_config");
  if (!config || !config->is_object()) config = topology;
  ModelSource src;
  src.file.display_name = path;
  for (const Json* where : {topology, config}) {
    if (const Json* v = where->find("keras_version");
        v && v->is_string() && src.file.keras_version.empty())
      src.file.keras_version = v->as_string();
    if (const Json* b = where->find("backend"); b && b->is_string() && src.file.backend.empty())
      src.file.backend = b->as_string();
  }
  src.file.keras_major = keras_major_of(src.file.keras_version, 2);
  src.config = normalize_model_config(*config, src.file);
  const Json* manifest = model_json.find("weightsManifest");
  std::vector<NamedArray> arrays;
  if (manifest && !manifest->is_null())
    arrays = read_weights(*manifest, std::filesystem::path(path).parent_path(), path, limits);
  src.weights = named_arrays_weight_scope(std::move(arrays), src.config, src.file);
  return src;
}

}  // namespace krt::keras
