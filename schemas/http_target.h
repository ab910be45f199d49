// URL handling shared by the collector's HTTP API (parsing request targets) and the CLI
// (parsing --server, building request targets). Boost.URL does the parsing and the percent
// encoding; this header keeps it out of its users.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "schemas/result.h"

namespace blackbox {

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// A request target in origin form ("/v1/instances/i-1/records?grep=a%20b&where=k%3Dv"):
// the percent-decoded path and the decoded query parameters in order (repeats kept).
struct HttpTarget {
  std::string path;                   // decoded as a whole ("/v1/instances/a%2Fb" → ".../a/b")
  std::vector<std::string> segments;  // decoded one by one ({"v1", "instances", "a/b"})
  QueryParams params;
};
[[nodiscard]] Result<HttpTarget> parse_http_target(std::string_view target);

// The inverse: `path` (already a valid path; segments are encoded by the caller with
// encode_path_segment) followed by "?k=v&..." with keys and values percent-encoded.
std::string make_http_target(std::string_view path, const QueryParams& params);

// Percent-encodes one path segment (an instance id may hold any printable ASCII).
std::string encode_path_segment(std::string_view segment);

// An "http://host[:port][/base]" or "https://host[:port][/base]" server address (the
// collector serves HTTPS with api.cert_file / api.key_file).
struct HttpServerAddress {
  std::string host;
  std::uint16_t port = 80;  // 443 for https when the URL names none
  std::string base_path;    // "" or "/prefix" without a trailing slash
  bool https = false;
};
// kInvalidArgument for anything that is not such an address (other schemes, user info,
// query or fragment, a port out of range). A bare "host:port" is accepted as http.
[[nodiscard]] Result<HttpServerAddress> parse_server_url(std::string_view url);

}  // namespace blackbox
