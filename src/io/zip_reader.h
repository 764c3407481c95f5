// A hardened reader for zip archives (the `.keras` container): central directory, ZIP64,
// stored and deflated members. Every size and offset is checked against the archive.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "io/bytes.h"
#include "kerasrt/limits.h"

namespace krt::io {

struct ZipEntry {
  std::string name;
  uint16_t method = 0;  // 0 stored, 8 deflated; others are refused by read()
  uint16_t flags = 0;   // general-purpose bit flags (bit 0: encrypted)
  uint64_t compressed_size = 0;
  uint64_t uncompressed_size = 0;
  uint32_t crc32 = 0;
  uint64_t local_header_offset = 0;
  uint64_t data_offset = 0;  // first byte of the member's data, after its verified local header
};

class ZipReader {
 public:
  // Parses the central directory and verifies every local header. Throws krt::Error
  // (invalid_file, limit_exceeded, unsupported) with messages prefixed by `display_name`.
  // Duplicate member names are an error: tools disagree on which copy wins, so an archive
  // with two 'config.json' could show one model to Keras and another to us.
  ZipReader(Bytes archive, std::string display_name, const Limits& limits = {});

  const std::vector<ZipEntry>& entries() const { return entries_; }
  // The member called `name`, or nullptr.
  const ZipEntry* find(std::string_view name) const;
  // The member's uncompressed bytes. Stored members are a zero-copy slice of the archive
  // (their CRC is not checked: that would read every page of a large mapped weights file);
  // deflated members are inflated into an owned buffer, stopping at the declared size, and
  // their CRC is checked. All inflations of one archive together stay within
  // Limits::max_total_bytes, so many small members cannot add up to an unbounded load.
  Bytes read(const ZipEntry& entry) const;
  // Bytes inflated so far by read(), for callers that share the per-load budget.
  uint64_t inflated_bytes() const { return inflated_bytes_; }

  const std::string& display_name() const { return display_name_; }

 private:
  void parse();
  void verify_local_header(ZipEntry& entry, uint64_t central_directory_offset) const;
  Bytes inflate(const ZipEntry& entry, const Bytes& compressed) const;

  Bytes archive_;
  std::string display_name_;
  Limits limits_;
  std::vector<ZipEntry> entries_;
  mutable uint64_t inflated_bytes_ = 0;  // read() is logically const; this is its budget
};

}  // namespace krt::io
