#include "io/json.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/check.h"

namespace krt::io {

const char* json_kind_name(Json::Kind kind) {
  switch (kind) {
    case Json::Kind::null:
      return "null";
    case Json::Kind::boolean:
      return "a boolean";
    case Json::Kind::number:
      return "a number";
    case Json::Kind::string:
      return "a string";
    case Json::Kind::array:
      return "an array";
    case Json::Kind::object:
      return "an object";
  }
  return "unknown";
}

Json Json::boolean(bool value) {
  Json j;
  j.kind_ = Kind::boolean;
  j.bool_ = value;
  return j;
}

Json Json::number(double value) {
  Json j;
  j.kind_ = Kind::number;
  j.number_ = value;
  return j;
}

Json Json::integer(int64_t value) {
  Json j = number(static_cast<double>(value));
  j.is_integer_ = true;
  j.int_ = value;
  return j;
}

Json Json::string(std::string value) {
  Json j;
  j.kind_ = Kind::string;
  j.string_ = std::move(value);
  return j;
}

Json Json::array(std::vector<Json> items) {
  Json j;
  j.kind_ = Kind::array;
  j.items_ = std::move(items);
  return j;
}

Json Json::object(std::vector<std::pair<std::string, Json>> members) {
  Json j;
  j.kind_ = Kind::object;
  j.members_ = std::move(members);
  return j;
}

Json::~Json() {
  if (items_.empty() && members_.empty()) return;
  // Move every non-leaf descendant into a flat list before it is destroyed, so that each
  // destructor call only ever frees leaves: the recursion depth stays at one.
  std::vector<Json> pending;
  auto detach_children = [&pending](Json& j) {
    for (Json& c : j.items_)
      if (!c.items_.empty() || !c.members_.empty()) pending.push_back(std::move(c));
    for (auto& m : j.members_)
      if (!m.second.items_.empty() || !m.second.members_.empty())
        pending.push_back(std::move(m.second));
    j.items_.clear();
    j.members_.clear();
  };
  detach_children(*this);
  while (!pending.empty()) {
    Json j = std::move(pending.back());
    pending.pop_back();
    detach_children(j);
  }
}

void Json::type_error(const char* expected) const {
  std::string found = dump();
  if (found.size() > 60) found = found.substr(0, 57) + "...";
  fail(ErrorCode::invalid_file, "expected ", expected, ", found ", json_kind_name(kind_), " (",
       found, ")");
}

bool Json::as_bool() const {
  if (kind_ != Kind::boolean) type_error("a boolean");
  return bool_;
}

double Json::as_number() const {
  if (kind_ != Kind::number) type_error("a number");
  return number_;
}

int64_t Json::as_int() const {
  if (kind_ != Kind::number) type_error("an integer");
  if (is_integer_) return int_;
  // 2^63 is exactly representable; anything at or above it does not fit in int64.
  constexpr double kLimit = 9223372036854775808.0;
  if (std::trunc(number_) != number_ || !(number_ >= -kLimit && number_ < kLimit))
    type_error("an integer");
  return static_cast<int64_t>(number_);
}

const std::string& Json::as_string() const {
  if (kind_ != Kind::string) type_error("a string");
  return string_;
}

const std::vector<Json>& Json::items() const {
  if (kind_ != Kind::array) type_error("an array");
  return items_;
}

const std::vector<std::pair<std::string, Json>>& Json::members() const {
  if (kind_ != Kind::object) type_error("an object");
  return members_;
}

const Json* Json::find(std::string_view key) const {
  if (kind_ != Kind::object) return nullptr;
  for (auto it = members_.rbegin(); it != members_.rend(); ++it)
    if (it->first == key) return &it->second;
  return nullptr;
}

const Json& Json::operator[](size_t i) const {
  if (kind_ != Kind::array) type_error("an array");
  if (i >= items_.size())
    fail(ErrorCode::invalid_file, "array index ", i, " is out of range for an array of ",
         items_.size(), " elements");
  return items_[i];
}

size_t Json::size() const {
  if (kind_ == Kind::array) return items_.size();
  if (kind_ == Kind::object) return members_.size();
  type_error("an array or an object");
}

namespace {

void dump_string(std::string& out, const std::string& s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

}  // namespace

std::string Json::dump() const {
  std::string out;
  dump_to(out);
  return out;
}

void Json::dump_to(std::string& out) const {
  switch (kind_) {
    case Kind::null:
      out += "null";
      break;
    case Kind::boolean:
      out += bool_ ? "true" : "false";
      break;
    case Kind::number: {
      if (is_integer_) {
        out += std::to_string(int_);
      } else if (std::isnan(number_)) {
        out += "NaN";
      } else if (std::isinf(number_)) {
        out += number_ > 0 ? "Infinity" : "-Infinity";
      } else {
        char buf[32];
        auto r = std::to_chars(buf, buf + sizeof buf, number_);
        out.append(buf, r.ptr);
      }
      break;
    }
    case Kind::string:
      dump_string(out, string_);
      break;
    case Kind::array:
      out += '[';
      for (size_t i = 0; i < items_.size(); ++i) {
        if (i) out += ',';
        items_[i].dump_to(out);
      }
      out += ']';
      break;
    case Kind::object:
      out += '{';
      for (size_t i = 0; i < members_.size(); ++i) {
        if (i) out += ',';
        dump_string(out, members_[i].first);
        out += ':';
        members_[i].second.dump_to(out);
      }
      out += '}';
      break;
  }
}

// Python's json.dumps writes NaN, Infinity and -Infinity, which nlohmann rejects. Outside
// strings these tokens are never valid JSON, so rewriting them into numbers with a spelling
// no serializer produces (leading zeros in the exponent) changes no valid document; the
// builder turns those spellings back into the special values.
namespace {

constexpr std::string_view kNaNSentinel = "0E-0000000001";
constexpr std::string_view kInfSentinel = "0E-0000000002";
constexpr std::string_view kNegInfSentinel = "-0E-0000000002";

struct Rewrite {
  std::string text;
  // (end of a replacement in `text`, bytes added so far), to map error positions back.
  std::vector<std::pair<size_t, int64_t>> shifts;
};

bool rewrite_special_numbers(std::string_view in, Rewrite& out) {
  bool in_string = false, changed = false;
  size_t copied = 0;
  int64_t shift = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
      continue;
    }
    std::string_view token, sentinel;
    if (in.substr(i, 3) == "NaN")
      token = "NaN", sentinel = kNaNSentinel;
    else if (in.substr(i, 8) == "Infinity")
      token = "Infinity", sentinel = kInfSentinel;
    else if (in.substr(i, 9) == "-Infinity")
      token = "-Infinity", sentinel = kNegInfSentinel;
    else
      continue;
    out.text.append(in.substr(copied, i - copied));
    out.text.append(sentinel);
    shift += static_cast<int64_t>(sentinel.size()) - static_cast<int64_t>(token.size());
    out.shifts.emplace_back(out.text.size(), shift);
    i += token.size() - 1;
    copied = i + 1;
    changed = true;
  }
  if (changed) out.text.append(in.substr(copied));
  return changed;
}

}  // namespace

// Builds a Json tree from nlohmann's SAX events, enforcing the nesting limit on the way down.
class JsonBuilder {
 public:
  JsonBuilder(const std::string& display_name, const Limits& limits, const Rewrite* rewrite)
      : display_name_(display_name), limits_(limits), rewrite_(rewrite) {}

  Json take_root() { return std::move(root_); }

  bool null() { return add(Json()) != nullptr; }
  bool boolean(bool v) { return add(Json::boolean(v)) != nullptr; }
  bool number_integer(int64_t v) { return add(Json::integer(v)) != nullptr; }
  bool number_unsigned(uint64_t v) {
    if (v <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return add(Json::integer(static_cast<int64_t>(v))) != nullptr;
    return add(Json::number(static_cast<double>(v))) != nullptr;
  }
  bool number_float(double v, const std::string& text) {
    if (rewrite_) {
      if (text == kNaNSentinel)
        v = std::numeric_limits<double>::quiet_NaN();
      else if (text == kInfSentinel)
        v = std::numeric_limits<double>::infinity();
      else if (text == kNegInfSentinel)
        v = -std::numeric_limits<double>::infinity();
    }
    return add(Json::number(v)) != nullptr;
  }
  bool string(std::string& v) { return add(Json::string(std::move(v))) != nullptr; }
  bool binary(nlohmann::json::binary_t&) { return false; }  // never produced by the JSON parser
  bool start_object(size_t) { return open(Json::object()); }
  bool start_array(size_t) { return open(Json::array()); }
  bool key(std::string& k) {
    key_ = std::move(k);
    return true;
  }
  bool end_object() { return close(); }
  bool end_array() { return close(); }

  bool parse_error(size_t position, const std::string&, const nlohmann::detail::exception& ex) {
    if (rewrite_) {
      int64_t shift = 0;
      for (const auto& [end, s] : rewrite_->shifts)
        if (end <= position) shift = s;
      position = static_cast<size_t>(static_cast<int64_t>(position) - shift);
    }
    // nlohmann's message reads "[json.exception.parse_error.101] parse error at line 1,
    // column 5: <reason>"; keep only the reason, since we report the byte offset ourselves.
    std::string reason = ex.what();
    if (auto p = reason.find("] "); p != std::string::npos) reason.erase(0, p + 2);
    if (reason.rfind("parse error", 0) == 0)
      if (auto p = reason.find(": "); p != std::string::npos) reason.erase(0, p + 2);
    fail(ErrorCode::invalid_file, display_name_, ": invalid JSON at byte ", position, ": ", reason);
  }

 private:
  Json* add(Json value) {
    if (stack_.empty()) {
      root_ = std::move(value);
      return &root_;
    }
    Json* top = stack_.back();
    if (top->kind_ == Json::Kind::array) {
      top->items_.push_back(std::move(value));
      return &top->items_.back();
    }
    top->members_.emplace_back(std::move(key_), std::move(value));
    return &top->members_.back().second;
  }

  bool open(Json container) {
    if (static_cast<int64_t>(stack_.size()) >= limits_.max_json_depth)
      fail(ErrorCode::limit_exceeded, display_name_, ": JSON nesting is deeper than ",
           limits_.max_json_depth, " levels (Limits::max_json_depth)");
    // Pointers along the open path stay valid: only the innermost container grows.
    stack_.push_back(add(std::move(container)));
    return true;
  }

  bool close() {
    stack_.pop_back();
    return true;
  }

  const std::string& display_name_;
  const Limits& limits_;
  const Rewrite* rewrite_;
  Json root_;
  std::vector<Json*> stack_;
  std::string key_;
};

Json parse_json(std::string_view text, const std::string& display_name, const Limits& limits) {
  if (text.size() > limits.max_json_bytes)
    fail(ErrorCode::limit_exceeded, display_name, ": JSON document has ", text.size(),
         " bytes, more than the limit of ", limits.max_json_bytes, " (Limits::max_json_bytes)");
  Rewrite rewrite;
  bool rewritten = rewrite_special_numbers(text, rewrite);
  std::string_view input = rewritten ? std::string_view(rewrite.text) : text;
  JsonBuilder builder(display_name, limits, rewritten ? &rewrite : nullptr);
  if (!nlohmann::json::sax_parse(input.begin(), input.end(), &builder))
    fail(ErrorCode::invalid_file, display_name, ": invalid JSON");
  return builder.take_root();
}

}  // namespace krt::io
