// krt::Tensor: a dense, row-major, shared-storage n-dimensional array.
//
// Copies of a Tensor share its bytes (like a shared_ptr); clone() makes a deep copy. To use your
// own buffers without copying, wrap them:
//
//   std::vector<float> pixels(1 * 224 * 224 * 3);
//   krt::Tensor x = krt::Tensor::wrap(krt::DType::f32, {1, 224, 224, 3}, pixels.data());
//   auto y = exe.run({x});          // reads `pixels` in place; outputs own their storage
//
// The engine never writes to its inputs, and run() returns outputs that own their storage, so a
// wrapped buffer only has to outlive the calls that use it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace krt {

// f16 (IEEE half) and bf16 (bfloat16) hold reduced-precision weights and activations for the
// GPU; conversions between dtypes are explicit (Tensor::cast).
enum class DType : uint8_t { f32, f64, i32, i64, u8, f16, bf16 };

// Where a tensor's bytes live: host memory, or the memory of one device of a backend
// ("cuda" device 0). Only host tensors can be read, cloned or cast here; device tensors are
// handed to and returned by CompiledModel::run on that device.
struct MemoryLocation {
  std::string kind = "host";  // "host" or a device backend's name ("cuda")
  int index = 0;              // the device's index for that backend
  bool is_host() const { return kind == "host"; }
  std::string to_string() const { return is_host() ? kind : kind + ":" + std::to_string(index); }
  bool operator==(const MemoryLocation& o) const { return kind == o.kind && index == o.index; }
  bool operator!=(const MemoryLocation& o) const { return !(*this == o); }
};

size_t dtype_size(DType dtype);
const char* dtype_name(DType dtype);  // "float32", "int64", ...

using Shape = std::vector<int64_t>;
// A dimension not known until run time (the batch, or a variable spatial size).
inline constexpr int64_t dynamic = -1;

// Product of the dimensions; throws krt::Error (limit_exceeded) on overflow or negative dims.
int64_t shape_elements(const Shape& shape);
// "(2, 8, 8, 3)", with "None" for dynamic dimensions, as Keras prints shapes.
std::string shape_to_string(const Shape& shape);

class Tensor {
 public:
  Tensor() = default;
  // A zero-filled tensor that owns its storage.
  Tensor(DType dtype, Shape shape);
  // Views `data` (row-major, shape_elements(shape) elements of `dtype`) without copying; the
  // caller keeps it alive while the tensor or any copy of it is used.
  static Tensor wrap(DType dtype, Shape shape, void* data);
  // Like wrap, but the tensor holds `owner` (e.g. a memory map or a buffer of the caller's) and
  // so keeps the storage alive as long as any copy of the tensor exists.
  static Tensor adopt(DType dtype, Shape shape, std::shared_ptr<void> owner, void* data);
  // A view of device memory (e.g. a cudaMalloc'd buffer), for CompiledModel::run on that device.
  static Tensor wrap_device(DType dtype, Shape shape, void* data, MemoryLocation location,
                            std::shared_ptr<void> owner = nullptr);
  // Reads / writes NumPy's .npy format (float32/64, int32/64, uint8; C order).
  static Tensor from_npy(const std::string& path);
  void save_npy(const std::string& path) const;

  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int rank() const { return static_cast<int>(shape_.size()); }
  int64_t dim(int axis) const { return shape_.at(axis < 0 ? axis + rank() : axis); }
  int64_t size() const { return size_; }  // number of elements
  size_t nbytes() const { return static_cast<size_t>(size_) * dtype_size(dtype_); }
  bool empty() const { return data_ == nullptr && size_ == 0; }
  const MemoryLocation& location() const { return location_; }
  bool is_host() const { return location_.is_host(); }

  void* data() { return data_; }
  const void* data() const { return data_; }
  // Typed access; throws if T does not match dtype().
  template <class T>
  T* data_as();
  template <class T>
  const T* data_as() const;

  // Same bytes, another shape with the same element count: never copies.
  Tensor reshaped(Shape shape) const;
  // A deep copy that owns its storage (host tensors only).
  Tensor clone() const;
  // Converts to another dtype (copies; host tensors only). f16/bf16 round to nearest even.
  Tensor cast(DType dtype) const;

 private:
  DType dtype_ = DType::f32;
  Shape shape_;
  int64_t size_ = 0;
  std::shared_ptr<void> owner_;
  void* data_ = nullptr;
  MemoryLocation location_;
};

}  // namespace krt
