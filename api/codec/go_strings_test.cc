#include "api/codec/go_strings.h"

#include "gtest/gtest.h"

namespace kslice::codec {
namespace {

// Expected values are what Go 1.22 prints for strconv.Quote / json.Marshal.
TEST(GoStringsTest, Quote) {
  EXPECT_EQ(GoQuoted("web-0"), R"("web-0")");
  EXPECT_EQ(GoQuoted("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(GoQuoted("l1\nl2\t\a\v"), R"("l1\nl2\t\a\v")");
  EXPECT_EQ(GoQuoted(std::string("\x00\x1f\x7f", 3)), R"("\x00\x1f\x7f")");
  EXPECT_EQ(GoQuoted("h\xc3\xa9"), "\"h\xc3\xa9\"");      // é kept
  EXPECT_EQ(GoQuoted("\xff"), R"("\xff")");               // invalid UTF-8
  EXPECT_EQ(GoQuoted("\xc2\x85"), R"("\u0085")");         // C1 control
}

TEST(GoStringsTest, Json) {
  EXPECT_EQ(GoJsonString("a<b>&c"), R"("a\u003cb\u003e\u0026c")");
  EXPECT_EQ(GoJsonString("q\"\\\n\r\t\b\f"), R"("q\"\\\n\r\t\b\f")");
  EXPECT_EQ(GoJsonString(std::string("\x01", 1)), R"("\u0001")");
  EXPECT_EQ(GoJsonString("\xff"), R"("\ufffd")");
  EXPECT_EQ(GoJsonString("\xe2\x80\xa8"), R"("\u2028")");
  EXPECT_EQ(GoJsonString("h\xc3\xa9"), "\"h\xc3\xa9\"");
}

}  // namespace
}  // namespace kslice::codec
