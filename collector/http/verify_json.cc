#include "collector/http/verify_json.h"

#include <charconv>

#include "schemas/streams.h"
#include "schemas/time_text.h"

namespace blackbox::collector::http {

namespace {

using nlohmann::json;
using namespace blackbox::collector::query;

VerifyAnswer error(unsigned status, std::string_view code, const std::string& message) {
  return {status, json{{"error", {{"code", code}, {"message", message}}}}.dump()};
}

bool parse_time(const std::string& v, std::int64_t& out) {
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec == std::errc() && p == v.data() + v.size()) return true;
  auto t = parse_rfc3339_ns(v);
  if (!t) return false;
  out = *t;
  return true;
}

json range_json(const SeqRange& r) { return {{"from_seq", r.from_seq}, {"to_seq", r.to_seq}}; }

json instance_json(const InstanceVerify& v) {
  json streams = json::array();
  for (const auto& s : v.streams) {
    json intact = json::array();
    for (const auto& r : s.intact) intact.push_back(range_json(r));
    streams.push_back({{"stream", s.stream},
                       {"name", stream_name(s.stream)},
                       {"batches", s.batches},
                       {"records", s.records},
                       {"stored_end", s.stored_end},
                       {"intact", std::move(intact)},
                       {"signed_through", s.signed_through},
                       {"unsigned_tail", s.unsigned_tail ? range_json(*s.unsigned_tail) : json()}});
  }
  json breaks = json::array();
  for (const auto& b : v.breaks)
    breaks.push_back({{"stream", b.stream},
                      {"first_seq", b.first_seq},
                      {"end_seq", b.end_seq},
                      {"what", break_kind_name(b.what)},
                      {"detail", b.detail}});
  json gaps = json::array();
  for (const auto& g : v.gaps)
    gaps.push_back({{"stream", g.stream},
                    {"from_seq", g.from_seq},
                    {"to_seq", g.to_seq},
                    {"reason", g.reason},
                    {"source", g.source}});
  json unreadable = json::array();
  for (const auto& u : v.unreadable)
    unreadable.push_back({{"stream", u.stream},
                          {"first_seq", u.first_seq},
                          {"end_seq", u.end_seq},
                          {"error", u.error}});
  json sigs = json::array();
  for (const auto& s : v.signatures)
    sigs.push_back({{"seq", s.seq},
                    {"signed_ns", s.signed_ns},
                    {"fingerprint", s.fingerprint},
                    {"state", signature_state_name(s.state)},
                    {"detail", s.detail}});
  return {{"instance", v.instance},
          {"status", verify_status_name(v.status)},
          {"key",
           {{"source", v.key_source.empty() ? json() : json(v.key_source)},
            {"fingerprint", v.key_fingerprint.empty() ? json() : json(v.key_fingerprint)},
            {"note", v.heads_note.empty() ? json() : json(v.heads_note)}}},
          {"covered", v.covered},
          {"signatures_valid", v.signatures_valid},
          {"signatures_invalid", v.signatures_invalid},
          {"streams", std::move(streams)},
          {"breaks", std::move(breaks)},
          {"gaps", std::move(gaps)},
          {"unreadable", std::move(unreadable)},
          {"signatures", std::move(sigs)}};
}

}  // namespace

json verify_report_json(const VerifyReport& report) {
  json instances = json::array();
  for (const auto& i : report.instances) instances.push_back(instance_json(i));
  return {{"status", verify_status_name(report.status)}, {"instances", std::move(instances)}};
}

VerifyAnswer verify_endpoint(const Store& store, const std::string& instance,
                             const QueryParams& params) {
  VerifyOptions o;
  o.instance = instance;
  bool all = false;
  for (const auto& [k, v] : params) {
    if (k == "since" || k == "until") {
      std::int64_t& t = k == "since" ? o.since_ns : o.until_ns;
      if (!parse_time(v, t))
        return error(400, "bad_time",
                     "parameter '" + k + "': '" + v +
                         "' is not an RFC 3339 time with a zone or integer ns since the epoch");
    } else if (k == "key") {
      auto key = parse_verify_key(v);
      if (!key)
        return error(400, "bad_parameter",
                     "parameter 'key': not a public key (64 hex digits) or a fingerprint "
                     "(SHA256:…)");
      o.key = *key;
    } else if (k == "all" && instance.empty()) {
      all = v == "1" || v == "true" || v.empty();
    } else {
      return error(400, "bad_parameter",
                   "unknown parameter '" + k + "' (this endpoint takes: since, until, key" +
                       (instance.empty() ? ", all)" : ")"));
    }
  }
  if (instance.empty() && !all)
    return error(400, "bad_parameter",
                 "GET /v1/verify needs all=1 (or use /v1/instances/{id}/verify)");
  o.all = instance.empty();
  auto r = verify(store, o);
  if (!r) {
    if (to_errc(r.error()) == Errc::kNotFound)
      return error(404, "not_found", "instance " + instance + " not found");
    return error(500, "storage_error",
                 std::string("the collector's store failed while verifying: ") +
                     errc_name(to_errc(r.error())) + " (see the collector's log)");
  }
  return {200, verify_report_json(*r).dump()};
}

}  // namespace blackbox::collector::http
