#include "kerasrt/tensor.h"

#include <cstring>

#include "core/check.h"
#include "core/half.h"

namespace krt {

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_argument:
      return "invalid_argument";
    case ErrorCode::invalid_file:
      return "invalid_file";
    case ErrorCode::unsupported:
      return "unsupported";
    case ErrorCode::limit_exceeded:
      return "limit_exceeded";
    case ErrorCode::io_error:
      return "io_error";
    case ErrorCode::internal:
      return "internal";
  }
  return "unknown";
}

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return 4;
    case DType::f64:
      return 8;
    case DType::i32:
      return 4;
    case DType::i64:
      return 8;
    case DType::u8:
      return 1;
    case DType::f16:
      return 2;
    case DType::bf16:
      return 2;
  }
  return 0;
}

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return "float32";
    case DType::f64:
      return "float64";
    case DType::i32:
      return "int32";
    case DType::i64:
      return "int64";
    case DType::u8:
      return "uint8";
    case DType::f16:
      return "float16";
    case DType::bf16:
      return "bfloat16";
  }
  return "unknown";
}

int64_t shape_elements(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0)
      fail(ErrorCode::invalid_argument, "shape ", shape_to_string(shape),
           " has an unknown dimension");
    if (d != 0 && n > INT64_MAX / d)
      fail(ErrorCode::limit_exceeded, "shape ", shape_to_string(shape), " has too many elements");
    n *= d;
  }
  return n;
}

std::string shape_to_string(const Shape& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += shape[i] < 0 ? "None" : std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

Tensor::Tensor(DType dtype, Shape shape) : dtype_(dtype), shape_(std::move(shape)) {
  size_ = shape_elements(shape_);
  size_t bytes = nbytes();
  auto storage = std::shared_ptr<uint8_t[]>(new uint8_t[bytes > 0 ? bytes : 1]());
  data_ = storage.get();
  owner_ = std::shared_ptr<void>(storage, storage.get());
}

Tensor Tensor::wrap(DType dtype, Shape shape, void* data) {
  return adopt(dtype, std::move(shape), nullptr, data);
}

Tensor Tensor::adopt(DType dtype, Shape shape, std::shared_ptr<void> owner, void* data) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  t.size_ = shape_elements(t.shape_);
  t.owner_ = std::move(owner);
  t.data_ = data;
  return t;
}

template <class T>
static constexpr DType dtype_of() {
  if constexpr (std::is_same_v<T, float>) return DType::f32;
  if constexpr (std::is_same_v<T, double>) return DType::f64;
  if constexpr (std::is_same_v<T, int32_t>) return DType::i32;
  if constexpr (std::is_same_v<T, int64_t>) return DType::i64;
  if constexpr (std::is_same_v<T, uint8_t>) return DType::u8;
}

Tensor Tensor::wrap_device(DType dtype, Shape shape, void* data, MemoryLocation location,
                           std::shared_ptr<void> owner) {
  Tensor t = adopt(dtype, std::move(shape), std::move(owner), data);
  t.location_ = std::move(location);
  return t;
}

namespace {

void require_host(const Tensor& t, const char* what) {
  if (!t.is_host())
    fail(ErrorCode::invalid_argument, "cannot ", what, " a tensor that lives on ",
         t.location().to_string(), ": copy it to the host first");
}

}  // namespace

template <class T>
T* Tensor::data_as() {
  require_host(*this, "read");
  if (dtype_of<T>() != dtype_)
    fail(ErrorCode::invalid_argument, "tensor holds ", dtype_name(dtype_), ", not ",
         dtype_name(dtype_of<T>()));
  return static_cast<T*>(data_);
}

template <class T>
const T* Tensor::data_as() const {
  return const_cast<Tensor*>(this)->data_as<T>();
}

#define KRT_INSTANTIATE(T)          \
  template T* Tensor::data_as<T>(); \
  template const T* Tensor::data_as<T>() const;
KRT_INSTANTIATE(float)
KRT_INSTANTIATE(double)
KRT_INSTANTIATE(int32_t)
KRT_INSTANTIATE(int64_t)
KRT_INSTANTIATE(uint8_t)
#undef KRT_INSTANTIATE

Tensor Tensor::reshaped(Shape shape) const {
  if (shape_elements(shape) != size_)
    fail(ErrorCode::invalid_argument, "cannot reshape ", shape_to_string(shape_), " to ",
         shape_to_string(shape));
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::clone() const {
  require_host(*this, "clone");
  Tensor t(dtype_, shape_);
  if (nbytes()) std::memcpy(t.data_, data_, nbytes());
  return t;
}

// The 16-bit float formats as tags for convert(): stored as uint16_t bit patterns.
struct Half {
  uint16_t bits;
};
struct BFloat16 {
  uint16_t bits;
};

template <class T>
static float to_float(T v) {
  return static_cast<float>(v);
}
template <>
float to_float(Half v) {
  return half_bits_to_float(v.bits);
}
template <>
float to_float(BFloat16 v) {
  return bfloat16_bits_to_float(v.bits);
}

template <class To>
static To from_float_or_same(float v) {
  return static_cast<To>(v);
}
template <>
Half from_float_or_same(float v) {
  return {float_to_half_bits(v)};
}
template <>
BFloat16 from_float_or_same(float v) {
  return {float_to_bfloat16_bits(v)};
}

template <class From, class To>
static void convert(const void* src, void* dst, int64_t n) {
  auto* s = static_cast<const From*>(src);
  auto* d = static_cast<To*>(dst);
  constexpr bool narrow_float = std::is_same_v<From, Half> || std::is_same_v<From, BFloat16> ||
                                std::is_same_v<To, Half> || std::is_same_v<To, BFloat16>;
  for (int64_t i = 0; i < n; ++i) {
    if constexpr (narrow_float)
      d[i] = from_float_or_same<To>(to_float(s[i]));
    else
      d[i] = static_cast<To>(s[i]);
  }
}

template <class From>
static void convert_from(const void* src, DType to, void* dst, int64_t n) {
  switch (to) {
    case DType::f32:
      convert<From, float>(src, dst, n);
      break;
    case DType::f64:
      convert<From, double>(src, dst, n);
      break;
    case DType::i32:
      convert<From, int32_t>(src, dst, n);
      break;
    case DType::i64:
      convert<From, int64_t>(src, dst, n);
      break;
    case DType::u8:
      convert<From, uint8_t>(src, dst, n);
      break;
    case DType::f16:
      convert<From, Half>(src, dst, n);
      break;
    case DType::bf16:
      convert<From, BFloat16>(src, dst, n);
      break;
  }
}

Tensor Tensor::cast(DType dtype) const {
  require_host(*this, "cast");
  if (dtype == dtype_) return clone();
  Tensor t(dtype, shape_);
  switch (dtype_) {
    case DType::f32:
      convert_from<float>(data_, dtype, t.data_, size_);
      break;
    case DType::f64:
      convert_from<double>(data_, dtype, t.data_, size_);
      break;
    case DType::i32:
      convert_from<int32_t>(data_, dtype, t.data_, size_);
      break;
    case DType::i64:
      convert_from<int64_t>(data_, dtype, t.data_, size_);
      break;
    case DType::u8:
      convert_from<uint8_t>(data_, dtype, t.data_, size_);
      break;
    case DType::f16:
      convert_from<Half>(data_, dtype, t.data_, size_);
      break;
    case DType::bf16:
      convert_from<BFloat16>(data_, dtype, t.data_, size_);
      break;
  }
  return t;
}

}  // namespace krt
