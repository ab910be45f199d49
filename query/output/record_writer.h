// Writes records (the JSON objects of schemas/record.schema.json, as the API returns them) in
// the CLI's output modes:
//   short   "2026-11-26 06:35:14.123456 app.log: message": local time (UTC with --utc), the
//           source's file name, ':' after a match and '-' after a context line (as grep does),
//           "--" between non-adjacent groups; control characters escaped as \xNN; coloured by
//           severity when colour is on.
//   json    one JSON array of record objects, pretty-printed, closed when output ends.
//   ndjson  one compact record object per line.
//   csv     RFC 4180 with a header: time,time_ns,instance,stream,seq,kind,source,severity,
//           priority,message,message_base64.
//   cat     the message's exact original bytes and a newline, nothing else.
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string_view>

#include "query/output/terminal.h"

namespace blackbox::query {

enum class OutputMode { kShort, kJson, kNdjson, kCsv, kCat };
std::optional<OutputMode> parse_output_mode(std::string_view s);

struct RecordMark {
  bool context = false;      // printed as context around a match, not a match itself
  bool group_start = false;  // not adjacent to the previous record printed: separator first
};

class RecordWriter {
 public:
  virtual ~RecordWriter() = default;
  // `record` is one record object; the writer does not keep it.
  virtual void write(const nlohmann::json& record, const RecordMark& mark) = 0;
  // Closes what the format needs closed (the json array). Idempotent.
  virtual void finish() {}

  // `utc`: show times in UTC instead of local time (short mode only).
  static std::unique_ptr<RecordWriter> make(OutputMode mode, Output& out, bool utc);
};

// "\xNN" for C0 controls (but tab) and DEL, so that a hostile log line cannot drive the
// terminal; everything else unchanged.
std::string escape_controls(std::string_view s);

// RFC 4180 field: quoted when it holds a comma, quote, CR or LF.
std::string csv_field(std::string_view s);

}  // namespace blackbox::query
