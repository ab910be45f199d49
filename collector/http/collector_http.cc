#include "collector/http/collector_http.h"

#include "collector/config.h"

namespace blackbox::collector::http {

Result<std::unique_ptr<HttpServer>> start_http_server(Collector& collector) {
  const Config& config = collector.config();
  if (config.collector.http.empty()) return std::unique_ptr<HttpServer>();
  HttpServerOptions options;
  if (!split_host_port(config.collector.http, options.host, options.port))
    return Err(Errc::kInvalidArgument);  // validate() already refused this
  options.api.limits = limits(config);
  auto server =
      HttpServer::start(options, collector.store(), collector.metrics(), collector.clock());
  if (!server) return server.error();
  HttpServer* raw = server->get();
  collector.on_shutdown([raw] { raw->stop(); });
  return std::move(*server);
}

}  // namespace blackbox::collector::http
