#include "schemas/gap_body.h"

#include "schemas/body_json.h"

namespace blackbox {

namespace {

template <class T>
void put(nlohmann::json& j, const char* key, const std::optional<T>& v) {
  if (v) j[key] = *v;
}

}  // namespace

std::string encode_gap_body(const GapBody& b) {
  nlohmann::json j = {{"reason", b.reason}, {"source", b.source}};
  put(j, "lost_bytes", b.lost_bytes);
  put(j, "records", b.records);
  put(j, "from_offset", b.from_offset);
  put(j, "offset", b.offset);
  put(j, "size", b.size);
  put(j, "segment", b.segment);
  put(j, "stream", b.stream);
  put(j, "first_seq", b.first_seq);
  put(j, "end_seq", b.end_seq);
  put(j, "error", b.error);
  put(j, "note", b.note);
  return body_json::dump(j);
}

Result<GapBody> decode_gap_body(std::string_view line) {
  auto parsed = body_json::parse_object(line);
  if (!parsed) return parsed.error();
  const nlohmann::json& j = *parsed;
  using body_json::read;
  GapBody b;
  const bool ok =
      body_json::require(j, "reason", b.reason) && body_json::require(j, "source", b.source) &&
      read(j, "lost_bytes", b.lost_bytes) && read(j, "records", b.records) &&
      read(j, "from_offset", b.from_offset) && read(j, "offset", b.offset) &&
      read(j, "size", b.size) && read(j, "segment", b.segment) && read(j, "stream", b.stream) &&
      read(j, "first_seq", b.first_seq) && read(j, "end_seq", b.end_seq) &&
      read(j, "error", b.error) && read(j, "note", b.note);
  if (!ok) return Err(Errc::kMalformedRecord);
  return b;
}

}  // namespace blackbox
