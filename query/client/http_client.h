// A small blocking HTTP/1.1 client over Boost.Beast for the CLI: requests with deadlines, one
// keep-alive connection reused between calls and reopened when the server closed it; HTTPS
// (an https:// address) over OpenSSL, verifying the server's certificate and host name against
// the system's CAs or `ca_file`; a bearer token sent with every request.
// Not thread-safe: one client per thread. Asio stays inside http_client.cc.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "schemas/http_target.h"
#include "schemas/result.h"

namespace blackbox::query {

struct HttpResponse {
  unsigned status = 0;
  std::string content_type;
  std::string body;
};

struct HttpClientOptions {
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds request_timeout{60'000};  // whole exchange after connecting
  std::size_t max_body_bytes = 512u << 20;
  // When set and it becomes true (a signal handler), a request in flight is abandoned within
  // ~100 ms and get() returns kTimeout: lets `logs -f` stop on Ctrl-C during a long poll.
  const std::atomic<bool>* cancel = nullptr;
  // Sent as "Authorization: Bearer <token>" when not empty (never logged or printed).
  std::string bearer_token;
  // HTTPS: PEM file of the CA(s) that signed the server's certificate; "" = the system's CAs.
  std::string ca_file;
};

class HttpClient {
 public:
  HttpClient(HttpServerAddress server, HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // GET server.base_path + target. `timeout` overrides options.request_timeout when set
  // (long polls). Errors: kUnavailable (resolve/connect failed), kTimeout,
  // kConnectionClosed (closed mid-response), kProtocolViolation (not HTTP), kFrameTooLarge
  // (body over max_body_bytes), kUnauthorized (HTTPS handshake or certificate check failed: the
  // reason is in tls_error()). Any status code is a successful exchange.
  [[nodiscard]] Result<HttpResponse> get(std::string_view target,
                                         std::chrono::milliseconds timeout = {});
  // The same with another method ("POST", "DELETE"; no body).
  [[nodiscard]] Result<HttpResponse> request(std::string_view method, std::string_view target,
                                             std::chrono::milliseconds timeout = {});
  // Why the last HTTPS connection failed ("certificate verify failed", the CA file...).
  const std::string& tls_error() const;

  const HttpServerAddress& server() const { return server_; }
  bool has_bearer_token() const { return !options_.bearer_token.empty(); }

 private:
  struct Impl;
  HttpServerAddress server_;
  HttpClientOptions options_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace blackbox::query
