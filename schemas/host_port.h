// The one HOST:PORT parser of agent, collector and CLI (listen addresses, collector addresses,
// the metrics endpoint), built on Boost.URL's authority grammar (RFC 3986): a DNS name, an IPv4
// address or a bracketed IPv6 address ("[::1]:7700"), then a colon and a decimal port.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "schemas/result.h"

namespace blackbox {

struct HostPort {
  std::string host;  // name or address, IPv6 without brackets ("::1")
  std::uint16_t port = 0;
};

// "host:7700", "10.0.0.1:0", "[::1]:7700" → HostPort (port 0 is allowed: "any free port" for a
// listener). kInvalidArgument for a missing host, a missing, empty, non-numeric or out-of-range
// port, user info ("u@h:1"), or anything else that is not an authority.
[[nodiscard]] Result<HostPort> parse_host_port(std::string_view text);

// HostPort → "host:7700", or "[::1]:7700" for an IPv6 address; parse_host_port() reads it back.
std::string format_host_port(const HostPort& hp);

}  // namespace blackbox
