// The public HDF5 reader: path resolution and attribute/dataset access on top of the
// private parsers in hdf5_format.h. The parsed file state is immutable, and every call works
// in its own Scope (error context plus object budget), so a file can be read from several
// threads at once.
#include "io/hdf5.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "io/hdf5_format.h"

namespace krt::io {

using namespace h5;

struct Hdf5File::Impl {
  FileInfo info;
  // Bytes allocated by read_dataset so far (views of the file are free): all reads of one file
  // share Limits::max_total_bytes, so many datasets naming the same stored bytes cannot add
  // up to more memory than the limit allows.
  mutable std::atomic<uint64_t> allocated{0};
  // The links of each group resolved so far, by the group's object address: loading a Keras 3
  // file resolves every weight path from the root, and re-reading the groups on the way (a
  // B-tree and a heap each) was most of the HDF5 time of a MobileNet's load.
  mutable std::mutex links_mutex;
  mutable std::unordered_map<uint64_t, std::shared_ptr<const std::vector<Link>>> links;

  std::shared_ptr<const std::vector<Link>> group_links_of(Scope& scope, uint64_t address,
                                                          const ObjectHeader& h) const {
    {
      std::lock_guard<std::mutex> lock(links_mutex);
      auto it = links.find(address);
      if (it != links.end()) return it->second;
    }
    auto made = std::make_shared<const std::vector<Link>>(group_links(scope, h));
    std::lock_guard<std::mutex> lock(links_mutex);
    return links.emplace(address, std::move(made)).first->second;
  }
};

namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) parts.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return parts;
}

std::string join(const std::vector<std::string_view>& parts, size_t n) {
  if (n == 0) return "/";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    if (i) s += '/';
    s += parts[i];
  }
  return s;
}

std::string display_path(std::string_view path) {
  auto parts = split_path(path);
  return join(parts, parts.size());
}

// Follows `path` from the root group. Returns nullopt when a link is missing (or a non-group
// is traversed) and `must_exist` is false; malformed structures always throw.
std::optional<ObjectHeader> resolve(const Hdf5File::Impl& file, Scope& scope, std::string_view path,
                                    bool must_exist) {
  auto parts = split_path(path);
  if (parts.size() > static_cast<size_t>(scope.limits().max_h5_depth)) {
    scope.fail(ErrorCode::limit_exceeded, "path has ", parts.size(),
               " components, above the limit of ", scope.limits().max_h5_depth,
               " (Limits::max_h5_depth)");
  }
  uint64_t address = scope.file().root;
  ObjectHeader h = read_object_header(scope, address);
  for (size_t i = 0; i < parts.size(); ++i) {
    if (!h5::is_group(h)) {
      if (!must_exist) return std::nullopt;
      scope.invalid("'", join(parts, i), "' is not a group");
    }
    std::shared_ptr<const std::vector<Link>> cached = file.group_links_of(scope, address, h);
    const std::vector<Link>& links = *cached;
    auto it = std::lower_bound(links.begin(), links.end(), parts[i],
                               [](const Link& l, std::string_view name) { return l.name < name; });
    if (it == links.end() || it->name != parts[i]) {
      if (!must_exist) return std::nullopt;
      scope.invalid("not found (no link '", parts[i], "' in group '", join(parts, i), "')");
    }
    if (it->soft)
      scope.unsupported("soft and external links are not followed ('", join(parts, i + 1), "')");
    address = it->address;
    h = read_object_header(scope, address);
  }
  return h;
}

std::vector<Attribute> attributes(Scope& scope, const ObjectHeader& h) {
  if (const Message* info = h.find(kAttributeInfo)) {
    Cursor c(scope, info->body, "attribute info message");
    int version = c.u8();
    if (version != 0) scope.invalid("attribute info message version ", version, " is unknown");
    uint8_t flags = c.u8();
    if (flags & 0x01) c.skip(2);  // maximum creation index
    if (c.offset() != kUndefined)
      scope.unsupported("dense attribute storage (fractal heap) is not supported");
  }
  std::vector<Attribute> out;
  for (const Message& m : h.messages) {
    if (m.type != kAttribute) continue;
    scope.count();
    require_not_shared(scope, m, "attribute");
    out.push_back(parse_attribute(scope, m.body));
  }
  std::sort(out.begin(), out.end(),
            [](const Attribute& a, const Attribute& b) { return a.name < b.name; });
  return out;
}

Attribute find_attribute(const Hdf5File::Impl& file, Scope& scope, std::string_view path,
                         std::string_view name) {
  ObjectHeader h = *resolve(file, scope, path, true);
  for (Attribute& a : attributes(scope, h)) {
    if (a.name == name) return a;
  }
  scope.invalid("attribute not found");
}

}  // namespace

Hdf5File::Hdf5File(Bytes bytes, std::string display_name, const Limits& limits)
    : impl_(std::make_unique<Impl>()) {
  impl_->info.file = std::move(bytes);
  impl_->info.name = std::move(display_name);
  impl_->info.limits = limits;
  read_superblock(impl_->info);
  Scope scope(impl_->info, "root group");
  if (!h5::is_group(read_object_header(scope, impl_->info.root)))
    scope.invalid("the root object is not a group");
}

Hdf5File::~Hdf5File() = default;
Hdf5File::Hdf5File(Hdf5File&&) noexcept = default;
Hdf5File& Hdf5File::operator=(Hdf5File&&) noexcept = default;

const std::string& Hdf5File::display_name() const { return impl_->info.name; }

bool Hdf5File::exists(std::string_view path) const {
  Scope scope(impl_->info, "object '" + display_path(path) + "'");
  return resolve(*impl_, scope, path, false).has_value();
}

bool Hdf5File::is_group(std::string_view path) const {
  Scope scope(impl_->info, "object '" + display_path(path) + "'");
  auto h = resolve(*impl_, scope, path, false);
  return h && h5::is_group(*h);
}

bool Hdf5File::is_dataset(std::string_view path) const {
  Scope scope(impl_->info, "object '" + display_path(path) + "'");
  auto h = resolve(*impl_, scope, path, false);
  return h && h5::is_dataset(*h);
}

std::vector<std::string> Hdf5File::children(std::string_view group_path) const {
  Scope scope(impl_->info, "group '" + display_path(group_path) + "'");
  ObjectHeader h = *resolve(*impl_, scope, group_path, true);
  if (!h5::is_group(h)) scope.invalid("not a group");
  std::vector<std::string> names;
  for (Link& l : group_links(scope, h)) names.push_back(std::move(l.name));
  return names;
}

std::vector<std::string> Hdf5File::attribute_names(std::string_view path) const {
  Scope scope(impl_->info, "object '" + display_path(path) + "'");
  ObjectHeader h = *resolve(*impl_, scope, path, true);
  std::vector<std::string> names;
  for (Attribute& a : attributes(scope, h)) names.push_back(std::move(a.name));
  return names;
}

bool Hdf5File::has_attribute(std::string_view path, std::string_view name) const {
  auto names = attribute_names(path);
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::vector<std::string> Hdf5File::string_attribute(std::string_view path,
                                                    std::string_view name) const {
  Scope scope(impl_->info, str_cat("attribute '", name, "' of '", display_path(path), "'"));
  Attribute a = find_attribute(*impl_, scope, path, name);
  // Keras writes an empty name list as an empty float64 array: no strings, whatever the type.
  if (a.space.null || a.space.elements == 0) return {};
  return decode_strings(scope, a.type, a.data, a.space.elements);
}

std::vector<double> Hdf5File::numeric_attribute(std::string_view path,
                                                std::string_view name) const {
  Scope scope(impl_->info, str_cat("attribute '", name, "' of '", display_path(path), "'"));
  Attribute a = find_attribute(*impl_, scope, path, name);
  if (a.space.null) return {};
  return decode_numbers(scope, a.type, a.data, a.space.elements);
}

Shape Hdf5File::dataset_shape(std::string_view path) const {
  Scope scope(impl_->info, "dataset '" + display_path(path) + "'");
  ObjectHeader h = *resolve(*impl_, scope, path, true);
  if (!h5::is_dataset(h)) scope.fail(ErrorCode::invalid_file, "not a dataset");
  const Message* m = h.find(kDataspace);
  if (!m) scope.invalid("dataset lacks a dataspace message");
  require_not_shared(scope, *m, "dataspace");
  Dataspace space = parse_dataspace(scope, m->body);
  return Shape(space.dims.begin(), space.dims.end());
}

Tensor Hdf5File::read_dataset(std::string_view path) const {
  Scope scope(impl_->info, "dataset '" + display_path(path) + "'");
  ObjectHeader h = *resolve(*impl_, scope, path, true);
  if (!h5::is_dataset(h)) scope.invalid("not a dataset");
  Tensor t = h5::read_dataset(scope, dataset_info(scope, h));
  auto at = reinterpret_cast<uintptr_t>(t.data()),
       begin = reinterpret_cast<uintptr_t>(impl_->info.file.data());
  if (at >= begin && at < begin + impl_->info.file.size())
    return t;  // a zero-copy view of the file
  uint64_t total = impl_->allocated.fetch_add(t.nbytes()) + t.nbytes();
  if (total > impl_->info.limits.max_total_bytes)
    fail(ErrorCode::limit_exceeded, impl_->info.name, ": reading dataset '", display_path(path),
         "' brings the data read to ", total, " bytes, above the limit of ",
         impl_->info.limits.max_total_bytes, " (Limits::max_total_bytes)");
  return t;
}

}  // namespace krt::io
