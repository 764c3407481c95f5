#include "keras/weights.h"

#include <cctype>

#include "core/check.h"

namespace krt::keras {

std::string keras_snake_case(std::string_view class_name) {
  // Mirrors the three regex substitutions of keras/src/utils/naming.py.
  std::string s;
  for (char c : class_name)
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') s += c;
  auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
  auto lower = [](char c) { return c >= 'a' && c <= 'z'; };
  // (.)([A-Z][a-z]+) -> \1_\2: matches do not overlap, so the "(.)" character must not
  // belong to the previous match.
  std::string a;
  size_t consumed_until = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i >= 1 && i - 1 >= consumed_until && upper(s[i]) && i + 1 < s.size() && lower(s[i + 1])) {
      a += '_';
      size_t j = i + 1;
      while (j < s.size() && lower(s[j])) ++j;
      consumed_until = j;
    }
    a += s[i];
  }
  // ([a-z])([A-Z]) -> \1_\2
  std::string b;
  for (size_t i = 0; i < a.size(); ++i) {
    b += a[i];
    if (lower(a[i]) && i + 1 < a.size() && upper(a[i + 1])) b += '_';
  }
  for (char& c : b) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return b;
}

namespace {

class EmptyScope : public WeightScope {
 public:
  std::optional<Tensor> find(int, std::string_view) const override { return std::nullopt; }
  std::unique_ptr<WeightScope> nested_layer(const std::string&, const std::string&) const override {
    return std::make_unique<EmptyScope>();
  }
  std::unique_ptr<WeightScope> attribute(const std::string&) const override {
    return std::make_unique<EmptyScope>();
  }
  std::unique_ptr<WeightScope> sub_layer(const std::string&, const std::string&) const override {
    return std::make_unique<EmptyScope>();
  }
  int64_t total_elements() const override { return 0; }
};

class Keras3Scope : public WeightScope {
 public:
  Keras3Scope(std::shared_ptr<const io::Hdf5File> file, std::string path)
      : file_(std::move(file)), path_(std::move(path)) {}

  std::optional<Tensor> find(int index, std::string_view) const override {
    std::string p = join(path_, "vars/" + std::to_string(index));
    if (!file_->is_dataset(p)) return std::nullopt;
    return file_->read_dataset(p);
  }
  std::unique_ptr<WeightScope> nested_layer(const std::string& key,
                                            const std::string&) const override {
    return std::make_unique<Keras3Scope>(file_, join(path_, "layers/" + key));
  }
  std::unique_ptr<WeightScope> attribute(const std::string& attr) const override {
    return std::make_unique<Keras3Scope>(file_, join(path_, attr));
  }
  std::unique_ptr<WeightScope> sub_layer(const std::string& attr,
                                         const std::string&) const override {
    return attribute(attr);
  }
  int64_t total_elements() const override { return count(path_, 0); }

 private:
  static std::string join(const std::string& a, const std::string& b) {
    return a.empty() ? b : a + "/" + b;
  }
  int64_t count(const std::string& path, int depth) const {
    if (depth > 32 || !file_->is_group(path.empty() ? "/" : path)) return 0;
    int64_t total = 0;
    for (const std::string& child : file_->children(path.empty() ? "/" : path)) {
      std::string p = join(path, child);
      if (file_->is_dataset(p))
        total += shape_elements(file_->dataset_shape(p));
      else
        total += count(p, depth + 1);
    }
    return total;
  }
  std::shared_ptr<const io::Hdf5File> file_;
  std::string path_;
};

// A legacy .h5 layer group: the weight names listed in its `weight_names` attribute,
// optionally narrowed to the ones of one inner layer.
class LegacyScope : public WeightScope {
 public:
  struct Entry {
    std::vector<std::string> parts;  // weight name split on '/'
    std::string dataset;             // full dataset path
  };

  LegacyScope(std::shared_ptr<const io::Hdf5File> file, std::vector<Entry> entries)
      : file_(std::move(file)), entries_(std::move(entries)) {}

  std::optional<Tensor> find(int index, std::string_view name) const override {
    for (const Entry& e : entries_)
      if (base_name(e.parts.back()) == name) return file_->read_dataset(e.dataset);
    // Older files name variables differently ("dense_1_W"): fall back to the position.
    if (index >= 0 && index < static_cast<int>(entries_.size()) && !any_name_known())
      return file_->read_dataset(entries_[index].dataset);
    return std::nullopt;
  }
  std::unique_ptr<WeightScope> nested_layer(const std::string&,
                                            const std::string& layer_name) const override {
    std::vector<Entry> mine;
    for (const Entry& e : entries_)
      if (e.parts.size() >= 2 && e.parts[e.parts.size() - 2] == layer_name) mine.push_back(e);
    return std::make_unique<LegacyScope>(file_, std::move(mine));
  }
  std::unique_ptr<WeightScope> attribute(const std::string&) const override {
    return std::make_unique<LegacyScope>(file_, entries_);
  }
  std::unique_ptr<WeightScope> sub_layer(const std::string&,
                                         const std::string& layer_name) const override {
    std::vector<Entry> mine;
    for (const Entry& e : entries_)
      for (size_t i = 0; i + 1 < e.parts.size(); ++i)
        if (e.parts[i] == layer_name) {
          mine.push_back(e);
          break;
        }
    return std::make_unique<LegacyScope>(file_, std::move(mine));
  }
  int64_t total_elements() const override {
    int64_t total = 0;
    for (const Entry& e : entries_) total += shape_elements(file_->dataset_shape(e.dataset));
    return total;
  }

 private:
  static std::string_view base_name(std::string_view s) {
    size_t colon = s.rfind(':');
    return colon == std::string_view::npos ? s : s.substr(0, colon);
  }
  bool any_name_known() const {
    static const char* known[] = {"kernel",
                                  "bias",
                                  "gamma",
                                  "beta",
                                  "moving_mean",
                                  "moving_variance",
                                  "alpha",
                                  "embeddings",
                                  "recurrent_kernel",
                                  "depthwise_kernel",
                                  "pointwise_kernel"};
    for (const Entry& e : entries_)
      for (const char* k : known)
        if (base_name(e.parts.back()) == k) return true;
    return false;
  }
  std::shared_ptr<const io::Hdf5File> file_;
  std::vector<Entry> entries_;
};

std::vector<std::string> split_path(const std::string& s) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= s.size()) {
    size_t slash = s.find('/', start);
    if (slash == std::string::npos) slash = s.size();
    if (slash > start) parts.push_back(s.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

// The top level of a legacy .h5 model: one group per layer, named after the layer.
class LegacyModelScope : public WeightScope {
 public:
  LegacyModelScope(std::shared_ptr<const io::Hdf5File> file, std::string group)
      : file_(std::move(file)), group_(std::move(group)) {}
  std::optional<Tensor> find(int, std::string_view) const override { return std::nullopt; }
  std::unique_ptr<WeightScope> nested_layer(const std::string&,
                                            const std::string& layer_name) const override {
    return legacy_layer_weight_scope(file_, group_ + "/" + layer_name);
  }
  std::unique_ptr<WeightScope> attribute(const std::string&) const override {
    return empty_weight_scope();
  }
  std::unique_ptr<WeightScope> sub_layer(const std::string&, const std::string&) const override {
    return empty_weight_scope();
  }
  int64_t total_elements() const override { return 0; }

 private:
  std::shared_ptr<const io::Hdf5File> file_;
  std::string group_;
};

}  // namespace

std::unique_ptr<WeightScope> legacy_model_weight_scope(std::shared_ptr<const io::Hdf5File> file,
                                                       const std::string& group) {
  return std::make_unique<LegacyModelScope>(std::move(file), group);
}

std::unique_ptr<WeightScope> empty_weight_scope() { return std::make_unique<EmptyScope>(); }

std::unique_ptr<WeightScope> keras3_weight_scope(std::shared_ptr<const io::Hdf5File> file) {
  return std::make_unique<Keras3Scope>(std::move(file), "");
}

std::unique_ptr<WeightScope> keras3_weight_scope_at(std::shared_ptr<const io::Hdf5File> file,
                                                    const std::string& path) {
  return std::make_unique<Keras3Scope>(std::move(file), path);
}

std::vector<std::string> string_list_attribute(const io::Hdf5File& file, const std::string& path,
                                               const std::string& name) {
  auto read = [&](const std::string& attr) -> std::vector<std::string> {
    try {
      return file.string_attribute(path, attr);
    } catch (const Error&) {
      if (file.numeric_attribute(path, attr).empty()) return {};
      throw;
    }
  };
  if (file.has_attribute(path, name)) return read(name);
  std::vector<std::string> all;
  for (int chunk = 0; chunk < 1 << 20 && file.has_attribute(path, name + std::to_string(chunk));
       ++chunk) {
    std::vector<std::string> part = read(name + std::to_string(chunk));
    all.insert(all.end(), part.begin(), part.end());
  }
  return all;
}

std::vector<std::pair<std::string, std::string>> legacy_layer_weight_entries(
    const io::Hdf5File& file, const std::string& group) {
  std::vector<std::pair<std::string, std::string>> entries;
  if (!file.is_group(group)) return entries;
  for (const std::string& name : string_list_attribute(file, group, "weight_names")) {
    std::string dataset = group + "/" + name;
    if (!file.is_dataset(dataset))
      fail(ErrorCode::invalid_file, file.display_name(), ": weight '", name, "' listed in '", group,
           "' is missing");
    entries.emplace_back(name, dataset);
  }
  return entries;
}

std::unique_ptr<WeightScope> legacy_layer_weight_scope(std::shared_ptr<const io::Hdf5File> file,
                                                       const std::string& group) {
  std::vector<LegacyScope::Entry> entries;
  for (auto& [name, dataset] : legacy_layer_weight_entries(*file, group))
    entries.push_back({split_path(name), dataset});
  return std::make_unique<LegacyScope>(std::move(file), std::move(entries));
}

}  // namespace krt::keras
