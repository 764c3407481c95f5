#include "io/npy.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "expect_error.h"
#include "io/json.h"
#include "kerasrt/error.h"
#include "kerasrt/tensor.h"
#include "test_paths.h"

namespace krt::io {
namespace {

namespace fs = std::filesystem;

std::string io_dir() { return krt::test::data_dir() + "/io"; }

std::string load(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  EXPECT_TRUE(f) << path;
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

Tensor read_string(const std::string& s, const Limits& limits = {}) {
  return read_npy(Bytes::copy_of(s.data(), s.size()), "x.npy", limits);
}

using krt::test::expect_error;

// A version 1.0 file with the given header dictionary and data bytes (no padding needed).
std::string npy_v1(const std::string& dict, const std::string& data = "") {
  std::string header = dict + "\n";
  std::string s = "\x93NUMPY\x01";
  s += '\0';
  s += static_cast<char>(header.size() & 0xFF);
  s += static_cast<char>(header.size() >> 8);
  return s + header + data;
}

// The values written by tests/data/io/make_test_files.py, as formulas of the flat index.
TEST(Npy, ReadsEveryDtype) {
  Tensor f4 = Tensor::from_npy(io_dir() + "/f4.npy");
  EXPECT_EQ(f4.dtype(), DType::f32);
  EXPECT_EQ(f4.shape(), (Shape{2, 3, 4}));
  for (int i = 0; i < 24; ++i) EXPECT_EQ(f4.data_as<float>()[i], i * 0.5f - 3.0f) << i;

  Tensor f8 = Tensor::from_npy(io_dir() + "/f8.npy");
  EXPECT_EQ(f8.shape(), (Shape{4, 6}));
  for (int i = 0; i < 24; ++i) EXPECT_EQ(f8.data_as<double>()[i], i / 3.0 - 1.0) << i;

  Tensor i4 = Tensor::from_npy(io_dir() + "/i4.npy");
  EXPECT_EQ(i4.shape(), (Shape{24}));
  for (int i = 0; i < 24; ++i) EXPECT_EQ(i4.data_as<int32_t>()[i], i * 1000 - 7000) << i;

  Tensor i8 = Tensor::from_npy(io_dir() + "/i8.npy");
  EXPECT_EQ(i8.shape(), (Shape{3, 8}));
  for (int i = 0; i < 24; ++i)
    EXPECT_EQ(i8.data_as<int64_t>()[i], i * int64_t{3000000000} - 5) << i;

  Tensor u1 = Tensor::from_npy(io_dir() + "/u1.npy");
  EXPECT_EQ(u1.shape(), (Shape{6, 4}));
  for (int i = 0; i < 24; ++i) EXPECT_EQ(u1.data_as<uint8_t>()[i], i * 11 % 256) << i;

  Tensor b1 = Tensor::from_npy(io_dir() + "/b1.npy");
  EXPECT_EQ(b1.dtype(), DType::u8);
  EXPECT_EQ(b1.shape(), (Shape{2, 12}));
  for (int i = 0; i < 24; ++i) EXPECT_EQ(b1.data_as<uint8_t>()[i], i % 3 == 0 ? 1 : 0) << i;
}

TEST(Npy, ReadsScalarsEmptyArraysAndLaterVersions) {
  Tensor s = Tensor::from_npy(io_dir() + "/scalar_f8.npy");
  EXPECT_EQ(s.rank(), 0);
  EXPECT_EQ(s.size(), 1);
  EXPECT_EQ(s.data_as<double>()[0], 2.5);

  Tensor e = Tensor::from_npy(io_dir() + "/empty_f4.npy");
  EXPECT_EQ(e.shape(), (Shape{0, 3}));
  EXPECT_EQ(e.size(), 0);

  for (const char* v : {"/v2_f4.npy", "/v3_f4.npy"}) {
    Tensor t = Tensor::from_npy(io_dir() + v);
    EXPECT_EQ(t.shape(), (Shape{2, 3, 4}));
    EXPECT_EQ(t.data_as<float>()[23], 23 * 0.5f - 3.0f);
  }
}

TEST(Npy, AcceptsNativeAndAlternativeSpellings) {
  std::string four(4, '\0');
  float v = 1.5f;
  std::memcpy(four.data(), &v, 4);
  Tensor t =
      read_string(npy_v1("{\"descr\": \"=f4\", \"fortran_order\": False, \"shape\": (1L,)}", four));
  EXPECT_EQ(t.shape(), (Shape{1}));
  EXPECT_EQ(t.data_as<float>()[0], 1.5f);
  t = read_string(npy_v1("{'shape': (), 'fortran_order': False, 'descr': 'f4',}", four));
  EXPECT_EQ(t.rank(), 0);
  t = read_string(npy_v1("{'descr': '>u1', 'fortran_order': False, 'shape': (2, 2), }", four));
  EXPECT_EQ(t.dtype(), DType::u8);
}

// Shapes and dtypes of every fixture input and output, as listed in each case's meta.json,
// plus a few values computed with numpy (/usr/bin/python3, np.load(...).ravel()).
TEST(Npy, ReadsFixtureInputsAndOutputs) {
  std::string seed = krt::test::data_dir() + "/fixtures/seed/seed_small_functional";
  Tensor in = Tensor::from_npy(seed + "/input_0.npy");
  EXPECT_EQ(in.shape(), (Shape{2, 8, 8, 3}));
  const float* x = in.data_as<float>();
  EXPECT_EQ(x[0], -1.383190631866455f);
  EXPECT_EQ(x[1], -0.4367789626121521f);
  EXPECT_EQ(x[3], 0.5198302865028381f);
  EXPECT_EQ(x[in.size() - 1], 1.8744441270828247f);
  double sum = 0;
  for (int64_t i = 0; i < in.size(); ++i) sum += x[i];
  EXPECT_NEAR(sum, -28.455252611078322, 1e-9);

  Tensor out = Tensor::from_npy(seed + "/output_0.npy");
  EXPECT_EQ(out.shape(), (Shape{2, 8, 8, 32}));
  EXPECT_EQ(out.data_as<float>()[2], 1.1788523197174072f);
  sum = 0;
  for (int64_t i = 0; i < out.size(); ++i) sum += out.data_as<float>()[i];
  EXPECT_NEAR(sum, 129.6742018479854, 1e-9);

  Tensor tokens =
      Tensor::from_npy(krt::test::data_dir() + "/fixtures/models/text_classifier_lstm/input_0.npy");
  EXPECT_EQ(tokens.shape(), (Shape{3, 12}));
  EXPECT_EQ(tokens.data_as<int32_t>()[0], 43);
  EXPECT_EQ(tokens.data_as<int32_t>()[35], 37);

  int checked = 0;
  for (const char* group : {"seed", "layers", "models"}) {
    for (const auto& dir : fs::directory_iterator(krt::test::data_dir() + "/fixtures/" + group)) {
      fs::path meta_path = dir.path() / "meta.json";
      if (!fs::exists(meta_path)) continue;
      Json meta = parse_json(load(meta_path.string()), meta_path.string());
      for (const char* key : {"inputs", "outputs"}) {
        const Json* list = meta.find(key);
        if (!list) continue;
        for (const Json& io : list->items()) {
          fs::path p = dir.path() / io.find("file")->as_string();
          SCOPED_TRACE(p.string());
          Tensor t = Tensor::from_npy(p.string());
          Shape want;
          for (const Json& d : io.find("shape")->items()) want.push_back(d.as_int());
          EXPECT_EQ(t.shape(), want);
          EXPECT_EQ(dtype_name(t.dtype()), io.find("dtype")->as_string());
          ++checked;
        }
      }
    }
  }
  EXPECT_GT(checked, 400);
}

TEST(Npy, WritesTheSameBytesAsNumpy) {
  fs::path tmp = fs::temp_directory_path() / ("krt_npy_test_" + std::to_string(::getpid()));
  fs::create_directories(tmp);
  for (const char* name :
       {"f4", "f8", "i4", "i8", "u1", "scalar_f8", "empty_f4", "wide_empty_f4"}) {
    SCOPED_TRACE(name);
    std::string original = io_dir() + "/" + name + ".npy";
    std::string copy = (tmp / (std::string(name) + ".npy")).string();
    Tensor::from_npy(original).save_npy(copy);
    EXPECT_EQ(load(copy), load(original));
  }
  std::string path = (tmp / "x.npy").string();
  EXPECT_THROW(write_npy(Tensor(), path), Error);
  EXPECT_THROW(write_npy(Tensor(DType::f32, {2}), (tmp / "no/such/dir.npy").string()), Error);
  fs::remove_all(tmp);
}

TEST(Npy, RefusesUnsupportedFilesClearly) {
  struct Case {
    const char* file;
    const char* message;
  };
  for (const Case& c :
       {Case{"fortran_f4.npy", "x.npy: npy arrays in Fortran order are not supported"},
        Case{"bigendian_f4.npy", "x.npy: big-endian npy data ('>f4') is not supported"},
        Case{"object.npy", "x.npy: npy object arrays ('|O') are not supported"},
        Case{"unicode.npy", "x.npy: npy dtype '<U2' is not supported"}}) {
    Error e = expect_error([&] { read_string(load(io_dir() + "/" + c.file)); });
    EXPECT_EQ(e.code(), ErrorCode::unsupported) << c.file;
    EXPECT_EQ(std::string(e.what()).rfind(c.message, 0), 0u) << e.what();
  }
  Error e = expect_error([&] {
    read_string(
        npy_v1("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", "1234"));
  });
  EXPECT_EQ(e.code(), ErrorCode::unsupported);
}

TEST(Npy, RejectsBadHeaders) {
  const std::string data8(8, '\0');
  for (const std::string& dict : {
           std::string("{'descr': '<f4', 'fortran_order': False}"),                      // no shape
           std::string("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -1), }"),  // negative
           std::string("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,), }"),
           std::string("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}"),
           std::string("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)"),  // no '}'
           std::string("{'descr': '<f4, 'fortran_order': False, 'shape': (2,), }"),
           std::string("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } junk"),
           std::string("[1, 2]"),
           std::string(""),
       }) {
    Error e = expect_error([&] { read_string(npy_v1(dict, data8)); });
    EXPECT_EQ(e.code(), ErrorCode::invalid_file) << dict;
    EXPECT_EQ(std::string(e.what()).rfind("x.npy: ", 0), 0u) << e.what();
  }
  // Data size must match the shape exactly.
  std::string ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
  EXPECT_NO_THROW(read_string(npy_v1(ok, data8)));
  Error e = expect_error([&] { read_string(npy_v1(ok, data8.substr(0, 7))); });
  EXPECT_STREQ(e.what(),
               "x.npy: npy data of shape (2,) and dtype '<f4' needs 8 bytes, but the file has 7 "
               "(truncated)");
  EXPECT_THROW(read_string(npy_v1(ok, data8 + "x")), Error);
  // Overflowing and over-limit shapes.
  e = expect_error([&] {
    read_string(
        npy_v1("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }"));
  });
  EXPECT_EQ(e.code(), ErrorCode::limit_exceeded);
  e = expect_error([&] {
    read_string(
        npy_v1("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,), }"));
  });
  EXPECT_EQ(e.code(), ErrorCode::limit_exceeded);
  e = expect_error([&] {
    read_string(npy_v1("{'descr': '<f8', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }"));
  });
  EXPECT_EQ(e.code(), ErrorCode::limit_exceeded);
  // Bad magic, unknown version, lying header length.
  EXPECT_THROW(read_string(""), Error);
  EXPECT_THROW(read_string("\x93NUMPX\x01\x00\x00\x00"), Error);
  std::string v9 = npy_v1(ok, data8);
  v9[6] = 9;
  EXPECT_EQ(expect_error([&] { read_string(v9); }).code(), ErrorCode::unsupported);
  std::string lying = npy_v1(ok, data8);
  lying[8] = '\xff';
  lying[9] = '\x7f';
  EXPECT_THROW(read_string(lying), Error);
}

TEST(Npy, EveryTruncationAndByteFlipIsSafe) {
  for (const char* file : {"f4.npy", "v2_f4.npy", "scalar_f8.npy"}) {
    std::string b = load(io_dir() + "/" + file);
    for (size_t n = 0; n < b.size(); ++n)
      EXPECT_THROW(read_string(b.substr(0, n)), Error) << file << " " << n;
    for (size_t i = 0; i < b.size(); ++i) {
      std::string c = b;
      c[i] ^= 0x5A;
      try {
        read_string(c);
      } catch (const Error&) {
      }
    }
  }
}

}  // namespace
}  // namespace krt::io
