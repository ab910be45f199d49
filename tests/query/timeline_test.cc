// render_timeline(): the lines `blackbox timeline` prints, from an API document.
#include "query/commands/timeline.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "query/output/terminal.h"
#include "schemas/gap_body.h"
#include "schemas/record.h"
#include "schemas/record_json.h"
#include "schemas/streams.h"

namespace blackbox::query {
namespace {

using nlohmann::json;

// The JSON of a gap record whose line is `line`, as the query API returns it.
json gap_record(const std::string& line) {
  RecordData d;
  d.kind = RecordKind::kGap;
  d.severity = Severity::kWarning;
  d.event_time_ns = 1'795'674'914'000'000'000;
  d.read_time_ns = d.event_time_ns;
  d.source = "spool";
  d.line = line;
  std::string raw;
  append_record(raw, d);
  RecordReader reader(raw, 0, 1);
  RecordView v;
  EXPECT_TRUE(reader.next(v).value());
  return record_to_json("i-1", kStreamLogs, v);
}

std::string render(const json& doc) {
  char* buf = nullptr;
  std::size_t size = 0;
  std::FILE* f = open_memstream(&buf, &size);
  {
    Output out(f, false);
    render_timeline(doc, out, /*utc=*/true);
    out.flush();
  }
  std::fclose(f);
  std::string text(buf, size);
  std::free(buf);
  return text;
}

TEST(Timeline, AgentGapDetailComesFromTheGapBody) {
  GapBody damaged(gap_reason::kSpoolDamaged, "spool");
  damaged.lost_bytes = 100;
  GapBody unknown_size(gap_reason::kTruncated, "/var/log/a\x1b.log");
  const json doc = {{"instance", {{"instance", "i-1"}}},
                    {"gap_records", json::array({gap_record(encode_gap_body(damaged)),
                                                 gap_record(encode_gap_body(unknown_size)),
                                                 gap_record(R"({"reason":"no source"})")})}};
  const std::string text = render(doc);
  EXPECT_NE(
      text.find("gap (agent)        spool lost 100 bytes: spool segment damaged; quarantined\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("gap (agent)        /var/log/a\\x1b.log: truncated\n"), std::string::npos)
      << text;
  // A body that does not decode is still shown as a gap, without detail.
  EXPECT_NE(text.find("gap (agent)        \n"), std::string::npos) << text;
}

}  // namespace
}  // namespace blackbox::query
