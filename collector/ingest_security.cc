#include "collector/ingest_security.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/stat.h>

#include <boost/asio/ip/address.hpp>

#include "collector/server/tls_context.h"
#include "schemas/host_port.h"

namespace blackbox::collector {
namespace {

bool loopback_host(const std::string& host) {
  if (host == "localhost") return true;
  boost::system::error_code ec;
  const auto addr = boost::asio::ip::make_address(host, ec);
  return !ec && addr.is_loopback();
}

}  // namespace

IngestSecurity describe_ingest_security(const Config& c, bool insecure) {
  IngestSecurity s;
  s.listen = c.collector.listen;
  if (auto hp = parse_host_port(c.collector.listen)) s.loopback = loopback_host(hp->host);
  s.tls = !c.tls.cert_file.empty();
  s.mtls = s.tls && !c.tls.client_ca_file.empty();
  s.token = !c.collector.auth_secret.empty() || !c.collector.auth_secret_file.empty();
  s.enrollment = enrollment_configured(c);
  s.insecure = insecure;

  std::vector<std::string> parts;
  parts.push_back(s.tls ? (c.tls.min_version == "1.2" ? "TLS 1.2+" : "TLS 1.3")
                        : "plaintext (no TLS)");
  if (s.mtls) parts.push_back("mTLS (identity from " + describe_identity(cert_identity(c)) + ")");
  if (s.enrollment) parts.push_back("enrollment");
  if (s.token) parts.push_back("token auth");
  if (!s.authenticated())
    parts.push_back(s.loopback ? "no authentication (loopback only)"
                    : insecure ? "NO AUTHENTICATION (--insecure: anyone who can reach it may "
                                 "write as any instance)"
                               : "no authentication");
  s.summary = fmt::format("ingest {}: {}", s.listen, fmt::join(parts, ", "));
  if (!s.loopback && !s.authenticated() && !insecure) {
    s.allowed = false;
    s.refusal = fmt::format(
        "refusing to start: the ingest listener {} is not a loopback address and has no "
        "authentication (no collector.auth_secret_file token secret, no enrollment secret, no "
        "tls.client_ca_file for mTLS). Configure one of them, listen on 127.0.0.1, or pass "
        "--insecure to accept unauthenticated agents on purpose",
        s.listen);
  }
  return s;
}

std::vector<std::string> validate_tls(const Config& c) {
  std::vector<std::string> p;
  const TlsSection& t = c.tls;
  std::string why;
  if (t.cert_file.empty() != t.key_file.empty())
    p.push_back("tls.cert_file and tls.key_file go together: set both (TLS) or neither");
  if (t.cert_file.empty() && !t.client_ca_file.empty())
    p.push_back("tls.client_ca_file (mTLS) needs tls.cert_file and tls.key_file");
  if (!parse_tls_version(t.min_version, why)) p.push_back("tls.min_version: " + why);
  if (!parse_identity_source(t.identity, why)) p.push_back("tls.identity: " + why);
  if (t.identity == "uri_san" && t.identity_uri_prefix.empty())
    p.push_back("tls.identity_uri_prefix must not be empty (default blackbox://instance/)");
  return p;
}

CertIdentityOptions cert_identity(const Config& c) {
  CertIdentityOptions o;
  std::string why;
  if (auto src = parse_identity_source(c.tls.identity, why)) o.source = *src;
  o.uri_prefix = c.tls.identity_uri_prefix;
  return o;
}

Result<std::shared_ptr<ServerTls>> make_server_tls(const Config& c, std::string& why) {
  if (c.tls.cert_file.empty()) return std::shared_ptr<ServerTls>();
  ServerTlsOptions o;
  o.cert_file = c.tls.cert_file;
  o.key_file = c.tls.key_file;
  o.client_ca_file = c.tls.client_ca_file;
  if (auto v = parse_tls_version(c.tls.min_version, why)) o.min_version = *v;
  return ServerTls::create(std::move(o), why);
}

Result<void> check_inline_secret(const std::string& config_file, const Config& c,
                                 std::string& why) {
  if (config_file.empty() || c.collector.auth_secret.empty()) return {};
  struct stat st {};
  if (::stat(config_file.c_str(), &st) != 0 || (st.st_mode & 077) == 0) return {};
  why = fmt::format(
      "{} holds collector.auth_secret inline but other users may read it (mode {:04o}): move "
      "it to auth_secret_file, mode 600 (or run: chmod 600 {})",
      config_file, st.st_mode & 07777, config_file);
  return Err(Errc::kInvalidArgument);
}

}  // namespace blackbox::collector
