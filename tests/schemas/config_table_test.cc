// The config-key machinery (schemas/config_table.h) over a small table of its own: TOML
// reading with every problem at once, durations and sizes with units, rendering that reads
// back, and the example-file check.
#include "schemas/config_table.h"

#include <gtest/gtest.h>

namespace blackbox::config {
namespace {

struct Net {
  std::string listen = "127.0.0.1:1";
  std::uint32_t timeout_ms = 10'000;
  std::uint64_t buffer_bytes = 64u << 20;
};
struct Misc {
  bool on = true;
  std::int32_t level = -1;
  std::vector<std::string> names;
};
struct TestConfig {
  Net net;
  Misc misc;
};

template <auto S, auto M>
constexpr auto kField = &member<TestConfig, S, M>;
constexpr Key<TestConfig> kKeys[] = {
    {"net", "listen", Kind::kString, kField<&TestConfig::net, &Net::listen>},
    {"net", "timeout", Kind::kDuration, kField<&TestConfig::net, &Net::timeout_ms>},
    {"net", "buffer_bytes", Kind::kSize, kField<&TestConfig::net, &Net::buffer_bytes>},
    {"misc", "on", Kind::kBool, kField<&TestConfig::misc, &Misc::on>},
    {"misc", "level", Kind::kInteger, kField<&TestConfig::misc, &Misc::level>},
    {"misc", "names", Kind::kStringList, kField<&TestConfig::misc, &Misc::names>},
};

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += s + "\n";
  return out;
}

TEST(ConfigTable, ReadsEveryKind) {
  TestConfig c;
  std::vector<std::string> problems;
  ASSERT_TRUE(read_toml(R"([net]
listen = "[::1]:7"
timeout = "1h30m"
buffer_bytes = "512KiB"
[misc]
on = false
level = -3
names = ["a", "b"]
)",
                        "t", bind(kKeys, c), problems))
      << joined(problems);
  EXPECT_EQ(c.net.listen, "[::1]:7");
  EXPECT_EQ(c.net.timeout_ms, 5'400'000u);
  EXPECT_EQ(c.net.buffer_bytes, 512u * 1024);
  EXPECT_FALSE(c.misc.on);
  EXPECT_EQ(c.misc.level, -3);
  EXPECT_EQ(c.misc.names, (std::vector<std::string>{"a", "b"}));
}

TEST(ConfigTable, ReportsEveryProblemAtOnce) {
  TestConfig c;
  std::vector<std::string> problems;
  EXPECT_FALSE(read_toml(R"([net]
listen = 5
timeout = "10"
buffer_bytes = 4096
bogus = 1
[misc]
on = "yes"
names = [1]
[nope]
)",
                         "t", bind(kKeys, c), problems));
  EXPECT_EQ(problems.size(), 7u) << joined(problems);
  const std::string all = joined(problems);
  EXPECT_NE(all.find("net.timeout: \"10\" has no unit: write \"10s\""), std::string::npos) << all;
  EXPECT_NE(all.find("net.buffer_bytes must be a size string with a unit"), std::string::npos)
      << all;
  EXPECT_NE(all.find("unknown key: net.bogus"), std::string::npos) << all;
  EXPECT_NE(all.find("unknown section or key: nope"), std::string::npos) << all;
  // Keys with a wrong value keep theirs.
  EXPECT_EQ(c.net.timeout_ms, 10'000u);
}

TEST(ConfigTable, SyntaxErrorNamesTheLine) {
  TestConfig c;
  std::vector<std::string> problems;
  EXPECT_FALSE(read_toml("[net\n", "file.toml", bind(kKeys, c), problems));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].rfind("file.toml:1:", 0), 0u) << problems[0];
}

TEST(ConfigTable, OutOfRangeValuesAreProblems) {
  TestConfig c;
  std::vector<std::string> problems;
  EXPECT_FALSE(read_toml("[net]\ntimeout = \"100d\"\n[misc]\nlevel = 9999999999\n", "t",
                         bind(kKeys, c), problems));
  EXPECT_EQ(problems.size(), 2u) << joined(problems);
}

TEST(ConfigTable, Durations) {
  std::string problem;
  EXPECT_EQ(parse_duration_ms("500ms", problem).value(), 500u);
  EXPECT_EQ(parse_duration_ms("10s", problem).value(), 10'000u);
  EXPECT_EQ(parse_duration_ms("2m", problem).value(), 120'000u);
  EXPECT_EQ(parse_duration_ms("1h", problem).value(), 3'600'000u);
  EXPECT_EQ(parse_duration_ms("30d", problem).value(), 2'592'000'000u);
  EXPECT_EQ(parse_duration_ms("0s", problem).value(), 0u);
  EXPECT_FALSE(parse_duration_ms("30", problem));
  EXPECT_NE(problem.find("write \"30s\""), std::string::npos) << problem;
  EXPECT_FALSE(parse_duration_ms("0", problem));
  EXPECT_FALSE(parse_duration_ms("1us", problem));
  EXPECT_FALSE(parse_duration_ms("soon", problem));
  for (std::uint64_t ms : {0ull, 1ull, 250ull, 1000ull, 1500ull, 90'000ull, 86'400'000ull}) {
    auto back = parse_duration_ms(format_duration_ms(ms), problem);
    ASSERT_TRUE(back) << format_duration_ms(ms) << ": " << problem;
    EXPECT_EQ(*back, ms) << format_duration_ms(ms);
  }
  EXPECT_EQ(format_duration_ms(90'000), "1m30s");
  EXPECT_EQ(format_duration_ms(250), "250ms");
}

TEST(ConfigTable, Sizes) {
  std::string problem;
  EXPECT_EQ(parse_size_bytes("64MiB", problem).value(), 64u << 20);
  EXPECT_EQ(parse_size_bytes("512KiB", problem).value(), 512u << 10);
  EXPECT_EQ(parse_size_bytes("1GiB", problem).value(), 1ull << 30);
  EXPECT_EQ(parse_size_bytes("100B", problem).value(), 100u);
  EXPECT_FALSE(parse_size_bytes("4096", problem));
  EXPECT_NE(problem.find("write \"4096B\""), std::string::npos) << problem;
  EXPECT_FALSE(parse_size_bytes("64MB", problem));
  EXPECT_FALSE(parse_size_bytes("MiB", problem));
  EXPECT_FALSE(parse_size_bytes("-1KiB", problem));
  EXPECT_FALSE(parse_size_bytes("99999999999999TiB", problem));
  for (std::uint64_t b : {0ull, 1ull, 1000ull, 1024ull, 16ull << 20, 3ull << 30}) {
    auto back = parse_size_bytes(format_size_bytes(b), problem);
    ASSERT_TRUE(back) << format_size_bytes(b) << ": " << problem;
    EXPECT_EQ(*back, b);
  }
  EXPECT_EQ(format_size_bytes(16u << 20), "16MiB");
}

TEST(ConfigTable, RenderReadsBack) {
  TestConfig c;
  c.net.timeout_ms = 1500;
  c.misc.names = {"x \"quoted\""};
  c.misc.level = -7;
  const std::string text = render_toml(bind(kKeys, c));
  EXPECT_NE(text.find("timeout = \"1500ms\""), std::string::npos) << text;
  TestConfig back;
  back.misc.on = false;
  std::vector<std::string> problems;
  ASSERT_TRUE(read_toml(text, "rendered", bind(kKeys, back), problems)) << joined(problems);
  EXPECT_EQ(render_toml(bind(kKeys, back)), text);
}

TEST(ConfigTable, ExampleMustDocumentEveryKeyWithItsDefault) {
  TestConfig d;
  const auto keys = bind(kKeys, d);
  EXPECT_TRUE(example_problems(render_toml(keys), "ex", keys).empty());
  // A key left out, a value other than the default, a key the table lacks.
  const auto problems = example_problems(R"([net]
listen = "127.0.0.1:1"
timeout = "10s"
buffer_bytes = "32MiB"
extra = 1
[misc]
on = true
level = -1
)",
                                         "ex", keys);
  const std::string all = joined(problems);
  EXPECT_NE(all.find("unknown key: net.extra"), std::string::npos) << all;
  const auto without_extra = example_problems(R"([net]
listen = "127.0.0.1:1"
timeout = "10s"
buffer_bytes = "32MiB"
[misc]
on = true
level = -1
)",
                                              "ex", keys);
  ASSERT_EQ(without_extra.size(), 2u) << joined(without_extra);
  EXPECT_NE(
      joined(without_extra).find("net.buffer_bytes = \"32MiB\", but the default is \"64MiB\""),
      std::string::npos)
      << joined(without_extra);
  EXPECT_NE(joined(without_extra).find("misc.names is not documented"), std::string::npos)
      << joined(without_extra);
}

}  // namespace
}  // namespace blackbox::config
