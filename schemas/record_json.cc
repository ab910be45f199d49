#include "schemas/record_json.h"

#include <nlohmann/json.hpp>
#include <vector>

#include "schemas/text_encoding.h"
#include "schemas/time_text.h"

namespace blackbox {
namespace {

// Parses raw JSON text without throwing; a discarded value when it does not parse.
nlohmann::json parse_or_discarded(std::string_view text) {
  return nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
}

}  // namespace

const char* record_flag_name(std::uint8_t bit) noexcept {
  switch (bit) {
    case record_flags::kSplitHead:
      return "split_head";
    case record_flags::kSplitTail:
      return "split_tail";
    case record_flags::kPartial:
      return "partial";
    case record_flags::kJson:
      return "json";
    default:
      return "unknown";
  }
}

nlohmann::json record_to_json(std::string_view instance, std::uint32_t stream,
                              const RecordView& r) {
  using nlohmann::json;
  json j = json::object();
  j["instance"] = instance;
  j["stream"] = stream;
  j["seq"] = r.seq;
  j["kind"] = kind_name(r.kind);
  j["time"] = format_rfc3339_ns(r.event_time_ns);
  j["time_ns"] = r.event_time_ns;
  j["read_time_ns"] = r.read_time_ns;
  j["source"] = is_valid_utf8(r.source) ? std::string(r.source) : utf8_lossy(r.source);
  if (r.severity == Severity::kUnknown) {
    j["severity"] = nullptr;
    j["priority"] = nullptr;
  } else {
    j["severity"] = severity_name(r.severity);
    j["priority"] = static_cast<int>(r.severity);
  }
  json flags = json::array();
  for (std::uint8_t bit = 1; bit != 0 && bit <= record_flags::kKnownMask; bit <<= 1)
    if (r.flags & bit) flags.push_back(record_flag_name(bit));
  j["flags"] = std::move(flags);
  if (is_valid_utf8(r.line)) {
    j["message"] = r.line;
  } else {
    j["message"] = utf8_lossy(r.line);
    j["message_base64"] = base64_encode(r.line);
  }
  json fields = json::object();
  if (r.field_count > 0) {
    std::vector<Field> fs;
    r.fields(fs);
    for (const Field& f : fs) {
      json v = parse_or_discarded(f.value);
      if (v.is_discarded()) v = is_valid_utf8(f.value) ? std::string(f.value) : utf8_lossy(f.value);
      fields[is_valid_utf8(f.key) ? std::string(f.key) : utf8_lossy(f.key)] = std::move(v);
    }
  }
  j["fields"] = std::move(fields);
  if (r.kind != RecordKind::kLog) {
    json body = parse_or_discarded(r.line);
    j["body"] = body.is_discarded() ? json(nullptr) : std::move(body);
  }
  return j;
}

Result<std::string> record_message_bytes(const nlohmann::json& record) {
  if (!record.is_object()) return Err(Errc::kInvalidArgument);
  if (auto it = record.find("message_base64"); it != record.end()) {
    if (!it->is_string()) return Err(Errc::kInvalidArgument);
    return base64_decode(it->get_ref<const std::string&>());
  }
  auto it = record.find("message");
  if (it == record.end() || !it->is_string()) return Err(Errc::kInvalidArgument);
  return it->get<std::string>();
}

}  // namespace blackbox
