#include "query/client/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <optional>

namespace blackbox::query {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

struct HttpClient::Impl {
  net::io_context ioc;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
  const std::atomic<bool>* cancel = nullptr;

  // Runs the queued asynchronous operation to completion (the stream's deadline bounds it),
  // closing the socket when `cancel` is raised.
  void run() {
    ioc.restart();
    while (!ioc.stopped()) {
      ioc.run_for(std::chrono::milliseconds(100));
      if (cancel != nullptr && cancel->load() && stream) {
        boost::system::error_code ignored;  // closing is best effort: the ops end either way
        stream->socket().close(ignored);
      }
    }
  }
};

HttpClient::HttpClient(HttpServerAddress server, HttpClientOptions options)
    : server_(std::move(server)), options_(options), impl_(std::make_unique<Impl>()) {
  impl_->cancel = options_.cancel;
}

HttpClient::~HttpClient() = default;

Result<HttpResponse> HttpClient::get(std::string_view target, std::chrono::milliseconds timeout) {
  const auto request_timeout = timeout.count() > 0 ? timeout : options_.request_timeout;
  Impl& s = *impl_;
  if (s.cancel != nullptr && s.cancel->load()) return Err(Errc::kTimeout);
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool reused = s.stream.has_value();
    if (!reused) {
      boost::system::error_code ec;
      tcp::resolver resolver(s.ioc);
      tcp::resolver::results_type endpoints;
      resolver.async_resolve(server_.host, std::to_string(server_.port),
                             [&](boost::system::error_code e, tcp::resolver::results_type r) {
                               ec = e;
                               endpoints = std::move(r);
                             });
      s.run();
      if (ec) return Err(Errc::kUnavailable);
      s.stream.emplace(s.ioc);
      s.stream->expires_after(options_.connect_timeout);
      s.stream->async_connect(endpoints,
                              [&](boost::system::error_code e, const tcp::endpoint&) { ec = e; });
      s.run();
      if (ec) {
        s.stream.reset();
        return Err(ec == beast::error::timeout ? Errc::kTimeout : Errc::kUnavailable);
      }
      s.buffer.clear();
    }

    http::request<http::empty_body> req{http::verb::get, server_.base_path + std::string(target),
                                        11};
    req.set(http::field::host, server_.host + ":" + std::to_string(server_.port));
    req.set(http::field::user_agent, "blackbox-cli");
    req.set(http::field::accept, "application/json");
    req.keep_alive(true);

    boost::system::error_code ec;
    s.stream->expires_after(request_timeout);
    http::async_write(*s.stream, req, [&](boost::system::error_code e, std::size_t) { ec = e; });
    s.run();
    http::response_parser<http::string_body> parser;
    parser.body_limit(options_.max_body_bytes);
    if (!ec) {
      http::async_read(*s.stream, s.buffer, parser,
                       [&](boost::system::error_code e, std::size_t) { ec = e; });
      s.run();
    }
    if (ec) {
      s.stream.reset();
      s.buffer.clear();
      if (s.cancel != nullptr && s.cancel->load()) return Err(Errc::kTimeout);
      // A kept-alive connection the server closed meanwhile: reconnect once and resend.
      const bool closed = ec == http::error::end_of_stream || ec == net::error::eof ||
                          ec == net::error::connection_reset || ec == net::error::broken_pipe;
      if (reused && closed) continue;
      if (ec == beast::error::timeout) return Err(Errc::kTimeout);
      if (ec == http::error::body_limit) return Err(Errc::kFrameTooLarge);
      if (closed) return Err(Errc::kConnectionClosed);
      if (ec.category() == make_error_code(http::error::bad_version).category())
        return Err(Errc::kProtocolViolation);  // the peer does not speak HTTP
      return Err(Errc::kConnectionClosed);
    }
    auto res = parser.release();
    HttpResponse out;
    out.status = res.result_int();
    out.content_type = std::string(res[http::field::content_type]);
    out.body = std::move(res.body());
    if (!res.keep_alive()) {
      s.stream.reset();
      s.buffer.clear();
    }
    return out;
  }
  return Err(Errc::kConnectionClosed);
}

}  // namespace blackbox::query
