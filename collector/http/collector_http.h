// Attaches the query API to a running Collector: the glue main.cc calls, so that its edit stays
// two lines. Reads config.collector.http (HOST:PORT; empty = no HTTP server), the [api] section
// (bearer tokens, HTTPS) and the wire limits, starts the HttpServer and stops it when the
// collector shuts down.
//
// Secure default (issue 12 item 4): without api.tokens_file the API answers anyone who can
// reach it, so it may listen only on a loopback address (127.0.0.0/8, ::1, localhost) unless
// the operator says --insecure.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "collector/collector.h"
#include "collector/http/http_server.h"

namespace blackbox::collector::http {

struct HttpStartOptions {
  bool insecure = false;  // --insecure: allow a non-loopback API without tokens
};

// Every problem of the query API's settings, each one sentence saying what to fix: a
// non-loopback collector.http without api.tokens_file (unless `insecure`), a tokens file that
// cannot be used (readable by others: the chmod to run; malformed lines), HTTPS files that
// cannot be read. main.cc reports them with the other config problems, before the store opens.
std::vector<std::string> http_problems(const Config& config, const HttpStartOptions& options);

// nullptr (and no error) when config.collector.http is empty. Errors: kInvalidArgument (see
// http_problems(), logged), and those of HttpServer::start. Logs the effective access mode.
// The server must outlive `collector.run()`; keep the pointer in main.
[[nodiscard]] Result<std::unique_ptr<HttpServer>> start_http_server(
    Collector& collector, const HttpStartOptions& options = {});

}  // namespace blackbox::collector::http
