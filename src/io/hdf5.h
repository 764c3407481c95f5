// A bounds-checked reader for the subset of HDF5 that Keras and h5py write.
//
// Supported: superblock v0/v1 (and v2/v3), object headers v1 and v2, old-style groups
// (symbol table: v1 B-tree + local heap) and new-style compact groups (link messages),
// contiguous and compact datasets, chunked datasets (v1 B-tree index) with the deflate and
// shuffle filters, attributes with numeric, fixed-length string and variable-length string
// (global heap) types. Anything else gives a clear krt::Error (unsupported), never garbage.
// Every offset and size read from the file is checked against the file and krt::Limits.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "io/bytes.h"
#include "kerasrt/limits.h"
#include "kerasrt/tensor.h"

namespace krt::io {

class Hdf5File {
 public:
  // Parses the superblock and root group. `display_name` (usually the path) prefixes errors.
  Hdf5File(Bytes bytes, std::string display_name, const Limits& limits = {});
  ~Hdf5File();
  Hdf5File(Hdf5File&&) noexcept;
  Hdf5File& operator=(Hdf5File&&) noexcept;

  const std::string& display_name() const;

  // Paths are '/'-separated and relative to the root ("" or "/" is the root itself).
  // Link names may contain ':' (Keras 2 writes "kernel:0").
  bool exists(std::string_view path) const;
  bool is_group(std::string_view path) const;
  bool is_dataset(std::string_view path) const;

  // Names of the links in a group, in the order h5py lists them (byte-wise name order).
  std::vector<std::string> children(std::string_view group_path) const;

  std::vector<std::string> attribute_names(std::string_view path) const;
  bool has_attribute(std::string_view path, std::string_view name) const;
  // A string attribute (fixed-length or variable-length, scalar or 1-D): its strings.
  // Fixed-length strings lose their trailing NUL/space padding as h5py does.
  // Throws if the attribute is missing or not a string.
  std::vector<std::string> string_attribute(std::string_view path, std::string_view name) const;
  // A numeric attribute (any integer or float type), converted to double.
  std::vector<double> numeric_attribute(std::string_view path, std::string_view name) const;

  // The dims of a dataset (a scalar dataset has shape {}).
  Shape dataset_shape(std::string_view path) const;
  // Reads a numeric dataset: floats (16/32/64-bit) become float32, integers up to 32 bits become
  // int32, 64-bit integers int64. Data stored contiguously in little-endian float32 is returned
  // as a view of the mapped file (no copy) when suitably aligned.
  Tensor read_dataset(std::string_view path) const;

  struct Impl;  // the parsed file (opaque; public for the reader's own helpers)

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace krt::io
