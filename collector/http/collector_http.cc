#include "collector/http/collector_http.h"

#include "collector/config.h"
#include "schemas/host_port.h"

namespace blackbox::collector::http {

Result<std::unique_ptr<HttpServer>> start_http_server(Collector& collector) {
  const Config& config = collector.config();
  if (config.collector.http.empty()) return std::unique_ptr<HttpServer>();
  HttpServerOptions options;
  auto address = parse_host_port(config.collector.http);
  if (!address) return address.error();  // validate() already refused this
  options.host = address->host;
  options.port = address->port;
  options.api.limits = limits(config);
  options.api.time_skew_ns = time_skew_ns(config);
  auto server =
      HttpServer::start(options, collector.store(), collector.metrics(), collector.clock());
  if (!server) return server.error();
  HttpServer* raw = server->get();
  collector.on_shutdown([raw] { raw->stop(); });
  return std::move(*server);
}

}  // namespace blackbox::collector::http
