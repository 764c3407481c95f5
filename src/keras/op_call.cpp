#include "keras/op_call.h"

#include <algorithm>

#include "core/check.h"

namespace krt::keras {

namespace {

bool is_keras_tensor(const io::Json& v) {
  if (!v.is_object()) return false;
  const io::Json* c = v.find("class_name");
  return c && c->is_string() && c->as_string() == "__keras_tensor__";
}

// Flattens nested lists of numbers/booleans into `values`, recording the shape.
bool flatten_numbers(const io::Json& v, size_t depth, Shape& shape, std::vector<float>& values) {
  if (depth > 16) return false;
  if (v.is_number() || v.is_bool()) {
    if (depth != shape.size()) return false;
    values.push_back(v.is_bool() ? (v.as_bool() ? 1.f : 0.f) : static_cast<float>(v.as_number()));
    return true;
  }
  if (!v.is_array()) return false;
  if (depth == shape.size()) {
    if (!values.empty()) return false;  // ragged
    shape.push_back(static_cast<int64_t>(v.size()));
  } else if (depth > shape.size() || shape[depth] != static_cast<int64_t>(v.size())) {
    return false;
  }
  for (const io::Json& item : v.items())
    if (!flatten_numbers(item, depth + 1, shape, values)) return false;
  return true;
}

}  // namespace

bool is_keras3_op_module(std::string_view module) { return module.rfind("keras.src.ops", 0) == 0; }

std::optional<Tensor> literal_tensor(const io::Json& v) {
  const io::Json* value = &v;
  if (v.is_object()) {
    const io::Json* c = v.find("class_name");
    const io::Json* config = v.find("config");
    if (!c || !c->is_string() ||
        (c->as_string() != "__tensor__" && c->as_string() != "__numpy__") || !config)
      return std::nullopt;
    value = config->find("value");
    if (!value) return std::nullopt;
  }
  Shape shape;
  std::vector<float> values;
  if (!flatten_numbers(*value, 0, shape, values)) return std::nullopt;
  if (shape_elements(shape) != static_cast<int64_t>(values.size()))
    return std::nullopt;  // an empty list inside
  Tensor t(DType::f32, shape);
  std::copy(values.begin(), values.end(), t.data_as<float>());
  return t;
}

bool is_tf_tensor_ref(const io::Json& v) {
  return v.is_array() && (v.size() == 3 || v.size() == 4) && v[0].is_string() && v[1].is_number() &&
         (v.size() == 3 || v[3].is_object()) && v[0].as_string() != "_CONSTANT_VALUE";
}

TfNode parse_tf_node(const io::Json& node, const std::string& context) {
  auto is_entry = [](const io::Json& e) {
    return e.is_array() && (e.size() == 3 || e.size() == 4) && e[0].is_string();
  };
  TfNode out;
  if (is_entry(node)) {
    out.entries.push_back(&node);
  } else if (node.is_array() && node.size() > 0) {
    out.first_is_list = true;
    for (const io::Json& e : node.items()) {
      if (!is_entry(e))
        fail(ErrorCode::invalid_file, context, ": malformed inbound node entry ", e.dump());
      out.entries.push_back(&e);
    }
  } else {
    fail(ErrorCode::invalid_file, context, ": malformed inbound node ", node.dump());
  }
  const io::Json& first = *out.entries[0];
  if (first.size() == 4 && first[3].is_object() && first[3].size() > 0) out.kwargs = &first[3];
  return out;
}

void collect_tf_refs(const io::Json& v, std::vector<const io::Json*>& out, int depth) {
  if (depth > 8 || !v.is_array()) return;
  if (is_tf_tensor_ref(v)) {
    out.push_back(&v);
    return;
  }
  for (const io::Json& item : v.items()) collect_tf_refs(item, out, depth + 1);
}

OpCall::OpCall(LayerContext& ctx, std::vector<std::string> signature, bool tf_layer) : ctx_(ctx) {
  for (const std::string& s : signature) {
    const size_t eq = s.find('=');
    signature_.emplace_back(s.substr(0, eq), eq == std::string::npos ? s : s.substr(eq + 1));
  }
  if (tf_layer)
    parse_tf();
  else
    parse_keras3();
}

OpArg OpCall::convert_keras3(const io::Json& v, size_t& next, const std::vector<ValueId>& pool,
                             int depth) {
  if (depth > 8) error("call arguments nest too deeply");
  OpArg a;
  a.json = &v;
  if (is_keras_tensor(v)) {
    if (next >= pool.size()) error("the call's tensors do not match its inputs");
    a.kind = OpArg::Kind::tensor;
    a.tensor = pool[next++];
  } else if (v.is_array() || (v.is_object() && !v.find("class_name"))) {
    // Lists (and dicts, flattened in sorted key order as the model builder reads their
    // tensors) stay literals unless they hold a tensor.
    const size_t before = next;
    std::vector<OpArg> items;
    if (v.is_array()) {
      for (const io::Json& item : v.items())
        items.push_back(convert_keras3(item, next, pool, depth + 1));
    } else {
      std::vector<const std::pair<std::string, io::Json>*> members;
      for (const auto& m : v.members()) members.push_back(&m);
      std::sort(members.begin(), members.end(),
                [](const auto* a, const auto* b) { return a->first < b->first; });
      for (const auto* m : members)
        items.push_back(convert_keras3(m->second, next, pool, depth + 1));
    }
    if (next != before) {
      a.kind = OpArg::Kind::list;
      a.items = std::move(items);
    }
  }
  return a;
}

void OpCall::parse_keras3() {
  const io::Json* args = ctx_.call_args();
  size_t next = 0;
  if (args && args->is_array())
    for (const io::Json& v : args->items())
      positional_.push_back(convert_keras3(v, next, ctx_.inputs(), 0));
  if (next != ctx_.inputs().size()) error("the call's tensors do not match its inputs");
  if (const io::Json* kwargs = ctx_.call_kwargs(); kwargs && kwargs->is_object())
    for (const auto& [key, value] : kwargs->members()) {
      size_t k = 0;
      keyword_.emplace_back(key, convert_keras3(value, k, ctx_.kwarg_values(key), 0));
    }
}

OpArg OpCall::convert_tf(const io::Json& v, size_t& next, const std::vector<ValueId>& pool,
                         int depth) {
  if (depth > 8) error("call arguments nest too deeply");
  OpArg a;
  a.json = &v;
  if (is_tf_tensor_ref(v)) {
    if (next >= pool.size()) error("the call's tensors do not match its inputs");
    a.kind = OpArg::Kind::tensor;
    a.tensor = pool[next++];
  } else if (v.is_array()) {
    const size_t before = next;
    std::vector<OpArg> items;
    for (const io::Json& item : v.items()) items.push_back(convert_tf(item, next, pool, depth + 1));
    if (next != before) {
      a.kind = OpArg::Kind::list;
      a.items = std::move(items);
    }
  }
  return a;
}

void OpCall::parse_tf() {
  const io::Json* node = ctx_.call_args();
  if (!node) error("a TensorFlow operation layer needs its call recorded in 'inbound_nodes'");
  const TfNode tf = parse_tf_node(*node, ctx_.config().context());
  // The first argument: tensors from the inputs in order, constants from _CONSTANT_VALUE entries.
  size_t next = 0;
  std::vector<OpArg> first;
  for (const io::Json* e : tf.entries) {
    OpArg a;
    if ((*e)[0].as_string() == "_CONSTANT_VALUE") {
      a.json = &(*e)[2];
    } else {
      if (next >= ctx_.inputs().size()) error("the call's tensors do not match its inputs");
      a.kind = OpArg::Kind::tensor;
      a.tensor = ctx_.inputs()[next++];
      a.json = e;
    }
    first.push_back(std::move(a));
  }
  if (tf.first_is_list) {
    OpArg list;
    list.kind = OpArg::Kind::list;
    list.json = node;
    list.items = std::move(first);
    positional_.push_back(std::move(list));
  } else {
    positional_.push_back(std::move(first[0]));
  }
  if (tf.kwargs)
    for (const auto& [key, value] : tf.kwargs->members()) {
      size_t k = 0;
      keyword_.emplace_back(key, convert_tf(value, k, ctx_.kwarg_values(key), 0));
    }
}

const OpArg* OpCall::find(std::string_view name) const {
  std::string file_name(name);
  size_t position = std::string::npos;
  for (size_t i = 0; i < signature_.size(); ++i)
    if (signature_[i].first == name) {
      file_name = signature_[i].second;
      position = i;
    }
  for (const auto& [key, arg] : keyword_)
    if (key == file_name) return &arg;
  if (position < positional_.size()) return &positional_[position];
  if (const io::Json* v = ctx_.config().find(file_name)) {
    auto a = std::make_unique<OpArg>();
    a->json = v;
    scratch_.push_back(std::move(a));
    return scratch_.back().get();
  }
  return nullptr;
}

bool OpCall::has(std::string_view name) const {
  const OpArg* a = find(name);
  return a && !a->is_none();
}

ValueId OpCall::tensor(std::string_view name) const {
  const OpArg* a = find(name);
  if (!a) error(str_cat("argument '", name, "' is missing"));
  if (a->kind != OpArg::Kind::tensor)
    error(str_cat("argument '", name, "' should be a tensor, found ",
                  a->json ? a->json->dump() : "nothing"),
          ErrorCode::unsupported);
  return a->tensor;
}

std::vector<ValueId> OpCall::tensors(std::string_view name) const {
  const OpArg* a = find(name);
  if (!a) error(str_cat("argument '", name, "' is missing"));
  if (a->kind == OpArg::Kind::tensor) return {a->tensor};
  std::vector<ValueId> out;
  if (a->kind == OpArg::Kind::list)
    for (const OpArg& item : a->items) {
      if (item.kind != OpArg::Kind::tensor)
        error(str_cat("argument '", name, "' should be a list of tensors, found ",
                      item.json ? item.json->dump() : "a nested list"),
              ErrorCode::unsupported);
      out.push_back(item.tensor);
    }
  if (out.empty())
    error(str_cat("argument '", name, "' should be a list of tensors, found ",
                  a->json ? a->json->dump() : "nothing"));
  return out;
}

OpCall::Operand OpCall::operand(std::string_view name) const {
  const OpArg* a = find(name);
  if (!a) error(str_cat("argument '", name, "' is missing"));
  if (a->kind == OpArg::Kind::tensor) return {a->tensor, Tensor()};
  if (a->kind == OpArg::Kind::literal && a->json) {
    if (std::optional<Tensor> t = literal_tensor(*a->json)) return {std::nullopt, *t};
  }
  error(str_cat("argument '", name, "' should be a tensor or a number, found ",
                a->json ? a->json->dump() : "a list of tensors"),
        ErrorCode::unsupported);
}

const io::Json& OpCall::literal(std::string_view name) const {
  const OpArg* a = find(name);
  if (!a || !a->json) error(str_cat("argument '", name, "' is missing"));
  if (a->kind != OpArg::Kind::literal)
    error(str_cat("argument '", name,
                  "' must be a value written in the file, not a tensor computed by the model"),
          ErrorCode::unsupported);
  return *a->json;
}

int64_t OpCall::get_int(std::string_view name, std::optional<int64_t> fallback) const {
  if (!has(name)) {
    if (fallback) return *fallback;
    error(str_cat("argument '", name, "' is missing"));
  }
  return json_int(literal(name), str_cat(ctx_.config().context(), ": argument '", name, "'"));
}

double OpCall::get_float(std::string_view name, std::optional<double> fallback) const {
  if (!has(name)) {
    if (fallback) return *fallback;
    error(str_cat("argument '", name, "' is missing"));
  }
  const io::Json& v = literal(name);
  if (v.is_bool()) return v.as_bool() ? 1.0 : 0.0;
  if (!v.is_number()) error(str_cat("argument '", name, "' should be a number, found ", v.dump()));
  return v.as_number();
}

bool OpCall::get_bool(std::string_view name, bool fallback) const {
  if (!has(name)) return fallback;
  const io::Json& v = literal(name);
  if (!v.is_bool())
    error(str_cat("argument '", name, "' should be true or false, found ", v.dump()));
  return v.as_bool();
}

std::string OpCall::get_string(std::string_view name, const std::string& fallback) const {
  if (!has(name)) return fallback;
  const io::Json& v = literal(name);
  if (!v.is_string()) error(str_cat("argument '", name, "' should be a string, found ", v.dump()));
  return v.as_string();
}

std::optional<std::vector<int64_t>> OpCall::int_list(std::string_view name) const {
  if (!has(name)) return std::nullopt;
  const io::Json& v = literal(name);
  const std::string context = str_cat(ctx_.config().context(), ": argument '", name, "'");
  // Keras writes tuples as lists; tf.keras may write {"class_name": "__tuple__", "items": [...]}.
  const io::Json* items = &v;
  if (v.is_object())
    if (const io::Json* it = v.find("items")) items = it;
  if (!items->is_array()) return std::vector<int64_t>{json_int(*items, context)};
  std::vector<int64_t> out;
  for (const io::Json& d : items->items()) out.push_back(json_int(d, context));
  return out;
}

}  // namespace krt::keras
