// Fuzz target for the agent's JSON line parser (agent/inputs/json_line.h): every line a tailed
// file yields goes through it. The input is one line, parsed by a parser with the default
// limits and by one with tiny limits. Checked: a line that parses keeps its raw field values
// inside the line (they are views into it), no more fields than the limit, and the record
// goes into a batch and comes back out with the same fields, time and severity (the way it
// travels to the collector), and renders as the query API renders it. The line is also read
// as an RFC 3339 time by the agent's parser: what it reads, it reads again from
// format_rfc3339_ns()'s text, and the collector's parser agrees with it when both accept.
// (The parser has no second path to select: without AVX2 it keeps every line as text.)
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "agent/inputs/json_line.h"
#include "schemas/batch.h"
#include "schemas/record_json.h"
#include "schemas/time_text.h"
#include "schemas/zstd_codec.h"

namespace {

using namespace blackbox;

void parse_and_check(agent::JsonLineParser& parser, std::size_t max_fields, std::string_view line) {
  RecordData r;
  r.source = "/var/log/app.log";
  r.line = line;
  r.event_time_ns = 42;
  r.read_time_ns = 43;
  if (!parser.parse(line, r)) {
    if (r.flags != 0 || !r.fields.empty() || r.event_time_ns != 42) std::abort();
    return;
  }
  if (!(r.flags & record_flags::kJson) || r.fields.size() > max_fields) std::abort();
  for (const Field& f : r.fields)
    if (f.value.data() < line.data() || f.value.data() + f.value.size() > line.data() + line.size())
      std::abort();

  BatchBuilder builder;
  builder.add(r);
  std::string bytes;
  if (!builder.seal(1, 0, kZeroHash, nullptr, bytes)) std::abort();
  static ZstdDecompressor zstd;
  std::string scratch;
  std::size_t n = 0;
  auto h = decode_batch(bytes, Limits{}, zstd, scratch, [&](const RecordView& v) {
    std::vector<Field> fields;
    v.fields(fields);
    if (v.line != line || v.event_time_ns != r.event_time_ns || v.severity != r.severity ||
        fields.size() != r.fields.size())
      std::abort();
    for (std::size_t i = 0; i < fields.size(); ++i)
      if (fields[i].key != r.fields[i].key || fields[i].value != r.fields[i].value) std::abort();
    if (record_to_json("i-fuzz", 1, v)
            .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
            .empty())
      std::abort();
    ++n;
  });
  if (!h || n != 1) std::abort();
}

void check_time(std::string_view text) {
  const auto ns = agent::parse_rfc3339_ns(text);
  if (!ns) return;
  const std::string again = format_rfc3339_ns(*ns);
  if (agent::parse_rfc3339_ns(again) != ns) std::abort();
  if (auto theirs = blackbox::parse_rfc3339_ns(text); theirs && *theirs != *ns) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static agent::JsonLineParser parser;
  static agent::JsonLineParser tiny(agent::JsonLineOptions{64, 2});
  // simdjson may read kPadding bytes past the line: the tailer's buffer has them, so does this.
  std::string buffer(reinterpret_cast<const char*>(data), size);
  buffer.append(agent::JsonLineParser::kPadding, '\0');
  const std::string_view line(buffer.data(), size);
  parse_and_check(parser, agent::JsonLineOptions{}.max_fields, line);
  parse_and_check(tiny, 2, line);
  check_time(line);
  return 0;
}
