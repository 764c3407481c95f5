// The superblock, version-1 B-trees, and the two ways a group lists its links: the old symbol
// table (B-tree of SNOD nodes whose names live in a local heap) and link messages stored in the
// group's own object header. Dense link storage (fractal heap) is refused as unsupported.
#include <algorithm>
#include <cstring>
#include <set>

#include "io/hdf5_format.h"

namespace krt::io::h5 {

namespace {

constexpr uint8_t kSignature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

}  // namespace

void read_superblock(FileInfo& info) {
  Scope scope(info, "");
  const Bytes& file = info.file;
  // The superblock sits at 0 or, after a user block, at 512, 1024, 2048, ...
  uint64_t at = 0;
  while (true) {
    if (at >= file.size() || file.size() - at < sizeof(kSignature)) {
      scope.invalid("not an HDF5 file (no HDF5 signature found)");
    }
    if (std::memcmp(file.data() + at, kSignature, sizeof(kSignature)) == 0) break;
    at = at == 0 ? 512 : at * 2;
  }
  Cursor c(scope, file.slice(at, file.size() - at), "superblock");
  c.skip(8);
  int version = c.u8();
  if (version == 0 || version == 1) {
    c.skip(3);  // free-space, root group symbol table and reserved versions
    c.skip(1);  // shared header message format version
    info.offset_size = c.u8();
    info.length_size = c.u8();
    c.skip(1);
    c.skip(2 + 2 + 4);            // group leaf K, group internal K, consistency flags
    if (version == 1) c.skip(4);  // indexed storage K, reserved
  } else if (version == 2 || version == 3) {
    info.offset_size = c.u8();
    info.length_size = c.u8();
    c.skip(1);  // consistency flags
  } else {
    scope.unsupported("HDF5 superblock version ", version, " is not supported");
  }
  for (int size : {info.offset_size, info.length_size}) {
    if (size != 2 && size != 4 && size != 8)
      scope.invalid("superblock: offset/length size ", size, " is invalid");
  }
  // Addresses are relative to the superblock's own position, as libhdf5 treats them.
  info.base = at;
  c.offset();  // stored base address
  uint64_t eof;
  if (version <= 1) {
    c.offset();  // free-space info
    eof = c.offset();
    c.offset();  // driver info
    // Root group symbol table entry: link name offset, object header address, cache...
    c.offset();
    info.root = c.offset();
    c.skip(4 + 4 + 16);
  } else {
    c.offset();  // superblock extension
    eof = c.offset();
    info.root = c.offset();
    size_t covered = c.pos();
    uint32_t stored = c.u32();
    if (lookup3(c.bytes().data(), covered) != stored)
      scope.invalid("superblock checksum mismatch (corrupted file)");
  }
  if (info.root == kUndefined) scope.invalid("superblock has no root group");
  // A file shorter than the end-of-file address it records was cut short (as libhdf5 checks).
  // libhdf5 writes this address counting the user block, unlike the other addresses.
  if (eof != kUndefined && eof > file.size()) {
    scope.invalid("truncated file: ", file.size(), " bytes, but the superblock says it ends at ",
                  eof);
  }
}

void walk_btree_v1(Scope& scope, uint64_t address, int node_type, uint64_t key_size,
                   const std::function<void(const Bytes& key, uint64_t child)>& leaf) {
  const int osize = scope.file().offset_size;
  // Iterative walk over (address, expected level); the root's level is read from the node.
  struct Pending {
    uint64_t address;
    int level;  // -1: the root, any level up to max_h5_depth
  };
  std::vector<Pending> stack{{address, -1}};
  // Every node and leaf child must be distinct: a repeated address is a cycle or a shared
  // subtree, which could otherwise multiply the work exponentially with the depth.
  std::set<uint64_t> seen{address};
  auto first_visit = [&](uint64_t a) {
    if (a != kUndefined && !seen.insert(a).second)
      scope.invalid("B-tree refers to address ", a, " twice");
  };
  while (!stack.empty()) {
    Pending p = stack.back();
    stack.pop_back();
    scope.count();
    Cursor head(scope, scope.range(p.address, 8 + 2 * uint64_t(osize), "B-tree node"),
                "B-tree node");
    head.expect_signature("TREE");
    int type = head.u8();
    int level = head.u8();
    uint16_t entries = head.u16();
    if (type != node_type)
      scope.invalid("B-tree node at ", p.address, " has type ", type, ", expected ", node_type);
    if (p.level < 0) {
      if (level > scope.limits().max_h5_depth) {
        scope.fail(ErrorCode::limit_exceeded, "B-tree depth ", level, " is above the limit of ",
                   scope.limits().max_h5_depth, " (Limits::max_h5_depth)");
      }
    } else if (level != p.level) {
      scope.invalid("B-tree node at ", p.address, " has level ", level, ", expected ", p.level);
    }
    uint64_t entry_size = key_size + osize;
    uint64_t size = checked_add(
        scope, head.size(), checked_mul(scope, entries, entry_size, "B-tree node size") + key_size,
        "B-tree node size");
    Cursor c(scope, scope.range(p.address, size, "B-tree node"), "B-tree node");
    c.seek(head.size());
    std::vector<uint64_t> children;
    for (uint16_t i = 0; i < entries; ++i) {
      Bytes key = c.take(key_size);
      uint64_t child = c.offset();
      first_visit(child);
      if (level == 0) {
        leaf(key, child);
      } else {
        children.push_back(child);
      }
    }
    // Push in reverse so children are visited left to right.
    for (auto it = children.rbegin(); it != children.rend(); ++it)
      stack.push_back({*it, level - 1});
  }
}

bool is_group(const ObjectHeader& h) {
  return h.has(kSymbolTable) || h.has(kLinkInfo) || h.has(kLink) || h.has(kGroupInfo);
}

bool is_dataset(const ObjectHeader& h) { return !is_group(h) && h.has(kLayout); }

namespace {

// The data segment of a local heap ("HEAP" structure).
Bytes local_heap(Scope& scope, uint64_t address) {
  Cursor c(
      scope,
      scope.range(address, 8 + 2 * uint64_t(scope.file().length_size) + scope.file().offset_size,
                  "local heap"),
      "local heap");
  c.expect_signature("HEAP");
  int version = c.u8();
  if (version != 0) scope.invalid("local heap version ", version, " is unknown");
  c.skip(3);
  uint64_t size = c.length();
  c.length();  // free list head
  uint64_t data = c.offset();
  return scope.range(data, size, "local heap data");
}

std::string heap_name(const Scope& scope, const Bytes& heap, uint64_t offset) {
  if (offset >= heap.size())
    scope.invalid("link name offset ", offset, " is outside the ", heap.size(), "-byte local heap");
  std::string_view rest = heap.as_string_view().substr(offset);
  size_t end = rest.find('\0');
  if (end == std::string_view::npos)
    scope.invalid("link name at heap offset ", offset, " is not terminated");
  if (end == 0) scope.invalid("link with an empty name");
  return std::string(rest.substr(0, end));
}

void symbol_table_links(Scope& scope, const Message& m, std::vector<Link>& out) {
  Cursor c(scope, m.body, "symbol table message");
  uint64_t btree = c.offset();
  uint64_t heap_address = c.offset();
  Bytes heap = local_heap(scope, heap_address);
  const int osize = scope.file().offset_size;
  const uint64_t entry_size = 2 * uint64_t(osize) + 8 + 16;
  walk_btree_v1(scope, btree, 0, scope.file().length_size, [&](const Bytes&, uint64_t snod) {
    scope.count();
    Cursor head(scope, scope.range(snod, 8, "symbol table node"), "symbol table node");
    head.expect_signature("SNOD");
    int version = head.u8();
    if (version != 1) scope.invalid("symbol table node version ", version, " is unknown");
    head.skip(1);
    uint16_t count = head.u16();
    Cursor c(scope, scope.range(snod, 8 + count * entry_size, "symbol table node"),
             "symbol table node");
    c.seek(8);
    for (uint16_t i = 0; i < count; ++i) {
      scope.count();
      uint64_t name_offset = c.offset();
      Link link;
      link.address = c.offset();
      uint32_t cache_type = c.u32();
      c.skip(4 + 16);
      link.name = heap_name(scope, heap, name_offset);
      // Cache type 2 is a soft link whose value is in the scratch pad; we list but never follow.
      if (cache_type == 2) link.soft = true;
      out.push_back(std::move(link));
    }
  });
}

}  // namespace

std::vector<Link> group_links(Scope& scope, const ObjectHeader& header) {
  std::vector<Link> links;
  if (const Message* st = header.find(kSymbolTable)) {
    symbol_table_links(scope, *st, links);
  } else if (is_group(header)) {
    if (const Message* info = header.find(kLinkInfo)) {
      Cursor c(scope, info->body, "link info message");
      int version = c.u8();
      if (version != 0) scope.invalid("link info message version ", version, " is unknown");
      uint8_t flags = c.u8();
      if (flags & 0x01) c.skip(8);  // maximum creation index
      uint64_t fractal_heap = c.offset();
      if (fractal_heap != kUndefined) {
        scope.unsupported("groups with dense link storage (fractal heap) are not supported");
      }
    }
    for (const Message& m : header.messages) {
      if (m.type != kLink) continue;
      scope.count();
      links.push_back(parse_link(scope, m.body));
    }
  } else {
    scope.invalid("not a group");
  }
  // h5py lists links by name, bytewise; a name twice is a corrupt group.
  std::sort(links.begin(), links.end(),
            [](const Link& a, const Link& b) { return a.name < b.name; });
  for (size_t i = 1; i < links.size(); ++i) {
    if (links[i].name == links[i - 1].name)
      scope.invalid("link '", links[i].name, "' appears twice");
  }
  return links;
}

}  // namespace krt::io::h5
