#include "schemas/lifecycle_body.h"

#include "schemas/body_json.h"

namespace blackbox {

namespace {

using nlohmann::json;

constexpr const char* kEventNames[] = {"hello", "heartbeat", "termination_notice", "goodbye"};

json to_json(const HelloBody& b) {
  return {{"event", "hello"},
          {"agent_version", b.agent_version},
          {"instance_id_source", b.instance_id_source},
          {"image_id", b.image_id},
          {"boot_id", b.boot_id},
          {"hostname", b.hostname},
          {"spool",
           {{"fresh", b.spool.fresh},
            {"batches_waiting", b.spool.batches_waiting},
            {"torn_tail_bytes", b.spool.torn_tail_bytes},
            {"damaged_ranges", b.spool.damaged_ranges}}}};
}

json to_json(const HeartbeatBody&) { return {{"event", "heartbeat"}}; }

json to_json(const TerminationNoticeBody& b) {
  return {{"event", "termination_notice"}, {"reason", b.reason}};
}

json to_json(const GoodbyeBody& b) {
  json j = {{"event", "goodbye"},
            {"reason", b.reason},
            {"after_termination_notice", b.after_termination_notice}};
  if (b.termination_notice) j["termination_notice"] = *b.termination_notice;
  return j;
}

bool read_hello(const json& j, HelloBody& b) {
  using body_json::read;
  bool ok = read(j, "agent_version", b.agent_version) &&
            read(j, "instance_id_source", b.instance_id_source) &&
            read(j, "image_id", b.image_id) && read(j, "boot_id", b.boot_id) &&
            read(j, "hostname", b.hostname);
  auto spool = j.find("spool");
  if (!ok || spool == j.end() || spool->is_null()) return ok;
  if (!spool->is_object()) return false;
  return read(*spool, "fresh", b.spool.fresh) &&
         read(*spool, "batches_waiting", b.spool.batches_waiting) &&
         read(*spool, "torn_tail_bytes", b.spool.torn_tail_bytes) &&
         read(*spool, "damaged_ranges", b.spool.damaged_ranges);
}

}  // namespace

const char* lifecycle_event_name(LifecycleEvent e) noexcept {
  return kEventNames[static_cast<std::size_t>(e)];
}

std::optional<LifecycleEvent> parse_lifecycle_event(std::string_view name) noexcept {
  return body_json::find_name<LifecycleEvent>(kEventNames, name);
}

LifecycleEvent lifecycle_event(const LifecycleBody& body) noexcept {
  // The variant's alternatives are declared in LifecycleEvent's order.
  return static_cast<LifecycleEvent>(body.index());
}

std::string encode_lifecycle_body(const LifecycleBody& body) {
  return body_json::dump(std::visit([](const auto& b) { return to_json(b); }, body));
}

Result<LifecycleBody> decode_lifecycle_body(std::string_view line) {
  auto parsed = body_json::parse_object(line);
  if (!parsed) return parsed.error();
  const json& j = *parsed;
  std::string name;
  if (!body_json::require(j, "event", name)) return Err(Errc::kMalformedRecord);
  const auto event = parse_lifecycle_event(name);
  if (!event) return Err(Errc::kMalformedRecord);
  bool ok = true;
  LifecycleBody out;
  switch (*event) {
    case LifecycleEvent::kHello: {
      HelloBody b;
      ok = read_hello(j, b);
      out = std::move(b);
      break;
    }
    case LifecycleEvent::kHeartbeat:
      out = HeartbeatBody{};
      break;
    case LifecycleEvent::kTerminationNotice: {
      TerminationNoticeBody b;
      ok = body_json::read(j, "reason", b.reason);
      out = std::move(b);
      break;
    }
    case LifecycleEvent::kGoodbye: {
      GoodbyeBody b;
      ok = body_json::read(j, "reason", b.reason) &&
           body_json::read(j, "after_termination_notice", b.after_termination_notice) &&
           body_json::read(j, "termination_notice", b.termination_notice);
      out = std::move(b);
      break;
    }
  }
  if (!ok) return Err(Errc::kMalformedRecord);
  return out;
}

}  // namespace blackbox
