#include "collector/http/api_json.h"

#include "schemas/record_json.h"
#include "schemas/streams.h"
#include "schemas/text_encoding.h"
#include "schemas/time_text.h"

namespace blackbox::collector::http {
namespace {

using nlohmann::json;

// Strings from the store were checked at HELLO (printable ASCII) but JSON must never see
// invalid UTF-8, whatever happened before.
std::string text(std::string_view s) { return is_valid_utf8(s) ? std::string(s) : utf8_lossy(s); }

json text_or_null(std::string_view s) { return s.empty() ? json(nullptr) : json(text(s)); }

json string_array(const std::vector<std::string>& v) {
  json a = json::array();
  for (const auto& s : v) a.push_back(text(s));
  return a;
}

}  // namespace

json instance_json(const InstanceInfo& i) {
  json j = json::object();
  j["instance"] = text(i.instance);
  j["image"] = text(i.image);
  j["hostnames"] = string_array(i.hostnames);
  j["boot_ids"] = string_array(i.boot_ids);
  j["first_seen"] = format_rfc3339_ns(i.first_seen_ns);
  j["last_seen"] = format_rfc3339_ns(i.last_seen_ns);
  j["last_heartbeat"] =
      i.last_heartbeat_ns == 0 ? json(nullptr) : json(format_rfc3339_ns(i.last_heartbeat_ns));
  j["state"] = state_name(i.state);
  if (i.end.kind == EndKind::kNone) {
    j["end"] = nullptr;
  } else {
    j["end"] = {{"kind", end_kind_name(i.end.kind)},
                {"time", format_rfc3339_ns(i.end.time_ns)},
                {"reason", i.end.kind == EndKind::kGoodbye ? text_or_null(i.end.reason) : json()},
                {"termination_notice", i.end.termination_notice || i.termination_notice}};
  }
  j["records"] = i.records;
  j["gaps"] = i.gaps;
  j["legal_hold"] = i.legal_hold;
  return j;
}

json lifecycle_event_json(std::string_view instance, const LifecycleEvent& e) {
  json j = json::object();
  j["instance"] = text(instance);
  j["event"] = lifecycle_kind_name(e.kind);
  j["time"] = format_rfc3339_ns(e.time_ns);
  j["time_ns"] = e.time_ns;
  j["boot_id"] = text_or_null(e.boot_id);
  j["hostname"] = text_or_null(e.hostname);
  j["reason"] = text_or_null(e.reason);
  json detail = json::parse(e.detail_json, nullptr, /*allow_exceptions=*/false);
  j["detail"] = detail.is_object() ? std::move(detail) : json::object();
  return j;
}

json gap_json(const GapRange& g) {
  return {{"stream", g.stream},
          {"stream_name", stream_name(g.stream)},
          {"from_seq", g.from_seq},
          {"to_seq", g.to_seq},
          {"records", g.to_seq - g.from_seq},
          {"detected", format_rfc3339_ns(g.detected_ns)},
          {"detected_ns", g.detected_ns},
          {"reason", text(g.reason)}};
}

json error_json(std::string_view code, std::string_view message) {
  return {{"error", {{"code", code}, {"message", text(message)}}}};
}

json records_json(const std::vector<query::QueryRecord>& records) {
  json a = json::array();
  for (const auto& r : records) {
    json j = record_to_json(r.instance, r.stream, r.view());
    if (r.time_skewed) j["time_skewed"] = true;  // record.schema.json, PROTOCOL.md §5
    a.push_back(std::move(j));
  }
  return a;
}

json context_flags_json(const std::vector<query::QueryRecord>& records) {
  json a = json::array();
  for (const auto& r : records) a.push_back(r.context);
  return a;
}

json group_start_flags_json(const std::vector<query::QueryRecord>& records) {
  json a = json::array();
  for (const auto& r : records) a.push_back(r.group_start);
  return a;
}

json timeline_json(const query::Timeline& t) {
  json doc = json::object();
  doc["instance"] = instance_json(t.instance);
  doc["events"] = json::array();
  for (const auto& e : t.events)
    doc["events"].push_back(lifecycle_event_json(t.instance.instance, e));
  doc["gaps"] = json::array();
  for (const auto& g : t.gaps) doc["gaps"].push_back(gap_json(g));
  json bursts = json::array();
  for (const auto& b : t.bursts) {
    bursts.push_back({{"time", format_rfc3339_ns(b.time_ns)},
                      {"time_ns", b.time_ns},
                      {"count", b.count},
                      {"worst", severity_name(b.worst)}});
  }
  doc["bursts"] = std::move(bursts);
  doc["bucket_ns"] = t.bucket_ns;
  doc["gap_records"] = records_json(t.gap_records);
  const InstanceInfo& info = t.instance;
  json records = {{"count", info.records}};
  if (info.records > 0 && info.min_event_ns <= info.max_event_ns) {
    records["first"] = format_rfc3339_ns(info.min_event_ns);
    records["first_ns"] = info.min_event_ns;
    records["last"] = format_rfc3339_ns(info.max_event_ns);
    records["last_ns"] = info.max_event_ns;
  }
  doc["records"] = std::move(records);
  doc["partial"] = t.partial;
  return doc;
}

nlohmann::json health_json(const StoreHealth& h) {
  nlohmann::json j = {{"status", h.writable ? "ok" : "read_only"},
                      {"ingest", h.writable ? "accepting" : "paused"},
                      {"read_only_start", h.read_only},
                      {"free_bytes", h.free_bytes},
                      {"capacity_bytes", h.capacity_bytes}};
  if (!h.writable) {
    j["error"] = errc_name(h.error);
    j["reason"] = h.reason;
  }
  return j;
}

nlohmann::json unreadable_json(const std::vector<UnreadableBatch>& list) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& u : list)
    a.push_back({{"stream", u.stream},
                 {"stream_name", stream_name(u.stream)},
                 {"first_seq", u.first_seq},
                 {"end_seq", u.end_seq},
                 {"records", u.end_seq - u.first_seq},
                 {"error", u.error}});
  return a;
}

ApiResponse json_response(unsigned status, const json& body) {
  ApiResponse r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  r.body += '\n';
  return r;
}

ApiResponse error_response(unsigned status, std::string_view code, std::string_view message) {
  return json_response(status, error_json(code, message));
}

}  // namespace blackbox::collector::http
