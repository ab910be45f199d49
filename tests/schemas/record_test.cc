#include "schemas/record.h"

#include "tests/schemas/generators.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace blackbox {
namespace {

using testing::OwnedRecord;
using testing::SeededRng;
using testing::spec_record;
using testing::spec_record_body;
using testing::SpecRecord;

// Reads every record of `raw`; the error of the first failing next(), or kOk.
Errc read_all(std::string_view raw, std::uint32_t count, const Limits& limits = {},
              std::vector<RecordView>* out = nullptr) {
  RecordReader reader(raw, 0, count, limits);
  RecordView r;
  for (;;) {
    auto more = reader.next(r);
    if (!more) return to_errc(more.error());
    if (!*more) return Errc::kOk;
    if (out) out->push_back(r);
  }
}

TEST(Record, RoundTripsEveryKindByteExact) {
  SeededRng rng;
  SCOPED_TRACE(rng.trace());
  for (int round = 0; round < 200; ++round) {
    std::vector<OwnedRecord> records;
    std::string raw;
    const std::uint64_t first_seq = rng.edgy<std::uint32_t>();
    const std::size_t n = rng.range(1, 40);
    for (std::size_t i = 0; i < n; ++i) {
      records.push_back(testing::random_record(rng));
      const std::size_t before = raw.size();
      append_record(raw, records.back().view());
      ASSERT_EQ(raw.size() - before, encoded_record_size(records.back().view()));
    }
    RecordReader reader(raw, first_seq, static_cast<std::uint32_t>(n));
    RecordView r;
    for (std::size_t i = 0; i < n; ++i) {
      auto more = reader.next(r);
      ASSERT_TRUE(more) << more.error().message();
      ASSERT_TRUE(*more);
      EXPECT_EQ(r.seq, first_seq + i);
      testing::expect_record_eq(records[i], r);
    }
    auto end = reader.next(r);
    ASSERT_TRUE(end);
    EXPECT_FALSE(*end);
  }
}

TEST(Record, KeepsNulCrEmptyAndInvalidUtf8Lines) {
  const std::string lines[] = {std::string(),  std::string("\0", 1),       "a\rb\r",
                               "\xff\xfe\x80", std::string("x\0y\r\n", 5), "\xed\xa0\x80",
                               "\xc3"};
  std::string raw;
  std::vector<OwnedRecord> records;
  for (const auto& l : lines) {
    OwnedRecord r;
    r.line = l;
    r.source = std::string("/var/log/\xff\0.log", 14);
    r.fields = {{std::string("k\0", 2), "\"\xff\""}, {"", ""}};
    records.push_back(r);
  }
  for (auto& r : records) append_record(raw, r.view());
  std::vector<RecordView> got;
  ASSERT_EQ(read_all(raw, std::size(lines), {}, &got), Errc::kOk);
  ASSERT_EQ(got.size(), std::size(lines));
  for (std::size_t i = 0; i < got.size(); ++i) testing::expect_record_eq(records[i], got[i]);
}

TEST(Record, EncodingMatchesTheSpecByteForByte) {
  SpecRecord s;
  s.kind = 2;
  s.severity = 3;
  s.flags = record_flags::kJson | record_flags::kPartial;
  s.event_time_ns = -5;
  s.read_time_ns = 1'700'000'000'123'456'789;
  s.source = "journald";
  s.line = std::string(200, 'L');  // two-byte varint length
  s.fields = {{"user", "\"bob\""}, {"n", "42"}};
  OwnedRecord o;
  o.kind = RecordKind::kLifecycle;
  o.severity = Severity::kErr;
  o.flags = s.flags;
  o.event_time_ns = s.event_time_ns;
  o.read_time_ns = s.read_time_ns;
  o.source = s.source;
  o.line = s.line;
  o.fields = s.fields;
  std::string raw;
  append_record(raw, o.view());
  EXPECT_EQ(raw, spec_record(s));
}

TEST(Record, LineAtTheCapIsAcceptedOneMoreIsLineTooLong) {
  Limits limits;
  limits.max_line_bytes = 100;
  SpecRecord s;
  s.line = std::string(100, 'x');
  EXPECT_EQ(read_all(spec_record(s), 1, limits), Errc::kOk);
  s.line = std::string(101, 'x');
  EXPECT_EQ(read_all(spec_record(s), 1, limits), Errc::kLineTooLong);
}

TEST(Record, SourceOverTheCapIsRejected) {
  SpecRecord s;
  s.source = std::string(kMaxSourceBytes, 's');
  EXPECT_EQ(read_all(spec_record(s), 1), Errc::kOk);
  s.source = std::string(kMaxSourceBytes + 1, 's');
  EXPECT_EQ(read_all(spec_record(s), 1), Errc::kMalformedRecord);
}

// ---- Records that lie about their lengths ------------------------------------------------------

TEST(RecordLies, RecordLenPastTheEnd) {
  const std::string body = spec_record_body(SpecRecord{});
  for (std::uint64_t extra : {1ull, 2ull, 1000ull, 1ull << 40, ~0ull}) {
    std::string raw;
    bytes::put_varint(raw, body.size() + extra);
    raw += body;
    EXPECT_EQ(read_all(raw, 1), Errc::kMalformedRecord) << extra;
  }
}

TEST(RecordLies, RecordLenShorterThanTheFixedPart) {
  const std::string body = spec_record_body(SpecRecord{});
  for (std::size_t len = 0; len < body.size(); ++len) {
    std::string raw;
    bytes::put_varint(raw, len);
    raw += body.substr(0, len);
    EXPECT_EQ(read_all(raw, 1), Errc::kMalformedRecord) << len;
  }
}

TEST(RecordLies, LineLenPastRecordLen) {
  SpecRecord s;
  s.line = "abc";
  std::string body = spec_record_body(s);
  // The line length varint sits after 19 fixed bytes and the source ("src", 1+3 bytes).
  const std::size_t at = 19 + 4;
  ASSERT_EQ(body[at], 3);
  for (char lie : {4, 5, 100, 127}) {
    body[at] = lie;
    std::string raw;
    bytes::put_varint(raw, body.size());
    EXPECT_EQ(read_all(raw + body, 1), Errc::kMalformedRecord) << int(lie);
  }
}

TEST(RecordLies, SourceLenPastRecordLen) {
  std::string body = spec_record_body(SpecRecord{});
  body[19] = 120;
  std::string raw;
  bytes::put_varint(raw, body.size());
  EXPECT_EQ(read_all(raw + body, 1), Errc::kMalformedRecord);
}

TEST(RecordLies, FieldCountTooLarge) {
  SpecRecord s;
  s.fields = {{"k", "v"}};
  const std::string ok_body = spec_record_body(s);
  // Replace the field count (varint 1, after fixed part, source and line) by bigger lies.
  const std::size_t at = 19 + 4 + 5;
  ASSERT_EQ(ok_body[at], 1);
  for (std::uint64_t lie : {2ull, 3ull, 1000ull, 1ull << 32, 1ull << 62, ~0ull}) {
    std::string body = ok_body.substr(0, at);
    bytes::put_varint(body, lie);
    body += ok_body.substr(at + 1);
    std::string raw;
    bytes::put_varint(raw, body.size());
    EXPECT_EQ(read_all(raw + body, 1), Errc::kMalformedRecord) << lie;
  }
}

TEST(RecordLies, FieldLengthPastRecordLen) {
  SpecRecord s;
  s.fields = {{"key", "value"}};
  std::string body = spec_record_body(s);
  body[body.size() - 6] = 50;  // the value's length
  std::string raw;
  bytes::put_varint(raw, body.size());
  EXPECT_EQ(read_all(raw + body, 1), Errc::kMalformedRecord);
}

TEST(RecordLies, TrailingBytesInsideARecord) {
  std::string body = spec_record_body(SpecRecord{}) + "junk";
  std::string raw;
  bytes::put_varint(raw, body.size());
  EXPECT_EQ(read_all(raw + body, 1), Errc::kMalformedRecord);
}

TEST(RecordLies, TrailingBytesAfterTheLastRecord) {
  EXPECT_EQ(read_all(spec_record(SpecRecord{}) + "x", 1), Errc::kMalformedRecord);
  EXPECT_EQ(read_all(spec_record(SpecRecord{}) + std::string(1, '\0'), 1), Errc::kMalformedRecord);
}

TEST(RecordLies, CountMismatchWithTheHeader) {
  const std::string three =
      spec_record(SpecRecord{}) + spec_record(SpecRecord{}) + spec_record(SpecRecord{});
  EXPECT_EQ(read_all(three, 3), Errc::kOk);
  EXPECT_EQ(read_all(three, 4), Errc::kMalformedRecord);  // fewer records than declared
  EXPECT_EQ(read_all(three, 2), Errc::kMalformedRecord);  // more records than declared
  EXPECT_EQ(read_all(three, UINT32_MAX), Errc::kMalformedRecord);
  EXPECT_EQ(read_all("", 1), Errc::kMalformedRecord);
}

TEST(RecordLies, OverlongOrUnterminatedVarints) {
  EXPECT_EQ(read_all(std::string(11, '\x80') + "\x01", 1), Errc::kMalformedRecord);
  EXPECT_EQ(read_all(std::string(10, '\xff'), 1), Errc::kMalformedRecord);
  EXPECT_EQ(read_all("\x80", 1), Errc::kMalformedRecord);
}

TEST(RecordLies, UnknownKindSeverityOrFlags) {
  for (int kind : {0, 5, 255}) {
    SpecRecord s;
    s.kind = static_cast<std::uint8_t>(kind);
    EXPECT_EQ(read_all(spec_record(s), 1), Errc::kMalformedRecord) << "kind " << kind;
  }
  for (int sev : {8, 100, 254}) {
    SpecRecord s;
    s.severity = static_cast<std::uint8_t>(sev);
    EXPECT_EQ(read_all(spec_record(s), 1), Errc::kMalformedRecord) << "severity " << sev;
  }
  SpecRecord unknown_sev;
  unknown_sev.severity = 255;
  EXPECT_EQ(read_all(spec_record(unknown_sev), 1), Errc::kOk);
  for (int flags : {0x10, 0x80, 0xff}) {
    SpecRecord s;
    s.flags = static_cast<std::uint8_t>(flags);
    EXPECT_EQ(read_all(spec_record(s), 1), Errc::kMalformedRecord) << "flags " << flags;
  }
}

// ---- Names -----------------------------------------------------------------------------------

TEST(RecordNames, KindsAndSeverities) {
  EXPECT_STREQ(kind_name(RecordKind::kLog), "log");
  EXPECT_STREQ(kind_name(RecordKind::kLifecycle), "lifecycle");
  EXPECT_STREQ(kind_name(RecordKind::kSnapshot), "snapshot");
  EXPECT_STREQ(kind_name(RecordKind::kGap), "gap");
  for (int k = 0; k < 256; ++k)
    EXPECT_EQ(is_valid_kind(static_cast<std::uint8_t>(k)), k >= 1 && k <= 4);
  const char* names[] = {"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"};
  for (int s = 0; s < 8; ++s) {
    EXPECT_STREQ(severity_name(static_cast<Severity>(s)), names[s]);
    EXPECT_EQ(parse_severity(names[s]), static_cast<Severity>(s));
    EXPECT_EQ(parse_severity(std::string(1, static_cast<char>('0' + s))), static_cast<Severity>(s));
  }
  EXPECT_STREQ(severity_name(Severity::kUnknown), "unknown");
  EXPECT_EQ(parse_severity("ERROR"), Severity::kErr);
  EXPECT_EQ(parse_severity("Warn"), Severity::kWarning);
  EXPECT_EQ(parse_severity("fatal"), Severity::kCrit);
  EXPECT_EQ(parse_severity("critical"), Severity::kCrit);
  EXPECT_EQ(parse_severity("trace"), Severity::kDebug);
  EXPECT_EQ(parse_severity("8"), Severity::kUnknown);
  EXPECT_EQ(parse_severity(""), Severity::kUnknown);
  EXPECT_EQ(parse_severity("errors"), Severity::kUnknown);
}

}  // namespace
}  // namespace blackbox
