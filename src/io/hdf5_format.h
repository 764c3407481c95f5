// Private building blocks of the HDF5 reader (see hdf5.h): bounds-checked cursors over the
// mapped file, the parsed forms of the object-header messages we understand, and the functions
// that walk groups and read data. Nothing here trusts a number read from the file: every
// address and size goes through Scope::range() or a Cursor before it is dereferenced.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/check.h"
#include "io/bytes.h"
#include "kerasrt/limits.h"
#include "kerasrt/tensor.h"

namespace krt::io::h5 {

// HDF5 writes "undefined address" as all ones; cursors normalise it to this value whatever the
// offset size is.
inline constexpr uint64_t kUndefined = ~uint64_t{0};

// What is known about the whole file once the superblock is parsed. Immutable afterwards.
struct FileInfo {
  Bytes file;
  std::string name;  // display name, prefixes every error
  Limits limits;
  int offset_size = 8;         // "size of offsets" (addresses)
  int length_size = 8;         // "size of lengths"
  uint64_t base = 0;           // base address: file addresses are relative to it
  uint64_t root = kUndefined;  // object header address of the root group
};

// The context of one public call: which object we are working on (for error messages) and how
// many more objects we may visit. A fresh budget per call bounds the work any file can cause.
class Scope {
 public:
  Scope(const FileInfo& file, std::string what)
      : file_(file), what_(std::move(what)), budget_(file.limits.max_h5_objects) {}

  const FileInfo& file() const { return file_; }
  const Limits& limits() const { return file_.limits; }
  const std::string& what() const { return what_; }
  void set_what(std::string what) { what_ = std::move(what); }

  template <class... Args>
  [[noreturn]] void fail(ErrorCode code, Args&&... args) const {
    if (what_.empty()) krt::fail(code, file_.name, ": ", std::forward<Args>(args)...);
    krt::fail(code, file_.name, ": ", what_, ": ", std::forward<Args>(args)...);
  }
  template <class... Args>
  [[noreturn]] void invalid(Args&&... args) const {
    fail(ErrorCode::invalid_file, std::forward<Args>(args)...);
  }
  template <class... Args>
  [[noreturn]] void unsupported(Args&&... args) const {
    fail(ErrorCode::unsupported, std::forward<Args>(args)...);
  }

  // Counts `n` visited objects (headers, B-tree nodes, links, heap entries, chunks) against
  // limits.max_h5_objects.
  void count(uint64_t n = 1);
  // The file bytes [addr, addr + length) with addr relative to the base address; fails clearly
  // (naming `thing`) for the undefined address or a range outside the file.
  Bytes range(uint64_t addr, uint64_t length, const char* thing) const;
  // Bytes from addr to the end of the file (for structures whose size is stored inside them).
  Bytes tail(uint64_t addr, const char* thing) const;
  // Fails with limit_exceeded unless `bytes` may be allocated under limits.max_total_bytes.
  void check_alloc(uint64_t bytes, const char* thing) const;

 private:
  const FileInfo& file_;
  std::string what_;
  uint64_t budget_;
};

// Multiplication that fails (invalid_file) instead of wrapping.
uint64_t checked_mul(const Scope& scope, uint64_t a, uint64_t b, const char* thing);
uint64_t checked_add(const Scope& scope, uint64_t a, uint64_t b, const char* thing);

// A little-endian reader over a byte range; every read is bounds-checked and a short range
// fails as "truncated <thing>".
class Cursor {
 public:
  Cursor(const Scope& scope, Bytes bytes, const char* thing)
      : scope_(scope), bytes_(std::move(bytes)), thing_(thing) {}

  size_t pos() const { return pos_; }
  size_t size() const { return bytes_.size(); }
  size_t remaining() const { return bytes_.size() - pos_; }
  const Bytes& bytes() const { return bytes_; }
  const uint8_t* here() const { return bytes_.data() + pos_; }

  uint8_t u8() { return static_cast<uint8_t>(uint(1)); }
  uint16_t u16() { return static_cast<uint16_t>(uint(2)); }
  uint32_t u32() { return static_cast<uint32_t>(uint(4)); }
  uint64_t u64() { return uint(8); }
  uint64_t uint(int nbytes);
  // An address ("size of offsets" bytes); all ones becomes kUndefined.
  uint64_t offset();
  // A length ("size of lengths" bytes).
  uint64_t length();
  Bytes take(uint64_t n);
  void skip(uint64_t n);
  void seek(uint64_t pos);
  // Checks a 4-byte signature such as "TREE".
  void expect_signature(const char* sig);

 private:
  void need(uint64_t n) const;

  const Scope& scope_;
  Bytes bytes_;
  const char* thing_;
  size_t pos_ = 0;
};

// ---- Object headers ----------------------------------------------------------------------

enum MessageType : uint16_t {
  kNil = 0x00,
  kDataspace = 0x01,
  kLinkInfo = 0x02,
  kDatatype = 0x03,
  kFillValueOld = 0x04,
  kFillValue = 0x05,
  kLink = 0x06,
  kExternalFiles = 0x07,
  kLayout = 0x08,
  kGroupInfo = 0x0A,
  kFilterPipeline = 0x0B,
  kAttribute = 0x0C,
  kContinuation = 0x10,
  kSymbolTable = 0x11,
  kAttributeInfo = 0x15,
};

struct Message {
  uint16_t type = 0;
  uint8_t flags = 0;  // bit 1: the message is shared (stored elsewhere)
  Bytes body;
};

struct ObjectHeader {
  uint64_t address = kUndefined;
  std::vector<Message> messages;

  const Message* find(uint16_t type) const;
  bool has(uint16_t type) const { return find(type) != nullptr; }
};

// Reads an object header (v1 or v2) with all its continuation chunks.
ObjectHeader read_object_header(Scope& scope, uint64_t address);

// ---- Messages ------------------------------------------------------------------------------

struct Dataspace {
  bool null = false;           // no data at all
  std::vector<uint64_t> dims;  // empty for a scalar
  uint64_t elements = 1;       // product of dims, checked against the limits
};

enum class TypeClass { fixed_point, floating_point, string, vlen_string, other };

struct Datatype {
  TypeClass type_class = TypeClass::other;
  int raw_class = -1;  // the HDF5 class number (for error messages)
  uint32_t size = 0;   // bytes per element
  bool big_endian = false;
  bool is_signed = false;
  int string_pad = 0;           // 0 null-terminated, 1 null-padded, 2 space-padded
  std::string why_unsupported;  // set when type_class == other
};

struct Filter {
  uint16_t id = 0;
  uint16_t flags = 0;  // bit 0: optional
  std::vector<uint32_t> params;
};

struct Layout {
  enum Kind { compact, contiguous, chunked } kind = contiguous;
  int version = 3;
  Bytes compact_data;
  uint64_t address = kUndefined;     // contiguous data or chunk index
  uint64_t size = 0;                 // contiguous size
  std::vector<uint32_t> chunk_dims;  // one per dataset dimension (element size dropped)
  uint32_t chunk_element_size = 0;
  int chunk_index = 1;  // v4 layouts: 1 single chunk, 2 implicit, 3 fixed array, ... ; v3: B-tree
  uint64_t single_chunk_size = 0;  // v4 single-chunk index with filters
  uint32_t single_chunk_mask = 0;
};

struct Attribute {
  std::string name;
  Datatype type;
  Dataspace space;
  Bytes data;
};

struct Link {
  std::string name;
  uint64_t address = kUndefined;  // hard links
  bool soft = false;              // soft or external link: listed but not followed
};

Dataspace parse_dataspace(const Scope& scope, const Bytes& body);
Datatype parse_datatype(const Scope& scope, const Bytes& body);
Layout parse_layout(const Scope& scope, const Bytes& body, size_t rank);
std::vector<Filter> parse_filters(const Scope& scope, const Bytes& body);
Attribute parse_attribute(const Scope& scope, const Bytes& body);
Link parse_link(const Scope& scope, const Bytes& body);

// Fails clearly for shared (committed) datatypes or dataspaces, which we do not follow.
void require_not_shared(const Scope& scope, const Message& m, const char* what);

// ---- Groups ------------------------------------------------------------------------------

// Walks a version-1 B-tree of `node_type` (0: group nodes, 1: raw data chunks) whose keys are
// `key_size` bytes, calling leaf(key, child) for every child of its level-0 nodes. Each child's
// level must be exactly one less than its parent's, which bounds the depth and rules out cycles.
void walk_btree_v1(Scope& scope, uint64_t address, int node_type, uint64_t key_size,
                   const std::function<void(const Bytes& key, uint64_t child)>& leaf);

bool is_group(const ObjectHeader& header);
bool is_dataset(const ObjectHeader& header);
// The links of a group, sorted by name bytewise. Fails if the object is not a group.
std::vector<Link> group_links(Scope& scope, const ObjectHeader& header);
// Parses the superblock found at the start of `file.file` (or after a user block) and fills
// in the FileInfo fields.
void read_superblock(FileInfo& file);

// ---- Data --------------------------------------------------------------------------------

// Jenkins' lookup3 hash, the checksum of HDF5's version-2 structures.
uint32_t lookup3(const uint8_t* data, size_t length, uint32_t init = 0);

// Resolves variable-length strings, caching each global heap collection it parses.
class GlobalHeap {
 public:
  explicit GlobalHeap(Scope& scope) : scope_(scope) {}
  // The object `index` of the collection at `collection`.
  Bytes object(uint64_t collection, uint32_t index);

 private:
  Scope& scope_;
  std::map<uint64_t, std::map<uint32_t, Bytes>> collections_;
};

// Decodes `count` string elements of `type` stored in `data`.
std::vector<std::string> decode_strings(Scope& scope, const Datatype& type, const Bytes& data,
                                        uint64_t count);
// Converts `count` numeric elements to doubles.
std::vector<double> decode_numbers(const Scope& scope, const Datatype& type, const Bytes& data,
                                   uint64_t count);

// A dataset's messages, parsed.
struct DatasetInfo {
  Dataspace space;
  Datatype type;
  Layout layout;
  std::vector<Filter> filters;
};
DatasetInfo dataset_info(const Scope& scope, const ObjectHeader& header);
// Reads a numeric dataset into a tensor (see Hdf5File::read_dataset).
Tensor read_dataset(Scope& scope, const DatasetInfo& info);

}  // namespace krt::io::h5
