// Read-only byte ranges that keep their backing storage (a memory map or a heap buffer) alive.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace krt::io {

class Bytes {
 public:
  Bytes() = default;
  Bytes(std::shared_ptr<const void> owner, const uint8_t* data, size_t size)
      : owner_(std::move(owner)), data_(data), size_(size) {}
  static Bytes from_vector(std::vector<uint8_t> bytes);
  static Bytes copy_of(const void* data, size_t size);

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  // The sub-range [offset, offset + length); throws krt::Error if it is out of range.
  Bytes slice(uint64_t offset, uint64_t length) const;
  std::string_view as_string_view() const { return {reinterpret_cast<const char*>(data_), size_}; }
  const std::shared_ptr<const void>& owner() const { return owner_; }
  // Whether these bytes lie in a read-only memory map of a file (map_file and its slices).
  bool file_mapped() const { return file_mapped_; }

  // Copies the bytes to `dst` (size() bytes). When they lie in a file's map, they are read from
  // the file (map_file keeps it open for this), so the copy does not leave the file's bytes
  // resident in the map beside it; should reading fail, they are copied out of the map, whose
  // pages the range covers whole are handed back to the kernel as the copy goes.
  void copy_and_release(void* dst) const;

 private:
  friend Bytes map_file(const std::string& path);
  std::shared_ptr<const void> owner_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  bool file_mapped_ = false;
};

// Maps a whole file read-only, keeping it open while the map lives (copy_and_release reads it).
// Throws krt::Error (io_error) naming the path on failure.
Bytes map_file(const std::string& path);

// `bytes` of uninitialized host memory, 64-byte aligned, from allocate_weight_storage (chunks
// on huge-page boundaries, with transparent huge pages asked for: fewer page faults to fill).
std::shared_ptr<void> allocate_aligned(size_t bytes);

}  // namespace krt::io
