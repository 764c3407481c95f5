// A small read-only JSON document model. Only json.cpp includes nlohmann/json (a heavy
// header); everything else sees this type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kerasrt/limits.h"

namespace krt::io {

class Json {
 public:
  enum class Kind { null, boolean, number, string, array, object };

  Json() = default;
  static Json boolean(bool value);
  static Json number(double value);
  static Json integer(int64_t value);
  static Json string(std::string value);
  static Json array(std::vector<Json> items = {});
  static Json object(std::vector<std::pair<std::string, Json>> members = {});

  // Children are released iteratively, so no tree depth can overflow the stack.
  ~Json();
  Json(const Json&) = default;
  Json& operator=(const Json&) = default;
  Json(Json&&) noexcept = default;
  Json& operator=(Json&&) noexcept = default;

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::null; }
  bool is_bool() const { return kind_ == Kind::boolean; }
  bool is_number() const { return kind_ == Kind::number; }
  // A number written without fraction or exponent that fits in int64.
  bool is_integer() const { return kind_ == Kind::number && is_integer_; }
  bool is_string() const { return kind_ == Kind::string; }
  bool is_array() const { return kind_ == Kind::array; }
  bool is_object() const { return kind_ == Kind::object; }

  // Typed accessors; each throws krt::Error (invalid_file) naming the expected and found kinds.
  bool as_bool() const;
  double as_number() const;
  int64_t as_int() const;  // also accepts integral floats such as 3.0; throws for 3.5
  const std::string& as_string() const;
  const std::vector<Json>& items() const;                            // array
  const std::vector<std::pair<std::string, Json>>& members() const;  // object, document order

  // The object member called `key` (the last one if the key repeats, as Python's json does),
  // or nullptr when absent or when this is not an object.
  const Json* find(std::string_view key) const;
  // Array element i; throws krt::Error if this is not an array or i is out of range.
  const Json& operator[](size_t i) const;
  // Elements of an array or members of an object; throws for other kinds.
  size_t size() const;

  // Compact serialization (NaN and Infinity written as Python's json does).
  std::string dump() const;

 private:
  friend class JsonBuilder;
  void dump_to(std::string& out) const;
  [[noreturn]] void type_error(const char* expected) const;

  Kind kind_ = Kind::null;
  bool bool_ = false;
  bool is_integer_ = false;
  int64_t int_ = 0;
  double number_ = 0;
  std::string string_;
  std::vector<Json> items_;
  std::vector<std::pair<std::string, Json>> members_;
};

const char* json_kind_name(Json::Kind kind);

// Parses a JSON document. Enforces limits.max_json_bytes and limits.max_json_depth
// (limit_exceeded); syntax errors throw krt::Error (invalid_file) as
// "<display_name>: invalid JSON at byte N: <reason>". Accepts the NaN, Infinity and
// -Infinity literals that Python's json.dumps writes.
Json parse_json(std::string_view text, const std::string& display_name, const Limits& limits = {});

}  // namespace krt::io
