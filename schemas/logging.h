// The one log setup of the three binaries: spdlog to stderr (the journal under systemd), every
// line stamped in UTC, ISO 8601 with milliseconds and `Z`, then the level and the message:
//   2026-11-27T16:29:27.123Z info collector: listening on 0.0.0.0:7700
#pragma once

#include <string_view>

namespace blackbox {

// The pattern of every log line (spdlog syntax), applied in UTC.
inline constexpr std::string_view kLogPattern = "%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v";

// Makes a stderr logger named `name` the default one, with kLogPattern in UTC and `level`
// ("trace" … "off"; anything else leaves spdlog's default, info). Call once, from main, before
// any thread logs.
void setup_logging(std::string_view name, std::string_view level = "info");

}  // namespace blackbox
