// Error messages quote names from files: raw bytes must come out escaped, valid UTF-8 intact.
#include <gtest/gtest.h>

#include "core/check.h"
#include "core/text.h"
#include "expect_error.h"

namespace krt {
namespace {

TEST(PrintableText, KeepsPrintableAsciiAndUtf8) {
  EXPECT_EQ(printable_text("layer 'dense_1' (Dense)"), "layer 'dense_1' (Dense)");
  EXPECT_EQ(printable_text("caf\xc3\xa9 \xe6\x97\xa5\xf0\x9f\x98\x80"),
            "caf\xc3\xa9 \xe6\x97\xa5\xf0\x9f\x98\x80");
  EXPECT_EQ(printable_text("a\\b"), "a\\b");
}

TEST(PrintableText, EscapesControlAndInvalidBytes) {
  EXPECT_EQ(printable_text(std::string("a\nb\tc\0d", 7)), "a\\x0ab\\x09c\\x00d");
  EXPECT_EQ(printable_text("\x7f"), "\\x7f");
  EXPECT_EQ(printable_text("\xff\xfe"), "\\xff\\xfe");           // never UTF-8
  EXPECT_EQ(printable_text("\xc3"), "\\xc3");                    // truncated
  EXPECT_EQ(printable_text("\xc0\xaf"), "\\xc0\\xaf");           // overlong '/'
  EXPECT_EQ(printable_text("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a surrogate
  EXPECT_EQ(printable_text("\xc2\x85"), "\\xc2\\x85");           // C1 control NEL
}

TEST(PrintableText, FailEscapesWhatItQuotes) {
  Error e = test::expect_error(
      [] { fail(ErrorCode::invalid_file, "m.keras: layer '", std::string("x\x1b[31m\xff"), "'"); });
  EXPECT_EQ(std::string(e.what()), "m.keras: layer 'x\\x1b[31m\\xff'");
}

}  // namespace
}  // namespace krt
