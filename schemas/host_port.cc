#include "schemas/host_port.h"

#include <boost/url/parse.hpp>
#include <charconv>

namespace blackbox {

Result<HostPort> parse_host_port(std::string_view text) {
  auto a = boost::urls::parse_authority(text);
  if (!a || a->has_userinfo() || !a->has_port()) return Err(Errc::kInvalidArgument);
  // Boost.URL accepts any run of digits as a port (port_number() is 0 when it overflows): the
  // range is checked here.
  const std::string_view p = a->port();
  unsigned value = 0;
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
  if (p.empty() || ec != std::errc() || end != p.data() + p.size() || value > 65535)
    return Err(Errc::kInvalidArgument);
  HostPort out;
  out.port = static_cast<std::uint16_t>(value);
  switch (a->host_type()) {
    case boost::urls::host_type::ipv4:
      out.host = a->host_ipv4_address().to_string();
      break;
    case boost::urls::host_type::ipv6:
      out.host = a->host_ipv6_address().to_string();
      break;
    case boost::urls::host_type::name:
      out.host = a->host_name();
      break;
    default:  // IPvFuture, or no host at all
      return Err(Errc::kInvalidArgument);
  }
  if (out.host.empty()) return Err(Errc::kInvalidArgument);
  return out;
}

std::string format_host_port(const HostPort& hp) {
  const bool v6 = hp.host.find(':') != std::string::npos;
  return (v6 ? "[" + hp.host + "]" : hp.host) + ":" + std::to_string(hp.port);
}

}  // namespace blackbox
