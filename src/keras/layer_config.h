// Typed access to one Keras layer's config, with errors that name the file and the layer.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "io/json.h"
#include "kerasrt/error.h"

namespace krt::keras {

class LayerConfig {
 public:
  // `context` prefixes errors: "model.keras: layer 'fc1' (Dense)".
  LayerConfig(const io::Json& config, std::string context)
      : config_(config), context_(std::move(context)) {}

  const io::Json& json() const { return config_; }
  const std::string& context() const { return context_; }
  bool has(std::string_view key) const;  // present and not null
  const io::Json* find(std::string_view key) const;

  int64_t get_int(std::string_view key) const;
  int64_t get_int(std::string_view key, int64_t fallback) const;
  double get_float(std::string_view key, double fallback) const;
  std::optional<double> get_optional_float(std::string_view key) const;
  bool get_bool(std::string_view key, bool fallback) const;
  std::string get_string(std::string_view key, const std::string& fallback) const;
  std::string get_string(std::string_view key) const;
  // An int or a list of ints, expanded to `n` values (Keras accepts `3` for `(3, 3)`).
  std::vector<int64_t> get_ints(std::string_view key, size_t n) const;
  std::vector<int64_t> get_ints(std::string_view key, size_t n, int64_t fallback) const;
  // A list of ints of any length (null entries become -1).
  std::vector<int64_t> get_int_list(std::string_view key) const;

  [[noreturn]] void error(const std::string& what, ErrorCode code = ErrorCode::invalid_file) const;

 private:
  const io::Json& required(std::string_view key) const;
  const io::Json& config_;
  std::string context_;
};

// Reads a JSON int that may be written as 3 or 3.0; throws with `context` otherwise.
int64_t json_int(const io::Json& value, const std::string& context);

}  // namespace krt::keras
