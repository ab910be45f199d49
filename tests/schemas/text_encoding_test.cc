#include "schemas/text_encoding.h"

#include "tests/schemas/generators.h"

#include <gtest/gtest.h>

#include <string>

namespace blackbox {
namespace {

using testing::SeededRng;

const std::string kFffd = "\xEF\xBF\xBD";

TEST(Base64, Rfc4648Vectors) {
  const std::pair<std::string, std::string> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"},
                                                         {std::string("\xff\xfe\x00", 3), "//4A"}};
  for (const auto& [raw, text] : vectors) {
    EXPECT_EQ(base64_encode(raw), text);
    auto back = base64_decode(text);
    ASSERT_TRUE(back) << text;
    EXPECT_EQ(*back, raw);
  }
}

TEST(Base64, RoundTripsRandomBytes) {
  SeededRng rng;
  SCOPED_TRACE(rng.trace());
  for (int i = 0; i < 500; ++i) {
    const std::string raw = rng.nasty_bytes(200);
    auto back = base64_decode(base64_encode(raw));
    ASSERT_TRUE(back);
    ASSERT_EQ(*back, raw);
  }
}

TEST(Base64, RejectsWhatIsNotPaddedStandardBase64) {
  for (const char* bad : {"Zg", "Zg=", "Zm9", "Z===", "Zg==Zg==", "Zm 9v", " Zm9v", "Zm9v\n",
                          "Zm9-", "Zm9_", "=Zm9", "Z=m9"}) {
    EXPECT_FALSE(base64_decode(bad)) << bad;
  }
}

TEST(Utf8, ValidityFollowsTheUnicodeTable) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8(std::string("a\0b\r\n", 5)));
  EXPECT_TRUE(is_valid_utf8("\xC3\xA9"));           // é
  EXPECT_TRUE(is_valid_utf8("\xE2\x82\xAC"));       // €
  EXPECT_TRUE(is_valid_utf8("\xF0\x9F\x92\xA5"));   // U+1F4A5
  EXPECT_TRUE(is_valid_utf8("\xF4\x8F\xBF\xBF"));   // U+10FFFF
  EXPECT_TRUE(is_valid_utf8("\xED\x9F\xBF"));       // U+D7FF
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xE0\x80\xAF"));      // overlong
  EXPECT_FALSE(is_valid_utf8("\xF0\x80\x80\xAF"));  // overlong
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate U+D800
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(is_valid_utf8("\xF5\x80\x80\x80"));
  EXPECT_FALSE(is_valid_utf8("\xC3"));  // truncated
  EXPECT_FALSE(is_valid_utf8("\xE2\x82"));
  EXPECT_FALSE(is_valid_utf8("\x80"));  // stray continuation
  EXPECT_FALSE(is_valid_utf8("\xFF"));
}

// Unicode 15 §3.9, Table 3-8: one U+FFFD per maximal subpart.
TEST(Utf8, LossyReplacesEachMaximalSubpart) {
  EXPECT_EQ(utf8_lossy("\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64"),
            "a" + kFffd + kFffd + kFffd + "b" + kFffd + "c" + kFffd + kFffd + "d");
  EXPECT_EQ(utf8_lossy("\xC0\xAF"), kFffd + kFffd);
  EXPECT_EQ(utf8_lossy("\xED\xA0\x80"), kFffd + kFffd + kFffd);
  EXPECT_EQ(utf8_lossy("ok \xE2\x82"), "ok " + kFffd);
  EXPECT_EQ(utf8_lossy(std::string("\0\xC3\xA9", 3)), std::string("\0\xC3\xA9", 3));
}

TEST(Utf8, LossyOutputIsAlwaysValidAndValidInputIsUnchanged) {
  SeededRng rng;
  SCOPED_TRACE(rng.trace());
  for (int i = 0; i < 2000; ++i) {
    const std::string s = rng.nasty_bytes(64);
    const std::string lossy = utf8_lossy(s);
    ASSERT_TRUE(is_valid_utf8(lossy));
    if (is_valid_utf8(s)) {
      ASSERT_EQ(lossy, s);
    }
  }
}

TEST(TextEncoding, Utf8Validation) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("h\xc3\xa9llo \xf0\x9f\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xe2\x82"));          // truncated
  EXPECT_EQ(utf8_lossy("\xe2\x82"
                       "a"),
            "\xEF\xBF\xBD"
            "a");  // one U+FFFD per maximal subpart
}

TEST(TextEncoding, Base64) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(*base64_decode("Zm8="), "fo");
  EXPECT_FALSE(base64_decode("Zm8"));
  EXPECT_FALSE(base64_decode("Z=8="));
  EXPECT_FALSE(base64_decode("Zm 8"));
}

}  // namespace
}  // namespace blackbox
