#include "io/zip_reader.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "expect_error.h"
#include "io/json.h"
#include "kerasrt/error.h"
#include "test_paths.h"

namespace krt::io {
namespace {

namespace fs = std::filesystem;

std::string io_dir() { return krt::test::data_dir() + "/io"; }

std::vector<uint8_t> load(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  EXPECT_TRUE(f) << path;
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

std::string as_string(const Bytes& b) { return std::string(b.as_string_view()); }

// Contents written by tests/data/io/make_test_files.py.
const std::string kConfig =
    R"({"class_name": "Sequential", "config": {"name": "seq", "layers": []}})";
std::string data_bin() {
  std::string s(100000, '\0');
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>((i * 7) % 251);
  return s;
}

void put16(std::vector<uint8_t>& b, size_t at, uint16_t v) {
  b.at(at) = v & 0xFF;
  b.at(at + 1) = v >> 8;
}
void put32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
  put16(b, at, v & 0xFFFF);
  put16(b, at + 2, v >> 16);
}

// Offsets of a member's local and central headers in a small (non-zip64) archive, found by
// signature and name so the tests do not depend on exact layouts.
struct Headers {
  size_t local = 0, central = 0;
};
Headers find_headers(const std::vector<uint8_t>& b, const std::string& name) {
  Headers h{SIZE_MAX, SIZE_MAX};
  for (size_t i = 0; i + 46 + name.size() <= b.size(); ++i) {
    if (b[i] != 'P' || b[i + 1] != 'K') continue;
    if (b[i + 2] == 3 && b[i + 3] == 4 && b[i + 26] == name.size() &&
        !std::memcmp(&b[i + 30], name.data(), name.size()))
      h.local = i;
    if (b[i + 2] == 1 && b[i + 3] == 2 && b[i + 28] == name.size() &&
        !std::memcmp(&b[i + 46], name.data(), name.size()))
      h.central = i;
  }
  EXPECT_NE(h.local, SIZE_MAX);
  EXPECT_NE(h.central, SIZE_MAX);
  return h;
}
// Field offsets differ by 4 between the local (crc at 14) and central (crc at 16) headers.
void patch_both(std::vector<uint8_t>& b, const std::string& name, size_t local_field, uint32_t v,
                int width) {
  Headers h = find_headers(b, name);
  if (width == 2) {
    put16(b, h.local + local_field, v);
    put16(b, h.central + local_field + 2, v);
  } else {
    put32(b, h.local + local_field, v);
    put32(b, h.central + local_field + 2, v);
  }
}
constexpr size_t kMethod = 8, kCrc = 14, kCompressed = 18, kUncompressed = 22;

// Opens the archive and reads every member; the contract is "works or throws krt::Error".
void open_and_read_all(const std::vector<uint8_t>& b, const Limits& limits = {}) {
  ZipReader zip(Bytes::copy_of(b.data(), b.size()), "test.zip", limits);
  for (const ZipEntry& e : zip.entries()) zip.read(e);
}

using krt::test::expect_error;

void expect_test_members(const std::string& file) {
  SCOPED_TRACE(file);
  ZipReader zip(map_file(io_dir() + "/" + file), file);
  ASSERT_EQ(zip.entries().size(), 4u);
  EXPECT_EQ(zip.entries()[0].name, "config.json");
  EXPECT_EQ(zip.entries()[1].name, "data.bin");
  EXPECT_EQ(zip.entries()[1].method, 8);
  EXPECT_EQ(zip.entries()[1].uncompressed_size, 100000u);
  EXPECT_EQ(zip.entries()[1].crc32, 0xb0a8c3cdu);  // zlib.crc32 of data.bin in Python
  EXPECT_EQ(as_string(zip.read(*zip.find("config.json"))), kConfig);
  EXPECT_EQ(as_string(zip.read(*zip.find("data.bin"))), data_bin());
  EXPECT_EQ(as_string(zip.read(*zip.find("empty.txt"))), "");
  EXPECT_EQ(as_string(zip.read(*zip.find("stored.txt"))), "stored member");
  EXPECT_EQ(zip.find("missing"), nullptr);
  EXPECT_EQ(zip.find("config.jso"), nullptr);
}

TEST(ZipReader, ReadsDeflatedAndStoredMembers) { expect_test_members("deflated.zip"); }
TEST(ZipReader, ReadsZip64LocalExtraFields) { expect_test_members("zip64_local.zip"); }
TEST(ZipReader, ReadsZip64EndRecordAndCentralExtraFields) { expect_test_members("zip64_full.zip"); }

TEST(ZipReader, IgnoresSignatureInsideComment) {
  ZipReader zip(map_file(io_dir() + "/comment.zip"), "comment.zip");
  ASSERT_EQ(zip.entries().size(), 1u);
  EXPECT_EQ(as_string(zip.read(zip.entries()[0])), "stored member");
}

TEST(ZipReader, ReadsKerasFixtureInPlace) {
  std::string path = krt::test::data_dir() + "/fixtures/seed/seed_small_functional/model.keras";
  Bytes archive = map_file(path);
  ZipReader zip(archive, "model.keras");
  // Names and sizes as listed by Python's zipfile.
  ASSERT_EQ(zip.entries().size(), 3u);
  EXPECT_EQ(zip.entries()[0].name, "metadata.json");
  EXPECT_EQ(zip.entries()[0].uncompressed_size, 64u);
  EXPECT_EQ(zip.entries()[1].name, "config.json");
  EXPECT_EQ(zip.entries()[1].uncompressed_size, 5753u);
  EXPECT_EQ(zip.entries()[1].crc32, 0x5bbb4a77u);
  EXPECT_EQ(zip.entries()[2].name, "model.weights.h5");
  EXPECT_EQ(zip.entries()[2].uncompressed_size, 646800u);
  EXPECT_EQ(zip.entries()[2].local_header_offset, 5901u);

  Bytes weights = zip.read(*zip.find("model.weights.h5"));
  EXPECT_EQ(weights.size(), 646800u);
  // Stored members are views into the mapping, not copies.
  EXPECT_GE(weights.data(), archive.data());
  EXPECT_LE(weights.data() + weights.size(), archive.data() + archive.size());
  EXPECT_EQ(std::memcmp(weights.data(), "\x89HDF\r\n\x1a\n", 8), 0);

  Json config = parse_json(zip.read(*zip.find("config.json")).as_string_view(), "config.json");
  EXPECT_EQ(config.find("class_name")->as_string(), "Functional");
}

TEST(ZipReader, OpensEveryFixtureArchive) {
  int opened = 0;
  for (const char* group : {"seed", "layers", "models"}) {
    for (const auto& dir : fs::directory_iterator(krt::test::data_dir() + "/fixtures/" + group)) {
      fs::path p = dir.path() / "model.keras";
      if (!fs::exists(p)) continue;
      SCOPED_TRACE(p.string());
      ZipReader zip(map_file(p.string()), p.filename().string());
      ASSERT_NE(zip.find("config.json"), nullptr);
      ASSERT_NE(zip.find("metadata.json"), nullptr);
      ASSERT_NE(zip.find("model.weights.h5"), nullptr);
      Json config = parse_json(zip.read(*zip.find("config.json")).as_string_view(), "config.json");
      EXPECT_TRUE(config.find("class_name") != nullptr);
      ++opened;
    }
  }
  EXPECT_GT(opened, 200);
}

TEST(ZipReader, RejectsFixtureErrorFiles) {
  for (const char* c : {"truncated_keras", "empty_file"}) {
    std::string path = krt::test::data_dir() + "/fixtures/errors/" + c + "/model.keras";
    Error e = expect_error([&] { ZipReader zip(map_file(path), "model.keras"); });
    EXPECT_EQ(e.code(), ErrorCode::invalid_file);
    EXPECT_NE(std::string(e.what()).find("model.keras: not a zip archive"), std::string::npos)
        << e.what();
  }
}

TEST(ZipReader, RejectsEmptyAndTinyInputs) {
  for (size_t n : {0, 1, 4, 21}) {
    std::vector<uint8_t> b(n, 0);
    Error e = expect_error([&] { open_and_read_all(b); });
    EXPECT_EQ(e.code(), ErrorCode::invalid_file);
    EXPECT_NE(std::string(e.what()).find("test.zip: not a zip archive"), std::string::npos)
        << e.what();
  }
}

TEST(ZipReader, EveryTruncationThrows) {
  for (const char* file : {"deflated.zip", "zip64_full.zip"}) {
    std::vector<uint8_t> b = load(io_dir() + "/" + file);
    for (size_t n = 0; n < b.size(); ++n) {
      std::vector<uint8_t> cut(b.begin(), b.begin() + n);
      EXPECT_THROW(open_and_read_all(cut), Error) << file << " cut to " << n;
    }
  }
}

// Corrupting any single byte must give a clean error or (where the byte does not matter, e.g.
// a timestamp) a successful read; never a crash. Run under the sanitizers.
TEST(ZipReader, SingleByteCorruptionNeverCrashes) {
  for (const char* file : {"deflated.zip", "zip64_full.zip", "comment.zip"}) {
    std::vector<uint8_t> b = load(io_dir() + "/" + file);
    for (size_t i = 0; i < b.size(); ++i) {
      for (uint8_t x : {0xFF, 0x01, 0x80}) {
        std::vector<uint8_t> c = b;
        c[i] ^= x;
        try {
          open_and_read_all(c);
        } catch (const Error&) {
        }
      }
    }
  }
}

TEST(ZipReader, DeclaredSizeSmallerThanDataIsRejected) {
  // A zip bomb: 1 MiB of zeros that claims to be 1000 bytes must stop at 1000.
  std::vector<uint8_t> b = load(io_dir() + "/zeros.zip");
  patch_both(b, "zeros.bin", kUncompressed, 1000, 4);
  Error e = expect_error([&] { open_and_read_all(b); });
  EXPECT_EQ(e.code(), ErrorCode::invalid_file);
  EXPECT_STREQ(e.what(),
               "test.zip: zip member 'zeros.bin': inflates to more than its declared 1000 bytes");
}

TEST(ZipReader, DeclaredSizeLargerThanDataIsRejected) {
  std::vector<uint8_t> b = load(io_dir() + "/deflated.zip");
  patch_both(b, "data.bin", kUncompressed, 100001, 4);
  Error e = expect_error([&] { open_and_read_all(b); });
  EXPECT_EQ(e.code(), ErrorCode::invalid_file);
  EXPECT_STREQ(
      e.what(),
      "test.zip: zip member 'data.bin': inflates to 100000 bytes, but its declared size is 100001");
}

TEST(ZipReader, HugeDeclaredSizeIsRefusedBeforeAllocating) {
  std::vector<uint8_t> b = load(io_dir() + "/zeros.zip");
  patch_both(b, "zeros.bin", kUncompressed, 0xFFFFFFF0u, 4);
  Limits small;
  small.max_total_bytes = 1 << 20;
  Error e = expect_error([&] { open_and_read_all(b, small); });
  EXPECT_EQ(e.code(), ErrorCode::limit_exceeded);
  EXPECT_NE(std::string(e.what()).find("above the limit"), std::string::npos) << e.what();
  // Under the default limit the size is still impossible for ~1 KiB of deflate data.
  e = expect_error([&] { open_and_read_all(b); });
  EXPECT_EQ(e.code(), ErrorCode::invalid_file);
  EXPECT_NE(std::string(e.what()).find("more than deflate can achieve"), std::string::npos)
      << e.what();
}

TEST(ZipReader, AllInflationsOfOneArchiveShareTheLimit) {
  // data.bin inflates to 100000 bytes: once fits a 150000-byte budget, twice does not.
  Limits budget;
  budget.max_total_bytes = 150000;
  ZipReader zip(map_file(io_dir() + "/deflated.zip"), "test.zip", budget);
  const ZipEntry& data = *zip.find("data.bin");
  EXPECT_EQ(zip.read(data).size(), 100000u);
  EXPECT_EQ(zip.read(*zip.find("stored.txt")).size(), 13u);  // stored members are views: free
  EXPECT_EQ(zip.inflated_bytes(), 100000u);
  Error e = expect_error([&] { zip.read(data); });
  EXPECT_EQ(e.code(), ErrorCode::limit_exceeded);
  EXPECT_STREQ(
      e.what(),
      "test.zip: zip member 'data.bin': uncompressed size 100000 bytes after 100000 bytes already "
      "inflated from this archive is above the limit of 150000 (Limits::max_total_bytes)");
}

TEST(ZipReader, CompressedSizeBeyondArchiveIsRejected) {
  std::vector<uint8_t> b = load(io_dir() + "/deflated.zip");
  patch_both(b, "data.bin", kCompressed, 1000000, 4);
  Error e = expect_error([&] { open_and_read_all(b); });
  EXPECT_EQ(e.code(), ErrorCode::invalid_file);
  EXPECT_NE(std::string(e.what()).find(
                "test.zip: zip member 'data.bin': 1000000 bytes of data do not fit"),
            std::string::npos)
      << e.what();
}

TEST(ZipReader, LocalAndCentralSizesMustAgree) {
  std::vector<uint8_t> b = load(io_dir() + "/deflated.zip");
  put32(b, find_headers(b, "config.json").local + kUncompressed, 70);
  Error e = expect_error([&] { open_and_read_all(b); });
  EXPECT_NE(std::string(e.what()).find("disagree on sizes"), std::string::npos) << e.what();
}

TEST(ZipReader, LocalHeaderNameMustMatch) {
  std::vector<uint8_t> b = load(io_dir() + "/deflated.zip");
  b[find_headers(b, "config.json").local + 30] = 'C';
  Error e = expect_error([&] { open_and_read_all(b); });
  EXPECT_NE(std::string(e.what()).find("local header names another file"), std::string::npos)
      << e.what();
}

TEST(ZipReader, CrcMismatchIsDetected) {
  std::vector<uint8_t> b = load(io_dir() + "/deflated.zip");
  patch_both(b, "config.json", kCrc, 0x12345678, 4);
  Error e = expect_error([&] { open_and_read_all(b); });
  EXPECT_STREQ(e.what(), "test.zip: zip member 'config.json': CRC mismatch (data is corrupt)");
}

TEST(ZipReader, EncryptedAndUnknownMethodsAreUnsupported) {
  std::vector<uint8_t> b = load(io_dir() + "/deflated.zip");
  patch_both(b, "stored.txt", 6, 0x0001, 2);  // general-purpose flags: encrypted
  Error e = expect_error([&] { open_and_read_all(b); });
  EXPECT_EQ(e.code(), ErrorCode::unsupported);
  EXPECT_STREQ(e.what(), "test.zip: zip member 'stored.txt': encrypted members are not supported");

  b = load(io_dir() + "/deflated.zip");
  patch_both(b, "config.json", kMethod, 12, 2);  // bzip2
  e = expect_error([&] { open_and_read_all(b); });
  EXPECT_EQ(e.code(), ErrorCode::unsupported);
  EXPECT_NE(std::string(e.what()).find("compression method 12 is not supported"), std::string::npos)
      << e.what();
}

TEST(ZipReader, StoredSizesMustMatch) {
  std::vector<uint8_t> b = load(io_dir() + "/deflated.zip");
  patch_both(b, "stored.txt", kUncompressed, 12, 4);
  Error e = expect_error([&] { open_and_read_all(b); });
  EXPECT_NE(std::string(e.what()).find("stored member has compressed size 13"), std::string::npos)
      << e.what();
}

TEST(ZipReader, DuplicateNamesAreRejected) {
  Error e = expect_error([&] { ZipReader zip(map_file(io_dir() + "/duplicate.zip"), "dup.zip"); });
  EXPECT_EQ(e.code(), ErrorCode::invalid_file);
  EXPECT_STREQ(e.what(), "dup.zip: zip archive has two members named 'a.txt'");
}

TEST(ZipReader, EndRecordLiesAreRejected) {
  std::vector<uint8_t> b = load(io_dir() + "/deflated.zip");
  size_t end = b.size() - 22;
  ASSERT_EQ(b[end + 2], 5);
  std::vector<uint8_t> c = b;
  put16(c, end + 8, 0xFFFF);
  put16(c, end + 10, 0xFFFF);
  Error e = expect_error([&] { open_and_read_all(c); });
  EXPECT_NE(std::string(e.what()).find("claims 65535 members"), std::string::npos) << e.what();

  c = b;
  put32(c, end + 16, 0x7FFFFFFF);  // central directory offset
  e = expect_error([&] { open_and_read_all(c); });
  EXPECT_NE(std::string(e.what()).find("central directory (offset 2147483647"), std::string::npos)
      << e.what();

  c = b;
  put16(c, end + 4, 1);  // disk number
  e = expect_error([&] { open_and_read_all(c); });
  EXPECT_EQ(e.code(), ErrorCode::unsupported);
}

}  // namespace
}  // namespace krt::io
