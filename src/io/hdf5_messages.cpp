// Parsers for the object-header messages a Keras file uses: dataspace, datatype, data layout,
// filter pipeline, attribute and link. Each parser reads only its message body (a bounded
// slice), so a lying size can at worst make it fail.
#include "io/hdf5_format.h"

namespace krt::io::h5 {

void require_not_shared(const Scope& scope, const Message& m, const char* what) {
  if (m.flags & 0x02) scope.unsupported("shared (committed) ", what, " messages are not supported");
}

Dataspace parse_dataspace(const Scope& scope, const Bytes& body) {
  Cursor c(scope, body, "dataspace message");
  Dataspace space;
  int version = c.u8();
  int rank = c.u8();
  int flags = c.u8();
  if (version == 1) {
    c.skip(5);  // reserved
  } else if (version == 2) {
    int type = c.u8();
    if (type == 2) {
      space.null = true;
      space.elements = 0;
      return space;
    }
    if (type > 2) scope.invalid("dataspace type ", type, " is unknown");
    if (type == 0 && rank != 0) scope.invalid("scalar dataspace with rank ", rank);
  } else {
    scope.invalid("dataspace message version ", version, " is unknown");
  }
  if (rank > 32) scope.invalid("dataspace rank ", rank, " is above HDF5's maximum of 32");
  if (rank > scope.limits().max_rank) {
    scope.fail(ErrorCode::limit_exceeded, "rank ", rank, " is above the limit of ",
               scope.limits().max_rank, " (Limits::max_rank)");
  }
  uint64_t elements = 1;
  for (int i = 0; i < rank; ++i) {
    uint64_t d = c.length();
    if (d > static_cast<uint64_t>(INT64_MAX))
      scope.invalid("dataspace dimension ", d, " is out of range");
    space.dims.push_back(d);
    elements = checked_mul(scope, elements, d, "dataspace element count");
  }
  // The maximum dims (flags bit 0) and permutation (bit 1, never implemented by HDF5) follow;
  // we do not need them.
  (void)flags;
  if (elements > static_cast<uint64_t>(scope.limits().max_elements)) {
    scope.fail(ErrorCode::limit_exceeded, elements, " elements is above the limit of ",
               scope.limits().max_elements, " (Limits::max_elements)");
  }
  space.elements = elements;
  return space;
}

Datatype parse_datatype(const Scope& scope, const Bytes& body) {
  Cursor c(scope, body, "datatype message");
  Datatype t;
  uint8_t class_version = c.u8();
  int cls = class_version & 0x0f;
  int version = class_version >> 4;
  if (version < 1 || version > 5)
    scope.invalid("datatype message version ", version, " is unknown");
  uint8_t bits0 = c.u8();
  c.skip(2);  // the other class bit fields: unused by the classes we read
  t.raw_class = cls;
  t.size = c.u32();
  if (t.size == 0) scope.invalid("datatype of size 0");
  switch (cls) {
    case 0: {  // fixed-point
      t.big_endian = bits0 & 0x01;
      t.is_signed = bits0 & 0x08;
      uint16_t bit_offset = c.u16();
      uint16_t precision = c.u16();
      if (t.size != 1 && t.size != 2 && t.size != 4 && t.size != 8) {
        t.why_unsupported = str_cat(t.size, "-byte integers are not supported");
      } else if (bit_offset != 0 || precision != t.size * 8) {
        t.why_unsupported = "integers with padding bits are not supported";
      } else {
        t.type_class = TypeClass::fixed_point;
      }
      break;
    }
    case 1: {  // floating point: accept exactly the IEEE 754 binary16/32/64 layouts
      if (bits0 & 0x40) {
        t.why_unsupported = "VAX-order floats are not supported";
        break;
      }
      t.big_endian = bits0 & 0x01;
      uint16_t bit_offset = c.u16();
      uint16_t precision = c.u16();
      uint8_t exp_loc = c.u8(), exp_size = c.u8(), mant_loc = c.u8(), mant_size = c.u8();
      uint32_t bias = c.u32();
      bool ieee =
          bit_offset == 0 && precision == t.size * 8 && mant_loc == 0 &&
          ((t.size == 2 && exp_loc == 10 && exp_size == 5 && mant_size == 10 && bias == 15) ||
           (t.size == 4 && exp_loc == 23 && exp_size == 8 && mant_size == 23 && bias == 127) ||
           (t.size == 8 && exp_loc == 52 && exp_size == 11 && mant_size == 52 && bias == 1023));
      if (ieee) {
        t.type_class = TypeClass::floating_point;
      } else {
        t.why_unsupported = str_cat("non-IEEE ", t.size, "-byte floats are not supported");
      }
      break;
    }
    case 3:  // fixed-length string
      t.type_class = TypeClass::string;
      t.string_pad = bits0 & 0x0f;
      break;
    case 9: {  // variable-length: sequences or strings (the base type follows; not needed)
      int kind = bits0 & 0x0f;
      if (kind != 1) {
        t.why_unsupported = "variable-length sequences are not supported";
        break;
      }
      uint32_t want = 4 + scope.file().offset_size + 4;
      if (t.size != want)
        scope.invalid("variable-length string of size ", t.size, ", expected ", want);
      t.type_class = TypeClass::vlen_string;
      t.string_pad = (bits0 >> 4) & 0x0f;
      break;
    }
    default: {
      static const char* const names[] = {"fixed-point", "floating-point",  "time",     "string",
                                          "bitfield",    "opaque",          "compound", "reference",
                                          "enum",        "variable-length", "array"};
      t.why_unsupported = str_cat("datatype class ", cls < 11 ? names[cls] : "unknown", " (", cls,
                                  ") is not supported");
      break;
    }
  }
  return t;
}

Layout parse_layout(const Scope& scope, const Bytes& body, size_t rank) {
  Cursor c(scope, body, "data layout message");
  Layout l;
  l.version = c.u8();
  if (l.version < 1 || l.version > 4)
    scope.invalid("data layout message version ", l.version, " is unknown");
  if (l.version <= 2) {
    // Old layouts (HDF5 1.4/1.6): dimensionality, class, reserved, [address], dims, [compact data].
    int dimensionality = c.u8();
    int cls = c.u8();
    c.skip(5);
    if (cls == 2) scope.unsupported("chunked data layout version ", l.version, " is not supported");
    if (cls != 0) l.address = c.offset();
    c.skip(uint64_t{4} * dimensionality);
    if (cls == 0) {
      l.kind = Layout::compact;
      uint32_t size = c.u32();
      l.compact_data = c.take(size);
    } else if (cls == 1) {
      l.kind = Layout::contiguous;
      l.size = kUndefined;  // not stored: the dataspace and datatype determine it
    } else {
      scope.invalid("data layout class ", cls, " is unknown");
    }
    return l;
  }
  int cls = c.u8();
  switch (cls) {
    case 0: {
      l.kind = Layout::compact;
      uint16_t size = c.u16();
      l.compact_data = c.take(size);
      return l;
    }
    case 1:
      l.kind = Layout::contiguous;
      l.address = c.offset();
      l.size = c.length();
      return l;
    case 2:
      break;
    case 3:
      scope.unsupported("virtual dataset layout is not supported");
    default:
      scope.invalid("data layout class ", cls, " is unknown");
  }
  l.kind = Layout::chunked;
  int flags = 0;
  int dimensionality;
  int dim_bytes = 4;
  if (l.version == 3) {
    dimensionality = c.u8();
    l.address = c.offset();
  } else {
    flags = c.u8();
    dimensionality = c.u8();
    dim_bytes = c.u8();
    if (dim_bytes < 1 || dim_bytes > 8)
      scope.invalid("chunk dimension size of ", dim_bytes, " bytes");
  }
  // The chunk has one more dimension than the dataset: the element size.
  if (static_cast<size_t>(dimensionality) != rank + 1) {
    scope.invalid("chunked layout has ", dimensionality, " dimensions for a rank-", rank,
                  " dataset");
  }
  for (int i = 0; i < dimensionality; ++i) {
    uint64_t d = c.uint(dim_bytes);
    if (d == 0 || d > UINT32_MAX) scope.invalid("chunk dimension ", d, " is out of range");
    if (i + 1 < dimensionality) {
      l.chunk_dims.push_back(static_cast<uint32_t>(d));
    } else {
      l.chunk_element_size = static_cast<uint32_t>(d);
    }
  }
  if (l.version == 3) {
    l.chunk_index = 0;  // v1 B-tree
    return l;
  }
  l.chunk_index = c.u8();
  switch (l.chunk_index) {
    case 1:  // single chunk
      if (flags & 0x02) {
        l.single_chunk_size = c.length();
        l.single_chunk_mask = c.u32();
      }
      break;
    case 2:  // implicit
      break;
    case 3:
      c.skip(1);
      break;
    case 4:
      c.skip(5);
      break;
    case 5:
      c.skip(6);
      break;
    default:
      scope.invalid("chunk index type ", l.chunk_index, " is unknown");
  }
  l.address = c.offset();
  return l;
}

std::vector<Filter> parse_filters(const Scope& scope, const Bytes& body) {
  Cursor c(scope, body, "filter pipeline message");
  int version = c.u8();
  int count = c.u8();
  if (version != 1 && version != 2)
    scope.invalid("filter pipeline message version ", version, " is unknown");
  if (count > 32) scope.invalid("filter pipeline with ", count, " filters (HDF5 allows 32)");
  if (version == 1) c.skip(6);
  std::vector<Filter> filters;
  for (int i = 0; i < count; ++i) {
    Filter f;
    f.id = c.u16();
    uint16_t name_length = (version == 1 || f.id >= 256) ? c.u16() : 0;
    f.flags = c.u16();
    uint16_t nvalues = c.u16();
    // Version 1 pads the name to a multiple of 8 bytes.
    uint64_t name_bytes = version == 1 ? (uint64_t{name_length} + 7) / 8 * 8 : name_length;
    c.skip(name_bytes);
    for (int v = 0; v < nvalues; ++v) f.params.push_back(c.u32());
    if (version == 1 && nvalues % 2 == 1) c.skip(4);
    filters.push_back(std::move(f));
  }
  return filters;
}

namespace {

// A NUL-terminated name in a fixed field: the bytes up to the first NUL.
std::string field_name(const Bytes& b) {
  std::string_view s = b.as_string_view();
  return std::string(s.substr(0, s.find('\0')));
}

}  // namespace

Attribute parse_attribute(const Scope& scope, const Bytes& body) {
  Cursor c(scope, body, "attribute message");
  Attribute a;
  int version = c.u8();
  if (version < 1 || version > 3)
    scope.invalid("attribute message version ", version, " is unknown");
  uint8_t flags = c.u8();  // reserved in version 1
  uint16_t name_size = c.u16();
  uint16_t type_size = c.u16();
  uint16_t space_size = c.u16();
  if (version == 3) c.skip(1);  // name character set
  if (version >= 2 && (flags & 0x03))
    scope.unsupported("attributes with shared datatypes or dataspaces are not supported");
  // Version 1 pads each of the three fields to a multiple of 8 bytes.
  auto padded = [&](uint16_t n) { return version == 1 ? (uint64_t{n} + 7) / 8 * 8 : uint64_t{n}; };
  Bytes name = c.take(name_size);
  c.skip(padded(name_size) - name_size);
  a.name = field_name(name);
  Bytes type = c.take(type_size);
  c.skip(padded(type_size) - type_size);
  Bytes space = c.take(space_size);
  c.skip(padded(space_size) - space_size);
  a.type = parse_datatype(scope, type);
  a.space = parse_dataspace(scope, space);
  uint64_t data_size = checked_mul(scope, a.space.elements, a.type.size, "attribute data size");
  if (data_size > c.remaining()) {
    scope.invalid("attribute '", a.name, "' has ", c.remaining(), " bytes of data, expected ",
                  data_size);
  }
  a.data = c.take(data_size);
  return a;
}

Link parse_link(const Scope& scope, const Bytes& body) {
  Cursor c(scope, body, "link message");
  int version = c.u8();
  if (version != 1) scope.invalid("link message version ", version, " is unknown");
  uint8_t flags = c.u8();
  int type = 0;  // hard
  if (flags & 0x08) type = c.u8();
  if (flags & 0x04) c.skip(8);  // creation order
  if (flags & 0x10) c.skip(1);  // name character set
  uint64_t name_length = c.uint(1 << (flags & 3));
  if (name_length == 0) scope.invalid("link with an empty name");
  Link link;
  link.name = std::string(c.take(name_length).as_string_view());
  if (type == 0) {
    link.address = c.offset();
  } else {
    link.soft = true;  // soft (1) or external (64): listed, never followed
  }
  return link;
}

}  // namespace krt::io::h5
