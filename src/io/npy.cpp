#include "io/npy.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string_view>

#include "core/check.h"

namespace krt::io {

namespace {

constexpr std::string_view kMagic = "\x93NUMPY";
// numpy refuses headers above 10000 bytes unless told otherwise; allow more, but bound it.
constexpr uint64_t kMaxHeaderSize = 1 << 20;

struct Header {
  std::string descr;
  bool fortran_order = false;
  Shape shape;
  bool has_descr = false, has_fortran_order = false, has_shape = false;
};

// A parser for the one Python literal numpy writes as the header:
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// It accepts exactly that grammar (either quote style, optional trailing commas, Python 2's
// "3L" integers) and nothing else: the header is never evaluated.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& display_name, const Limits& limits)
      : s_(text), dn_(display_name), limits_(limits) {}

  Header parse() {
    Header h;
    expect('{');
    while (!accept('}')) {
      std::string key = string_literal();
      expect(':');
      if (key == "descr") {
        skip_space();
        if (pos_ < s_.size() && s_[pos_] == '[')
          fail(ErrorCode::unsupported, dn_, ": structured (record) dtypes are not supported");
        h.descr = string_literal();
        h.has_descr = true;
      } else if (key == "fortran_order") {
        h.fortran_order = boolean();
        h.has_fortran_order = true;
      } else if (key == "shape") {
        h.shape = tuple();
        h.has_shape = true;
      } else {
        fail(ErrorCode::invalid_file, dn_, ": npy header has an unknown key '", key, "'");
      }
      if (!accept(',')) {
        expect('}');
        break;
      }
    }
    skip_space();
    if (pos_ != s_.size()) bad("unexpected text after the dictionary");
    if (!h.has_descr || !h.has_fortran_order || !h.has_shape)
      bad("the dictionary needs the keys 'descr', 'fortran_order' and 'shape'");
    return h;
  }

 private:
  [[noreturn]] void bad(const char* what) const {
    fail(ErrorCode::invalid_file, dn_, ": malformed npy header (", what, " at character ", pos_,
         ")");
  }
  void skip_space() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }
  bool accept(char c) {
    skip_space();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!accept(c)) bad((std::string("expected '") + c + "'").c_str());
  }
  std::string string_literal() {
    skip_space();
    if (pos_ >= s_.size() || (s_[pos_] != '\'' && s_[pos_] != '"')) bad("expected a string");
    char quote = s_[pos_++];
    size_t end = s_.find(quote, pos_);
    if (end == std::string_view::npos) bad("unterminated string");
    std::string value(s_.substr(pos_, end - pos_));
    if (value.find('\\') != std::string::npos) bad("escape sequences are not expected");
    pos_ = end + 1;
    return value;
  }
  bool boolean() {
    skip_space();
    if (s_.substr(pos_, 4) == "True") return pos_ += 4, true;
    if (s_.substr(pos_, 5) == "False") return pos_ += 5, false;
    bad("expected True or False");
  }
  int64_t dimension() {
    skip_space();
    if (pos_ >= s_.size() || s_[pos_] < '0' || s_[pos_] > '9')
      bad("expected a non-negative integer");
    int64_t v = 0;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      if (v > (INT64_MAX - 9) / 10)
        fail(ErrorCode::limit_exceeded, dn_, ": npy shape dimension is too large");
      v = v * 10 + (s_[pos_++] - '0');
    }
    if (pos_ < s_.size() && s_[pos_] == 'L') ++pos_;
    return v;
  }
  Shape tuple() {
    expect('(');
    Shape shape;
    while (!accept(')')) {
      if (static_cast<int64_t>(shape.size()) >= limits_.max_rank)
        fail(ErrorCode::limit_exceeded, dn_, ": npy array has more than ", limits_.max_rank,
             " dimensions (Limits::max_rank)");
      shape.push_back(dimension());
      if (!accept(',')) {
        expect(')');
        break;
      }
    }
    return shape;
  }

  std::string_view s_;
  const std::string& dn_;
  const Limits& limits_;
  size_t pos_ = 0;
};

// Maps a numpy type string to our dtype. Byte order: '<' little, '>' big, '=' native,
// '|' not applicable (one-byte types).
DType dtype_from_descr(const std::string& descr, const std::string& dn) {
  constexpr bool kNativeLittle = std::endian::native == std::endian::little;
  std::string_view d = descr;
  char order = '=';
  if (!d.empty() && (d[0] == '<' || d[0] == '>' || d[0] == '=' || d[0] == '|'))
    order = d[0], d.remove_prefix(1);
  bool one_byte = d == "u1" || d == "b1";
  bool little = order == '<' || (order == '=' && kNativeLittle);
  if (!one_byte && !little) {
    if (d == "f2" || d == "f4" || d == "f8" || d == "i4" || d == "i8")
      fail(ErrorCode::unsupported, dn, ": big-endian npy data ('", descr,
           "') is not supported; convert it with "
           "arr.astype(arr.dtype.newbyteorder('<'))");
  } else {
    if (d == "f4") return DType::f32;
    if (d == "f2") return DType::f16;
    if (d == "f8") return DType::f64;
    if (d == "i4") return DType::i32;
    if (d == "i8") return DType::i64;
    if (one_byte) return DType::u8;
  }
  if (d == "O")
    fail(ErrorCode::unsupported, dn, ": npy object arrays ('", descr, "') are not supported");
  fail(ErrorCode::unsupported, dn, ": npy dtype '", descr,
       "' is not supported (supported: float32, float16, float64, int32, int64, uint8, bool)");
}

const char* descr_of(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return "<f4";
    case DType::f64:
      return "<f8";
    case DType::i32:
      return "<i4";
    case DType::i64:
      return "<i8";
    case DType::u8:
      return "|u1";
    case DType::f16:
      return "<f2";
    case DType::bf16:
      break;  // numpy has no bfloat16: save_npy refuses it
  }
  return "";
}

}  // namespace

Tensor read_npy(const Bytes& bytes, const std::string& dn, const Limits& limits) {
  static_assert(std::endian::native == std::endian::little, "npy data is read in host byte order");
  const uint8_t* p = bytes.data();
  const uint64_t size = bytes.size();
  if (size < 10 || std::memcmp(p, kMagic.data(), kMagic.size()) != 0)
    fail(ErrorCode::invalid_file, dn, ": not an npy file (no \\x93NUMPY magic)");
  int major = p[6], minor = p[7];
  uint64_t header_len = 0, header_start = 0;
  if (major == 1 && minor == 0) {
    header_len = p[8] | (p[9] << 8);
    header_start = 10;
  } else if ((major == 2 || major == 3) && minor == 0) {
    if (size < 12) fail(ErrorCode::invalid_file, dn, ": npy header is truncated");
    header_len =
        uint64_t{p[8]} | (uint64_t{p[9]} << 8) | (uint64_t{p[10]} << 16) | (uint64_t{p[11]} << 24);
    header_start = 12;
  } else {
    fail(ErrorCode::unsupported, dn, ": npy format version ", major, ".", minor,
         " is not supported");
  }
  if (header_len > kMaxHeaderSize)
    fail(ErrorCode::invalid_file, dn, ": npy header length ", header_len, " is implausibly large");
  if (header_len > size - header_start)
    fail(ErrorCode::invalid_file, dn, ": npy header is truncated (", header_len,
         " bytes declared, ", size - header_start, " present)");

  std::string_view text(reinterpret_cast<const char*>(p + header_start), header_len);
  Header h = HeaderParser(text, dn, limits).parse();
  if (h.fortran_order)
    fail(ErrorCode::unsupported, dn,
         ": npy arrays in Fortran order are not supported; save with "
         "np.ascontiguousarray(arr)");
  DType dtype = dtype_from_descr(h.descr, dn);

  // Element count and byte size, checked for overflow and against the limits before use.
  // A zero dimension makes the array empty whatever the others say.
  bool empty = std::find(h.shape.begin(), h.shape.end(), 0) != h.shape.end();
  uint64_t elements = empty ? 0 : 1;
  for (int64_t d : h.shape) {
    if (empty) break;
    if (d != 0 && elements > static_cast<uint64_t>(limits.max_elements) / static_cast<uint64_t>(d))
      fail(ErrorCode::limit_exceeded, dn, ": npy shape ", shape_to_string(h.shape),
           " has more than ", limits.max_elements, " elements (Limits::max_elements)");
    elements *= static_cast<uint64_t>(d);
  }
  uint64_t nbytes = elements * dtype_size(dtype);
  if (nbytes > limits.max_total_bytes)
    fail(ErrorCode::limit_exceeded, dn, ": npy array of ", nbytes, " bytes is above the limit of ",
         limits.max_total_bytes, " (Limits::max_total_bytes)");
  uint64_t data_start = header_start + header_len;
  uint64_t present = size - data_start;
  if (present != nbytes)
    fail(ErrorCode::invalid_file, dn, ": npy data of shape ", shape_to_string(h.shape),
         " and dtype '", h.descr, "' needs ", nbytes, " bytes, but the file has ", present,
         present < nbytes ? " (truncated)" : "");

  Tensor t(dtype, h.shape);
  if (nbytes) std::memcpy(t.data(), p + data_start, nbytes);
  if (h.descr.find("b1") != std::string::npos) {
    // numpy bools are 0/1 bytes; normalise anything else so later code can rely on it.
    auto* b = static_cast<uint8_t*>(t.data());
    for (uint64_t i = 0; i < nbytes; ++i) b[i] = b[i] != 0;
  }
  return t;
}

void write_npy(const Tensor& tensor, const std::string& path) {
  if (tensor.empty())
    fail(ErrorCode::invalid_argument, path, ": cannot save an empty (default-constructed) tensor");
  if (!tensor.is_host())
    fail(ErrorCode::invalid_argument, path, ": the tensor lives on ", tensor.location().to_string(),
         "; copy it to the host first");
  if (tensor.dtype() == DType::bf16)
    fail(ErrorCode::unsupported, path, ": numpy has no bfloat16; cast the tensor to float32 first");
  // The same bytes as numpy 1.24's np.save: sorted keys, room for axis 0 to grow to 21
  // digits, then spaces and a newline up to a multiple of 64 bytes (always adding 1..64).
  const Shape& shape = tensor.shape();
  std::string dims = "(";
  for (size_t i = 0; i < shape.size(); ++i) dims += (i ? ", " : "") + std::to_string(shape[i]);
  dims += shape.size() == 1 ? ",)" : ")";
  std::string header = str_cat("{'descr': '", descr_of(tensor.dtype()),
                               "', 'fortran_order': False, 'shape': ", dims, ", }");
  if (!shape.empty())
    header.append(21 - std::min<size_t>(21, std::to_string(shape[0]).size()), ' ');
  size_t hlen = header.size() + 1;
  size_t padlen = 64 - (10 + hlen) % 64;
  header.append(padlen, ' ');
  header += '\n';
  if (header.size() > 0xFFFF)
    fail(ErrorCode::invalid_argument, path, ": npy header is too large for version 1.0");

  std::string prefix(kMagic);
  prefix += '\x01';
  prefix += '\x00';
  prefix += static_cast<char>(header.size() & 0xFF);
  prefix += static_cast<char>(header.size() >> 8);

  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "wb"), std::fclose);
  if (!f) fail(ErrorCode::io_error, path, ": cannot open for writing: ", std::strerror(errno));
  bool ok = std::fwrite(prefix.data(), 1, prefix.size(), f.get()) == prefix.size() &&
            std::fwrite(header.data(), 1, header.size(), f.get()) == header.size() &&
            (tensor.nbytes() == 0 ||
             std::fwrite(tensor.data(), 1, tensor.nbytes(), f.get()) == tensor.nbytes());
  if (!ok) fail(ErrorCode::io_error, path, ": write failed: ", std::strerror(errno));
  if (std::fclose(f.release()) != 0)
    fail(ErrorCode::io_error, path, ": write failed: ", std::strerror(errno));
}

}  // namespace krt::io

namespace krt {

Tensor Tensor::from_npy(const std::string& path) { return io::read_npy(io::map_file(path), path); }

void Tensor::save_npy(const std::string& path) const { io::write_npy(*this, path); }

}  // namespace krt
