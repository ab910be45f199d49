#include "collector/http/collector_http.h"

#include <spdlog/spdlog.h>

#include <boost/asio/ip/address.hpp>

#include "collector/config.h"
#include "collector/server/tls_context.h"
#include "schemas/host_port.h"

namespace blackbox::collector::http {
namespace {

bool loopback(const std::string& host) {
  if (host == "localhost") return true;
  boost::system::error_code ec;
  const auto a = boost::asio::ip::make_address(host, ec);
  return !ec && a.is_loopback();
}

// HTTPS for the API: TLS 1.2 at least (browsers and curl builds that lack 1.3 still connect),
// no client certificates (the bearer token is the credential).
ServerTlsOptions https_options(const Config& config) {
  ServerTlsOptions o;
  o.cert_file = config.api.cert_file;
  o.key_file = config.api.key_file;
  o.min_version = TlsVersion::k1_2;
  return o;
}

}  // namespace

std::vector<std::string> http_problems(const Config& config, const HttpStartOptions& options) {
  std::vector<std::string> p;
  if (config.collector.http.empty()) return p;
  auto address = parse_host_port(config.collector.http);
  if (!address) return p;  // validate() reports it
  const auto& api = config.api;
  if (api.tokens_file.empty() && !options.insecure && !loopback(address->host))
    p.push_back("collector.http is " + config.collector.http +
                ", not a loopback address, and api.tokens_file is not set: anyone who can "
                "reach it could read every instance's records; set api.tokens_file (bearer "
                "tokens), bind the API to 127.0.0.1, or start with --insecure to allow it");
  if (!api.tokens_file.empty()) {
    std::string why;
    if (auto t = TokenTable::load(api.tokens_file, why); !t) p.push_back("api.tokens_file: " + why);
  }
  if (!api.cert_file.empty() && !api.key_file.empty()) {
    std::string why;
    if (auto t = ServerTls::create(https_options(config), why); !t)
      p.push_back("api.cert_file / api.key_file: " + why);
  }
  return p;
}

Result<std::unique_ptr<HttpServer>> start_http_server(Collector& collector,
                                                      const HttpStartOptions& start) {
  const Config& config = collector.config();
  if (config.collector.http.empty()) return std::unique_ptr<HttpServer>();
  if (auto problems = http_problems(config, start); !problems.empty()) {
    for (const auto& p : problems) spdlog::error("http: {}", p);
    return Err(Errc::kInvalidArgument);
  }
  HttpServerOptions options;
  auto address = parse_host_port(config.collector.http);
  if (!address) return address.error();  // validate() already refused this
  options.host = address->host;
  options.port = address->port;
  options.api.limits = limits(config);
  options.api.time_skew_ns = time_skew_ns(config);
  options.api.admin_store = &collector.store();
  options.api.audit_writer = &collector.writer();
  if (!config.api.tokens_file.empty()) {
    std::string why;
    auto tokens = TokenTable::load(config.api.tokens_file, why);
    if (!tokens) {
      spdlog::error("http: api.tokens_file: {}", why);
      return tokens.error();
    }
    spdlog::info("http: access control: {} bearer tokens from {} ({} read, {} admin)",
                 tokens->size(), config.api.tokens_file, tokens->count(Role::kRead),
                 tokens->count(Role::kAdmin));
    options.api.tokens = std::make_shared<const TokenTable>(std::move(*tokens));
  } else if (loopback(address->host)) {
    spdlog::info("http: access control: none (no api.tokens_file; loopback only)");
  } else {
    spdlog::warn(
        "http: access control: NONE on {} (--insecure): anyone who can reach it reads "
        "every instance's records and may set legal holds",
        config.collector.http);
  }
  if (!config.api.cert_file.empty()) {
    std::string why;
    auto tls = ServerTls::create(https_options(config), why);
    if (!tls) {
      spdlog::error("http: api.cert_file / api.key_file: {}", why);
      return tls.error();
    }
    options.tls = std::move(*tls);
    collector.reload_on_sighup(options.tls);
  } else if (!config.api.tokens_file.empty() && !loopback(address->host)) {
    spdlog::warn(
        "http: bearer tokens travel in clear text on {}: set api.cert_file and "
        "api.key_file for HTTPS",
        config.collector.http);
  }
  auto server =
      HttpServer::start(options, collector.store(), collector.metrics(), collector.clock());
  if (!server) return server.error();
  HttpServer* raw = server->get();
  collector.on_shutdown([raw] { raw->stop(); });
  return std::move(*server);
}

}  // namespace blackbox::collector::http
