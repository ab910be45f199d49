#include "collector/query/record_filter.h"

#include <gtest/gtest.h>

#include <random>

namespace blackbox::collector::query {
namespace {

std::unique_ptr<RecordFilter> make(FilterSpec spec) {
  std::string error;
  auto f = RecordFilter::compile(std::move(spec), error);
  EXPECT_TRUE(f) << error;
  return f ? std::move(*f) : nullptr;
}

// Encodes lines as a batch payload and returns, per line, what GrepScan says.
std::vector<bool> scan_payload(const RecordFilter& f, const std::vector<std::string>& lines) {
  std::string raw;
  for (const auto& l : lines) {
    RecordData d;
    d.line = l;
    d.source = "s";
    append_record(raw, d);
  }
  RecordReader reader(raw, 0, static_cast<std::uint32_t>(lines.size()));
  RecordFilter::GrepScan scan(f, raw);
  std::vector<bool> out;
  RecordView r;
  while (true) {
    auto more = reader.next(r);
    EXPECT_TRUE(more);
    if (!more || !*more) break;
    out.push_back(scan.line_matches(r.line));
  }
  return out;
}

TEST(RecordFilter, InvalidRegexIsReported) {
  std::string error;
  FilterSpec spec;
  spec.grep = "(unclosed";
  EXPECT_FALSE(RecordFilter::compile(spec, error));
  EXPECT_NE(error.find("missing )"), std::string::npos) << error;
}

TEST(RecordFilter, WholePayloadSearchAgreesWithLineByLine) {
  std::mt19937_64 rng(1234);
  const char* words[] = {"error", "Error", "timeout", "ok",   "disk", "full",
                         "42",    "a",     "",        "\xff", "é",    "connection refused",
                         "x=1",   " "};
  const char* patterns[] = {"error",      "(?i)error", "time.*out", "^ok",     "full$",
                            "\\bdisk\\b", "[0-9]+",    "x*",        "refused", "a|disk",
                            "é",          "ok disk",   "^$",        "\\d{2}",  "."};
  std::uniform_int_distribution<int> nwords(0, 6), pick(0, std::size(words) - 1);
  for (const char* pattern : patterns) {
    FilterSpec spec;
    spec.grep = pattern;
    auto f = make(spec);
    for (int round = 0; round < 200; ++round) {
      std::vector<std::string> lines(1 + round % 17);
      for (auto& l : lines) {
        const int n = nwords(rng);
        for (int i = 0; i < n; ++i) l += std::string(words[pick(rng)]) + (i % 2 ? " " : "");
      }
      auto got = scan_payload(*f, lines);
      ASSERT_EQ(got.size(), lines.size());
      for (std::size_t i = 0; i < lines.size(); ++i)
        ASSERT_EQ(got[i], f->grep_matches(lines[i]))
            << "pattern " << pattern << " line '" << lines[i] << "' (seed 1234, round " << round
            << ")";
    }
  }
}

TEST(RecordFilter, PriorityRanges) {
  int lo = -1, hi = -1;
  ASSERT_TRUE(parse_priority_range("err", lo, hi));
  EXPECT_EQ(lo, 0);
  EXPECT_EQ(hi, 3);
  ASSERT_TRUE(parse_priority_range("warning..crit", lo, hi));
  EXPECT_EQ(lo, 2);
  EXPECT_EQ(hi, 4);
  ASSERT_TRUE(parse_priority_range("6", lo, hi));
  EXPECT_EQ(hi, 6);
  EXPECT_FALSE(parse_priority_range("loud", lo, hi));
  EXPECT_FALSE(parse_priority_range("err..", lo, hi));
}

TEST(RecordFilter, FieldsPrioritySource) {
  FilterSpec spec;
  spec.where = {{"user", "bob"}, {"n", "42"}, {"s", "a\"b"}};
  spec.priority_set = true;
  spec.min_priority = 0;
  spec.max_priority = 3;
  spec.sources = {"/a"};
  auto f = make(spec);
  const std::vector<Field> fields = {{"user", "\"bob\""}, {"n", "42"}, {"s", "\"a\\\"b\""}};
  std::string raw;
  RecordData d;
  d.severity = Severity::kErr;
  d.source = "/a";
  d.line = "x";
  d.fields = fields;
  append_record(raw, d);
  d.severity = Severity::kInfo;
  append_record(raw, d);
  d.severity = Severity::kCrit;
  d.source = "/b";
  append_record(raw, d);
  d.source = "/a";
  const std::vector<Field> other = {{"user", "\"bobby\""}, {"n", "42"}, {"s", "\"a\\\"b\""}};
  d.fields = other;
  append_record(raw, d);
  RecordReader reader(raw, 0, 4);
  RecordView r;
  std::vector<bool> got;
  while (*reader.next(r)) got.push_back(f->matches_fields(r));
  EXPECT_EQ(got, (std::vector<bool>{true, false, false, false}));
}

// A field value is JSON text: `where` compares the decoded string, whatever its escapes.
TEST(RecordFilter, WhereComparesDecodedStrings) {
  FilterSpec spec;
  // b, e-acute, b, space, "q", newline, U+1F600 (a surrogate pair in JSON), slash; UTF-8.
  spec.where = {{"s",
                 "b\xc3\xa9"
                 "b \"q\"\n\xf0\x9f\x98\x80/"}};
  auto f = make(spec);
  auto matches = [&](std::string_view raw_value) {
    const std::vector<Field> fields = {{"s", raw_value}};
    std::string raw;
    RecordData d;
    d.line = "x";
    d.fields = fields;
    append_record(raw, d);
    RecordReader reader(raw, 0, 1);
    RecordView r;
    EXPECT_TRUE(*reader.next(r));
    return f->matches_fields(r);
  };
  EXPECT_TRUE(matches(R"("b\u00e9b \"q\"\n\ud83d\ude00\/")"));
  EXPECT_TRUE(matches(R"("b\u00E9b \u0022q\"\u000a\uD83D\uDE00/")"));
  EXPECT_TRUE(
      matches("\"b\xc3\xa9"
              "b \\\"q\\\"\\n\xf0\x9f\x98\x80/\""));
  EXPECT_FALSE(matches(R"("b\u00e9b \"q\"\n\ud83d/")"));  // a lone surrogate
  EXPECT_FALSE(matches(R"("b\u00e9b \"q\"\x")"));         // not an escape
  EXPECT_FALSE(matches(R"("beb \"q\"\n\ud83d\ude00/")"));
}

TEST(RecordFilter, IndexRulesOutBatches) {
  FilterSpec spec;
  spec.grep = "disk full";  // needs no whole word: cannot use the word filter
  spec.priority_set = true;
  spec.max_priority = 3;
  spec.sources = {"/a"};
  auto f = make(spec);
  BatchIndexEntry e;
  e.severity_counts[6] = 10;
  e.sources = {"/a"};
  EXPECT_FALSE(f->index_may_match(e));  // no err-or-worse record
  e.severity_counts[3] = 1;
  EXPECT_TRUE(f->index_may_match(e));
  e.sources = {"/b"};
  EXPECT_FALSE(f->index_may_match(e));  // not from /a

  FilterSpec words;
  words.grep = "the disk is full";  // "disk" and "is" are whole words of any match
  auto g = make(words);
  BatchIndexEntry b;
  b.words = TokenFilter::with_capacity(16);
  b.words.add_word("something");
  EXPECT_FALSE(g->index_may_match(b));
  b.words.add_word("disk");
  b.words.add_word("is");
  EXPECT_TRUE(g->index_may_match(b));
}

}  // namespace
}  // namespace blackbox::collector::query
