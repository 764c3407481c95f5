#include "io/json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <string>

#include "expect_error.h"
#include "kerasrt/error.h"
#include "test_paths.h"

namespace krt::io {
namespace {

using krt::test::expect_error;

Json parse(std::string_view text, const Limits& limits = {}) {
  return parse_json(text, "config.json", limits);
}

TEST(Json, ParsesAllKinds) {
  Json j = parse(R"({"n": null, "t": true, "f": false, "i": -42, "u": 18446744073709551615,
                     "x": 2.5, "e": 1e3, "s": "a\"b\u00e9", "a": [1, [2, {}]], "o": {"k": "v"}})");
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j.size(), 10u);
  EXPECT_TRUE(j.find("n")->is_null());
  EXPECT_TRUE(j.find("t")->as_bool());
  EXPECT_FALSE(j.find("f")->as_bool());
  EXPECT_EQ(j.find("i")->as_int(), -42);
  EXPECT_TRUE(j.find("i")->is_integer());
  EXPECT_DOUBLE_EQ(j.find("i")->as_number(), -42.0);
  EXPECT_DOUBLE_EQ(j.find("u")->as_number(), 18446744073709551615.0);
  EXPECT_THROW(j.find("u")->as_int(), Error);  // above int64
  EXPECT_DOUBLE_EQ(j.find("x")->as_number(), 2.5);
  EXPECT_EQ(j.find("e")->as_int(), 1000);  // integral float
  EXPECT_EQ(j.find("s")->as_string(), "a\"b\xc3\xa9");
  const Json& a = *j.find("a");
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].as_int(), 1);
  EXPECT_EQ(a[1][0].as_int(), 2);
  EXPECT_TRUE(a[1][1].is_object());
  EXPECT_EQ(a[1][1].size(), 0u);
  EXPECT_EQ(j.find("o")->find("k")->as_string(), "v");
  EXPECT_EQ(j.find("missing"), nullptr);
  EXPECT_EQ(j.find("s")->find("k"), nullptr);  // not an object
}

TEST(Json, MembersKeepDocumentOrderAndLastDuplicateWins) {
  Json j = parse(R"({"z": 1, "a": 2, "m": 3, "a": 4})");
  const auto& m = j.members();
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m[0].first, "z");
  EXPECT_EQ(m[1].first, "a");
  EXPECT_EQ(m[2].first, "m");
  EXPECT_EQ(j.find("a")->as_int(), 4);  // as Python's json.loads
}

TEST(Json, DumpIsCompact) {
  std::string text = R"({"a":[1,2.5,"x\n",true,null,{}],"b":-3})";
  EXPECT_EQ(parse(text).dump(), text);
  EXPECT_EQ(parse("  [ 1 , 2 ]  ").dump(), "[1,2]");
}

TEST(Json, TypeErrorsSayExpectedAndFound) {
  Json j = parse(R"({"units": "eight", "rate": 0.5, "list": [1]})");
  Error e = expect_error([&] { j.find("units")->as_int(); });
  EXPECT_EQ(e.code(), ErrorCode::invalid_file);
  EXPECT_STREQ(e.what(), "expected an integer, found a string (\"eight\")");
  e = expect_error([&] { j.find("rate")->as_int(); });
  EXPECT_STREQ(e.what(), "expected an integer, found a number (0.5)");
  e = expect_error([&] { j.find("rate")->as_string(); });
  EXPECT_STREQ(e.what(), "expected a string, found a number (0.5)");
  EXPECT_THROW(j.find("list")->members(), Error);
  EXPECT_THROW(j.items(), Error);
  EXPECT_THROW(j.find("list")->as_bool(), Error);
  EXPECT_THROW((*j.find("list"))[1], Error);
  EXPECT_THROW(j.find("rate")->size(), Error);
  EXPECT_THROW(j[0], Error);
}

TEST(Json, AcceptsPythonSpecialNumbers) {
  Json j = parse(R"({"a": NaN, "b": Infinity, "c": -Infinity, "s": "NaN Infinity", "d": [NaN]})");
  EXPECT_TRUE(std::isnan(j.find("a")->as_number()));
  EXPECT_EQ(j.find("b")->as_number(), INFINITY);
  EXPECT_EQ(j.find("c")->as_number(), -INFINITY);
  EXPECT_EQ(j.find("s")->as_string(), "NaN Infinity");
  EXPECT_TRUE(std::isnan(j.find("d")->items()[0].as_number()));
  EXPECT_EQ(j.dump(), R"({"a":NaN,"b":Infinity,"c":-Infinity,"s":"NaN Infinity","d":[NaN]})");
  // Error positions still refer to the original text.
  Error e = expect_error([&] { parse(R"([NaN, Infinity, nul])"); });
  EXPECT_NE(std::string(e.what()).find("config.json: invalid JSON at byte 20:"), std::string::npos)
      << e.what();
}

TEST(Json, SyntaxErrorsNameFileAndByte) {
  Error e = expect_error([&] { parse(R"({"a": 1,, "b": 2})"); });
  EXPECT_EQ(e.code(), ErrorCode::invalid_file);
  EXPECT_EQ(std::string(e.what()).rfind("config.json: invalid JSON at byte 9: syntax error", 0), 0u)
      << e.what();
  EXPECT_EQ(std::string(e.what()).find("[json.exception"), std::string::npos) << e.what();
}

TEST(Json, TruncatedAndEmptyDocumentsThrow) {
  std::string text =
      R"({"class_name": "Dense", "config": {"units": [1, 2.5e-3, "x\u00e9"], "b": true}})";
  ASSERT_NO_THROW(parse(text));
  for (size_t n = 0; n < text.size(); ++n) EXPECT_THROW(parse(text.substr(0, n)), Error) << n;
  EXPECT_THROW(parse("{} extra"), Error);
  EXPECT_THROW(parse("\"\xff\""), Error);  // invalid UTF-8
}

TEST(Json, DepthLimitIsEnforced) {
  Limits limits;
  limits.max_json_depth = 10;
  std::string ok = std::string(10, '[') + std::string(10, ']');
  EXPECT_NO_THROW(parse(ok, limits));
  std::string deep = std::string(11, '[') + std::string(11, ']');
  Error e = expect_error([&] { parse(deep, limits); });
  EXPECT_EQ(e.code(), ErrorCode::limit_exceeded);
  EXPECT_STREQ(e.what(),
               "config.json: JSON nesting is deeper than 10 levels (Limits::max_json_depth)");
  // Far beyond the default limit, and unterminated: the limit trips first.
  std::string bomb(1000000, '[');
  e = expect_error([&] { parse(bomb); });
  EXPECT_EQ(e.code(), ErrorCode::limit_exceeded);
  std::string objects;
  for (int i = 0; i < 300; ++i) objects += "{\"a\":";
  EXPECT_EQ(expect_error([&] { parse(objects); }).code(), ErrorCode::limit_exceeded);
}

TEST(Json, DeepTreesAreDestroyedWithoutRecursion) {
  // Raising the limit makes a deep tree possible; destroying it must not overflow the stack.
  Limits limits;
  limits.max_json_depth = 200000;
  std::string text = std::string(150000, '[') + std::string(150000, ']');
  {
    Json j = parse(text, limits);
    EXPECT_EQ(j.size(), 1u);
  }
  Json chain = Json::array();
  for (int i = 0; i < 200000; ++i) {
    std::vector<Json> items;
    items.push_back(std::move(chain));
    chain = Json::array(std::move(items));
  }
}

TEST(Json, SizeLimitIsEnforced) {
  Limits limits;
  limits.max_json_bytes = 8;
  EXPECT_NO_THROW(parse("[1,2,3]", limits));
  Error e = expect_error([&] { parse("[1,2,3,4]", limits); });
  EXPECT_EQ(e.code(), ErrorCode::limit_exceeded);
  EXPECT_NE(std::string(e.what()).find("Limits::max_json_bytes"), std::string::npos);
}

TEST(Json, ParsesFixtureMetadata) {
  std::string path = krt::test::data_dir() + "/fixtures/seed/seed_small_functional/meta.json";
  std::ifstream f(path);
  std::string text{std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
  Json meta = parse_json(text, "meta.json");
  EXPECT_EQ(meta.find("keras_version")->as_string(), "3.15.1");
  const Json& shape = *meta.find("inputs")->items()[0].find("shape");
  ASSERT_EQ(shape.size(), 4u);
  EXPECT_EQ(shape[0].as_int(), 2);
  EXPECT_EQ(shape[3].as_int(), 3);
  EXPECT_TRUE((*meta.find("inputs"))[0].find("model_shape")->items()[0].is_null());
}

}  // namespace
}  // namespace krt::io
