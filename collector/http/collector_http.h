// Attaches the query API to a running Collector: the glue main.cc calls, so that its edit stays
// two lines. Reads config.collector.http (HOST:PORT; empty = no HTTP server) and the wire
// limits, starts the HttpServer and stops it when the collector shuts down.
#pragma once

#include <memory>

#include "collector/collector.h"
#include "collector/http/http_server.h"

namespace blackbox::collector::http {

// nullptr (and no error) when config.collector.http is empty. Errors: see HttpServer::start.
// The server must outlive `collector.run()`; keep the pointer in main.
[[nodiscard]] Result<std::unique_ptr<HttpServer>> start_http_server(Collector& collector);

}  // namespace blackbox::collector::http
