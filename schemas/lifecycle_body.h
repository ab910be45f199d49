// Typed bodies of lifecycle records (RecordKind::kLifecycle, stream 2): what the agent says
// about its own life — it started (hello), it is alive (heartbeat), it learned of a coming
// termination (termination_notice), it stops (goodbye). The agent encodes them, the collector
// decodes termination notices at ingest, users read them in `blackbox timeline`.
//
// Wire shape (PROTOCOL.md §4.1, lifecycle_body.schema.json): one JSON object, keys sorted,
//   hello:              {"agent_version","boot_id","event":"hello","hostname","image_id",
//                        "instance_id_source","spool":{"batches_waiting","damaged_ranges",
//                        "fresh","torn_tail_bytes"}}
//   heartbeat:          {"event":"heartbeat"}
//   termination_notice: {"event":"termination_notice","reason"}
//   goodbye:            {"after_termination_notice","event":"goodbye","reason",
//                        "termination_notice"(only after a notice)}
// Decoders accept extra members (ignored), and a missing or null member other than "event" as
// its default ("" / false / 0), so a newer or older writer's record still decodes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "schemas/result.h"

namespace blackbox {

enum class LifecycleEvent : std::uint8_t { kHello, kHeartbeat, kTerminationNotice, kGoodbye };

// "hello", "heartbeat", "termination_notice", "goodbye".
const char* lifecycle_event_name(LifecycleEvent e) noexcept;
std::optional<LifecycleEvent> parse_lifecycle_event(std::string_view name) noexcept;

// What the agent found in its spool when it started (the hello's "spool" member).
struct SpoolRecovery {
  bool fresh = true;                  // no spool state found: a first start
  std::uint64_t batches_waiting = 0;  // unacknowledged batches found
  std::uint64_t torn_tail_bytes = 0;  // never-committed tail cut off (no loss)
  std::uint64_t damaged_ranges = 0;   // quarantined ranges (each also becomes a gap record)
  bool operator==(const SpoolRecovery&) const = default;
};

struct HelloBody {
  std::string agent_version;
  std::string instance_id_source;  // "config", or the file the instance id came from
  std::string image_id;
  std::string boot_id;
  std::string hostname;
  SpoolRecovery spool;
  bool operator==(const HelloBody&) const = default;
};

struct HeartbeatBody {
  bool operator==(const HeartbeatBody&) const = default;
};

struct TerminationNoticeBody {
  std::string reason;  // as given to the control socket ("spot interruption", …)
  bool operator==(const TerminationNoticeBody&) const = default;
};

struct GoodbyeBody {
  std::string reason;  // "sigterm", "sigint"
  bool after_termination_notice = false;
  std::optional<std::string> termination_notice;  // the notice's reason, when there was one
  bool operator==(const GoodbyeBody&) const = default;
};

using LifecycleBody = std::variant<HelloBody, HeartbeatBody, TerminationNoticeBody, GoodbyeBody>;

LifecycleEvent lifecycle_event(const LifecycleBody& body) noexcept;

// The record line for `body`: the JSON object above, compact, keys sorted. Strings that are
// not valid UTF-8 are written with U+FFFD in place of the ill-formed bytes.
std::string encode_lifecycle_body(const LifecycleBody& body);

// Decodes a lifecycle record's line. kMalformedRecord when it is not a JSON object, has no
// known "event", or a member has the wrong type; kLineTooLong over body_json::kMaxBodyBytes.
[[nodiscard]] Result<LifecycleBody> decode_lifecycle_body(std::string_view line);

}  // namespace blackbox
