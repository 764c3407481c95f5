#include "io/zip_reader.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <unordered_set>

#include "core/check.h"

namespace krt::io {

namespace {

// Record signatures and fixed sizes from PKWARE's APPNOTE.TXT.
constexpr uint32_t kLocalHeaderSig = 0x04034b50;
constexpr uint32_t kCentralHeaderSig = 0x02014b50;
constexpr uint32_t kEndSig = 0x06054b50;
constexpr uint32_t kZip64EndSig = 0x06064b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50;
constexpr uint64_t kLocalHeaderSize = 30;
constexpr uint64_t kCentralHeaderSize = 46;
constexpr uint64_t kEndSize = 22;
constexpr uint64_t kZip64EndSize = 56;
constexpr uint64_t kZip64LocatorSize = 20;
constexpr uint64_t kMaxCommentSize = 0xFFFF;
constexpr uint16_t kZip64ExtraId = 0x0001;
constexpr uint16_t kFlagEncrypted = 0x0001;
constexpr uint16_t kFlagDataDescriptor = 0x0008;
constexpr uint16_t kFlagStrongEncryption = 0x0040;
// No sane model archive has more members; bounds the entry vector independently of the
// archive size (which already bounds it at one entry per 46 bytes of central directory).
constexpr uint64_t kMaxEntries = uint64_t{1} << 20;
// Deflate cannot compress better than about 1032:1, so a larger declared ratio is a lie.
constexpr uint64_t kMaxDeflateRatio = 1032;

uint16_t le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t le32(const uint8_t* p) { return uint32_t{le16(p)} | (uint32_t{le16(p + 2)} << 16); }
uint64_t le64(const uint8_t* p) { return uint64_t{le32(p)} | (uint64_t{le32(p + 4)} << 32); }

// Values of the ZIP64 extended-information extra field (id 0x0001). Only the fields whose
// 32-bit counterparts are saturated (0xFFFFFFFF) are present, in this fixed order.
struct Zip64Fields {
  bool need_usize, need_csize, need_offset;
  uint64_t usize = 0, csize = 0, offset = 0;
};

}  // namespace

ZipReader::ZipReader(Bytes archive, std::string display_name, const Limits& limits)
    : archive_(std::move(archive)), display_name_(std::move(display_name)), limits_(limits) {
  parse();
}

void ZipReader::parse() {
  const uint8_t* base = archive_.data();
  const uint64_t size = archive_.size();
  const std::string& dn = display_name_;

  if (size == 0) fail(ErrorCode::invalid_file, dn, ": not a zip archive (empty file)");
  if (size < kEndSize)
    fail(ErrorCode::invalid_file, dn,
         ": not a zip archive, or truncated (no end of central directory record)");

  // The end record sits at the very end unless followed by a comment of up to 64 KiB. Scan
  // backwards; prefer a record whose comment length reaches exactly to the end of the file,
  // so that a signature inside a comment cannot be mistaken for the real record.
  uint64_t lowest = size - kEndSize > kMaxCommentSize ? size - kEndSize - kMaxCommentSize : 0;
  uint64_t end_pos = UINT64_MAX, fallback = UINT64_MAX;
  for (uint64_t pos = size - kEndSize + 1; pos-- > lowest;) {
    if (le32(base + pos) != kEndSig) continue;
    uint64_t comment = le16(base + pos + 20);
    if (pos + kEndSize + comment == size) {
      end_pos = pos;
      break;
    }
    if (fallback == UINT64_MAX && pos + kEndSize + comment <= size) fallback = pos;
  }
  if (end_pos == UINT64_MAX) end_pos = fallback;
  if (end_pos == UINT64_MAX)
    fail(ErrorCode::invalid_file, dn,
         ": not a zip archive, or truncated (no end of central directory record)");

  const uint8_t* end = base + end_pos;
  uint64_t disk = le16(end + 4), cd_disk = le16(end + 6);
  uint64_t count_here = le16(end + 8), count = le16(end + 10);
  uint64_t cd_size = le32(end + 12), cd_offset = le32(end + 16);

  // ZIP64: a locator right before the end record points at the 64-bit end record, whose
  // values replace the saturated 16/32-bit ones.
  if (end_pos >= kZip64LocatorSize && le32(end - kZip64LocatorSize) == kZip64LocatorSig) {
    const uint8_t* loc = end - kZip64LocatorSize;
    uint64_t z64_pos = le64(loc + 8);
    if (le32(loc + 4) != 0 || le32(loc + 16) > 1)
      fail(ErrorCode::unsupported, dn, ": multi-disk zip archives are not supported");
    if (z64_pos > end_pos - kZip64LocatorSize ||
        end_pos - kZip64LocatorSize - z64_pos < kZip64EndSize)
      fail(ErrorCode::invalid_file, dn, ": zip64 end of central directory record at offset ",
           z64_pos, " is outside the archive");
    const uint8_t* z = base + z64_pos;
    if (le32(z) != kZip64EndSig)
      fail(ErrorCode::invalid_file, dn, ": bad zip64 end of central directory signature at offset ",
           z64_pos);
    disk = le32(z + 16);
    cd_disk = le32(z + 20);
    count_here = le64(z + 24);
    count = le64(z + 32);
    cd_size = le64(z + 40);
    cd_offset = le64(z + 48);
    end_pos = z64_pos;  // the central directory must end before the zip64 record
  }
  if (disk != 0 || cd_disk != 0 || count_here != count)
    fail(ErrorCode::unsupported, dn, ": multi-disk zip archives are not supported");
  if (cd_offset > end_pos || cd_size > end_pos - cd_offset)
    fail(ErrorCode::invalid_file, dn, ": zip central directory (offset ", cd_offset, ", ", cd_size,
         " bytes) is outside the archive; the file is truncated or corrupt");
  if (count > kMaxEntries)
    fail(ErrorCode::limit_exceeded, dn, ": zip archive has ", count,
         " members, more than the limit of ", kMaxEntries);
  if (count > cd_size / kCentralHeaderSize)
    fail(ErrorCode::invalid_file, dn, ": zip archive claims ", count,
         " members but its central directory has ", cd_size, " bytes");

  entries_.reserve(count);
  std::unordered_set<std::string> names;
  uint64_t pos = cd_offset;
  const uint64_t cd_end = cd_offset + cd_size;
  for (uint64_t i = 0; i < count; ++i) {
    if (cd_end - pos < kCentralHeaderSize)
      fail(ErrorCode::invalid_file, dn, ": zip central directory is truncated at member ", i);
    const uint8_t* h = base + pos;
    if (le32(h) != kCentralHeaderSig)
      fail(ErrorCode::invalid_file, dn, ": bad zip central directory signature at offset ", pos);
    uint64_t name_len = le16(h + 28), extra_len = le16(h + 30), comment_len = le16(h + 32);
    uint64_t record = kCentralHeaderSize + name_len + extra_len + comment_len;
    if (record > cd_end - pos)
      fail(ErrorCode::invalid_file, dn, ": zip central directory is truncated at member ", i);

    ZipEntry e;
    e.name.assign(reinterpret_cast<const char*>(h + kCentralHeaderSize), name_len);
    e.flags = le16(h + 8);
    e.method = le16(h + 10);
    e.crc32 = le32(h + 16);
    e.compressed_size = le32(h + 20);
    e.uncompressed_size = le32(h + 24);
    e.local_header_offset = le32(h + 42);

    Zip64Fields z{e.uncompressed_size == 0xFFFFFFFF, e.compressed_size == 0xFFFFFFFF,
                  e.local_header_offset == 0xFFFFFFFF};
    const uint8_t* extra = h + kCentralHeaderSize + name_len;
    for (uint64_t x = 0; x + 4 <= extra_len;) {
      uint16_t id = le16(extra + x), len = le16(extra + x + 2);
      if (len > extra_len - x - 4)
        fail(ErrorCode::invalid_file, dn, ": zip member '", e.name,
             "': extra field overruns its header");
      if (id == kZip64ExtraId) {
        uint64_t need = 8 * (z.need_usize + z.need_csize + z.need_offset);
        if (len < need)
          fail(ErrorCode::invalid_file, dn, ": zip member '", e.name,
               "': zip64 extra field is too short");
        const uint8_t* f = extra + x + 4;
        if (z.need_usize) e.uncompressed_size = le64(f), f += 8;
        if (z.need_csize) e.compressed_size = le64(f), f += 8;
        if (z.need_offset) e.local_header_offset = le64(f);
        z.need_usize = z.need_csize = z.need_offset = false;
      }
      x += 4 + uint64_t{len};
    }
    if (z.need_usize || z.need_csize || z.need_offset)
      fail(ErrorCode::invalid_file, dn, ": zip member '", e.name,
           "': saturated size or offset without a zip64 extra field");
    if (!names.insert(e.name).second)
      fail(ErrorCode::invalid_file, dn, ": zip archive has two members named '", e.name, "'");
    verify_local_header(e, cd_offset);
    entries_.push_back(std::move(e));
    pos += record;
  }
}

void ZipReader::verify_local_header(ZipEntry& e, uint64_t cd_offset) const {
  const uint8_t* base = archive_.data();
  const std::string& dn = display_name_;
  // Member data must lie before the central directory; this also keeps it inside the file.
  if (e.local_header_offset > cd_offset || cd_offset - e.local_header_offset < kLocalHeaderSize)
    fail(ErrorCode::invalid_file, dn, ": zip member '", e.name, "': local header offset ",
         e.local_header_offset, " is outside the archive; truncated");
  const uint8_t* h = base + e.local_header_offset;
  if (le32(h) != kLocalHeaderSig)
    fail(ErrorCode::invalid_file, dn, ": zip member '", e.name, "': bad local header signature");
  uint64_t name_len = le16(h + 26), extra_len = le16(h + 28);
  uint64_t data = e.local_header_offset + kLocalHeaderSize + name_len + extra_len;
  if (data > cd_offset)
    fail(ErrorCode::invalid_file, dn, ": zip member '", e.name, "': local header is truncated");
  if (name_len != e.name.size() || std::memcmp(h + kLocalHeaderSize, e.name.data(), name_len) != 0)
    fail(ErrorCode::invalid_file, dn, ": zip member '", e.name,
         "': local header names another file");
  if (le16(h + 8) != e.method)
    fail(ErrorCode::invalid_file, dn, ": zip member '", e.name,
         "': local header and central directory disagree on the compression method");
  if (e.compressed_size > cd_offset - data)
    fail(ErrorCode::invalid_file, dn, ": zip member '", e.name, "': ", e.compressed_size,
         " bytes of data do not fit in the archive; truncated");

  // With a data descriptor (flag bit 3) the local sizes and CRC may be zero; otherwise they
  // must agree with the central directory (resolving zip64 extras the same way).
  uint64_t crc = le32(h + 14), csize = le32(h + 18), usize = le32(h + 22);
  Zip64Fields z{usize == 0xFFFFFFFF, csize == 0xFFFFFFFF, false};
  const uint8_t* extra = h + kLocalHeaderSize + name_len;
  for (uint64_t x = 0; x + 4 <= extra_len;) {
    uint16_t id = le16(extra + x), len = le16(extra + x + 2);
    if (len > extra_len - x - 4)
      fail(ErrorCode::invalid_file, dn, ": zip member '", e.name,
           "': local extra field overruns its header");
    if (id == kZip64ExtraId && len >= 8 * (z.need_usize + z.need_csize)) {
      const uint8_t* f = extra + x + 4;
      if (z.need_usize) usize = le64(f), f += 8;
      if (z.need_csize) csize = le64(f);
      z.need_usize = z.need_csize = false;
    }
    x += 4 + uint64_t{len};
  }
  bool descriptor = (le16(h + 6) & kFlagDataDescriptor) != 0;
  bool zeros = crc == 0 && csize == 0 && usize == 0;
  bool agree = !z.need_usize && !z.need_csize && crc == e.crc32 && csize == e.compressed_size &&
               usize == e.uncompressed_size;
  if (!agree && !(descriptor && zeros))
    fail(ErrorCode::invalid_file, dn, ": zip member '", e.name,
         "': local header and central directory disagree on sizes or CRC");
  e.data_offset = data;
}

const ZipEntry* ZipReader::find(std::string_view name) const {
  for (const ZipEntry& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

Bytes ZipReader::read(const ZipEntry& e) const {
  const std::string& dn = display_name_;
  if (e.flags & (kFlagEncrypted | kFlagStrongEncryption))
    fail(ErrorCode::unsupported, dn, ": zip member '", e.name,
         "': encrypted members are not supported");
  if (e.compressed_size > archive_.size() || e.data_offset > archive_.size() - e.compressed_size)
    fail(ErrorCode::invalid_file, dn, ": zip member '", e.name, "': truncated");
  Bytes compressed = archive_.slice(e.data_offset, e.compressed_size);
  if (e.method == 0) {
    if (e.uncompressed_size != e.compressed_size)
      fail(ErrorCode::invalid_file, dn, ": zip member '", e.name,
           "': stored member has compressed size ", e.compressed_size, " but uncompressed size ",
           e.uncompressed_size);
    return compressed;
  }
  if (e.method == 8) return inflate(e, compressed);
  fail(ErrorCode::unsupported, dn, ": zip member '", e.name, "': compression method ", e.method,
       " is not supported (only stored and deflate)");
}

Bytes ZipReader::inflate(const ZipEntry& e, const Bytes& compressed) const {
  const std::string& dn = display_name_;
  const uint64_t usize = e.uncompressed_size;
  if (usize >
      limits_.max_total_bytes - inflated_bytes_)  // one budget for all members of the archive
    fail(ErrorCode::limit_exceeded, dn, ": zip member '", e.name, "': uncompressed size ", usize,
         " bytes",
         inflated_bytes_
             ? str_cat(" after ", inflated_bytes_, " bytes already inflated from this archive")
             : "",
         " is above the limit of ", limits_.max_total_bytes, " (Limits::max_total_bytes)");
  if (usize / kMaxDeflateRatio > e.compressed_size + 1)
    fail(ErrorCode::invalid_file, dn, ": zip member '", e.name, "': claims ", usize,
         " bytes from only ", e.compressed_size,
         " compressed bytes, more than deflate can achieve");

  inflated_bytes_ += usize;  // counted before allocating, so a failed member still uses budget
  std::vector<uint8_t> out(usize);
  z_stream zs{};
  if (inflateInit2(&zs, -MAX_WBITS) != Z_OK)  // raw deflate: zip has no zlib header
    fail(ErrorCode::internal, dn, ": zlib inflateInit2 failed");
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, inflateEnd);

  // zlib counts in 32-bit uInt, so feed input and output in chunks of at most 1 GiB.
  constexpr uint64_t kChunk = uint64_t{1} << 30;
  const uint8_t* in = compressed.data();
  uint64_t in_left = compressed.size(), out_pos = 0;
  int ret = Z_OK;
  while (ret != Z_STREAM_END && out_pos < usize) {
    if (zs.avail_in == 0 && in_left > 0) {
      zs.next_in = const_cast<Bytef*>(in);
      zs.avail_in = static_cast<uInt>(std::min(in_left, kChunk));
      in += zs.avail_in;
      in_left -= zs.avail_in;
    }
    uInt out_chunk = static_cast<uInt>(std::min(usize - out_pos, kChunk));
    zs.next_out = out.data() + out_pos;
    zs.avail_out = out_chunk;
    ret = ::inflate(&zs, Z_NO_FLUSH);
    out_pos += out_chunk - zs.avail_out;
    if (ret == Z_BUF_ERROR && zs.avail_in == 0 && in_left == 0)
      fail(ErrorCode::invalid_file, dn, ": zip member '", e.name,
           "': truncated (deflate stream ends after ", out_pos, " of ", usize, " bytes)");
    if (ret != Z_OK && ret != Z_STREAM_END && ret != Z_BUF_ERROR)
      fail(ErrorCode::invalid_file, dn, ": zip member '", e.name, "': corrupt deflate data (",
           zs.msg ? zs.msg : "zlib error", ")");
  }
  if (ret != Z_STREAM_END) {
    // The declared size is reached; the stream must end here. One byte of room tells a
    // well-formed end from more data (a zip bomb, or a lying size) without inflating it all.
    uint8_t probe = 0;
    if (zs.avail_in == 0 && in_left > 0) {
      zs.next_in = const_cast<Bytef*>(in);
      zs.avail_in = static_cast<uInt>(std::min(in_left, kChunk));
      in_left -= zs.avail_in;
    }
    zs.next_out = &probe;
    zs.avail_out = 1;
    ret = ::inflate(&zs, Z_NO_FLUSH);
    if (zs.avail_out == 0)
      fail(ErrorCode::invalid_file, dn, ": zip member '", e.name,
           "': inflates to more than its declared ", usize, " bytes");
    if (ret != Z_STREAM_END)
      fail(ErrorCode::invalid_file, dn, ": zip member '", e.name,
           "': truncated or corrupt deflate data");
  }
  if (out_pos != usize)
    fail(ErrorCode::invalid_file, dn, ": zip member '", e.name, "': inflates to ", out_pos,
         " bytes, but its declared size is ", usize);
  uint32_t crc = 0;
  for (uint64_t p = 0; p < usize; p += kChunk)
    crc = static_cast<uint32_t>(
        crc32(crc, out.data() + p, static_cast<uInt>(std::min(usize - p, kChunk))));
  if (crc != e.crc32)
    fail(ErrorCode::invalid_file, dn, ": zip member '", e.name,
         "': CRC mismatch (data is corrupt)");
  return Bytes::from_vector(std::move(out));
}

}  // namespace krt::io
