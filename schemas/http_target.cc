// The one translation unit that compiles Boost.URL (header-only through src.hpp).
#include "schemas/http_target.h"

#include <boost/url.hpp>
#include <boost/url/src.hpp>

namespace blackbox {

Result<HttpTarget> parse_http_target(std::string_view target) {
  auto u = boost::urls::parse_origin_form(target);
  if (!u) return Err(Errc::kInvalidArgument);
  HttpTarget out;
  out.path = u->path();  // decoded
  for (auto seg : u->segments()) out.segments.push_back(seg);
  for (const auto& p : u->params()) out.params.emplace_back(p.key, p.value);
  return out;
}

std::string make_http_target(std::string_view path, const QueryParams& params) {
  // Keys and values are encoded with only the unreserved characters left as they are: params()
  // .append() would leave '+' alone, which every form decoder (ours included) reads as a space.
  std::string out(path);
  char sep = '?';
  for (const auto& [k, v] : params) {
    out += sep;
    out += boost::urls::encode(k, boost::urls::unreserved_chars);
    out += '=';
    out += boost::urls::encode(v, boost::urls::unreserved_chars);
    sep = '&';
  }
  return out;
}

std::string encode_path_segment(std::string_view segment) {
  return boost::urls::encode(segment, boost::urls::unreserved_chars);
}

Result<HttpServerAddress> parse_server_url(std::string_view url) {
  std::string text(url);
  if (text.find("://") == std::string::npos) text = "http://" + text;
  auto u = boost::urls::parse_absolute_uri(text);
  if (!u ||
      (u->scheme_id() != boost::urls::scheme::http &&
       u->scheme_id() != boost::urls::scheme::https) ||
      u->has_userinfo() || u->has_query() || u->has_fragment() || u->encoded_host().empty())
    return Err(Errc::kInvalidArgument);
  HttpServerAddress out;
  out.https = u->scheme_id() == boost::urls::scheme::https;
  if (out.https) out.port = 443;
  out.host = u->host_name().empty() ? std::string(u->encoded_host_address()) : u->host_name();
  if (u->host_type() == boost::urls::host_type::ipv6) out.host = u->host_ipv6_address().to_string();
  if (u->has_port()) {
    if (u->port().empty() || u->port_number() == 0) return Err(Errc::kInvalidArgument);
    out.port = u->port_number();
  }
  out.base_path = u->path();
  while (!out.base_path.empty() && out.base_path.back() == '/') out.base_path.pop_back();
  return out;
}

}  // namespace blackbox
