#include "query/output/record_writer.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "query/output/table.h"

namespace blackbox::query {
namespace {

using nlohmann::json;

// Captures what an Output writes.
class Capture {
 public:
  Capture() : f_(std::tmpfile()), out_(f_, false) {}
  ~Capture() { std::fclose(f_); }
  Output& out() { return out_; }
  std::string text() {
    out_.flush();
    std::string s;
    std::rewind(f_);
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f_)) > 0) s.append(buf, n);
    return s;
  }

 private:
  std::FILE* f_;
  Output out_;
};

json sample(std::uint64_t seq, const std::string& message, const char* severity = "err",
            int priority = 3) {
  return {{"instance", "i-1"},
          {"stream", 1},
          {"seq", seq},
          {"kind", "log"},
          {"time", "2026-11-26T06:35:14.123456789Z"},
          {"time_ns", 1'795'674'914'123'456'789},
          {"read_time_ns", 1'795'674'914'123'456'790},
          {"source", "/var/log/app.log"},
          {"severity", severity},
          {"priority", priority},
          {"flags", json::array()},
          {"message", message},
          {"fields", json::object()}};
}

TEST(RecordWriter, ShortShowsTimeSourceAndMessage) {
  Capture c;
  auto w = RecordWriter::make(OutputMode::kShort, c.out(), /*utc=*/true);
  w->write(sample(1, "boom"), {});
  w->write(sample(2, "around"), {true, false});
  w->write(sample(9, "later"), {false, true});
  w->finish();
  EXPECT_EQ(c.text(),
            "2026-11-26 06:35:14.123456Z app.log: boom\n"
            "2026-11-26 06:35:14.123456Z app.log- around\n"
            "--\n"
            "2026-11-26 06:35:14.123456Z app.log: later\n");
}

TEST(RecordWriter, ShortEscapesControlCharacters) {
  Capture c;
  auto w = RecordWriter::make(OutputMode::kShort, c.out(), true);
  w->write(sample(1, "a\x1b[2Jb\tc\r"), {});
  EXPECT_EQ(c.text(), "2026-11-26 06:35:14.123456Z app.log: a\\x1b[2Jb\tc\\x0d\n");
}

TEST(RecordWriter, ShortColoursBySeverityOnlyWhenAsked) {
  std::FILE* f = std::tmpfile();
  Output colored(f, true);
  auto w = RecordWriter::make(OutputMode::kShort, colored, true);
  w->write(sample(1, "bad"), {});
  colored.flush();
  std::rewind(f);
  char buf[256] = {};
  const std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  EXPECT_NE(std::string(buf, n).find("\x1b[31mbad\x1b[0m"), std::string::npos);
}

TEST(RecordWriter, JsonIsOneArray) {
  Capture c;
  auto w = RecordWriter::make(OutputMode::kJson, c.out(), true);
  w->write(sample(1, "a"), {});
  w->write(sample(2, "b"), {});
  w->finish();
  w->finish();  // idempotent
  const json doc = json::parse(c.text());
  ASSERT_TRUE(doc.is_array());
  ASSERT_EQ(doc.size(), 2u);
  EXPECT_EQ(doc[1], sample(2, "b"));
}

TEST(RecordWriter, EmptyJsonIsAnEmptyArray) {
  Capture c;
  RecordWriter::make(OutputMode::kJson, c.out(), true)->finish();
  EXPECT_EQ(json::parse(c.text()), json::array());
}

TEST(RecordWriter, NdjsonIsOneObjectPerLine) {
  Capture c;
  auto w = RecordWriter::make(OutputMode::kNdjson, c.out(), true);
  w->write(sample(1, "a\nb"), {});
  w->write(sample(2, "c"), {});
  const std::string text = c.text();
  const auto nl = text.find('\n');
  EXPECT_EQ(json::parse(text.substr(0, nl)), sample(1, "a\nb"));
  EXPECT_EQ(json::parse(text.substr(nl + 1)), sample(2, "c"));
}

TEST(RecordWriter, CsvQuotesAndKeepsBase64) {
  Capture c;
  auto w = RecordWriter::make(OutputMode::kCsv, c.out(), true);
  json r = sample(3, "say \"hi\", ok");
  r["message_base64"] = "/w==";
  w->write(r, {});
  EXPECT_EQ(c.text(),
            "time,time_ns,instance,stream,seq,kind,source,severity,priority,message,"
            "message_base64\n"
            "2026-11-26T06:35:14.123456789Z,1795674914123456789,i-1,1,3,log,/var/log/app.log,err,"
            "3,\"say \"\"hi\"\", ok\",/w==\r\n");
}

TEST(RecordWriter, CatWritesOriginalBytes) {
  Capture c;
  auto w = RecordWriter::make(OutputMode::kCat, c.out(), true);
  json r = sample(1, "\xEF\xBF\xBD");
  r["message_base64"] = "/w==";  // the byte 0xff
  w->write(r, {});
  w->write(sample(2, "plain"), {});
  EXPECT_EQ(c.text(), std::string("\xff\nplain\n"));
}

TEST(Table, AlignsColumns) {
  Capture c;
  Table t({"A", "LONGER"});
  t.add_row({{"xyz", {}}, {"1", {}}});
  t.add_row({{"é", {}}, {"22", {}}});
  t.print(c.out());
  EXPECT_EQ(c.text(), "A    LONGER\nxyz  1\né    22\n");
}

}  // namespace
}  // namespace blackbox::query
