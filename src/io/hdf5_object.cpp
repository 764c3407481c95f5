// Bounds-checked cursors and the object-header reader (v1 and v2 headers with continuation
// chunks). Message bodies are parsed in hdf5_messages.cpp.
#include <set>

#include "io/hdf5_format.h"

namespace krt::io::h5 {

void Scope::count(uint64_t n) {
  if (n > budget_) {
    fail(ErrorCode::limit_exceeded, "more than ", file_.limits.max_h5_objects,
         " HDF5 objects, links or heap entries visited (Limits::max_h5_objects)");
  }
  budget_ -= n;
}

Bytes Scope::range(uint64_t addr, uint64_t length, const char* thing) const {
  if (addr == kUndefined) invalid(thing, " has an undefined address");
  uint64_t size = file_.file.size();
  // Addresses are relative to the base address (non-zero when a user block precedes HDF5).
  if (addr > size || file_.base > size - addr) {
    invalid(thing, " at address ", addr, " lies outside the ", size, "-byte file");
  }
  uint64_t start = addr + file_.base;
  if (length > size - start) {
    invalid(thing, " at address ", addr, " (", length, " bytes) runs past the end of the ", size,
            "-byte file");
  }
  return file_.file.slice(start, length);
}

Bytes Scope::tail(uint64_t addr, const char* thing) const {
  if (addr == kUndefined) invalid(thing, " has an undefined address");
  uint64_t size = file_.file.size();
  if (addr > size || file_.base > size - addr) {
    invalid(thing, " at address ", addr, " lies outside the ", size, "-byte file");
  }
  return file_.file.slice(addr + file_.base, size - addr - file_.base);
}

void Scope::check_alloc(uint64_t bytes, const char* thing) const {
  if (bytes > file_.limits.max_total_bytes) {
    fail(ErrorCode::limit_exceeded, thing, " needs ", bytes, " bytes, more than the limit of ",
         file_.limits.max_total_bytes, " (Limits::max_total_bytes)");
  }
}

uint64_t checked_mul(const Scope& scope, uint64_t a, uint64_t b, const char* thing) {
  if (a != 0 && b > UINT64_MAX / a) scope.invalid(thing, " overflows (", a, " * ", b, ")");
  return a * b;
}

uint64_t checked_add(const Scope& scope, uint64_t a, uint64_t b, const char* thing) {
  if (b > UINT64_MAX - a) scope.invalid(thing, " overflows (", a, " + ", b, ")");
  return a + b;
}

// ---- Cursor ----------------------------------------------------------------------------------

void Cursor::need(uint64_t n) const {
  if (n > remaining()) {
    scope_.invalid("truncated ", thing_, " (needs ", n, " more bytes at offset ", pos_, " of ",
                   bytes_.size(), ")");
  }
}

uint64_t Cursor::uint(int nbytes) {
  need(static_cast<uint64_t>(nbytes));
  uint64_t v = 0;
  for (int i = 0; i < nbytes; ++i) v |= uint64_t{bytes_.data()[pos_ + i]} << (8 * i);
  pos_ += static_cast<size_t>(nbytes);
  return v;
}

uint64_t Cursor::offset() {
  int n = scope_.file().offset_size;
  uint64_t v = uint(n);
  uint64_t all_ones = n == 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * n)) - 1;
  return v == all_ones ? kUndefined : v;
}

uint64_t Cursor::length() { return uint(scope_.file().length_size); }

Bytes Cursor::take(uint64_t n) {
  need(n);
  Bytes b = bytes_.slice(pos_, n);
  pos_ += static_cast<size_t>(n);
  return b;
}

void Cursor::skip(uint64_t n) {
  need(n);
  pos_ += static_cast<size_t>(n);
}

void Cursor::seek(uint64_t pos) {
  if (pos > bytes_.size())
    scope_.invalid("truncated ", thing_, " (offset ", pos, " of ", bytes_.size(), ")");
  pos_ = static_cast<size_t>(pos);
}

void Cursor::expect_signature(const char* sig) {
  need(4);
  if (std::string_view(reinterpret_cast<const char*>(here()), 4) != std::string_view(sig, 4)) {
    scope_.invalid(thing_, ": expected signature '", sig, "'");
  }
  pos_ += 4;
}

// ---- lookup3 ---------------------------------------------------------------------------------

namespace {
inline uint32_t rot(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }
}  // namespace

// clang-format off
uint32_t lookup3(const uint8_t* k, size_t length, uint32_t init) {
  uint32_t a, b, c;
  a = b = c = 0xdeadbeef + static_cast<uint32_t>(length) + init;
  auto word = [](const uint8_t* p) {
    return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
  };
  while (length > 12) {
    a += word(k);
    b += word(k + 4);
    c += word(k + 8);
    a -= c; a ^= rot(c, 4);  c += b;
    b -= a; b ^= rot(a, 6);  a += c;
    c -= b; c ^= rot(b, 8);  b += a;
    a -= c; a ^= rot(c, 16); c += b;
    b -= a; b ^= rot(a, 19); a += c;
    c -= b; c ^= rot(b, 4);  b += a;
    length -= 12;
    k += 12;
  }
  if (length == 0) return c;
  uint8_t last[12] = {};
  for (size_t i = 0; i < length; ++i) last[i] = k[i];
  a += word(last);
  b += word(last + 4);
  c += word(last + 8);
  c ^= b; c -= rot(b, 14);
  a ^= c; a -= rot(c, 11);
  b ^= a; b -= rot(a, 25);
  c ^= b; c -= rot(b, 16);
  a ^= c; a -= rot(c, 4);
  b ^= a; b -= rot(a, 14);
  c ^= b; c -= rot(b, 24);
  return c;
}
// clang-format on

// ---- Object headers --------------------------------------------------------------------------

const Message* ObjectHeader::find(uint16_t type) const {
  for (const Message& m : messages) {
    if (m.type == type) return &m;
  }
  return nullptr;
}

namespace {

struct Chunk {
  uint64_t address;
  uint64_t length;
};

// Reads the messages of one chunk; continuation messages add chunks to `pending`.
void read_messages(Scope& scope, Cursor& c, size_t end, int version, bool creation_order,
                   ObjectHeader& out, std::vector<Chunk>& pending) {
  // v1 message headers are 8 bytes (and bodies 8-aligned); v2 ones 4 or 6 bytes. Fewer bytes
  // than a header left at the end of a v2 chunk are a gap, not a message.
  size_t header_size = version == 1 ? 8 : (creation_order ? 6 : 4);
  while (end - c.pos() >= header_size) {
    Message m;
    if (version == 1) {
      m.type = c.u16();
      uint16_t size = c.u16();
      m.flags = c.u8();
      c.skip(3);
      if (size > end - c.pos())
        scope.invalid("object header message (type ", m.type, ") overruns its chunk");
      m.body = c.take(size);
    } else {
      m.type = c.u8();
      uint16_t size = c.u16();
      m.flags = c.u8();
      if (creation_order) c.skip(2);
      if (size > end - c.pos())
        scope.invalid("object header message (type ", m.type, ") overruns its chunk");
      m.body = c.take(size);
    }
    scope.count();
    if (m.type == kContinuation) {
      Cursor body(scope, m.body, "continuation message");
      Chunk next{body.offset(), body.length()};
      pending.push_back(next);
      continue;
    }
    if (m.type != kNil) out.messages.push_back(std::move(m));
  }
}

void verify_checksum(const Scope& scope, const Bytes& covered, const uint8_t* stored,
                     const char* what) {
  uint32_t want = uint32_t{stored[0]} | uint32_t{stored[1]} << 8 | uint32_t{stored[2]} << 16 |
                  uint32_t{stored[3]} << 24;
  if (lookup3(covered.data(), covered.size()) != want)
    scope.invalid(what, " checksum mismatch (corrupted file)");
}

}  // namespace

ObjectHeader read_object_header(Scope& scope, uint64_t address) {
  scope.count();
  ObjectHeader out;
  out.address = address;
  std::vector<Chunk> pending;
  Cursor c(scope, scope.tail(address, "object header"), "object header");
  int version;
  bool creation_order = false;
  if (c.remaining() >= 4 &&
      std::string_view(reinterpret_cast<const char*>(c.here()), 4) == "OHDR") {
    // Version 2: "OHDR", version, flags, optional times and attribute phase change values,
    // the size of chunk 0 (1 to 8 bytes per flags), messages, checksum.
    c.skip(4);
    version = c.u8();
    if (version != 2) scope.invalid("object header at ", address, " has unknown version ", version);
    uint8_t flags = c.u8();
    creation_order = (flags & 0x04) != 0;
    if (flags & 0x20) c.skip(16);
    if (flags & 0x10) c.skip(4);
    uint64_t chunk0 = c.uint(1 << (flags & 3));
    uint64_t start = c.pos();
    if (chunk0 > c.remaining() || c.remaining() - chunk0 < 4)
      scope.invalid("object header at ", address, " runs past the end of the file");
    size_t end = static_cast<size_t>(start + chunk0);
    verify_checksum(scope, c.bytes().slice(0, end), c.bytes().data() + end, "object header");
    read_messages(scope, c, end, 2, creation_order, out, pending);
  } else {
    // Version 1: version, reserved, message count, reference count, chunk size, then
    // padding to 8 bytes; messages follow.
    version = c.u8();
    if (version != 1) scope.invalid("object header at ", address, " has unknown version ", version);
    c.skip(3);
    c.skip(4);
    uint32_t size = c.u32();
    c.skip(4);
    if (size > c.remaining())
      scope.invalid("object header at ", address, " runs past the end of the file");
    read_messages(scope, c, c.pos() + size, 1, false, out, pending);
  }
  // Continuation chunks. A chunk seen twice means a cycle: refuse instead of looping.
  std::set<uint64_t> seen;
  for (size_t i = 0; i < pending.size(); ++i) {
    Chunk chunk = pending[i];
    if (!seen.insert(chunk.address).second)
      scope.invalid("object header continuation cycle at address ", chunk.address);
    scope.count();
    Bytes bytes = scope.range(chunk.address, chunk.length, "object header continuation");
    Cursor cc(scope, bytes, "object header continuation");
    size_t end = bytes.size();
    if (version == 2) {
      // "OCHK", messages, checksum over everything before it.
      if (end < 8) scope.invalid("object header continuation is too small");
      cc.expect_signature("OCHK");
      end -= 4;
      verify_checksum(scope, bytes.slice(0, end), bytes.data() + end, "object header continuation");
    }
    read_messages(scope, cc, end, version, creation_order, out, pending);
  }
  return out;
}

}  // namespace krt::io::h5
