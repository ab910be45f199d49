#include "agent/spool/checkpoint.h"

#include <gtest/gtest.h>

#include <random>

namespace blackbox::agent {
namespace {

Checkpoint random_checkpoint(std::mt19937_64& rng) {
  Checkpoint cp;
  for (std::uint32_t s = 1; s <= rng() % 4; ++s) {
    StreamState st{s, rng(), {}};
    for (auto& b : st.head) b = static_cast<std::uint8_t>(rng());
    cp.streams.push_back(st);
  }
  for (std::size_t i = 0; i < rng() % 5; ++i) {
    FilePosition f;
    f.path = "/var/log/app-" + std::to_string(rng() % 1000) + ".log";
    f.dev = rng();
    f.ino = rng();
    f.fp_len = static_cast<std::uint32_t>(rng());
    f.fp_crc = static_cast<std::uint32_t>(rng());
    f.offset = rng();
    f.flags = static_cast<std::uint8_t>(rng() & 1);
    cp.files.push_back(f);
  }
  return cp;
}

TEST(Checkpoint, RoundTripsGeneratedValues) {
  const auto seed = std::random_device{}();
  std::mt19937_64 rng(seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  for (int i = 0; i < 500; ++i) {
    Checkpoint cp = random_checkpoint(rng);
    std::string bytes;
    encode_stream_states(bytes, cp.streams);
    encode_file_positions(bytes, cp.files);
    auto back = decode_checkpoint(bytes);
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(*back, cp);
  }
}

TEST(Checkpoint, RejectsTruncatedTrailingAndLyingCounts) {
  Checkpoint cp;
  cp.streams.push_back({1, 42, {}});
  cp.files.push_back({"/a.log", 1, 2, 3, 4, 5, 0});
  std::string bytes;
  encode_stream_states(bytes, cp.streams);
  encode_file_positions(bytes, cp.files);
  for (std::size_t n = 0; n < bytes.size(); ++n)
    EXPECT_FALSE(decode_checkpoint(bytes.substr(0, n))) << "prefix of " << n;
  EXPECT_FALSE(decode_checkpoint(bytes + "x"));
  std::string lying = bytes;
  lying[1] = 0x7f;  // 127 streams claimed
  EXPECT_FALSE(decode_checkpoint(lying));
  std::string version = bytes;
  version[0] = 9;
  EXPECT_EQ(to_errc(decode_checkpoint(version).error()), Errc::kUnsupportedVersion);
}

}  // namespace
}  // namespace blackbox::agent
