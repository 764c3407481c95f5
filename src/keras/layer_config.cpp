#include "keras/layer_config.h"

#include <cmath>

#include "core/check.h"

namespace krt::keras {

int64_t json_int(const io::Json& value, const std::string& context) {
  if (value.kind() != io::Json::Kind::number)
    fail(ErrorCode::invalid_file, context, ": expected an integer, found ", value.dump());
  double d = value.as_number();
  if (!(std::abs(d) < 9.0e15) || d != std::floor(d))
    fail(ErrorCode::invalid_file, context, ": expected an integer, found ", value.dump());
  return static_cast<int64_t>(d);
}

bool LayerConfig::has(std::string_view key) const {
  const io::Json* v = config_.find(key);
  return v && !v->is_null();
}

const io::Json* LayerConfig::find(std::string_view key) const {
  const io::Json* v = config_.find(key);
  return v && !v->is_null() ? v : nullptr;
}

const io::Json& LayerConfig::required(std::string_view key) const {
  const io::Json* v = find(key);
  if (!v) error(str_cat("config has no '", key, "'"));
  return *v;
}

void LayerConfig::error(const std::string& what, ErrorCode code) const {
  fail(code, context_, ": ", what);
}

int64_t LayerConfig::get_int(std::string_view key) const {
  return json_int(required(key), str_cat(context_, ": '", key, "'"));
}

int64_t LayerConfig::get_int(std::string_view key, int64_t fallback) const {
  return has(key) ? get_int(key) : fallback;
}

double LayerConfig::get_float(std::string_view key, double fallback) const {
  return get_optional_float(key).value_or(fallback);
}

std::optional<double> LayerConfig::get_optional_float(std::string_view key) const {
  const io::Json* v = find(key);
  if (!v) return std::nullopt;
  if (v->kind() != io::Json::Kind::number)
    error(str_cat("'", key, "' should be a number, found ", v->dump()));
  return v->as_number();
}

bool LayerConfig::get_bool(std::string_view key, bool fallback) const {
  const io::Json* v = find(key);
  if (!v) return fallback;
  if (v->kind() != io::Json::Kind::boolean)
    error(str_cat("'", key, "' should be true or false, found ", v->dump()));
  return v->as_bool();
}

std::string LayerConfig::get_string(std::string_view key, const std::string& fallback) const {
  return has(key) ? get_string(key) : fallback;
}

std::string LayerConfig::get_string(std::string_view key) const {
  const io::Json& v = required(key);
  if (v.kind() != io::Json::Kind::string)
    error(str_cat("'", key, "' should be a string, found ", v.dump()));
  return v.as_string();
}

std::vector<int64_t> LayerConfig::get_ints(std::string_view key, size_t n) const {
  const io::Json& v = required(key);
  std::string where = str_cat(context_, ": '", key, "'");
  if (v.kind() == io::Json::Kind::number) return std::vector<int64_t>(n, json_int(v, where));
  if (v.kind() != io::Json::Kind::array)
    error(str_cat("'", key, "' should be an integer or a list, found ", v.dump()));
  if (v.size() != n) error(str_cat("'", key, "' should have ", n, " values, found ", v.dump()));
  std::vector<int64_t> out;
  for (const io::Json& item : v.items()) out.push_back(json_int(item, where));
  return out;
}

std::vector<int64_t> LayerConfig::get_ints(std::string_view key, size_t n, int64_t fallback) const {
  return has(key) ? get_ints(key, n) : std::vector<int64_t>(n, fallback);
}

std::vector<int64_t> LayerConfig::get_int_list(std::string_view key) const {
  const io::Json& v = required(key);
  std::string where = str_cat(context_, ": '", key, "'");
  if (v.kind() == io::Json::Kind::number) return {json_int(v, where)};
  if (v.kind() != io::Json::Kind::array)
    error(str_cat("'", key, "' should be a list, found ", v.dump()));
  std::vector<int64_t> out;
  for (const io::Json& item : v.items()) out.push_back(item.is_null() ? -1 : json_int(item, where));
  return out;
}

}  // namespace krt::keras
