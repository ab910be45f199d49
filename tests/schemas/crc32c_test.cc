#include "schemas/crc32c.h"

#include "tests/schemas/generators.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace blackbox {
namespace {

using testing::SeededRng;

struct Vector {
  std::string data;
  std::uint32_t crc;
};

// "123456789" is the standard check value; the 32-byte vectors are RFC 3720 §B.4 (iSCSI).
std::vector<Vector> known_answers() {
  std::string ascending(32, 0), descending(32, 0);
  for (int i = 0; i < 32; ++i) {
    ascending[i] = static_cast<char>(i);
    descending[i] = static_cast<char>(31 - i);
  }
  return {
      {"", 0x00000000},
      {"123456789", 0xE3069283},
      {"a", 0xC1D04330},
      {std::string(32, '\0'), 0x8A9136AA},
      {std::string(32, '\xff'), 0x62A8AB43},
      {ascending, 0x46DD794E},
      {descending, 0x113FDB5C},
  };
}

TEST(Crc32c, KnownAnswersDispatchedPath) {
  for (const auto& v : known_answers())
    EXPECT_EQ(crc32c::value(v.data), v.crc) << "input of " << v.data.size() << " bytes";
}

TEST(Crc32c, KnownAnswersPortablePath) {
  for (const auto& v : known_answers())
    EXPECT_EQ(crc32c::extend_portable_for_test(0, v.data), v.crc)
        << "input of " << v.data.size() << " bytes";
}

// extend() continues a CRC: any split of the input gives the CRC of the whole, on either path,
// from any alignment of the buffer.
TEST(Crc32c, ExtendIsIncrementalAndPathsAgree) {
  SeededRng rng;
  SCOPED_TRACE(rng.trace());
  std::string data(600, '\0');
  for (char& c : data) c = static_cast<char>(rng.range(0, 255));
  for (std::size_t offset = 0; offset < 8; ++offset) {
    for (std::size_t len = 0; len + offset <= 300; ++len) {
      const std::string_view s = std::string_view(data).substr(offset, len);
      const std::uint32_t whole = crc32c::value(s);
      ASSERT_EQ(whole, crc32c::extend_portable_for_test(0, s)) << offset << "+" << len;
      const std::size_t cut = rng.range(0, len);
      EXPECT_EQ(whole, crc32c::extend(crc32c::value(s.substr(0, cut)), s.substr(cut)));
      EXPECT_EQ(whole, crc32c::extend_portable_for_test(
                           crc32c::extend_portable_for_test(0, s.substr(0, cut)), s.substr(cut)));
    }
  }
}

}  // namespace
}  // namespace blackbox
