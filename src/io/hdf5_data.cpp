// Reading data: element conversion (integers, IEEE floats of 16/32/64 bits in either byte
// order, fixed and variable-length strings), the global heap, and dataset storage (compact,
// contiguous, chunked with deflate/shuffle/fletcher32 filters).
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <type_traits>

#include "io/hdf5_format.h"

namespace krt::io::h5 {

namespace {

uint64_t load_uint(const uint8_t* p, uint32_t n, bool big_endian) {
  uint64_t v = 0;
  for (uint32_t i = 0; i < n; ++i) v |= uint64_t{p[big_endian ? n - 1 - i : i]} << (8 * i);
  return v;
}

int64_t load_int(const uint8_t* p, uint32_t n, bool big_endian) {
  uint64_t v = load_uint(p, n, big_endian);
  if (n < 8 && (v >> (8 * n - 1)) & 1) v |= ~uint64_t{0} << (8 * n);  // sign-extend
  return static_cast<int64_t>(v);
}

float half_to_float(uint16_t h) {
  uint32_t sign = uint32_t{h & 0x8000u} << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);  // inf / nan
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign;
  } else {
    // Subnormal half: normalise the mantissa.
    int e = -1;
    do {
      ++e;
      mant <<= 1;
    } while ((mant & 0x400) == 0);
    bits = sign | ((112 - e) << 23) | ((mant & 0x3ff) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

double load_float(const uint8_t* p, const Datatype& t) {
  uint64_t bits = load_uint(p, t.size, t.big_endian);
  if (t.size == 2) return half_to_float(static_cast<uint16_t>(bits));
  if (t.size == 4) {
    uint32_t b = static_cast<uint32_t>(bits);
    float f;
    std::memcpy(&f, &b, 4);
    return f;
  }
  double d;
  std::memcpy(&d, &bits, 8);
  return d;
}

void require_numeric(const Scope& scope, const Datatype& t) {
  if (t.type_class == TypeClass::other) scope.unsupported(t.why_unsupported);
  if (t.type_class != TypeClass::fixed_point && t.type_class != TypeClass::floating_point) {
    scope.fail(ErrorCode::invalid_argument, "is a string, not a number");
  }
}

}  // namespace

std::vector<double> decode_numbers(const Scope& scope, const Datatype& t, const Bytes& data,
                                   uint64_t count) {
  require_numeric(scope, t);
  if (checked_mul(scope, count, t.size, "data size") > data.size())
    scope.invalid("data is truncated");
  scope.check_alloc(count * sizeof(double), "numeric values");
  std::vector<double> out;
  out.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    const uint8_t* p = data.data() + i * t.size;
    if (t.type_class == TypeClass::floating_point) {
      out.push_back(load_float(p, t));
    } else if (t.is_signed) {
      out.push_back(static_cast<double>(load_int(p, t.size, t.big_endian)));
    } else {
      out.push_back(static_cast<double>(load_uint(p, t.size, t.big_endian)));
    }
  }
  return out;
}

// ---- Strings ---------------------------------------------------------------------------------

Bytes GlobalHeap::object(uint64_t collection, uint32_t index) {
  auto it = collections_.find(collection);
  if (it == collections_.end()) {
    // "GCOL", version 1, reserved, collection size; then objects: index, reference count,
    // reserved, size, data padded to 8 bytes. Index 0 marks the free space at the end.
    const int lsize = scope_.file().length_size;
    Cursor head(scope_, scope_.range(collection, 8 + lsize, "global heap collection"),
                "global heap collection");
    head.expect_signature("GCOL");
    int version = head.u8();
    if (version != 1) scope_.invalid("global heap collection version ", version, " is unknown");
    head.skip(3);
    uint64_t size = head.length();
    Cursor c(scope_, scope_.range(collection, size, "global heap collection"),
             "global heap collection");
    c.seek(head.size());
    std::map<uint32_t, Bytes> objects;
    while (c.remaining() >= 8 + uint64_t(lsize)) {
      uint16_t id = c.u16();
      c.skip(2 + 4);
      uint64_t object_size = c.length();
      if (id == 0) break;
      scope_.count();
      Bytes data = c.take(object_size);
      c.skip(std::min<uint64_t>((8 - object_size % 8) % 8, c.remaining()));
      if (!objects.emplace(id, data).second)
        scope_.invalid("global heap object ", id, " appears twice");
    }
    it = collections_.emplace(collection, std::move(objects)).first;
  }
  auto obj = it->second.find(index);
  if (obj == it->second.end())
    scope_.invalid("global heap object ", index, " not found in collection at ", collection);
  return obj->second;
}

std::vector<std::string> decode_strings(Scope& scope, const Datatype& t, const Bytes& data,
                                        uint64_t count) {
  if (t.type_class == TypeClass::other) scope.unsupported(t.why_unsupported);
  if (t.type_class != TypeClass::string && t.type_class != TypeClass::vlen_string) {
    scope.fail(ErrorCode::invalid_argument, "is not a string");
  }
  if (checked_mul(scope, count, t.size, "data size") > data.size())
    scope.invalid("data is truncated");
  std::vector<std::string> out;
  uint64_t total = 0;
  GlobalHeap heap(scope);
  for (uint64_t i = 0; i < count; ++i) {
    const uint8_t* p = data.data() + i * t.size;
    std::string_view s;
    if (t.type_class == TypeClass::string) {
      s = std::string_view(reinterpret_cast<const char*>(p), t.size);
    } else {
      Cursor c(scope, data.slice(i * t.size, t.size), "variable-length string");
      uint32_t length = c.u32();
      uint64_t collection = c.offset();
      uint32_t index = c.u32();
      if (length != 0) {
        Bytes obj = heap.object(collection, index);
        if (length > obj.size())
          scope.invalid("variable-length string of ", length, " bytes in a ", obj.size(),
                        "-byte heap object");
        s = obj.as_string_view().substr(0, length);
      }
    }
    // As h5py: a NUL ends the string; space-padded strings also lose their trailing spaces.
    s = s.substr(0, s.find('\0'));
    if (t.type_class == TypeClass::string && t.string_pad == 2) {
      while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    }
    total += s.size() + sizeof(std::string);
    scope.check_alloc(total, "strings");
    out.emplace_back(s);
  }
  return out;
}

// ---- Datasets --------------------------------------------------------------------------------

DatasetInfo dataset_info(const Scope& scope, const ObjectHeader& h) {
  DatasetInfo info;
  const Message* space = h.find(kDataspace);
  const Message* type = h.find(kDatatype);
  const Message* layout = h.find(kLayout);
  if (!space || !type || !layout)
    scope.invalid("dataset lacks a dataspace, datatype or layout message");
  require_not_shared(scope, *space, "dataspace");
  require_not_shared(scope, *type, "datatype");
  info.space = parse_dataspace(scope, space->body);
  info.type = parse_datatype(scope, type->body);
  info.layout = parse_layout(scope, layout->body, info.space.dims.size());
  if (const Message* f = h.find(kFilterPipeline)) info.filters = parse_filters(scope, f->body);
  if (h.has(kExternalFiles))
    scope.unsupported("datasets stored in external files are not supported");
  return info;
}

namespace {

// Undoes the filter pipeline on one stored chunk; `expected` is the unfiltered chunk size.
std::vector<uint8_t> unfilter(const Scope& scope, const std::vector<Filter>& filters, uint32_t mask,
                              const Bytes& stored, uint64_t expected) {
  std::vector<uint8_t> buf(stored.data(), stored.data() + stored.size());
  for (size_t i = filters.size(); i-- > 0;) {
    if (mask & (1u << i)) continue;  // this filter was skipped for this chunk
    const Filter& f = filters[i];
    if (f.id == 1) {  // deflate
      // Every filter before deflate in the pipeline keeps the size within expected + 4
      // (fletcher32), so the inflated data never needs more than that.
      uint64_t cap = expected + 4;
      if (cap > UINT32_MAX || buf.size() > UINT32_MAX)
        scope.unsupported("compressed chunks above 4 GiB are not supported");
      std::vector<uint8_t> out(cap);
      z_stream z{};
      if (inflateInit(&z) != Z_OK) scope.fail(ErrorCode::internal, "zlib initialisation failed");
      z.next_in = buf.data();
      z.avail_in = static_cast<uInt>(buf.size());
      z.next_out = out.data();
      z.avail_out = static_cast<uInt>(cap);
      int rc = inflate(&z, Z_FINISH);
      uint64_t produced = z.total_out;
      inflateEnd(&z);
      if (rc != Z_STREAM_END) scope.invalid("corrupt deflate data in a chunk (zlib code ", rc, ")");
      out.resize(produced);
      buf = std::move(out);
    } else if (f.id == 2) {  // shuffle: byte k of every element was grouped together
      uint64_t size = f.params.empty() ? 0 : f.params[0];
      if (size > 1) {
        uint64_t n = buf.size() / size;
        std::vector<uint8_t> out(buf.size());
        for (uint64_t b = 0; b < size; ++b) {
          for (uint64_t e = 0; e < n; ++e) out[e * size + b] = buf[b * n + e];
        }
        std::copy(buf.begin() + n * size, buf.end(), out.begin() + n * size);  // leftover bytes
        buf = std::move(out);
      }
    } else if (f.id == 3) {  // fletcher32: a 4-byte checksum appended (not verified)
      if (buf.size() < 4) scope.invalid("chunk too small for its fletcher32 checksum");
      buf.resize(buf.size() - 4);
    } else {
      scope.unsupported("chunked layout with filter ", f.id, " is not supported");
    }
  }
  if (buf.size() != expected)
    scope.invalid("chunk holds ", buf.size(), " bytes after filtering, expected ", expected);
  return buf;
}

struct ChunkGrid {
  std::vector<uint64_t> dims;   // dataset dims
  std::vector<uint64_t> chunk;  // chunk dims
  uint64_t element_size = 0;
  uint64_t chunk_bytes = 0;
};

// Copies one decoded chunk whose first element is at `offset` into the dataset buffer `out`,
// clipping the parts that lie beyond the dataset's edges.
void place_chunk(const ChunkGrid& g, const std::vector<uint64_t>& offset, const uint8_t* chunk,
                 uint8_t* out) {
  size_t rank = g.dims.size();
  std::vector<uint64_t> extent(rank), out_stride(rank, 1), chunk_stride(rank, 1);
  for (size_t d = 0; d < rank; ++d) extent[d] = std::min(g.chunk[d], g.dims[d] - offset[d]);
  for (size_t d = rank - 1; d-- > 0;) {
    out_stride[d] = out_stride[d + 1] * g.dims[d + 1];
    chunk_stride[d] = chunk_stride[d + 1] * g.chunk[d + 1];
  }
  std::vector<uint64_t> idx(rank, 0);
  uint64_t run = extent[rank - 1] * g.element_size;
  while (true) {
    uint64_t o = offset[rank - 1], c = 0;
    for (size_t d = 0; d + 1 < rank; ++d) {
      o += (offset[d] + idx[d]) * out_stride[d];
      c += idx[d] * chunk_stride[d];
    }
    std::memcpy(out + o * g.element_size, chunk + c * g.element_size, run);
    // Odometer over all but the last dimension.
    size_t d = rank - 1;
    while (d > 0 && ++idx[d - 1] == extent[d - 1]) idx[--d] = 0;
    if (d == 0) break;
  }
}

void check_chunk_offset(const Scope& scope, const ChunkGrid& g,
                        const std::vector<uint64_t>& offset) {
  for (size_t d = 0; d < g.dims.size(); ++d) {
    if (offset[d] >= g.dims[d] || offset[d] % g.chunk[d] != 0) {
      scope.invalid("chunk offset ", offset[d], " in dimension ", d, " does not fit the dataset");
    }
  }
}

void read_chunked(Scope& scope, const DatasetInfo& info, uint8_t* out) {
  const Layout& l = info.layout;
  ChunkGrid g;
  g.dims = info.space.dims;
  size_t rank = g.dims.size();
  if (rank == 0) scope.invalid("chunked layout for a scalar dataset");
  if (l.chunk_element_size != info.type.size) {
    scope.invalid("chunk element size ", l.chunk_element_size, " differs from the datatype size ",
                  info.type.size);
  }
  g.element_size = info.type.size;
  g.chunk.assign(l.chunk_dims.begin(), l.chunk_dims.end());
  g.chunk_bytes = g.element_size;
  for (uint64_t d : g.chunk) g.chunk_bytes = checked_mul(scope, g.chunk_bytes, d, "chunk size");
  scope.check_alloc(g.chunk_bytes, "one chunk");
  for (const Filter& f : info.filters) {
    if (f.id != 1 && f.id != 2 && f.id != 3)
      scope.unsupported("chunked layout with filter ", f.id, " is not supported");
  }
  if (l.address == kUndefined) return;  // no chunk written yet: all fill value (zero)

  auto load = [&](uint64_t address, uint64_t size, uint32_t mask,
                  const std::vector<uint64_t>& offset) {
    scope.count();
    check_chunk_offset(scope, g, offset);
    Bytes stored = scope.range(address, size, "data chunk");
    if (info.filters.empty()) {
      if (size != g.chunk_bytes)
        scope.invalid("chunk of ", size, " bytes, expected ", g.chunk_bytes);
      place_chunk(g, offset, stored.data(), out);
    } else {
      std::vector<uint8_t> chunk = unfilter(scope, info.filters, mask, stored, g.chunk_bytes);
      place_chunk(g, offset, chunk.data(), out);
    }
  };

  switch (l.chunk_index) {
    case 0: {  // version-1 B-tree, node type 1: key = size, filter mask, offsets (rank + 1)
      uint64_t key_size = 8 + 8 * uint64_t(rank + 1);
      walk_btree_v1(scope, l.address, 1, key_size, [&](const Bytes& key, uint64_t child) {
        Cursor c(scope, key, "chunk B-tree key");
        uint32_t size = c.u32();
        uint32_t mask = c.u32();
        std::vector<uint64_t> offset(rank);
        for (size_t d = 0; d < rank; ++d) offset[d] = c.u64();
        load(child, size, mask, offset);
      });
      return;
    }
    case 1: {  // single chunk
      uint64_t size = info.filters.empty() ? g.chunk_bytes : l.single_chunk_size;
      load(l.address, size, l.single_chunk_mask, std::vector<uint64_t>(rank, 0));
      return;
    }
    case 2: {  // implicit: unfiltered chunks stored back to back in row-major chunk order
      if (!info.filters.empty()) scope.invalid("implicit chunk index with filters");
      std::vector<uint64_t> counts(rank), idx(rank, 0);
      uint64_t n = 1;
      for (size_t d = 0; d < rank; ++d) {
        counts[d] = (g.dims[d] + g.chunk[d] - 1) / g.chunk[d];
        n = checked_mul(scope, n, counts[d], "chunk count");
      }
      if (n == 0) return;
      scope.range(l.address, checked_mul(scope, n, g.chunk_bytes, "chunked data size"),
                  "chunked data");
      for (uint64_t i = 0; i < n; ++i) {
        std::vector<uint64_t> offset(rank);
        for (size_t d = 0; d < rank; ++d) offset[d] = idx[d] * g.chunk[d];
        load(l.address + i * g.chunk_bytes, g.chunk_bytes, 0, offset);
        for (size_t d = rank; d-- > 0;) {
          if (++idx[d] < counts[d]) break;
          idx[d] = 0;
        }
      }
      return;
    }
    default:
      scope.unsupported("chunk index type ", l.chunk_index,
                        " (fixed array, extensible array or v2 B-tree; written with "
                        "libver='latest') is not supported");
  }
}

template <class Out>
void convert(const Scope& scope, const Datatype& t, const uint8_t* src, uint64_t n, Out* dst) {
  for (uint64_t i = 0; i < n; ++i, src += t.size) {
    if constexpr (std::is_same_v<Out, float>) {
      dst[i] = static_cast<float>(load_float(src, t));
    } else if (t.is_signed) {
      dst[i] = static_cast<Out>(load_int(src, t.size, t.big_endian));
    } else {
      uint64_t v = load_uint(src, t.size, t.big_endian);
      if (v > static_cast<uint64_t>(std::numeric_limits<Out>::max())) {
        scope.unsupported("unsigned value ", v, " does not fit the ", sizeof(Out) * 8,
                          "-bit signed result");
      }
      dst[i] = static_cast<Out>(v);
    }
  }
}

}  // namespace

Tensor read_dataset(Scope& scope, const DatasetInfo& info) {
  const Datatype& t = info.type;
  require_numeric(scope, t);
  if (info.space.null) scope.unsupported("datasets with a null dataspace have no data");
  Shape shape(info.space.dims.begin(), info.space.dims.end());
  DType dtype = t.type_class == TypeClass::floating_point ? DType::f32
                                                          : (t.size == 8 ? DType::i64 : DType::i32);
  uint64_t n = info.space.elements;
  uint64_t file_bytes = checked_mul(scope, n, t.size, "dataset size");
  scope.check_alloc(n * dtype_size(dtype), "the dataset");
  if (n == 0) return Tensor(dtype, shape);
  // No dataset can decode to more than its file can encode (deflate expands at most ~1032:1),
  // so one that claims more (a lying dataspace, storage never written, missing chunks) is
  // refused before anything is allocated, however high the user set the limits.
  constexpr uint64_t kMaxExpansion = 1032, kSlack = uint64_t{1} << 20;
  uint64_t encodable =
      checked_add(scope, checked_mul(scope, scope.file().file.size(), kMaxExpansion, "file size"),
                  kSlack, "file size");
  if (file_bytes > encodable)
    scope.invalid("claims ", file_bytes, " bytes of data, more than a file of ",
                  scope.file().file.size(), " bytes can hold");
  const Layout& l = info.layout;
  if (l.kind == Layout::contiguous && l.size != kUndefined && l.size < file_bytes &&
      l.address != kUndefined) {
    scope.invalid("contiguous storage of ", l.size, " bytes for ", file_bytes, " bytes of data");
  }

  Bytes raw;
  std::vector<uint8_t> chunked;
  if (l.kind == Layout::compact) {
    if (l.compact_data.size() < file_bytes)
      scope.invalid("compact storage of ", l.compact_data.size(), " bytes for ", file_bytes,
                    " bytes of data");
    raw = l.compact_data;
  } else if (l.kind == Layout::contiguous) {
    if (l.address == kUndefined) return Tensor(dtype, shape);  // never written: zeros
    raw = scope.range(l.address, file_bytes, "dataset data");
    // Zero copy: little-endian float32 can be used in place when aligned for float access.
    bool aligned = reinterpret_cast<uintptr_t>(raw.data()) % alignof(float) == 0;
    if (dtype == DType::f32 && t.size == 4 && !t.big_endian && aligned) {
      auto owner = std::const_pointer_cast<void>(raw.owner());
      return Tensor::adopt(DType::f32, shape, owner, const_cast<uint8_t*>(raw.data()));
    }
    // Otherwise (a .keras zip stores model.weights.h5 at whatever offset its member starts, so
    // its floats are usually misaligned) one plain copy, with the file's pages released as it
    // goes: the weights are not resident twice.
    if (dtype == DType::f32 && t.size == 4 && !t.big_endian) {
      std::shared_ptr<void> storage = io::allocate_aligned(file_bytes);
      raw.copy_and_release(storage.get());
      return Tensor::adopt(DType::f32, shape, storage, storage.get());
    }
  } else {
    scope.check_alloc(file_bytes, "the chunked dataset");
    chunked.assign(file_bytes, 0);
    read_chunked(scope, info, chunked.data());
    raw = Bytes(nullptr, chunked.data(), chunked.size());
  }

  Tensor out(dtype, shape);
  if (dtype == DType::f32) {
    convert(scope, t, raw.data(), n, out.data_as<float>());
  } else if (dtype == DType::i32) {
    convert(scope, t, raw.data(), n, out.data_as<int32_t>());
  } else {
    convert(scope, t, raw.data(), n, out.data_as<int64_t>());
  }
  return out;
}

}  // namespace krt::io::h5
