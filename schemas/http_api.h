// Constants the collector's HTTP query API and the `blackbox` CLI agree on. The endpoints
// themselves (queries, admin actions, access control with bearer tokens) are documented in
// query/README.md.
#pragma once

#include <cstdint>
#include <string_view>

namespace blackbox {

// The collector serves the query API on 127.0.0.1:kDefaultHttpPort unless told otherwise, and
// `blackbox` talks to http://127.0.0.1:kDefaultHttpPort unless --server / BLACKBOX_SERVER say
// otherwise.
inline constexpr std::uint16_t kDefaultHttpPort = 8787;
inline constexpr std::string_view kDefaultServerUrl = "http://127.0.0.1:8787";

// Every API path starts with this prefix; a breaking change bumps it.
inline constexpr std::string_view kApiPrefix = "/v1";

}  // namespace blackbox
