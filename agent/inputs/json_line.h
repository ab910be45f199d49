// Structured lines: a line that is a JSON object is parsed with simdjson (on demand) and its
// top-level members become record fields (key, raw JSON value). Recognised members set the
// record's own properties instead: the event time (`time`, `ts`, `timestamp`, `@timestamp`:
// RFC 3339 text or epoch s/ms/µs/ns) and severity (`level`, `severity`, `lvl`: names or
// numbers). `msg` / `message` are recognised as the message and kept as a field under their
// own key (the line itself is always kept byte-exact). Input thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "schemas/record.h"

namespace blackbox::agent {

struct JsonLineOptions {
  std::size_t max_json_bytes = 64 * 1024;  // longer lines are kept as plain text
  std::size_t max_fields = 64;             // members past this stay only in the line
};

class JsonLineParser {
 public:
  // simdjson reads up to this many bytes past a line's end (they must be readable).
  static constexpr std::size_t kPadding = 64;

  explicit JsonLineParser(JsonLineOptions options = {});
  ~JsonLineParser();
  JsonLineParser(const JsonLineParser&) = delete;
  JsonLineParser& operator=(const JsonLineParser&) = delete;

  // If `line` is a JSON object, sets r.fields (views into `line` and into this parser, valid
  // until the next call), r.event_time_ns / r.severity when recognised, adds
  // record_flags::kJson and returns true. Otherwise leaves `r` untouched.
  bool parse(std::string_view line, RecordData& r);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// RFC 3339 / ISO 8601 date-time ("2024-05-01T12:00:00.123Z", "2024-05-01 12:00:00+02:00";
// no zone means UTC) to ns since the epoch.
std::optional<std::int64_t> parse_rfc3339_ns(std::string_view s);

}  // namespace blackbox::agent
