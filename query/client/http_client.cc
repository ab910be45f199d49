#include "query/client/http_client.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <optional>

namespace blackbox::query {

namespace net = boost::asio;
namespace ssl = net::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

struct HttpClient::Impl {
  net::io_context ioc;
  std::optional<ssl::context> tls_ctx;  // https only
  std::optional<beast::tcp_stream> stream;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  const std::atomic<bool>* cancel = nullptr;
  std::string tls_error;

  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *stream; }
  bool open() const { return stream.has_value() || tls.has_value(); }
  void reset() {
    stream.reset();
    tls.reset();
    buffer.clear();
  }
  // Calls f with the stream requests go over: the TLS stream, or the TCP stream.
  template <class F>
  void with_stream(F&& f) {
    if (tls) {
      f(*tls);
    } else {
      f(*stream);
    }
  }

  // Runs the queued asynchronous operation to completion (the stream's deadline bounds it),
  // closing the socket when `cancel` is raised.
  void run() {
    ioc.restart();
    while (!ioc.stopped()) {
      ioc.run_for(std::chrono::milliseconds(100));
      if (cancel != nullptr && cancel->load() && open()) {
        boost::system::error_code ignored;  // closing is best effort: the ops end either way
        lowest().socket().close(ignored);
      }
    }
  }
};

HttpClient::HttpClient(HttpServerAddress server, HttpClientOptions options)
    : server_(std::move(server)), options_(options), impl_(std::make_unique<Impl>()) {
  impl_->cancel = options_.cancel;
}

HttpClient::~HttpClient() = default;

const std::string& HttpClient::tls_error() const { return impl_->tls_error; }

Result<HttpResponse> HttpClient::get(std::string_view target, std::chrono::milliseconds timeout) {
  return request("GET", target, timeout);
}

namespace {

// The TLS context of an https client: TLS 1.2 at least, the peer's certificate verified
// against `ca_file` (or the system's CAs). Errors: kUnauthorized with `why`.
Result<void> make_tls_context(std::optional<ssl::context>& ctx, const std::string& ca_file,
                              std::string& why) {
  if (ctx) return {};
  ctx.emplace(ssl::context::tls_client);
  boost::system::error_code ec;
  (void)ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                             ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                             ssl::context::no_tlsv1_1,
                         ec);
  ctx->set_verify_mode(ssl::verify_peer, ec);
  if (ca_file.empty()) {
    (void)ctx->set_default_verify_paths(ec);
  } else {
    (void)ctx->load_verify_file(ca_file, ec);
    if (ec) {
      why = "cannot load the CA file " + ca_file + ": " + ec.message();
      ctx.reset();
      return Err(Errc::kUnauthorized);
    }
  }
  return {};
}

}  // namespace

// One function on purpose: connect (TCP, then TLS), write, read, and the one retry of a
// kept-alive connection the server closed, read top to bottom as the exchange happens.
Result<HttpResponse> HttpClient::request(std::string_view method, std::string_view target,
                                         std::chrono::milliseconds timeout) {
  const auto request_timeout = timeout.count() > 0 ? timeout : options_.request_timeout;
  Impl& s = *impl_;
  if (s.cancel != nullptr && s.cancel->load()) return Err(Errc::kTimeout);
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool reused = s.open();
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
        s.reset();
        return Err(ec == beast::error::timeout ? Errc::kTimeout : Errc::kUnavailable);
      }
      s.buffer.clear();
      if (server_.https) {
        if (auto ok = make_tls_context(s.tls_ctx, options_.ca_file, s.tls_error); !ok) {
          s.reset();
          return ok.error();
        }
        s.tls.emplace(std::move(*s.stream), *s.tls_ctx);
        s.stream.reset();
        // SNI, and the certificate must name the host we asked for (DNS name or IP address).
        if (!SSL_set_tlsext_host_name(s.tls->native_handle(), server_.host.c_str()))
          ERR_clear_error();  // an IP address takes no SNI: nothing to send
        s.tls->set_verify_callback(ssl::host_name_verification(server_.host));
        s.tls->async_handshake(ssl::stream_base::client,
                               [&](boost::system::error_code e) { ec = e; });
        s.run();
        if (ec) {
          s.tls_error = ec.message();
          if (const long v = SSL_get_verify_result(s.tls->native_handle()); v != X509_V_OK)
            s.tls_error += std::string(" (") + X509_verify_cert_error_string(v) + ")";
          s.reset();
          return Err(ec == beast::error::timeout ? Errc::kTimeout : Errc::kUnauthorized);
        }
      }
    }

    http::request<http::empty_body> req{http::string_to_verb(method),
                                        server_.base_path + std::string(target), 11};
    req.set(http::field::host, server_.host + ":" + std::to_string(server_.port));
    req.set(http::field::user_agent, "blackbox-cli");
    req.set(http::field::accept, "application/json");
    if (!options_.bearer_token.empty())
      req.set(http::field::authorization, "Bearer " + options_.bearer_token);
    req.keep_alive(true);
    req.prepare_payload();  // "Content-Length: 0" for POST and DELETE

    boost::system::error_code ec;
    s.lowest().expires_after(request_timeout);
    s.with_stream([&](auto& stream) {
      http::async_write(stream, req, [&](boost::system::error_code e, std::size_t) { ec = e; });
    });
    s.run();
    http::response_parser<http::string_body> parser;
    parser.body_limit(options_.max_body_bytes);
    if (!ec) {
      s.with_stream([&](auto& stream) {
        http::async_read(stream, s.buffer, parser,
                         [&](boost::system::error_code e, std::size_t) { ec = e; });
      });
      s.run();
    }
    if (ec) {
      s.reset();
      if (s.cancel != nullptr && s.cancel->load()) return Err(Errc::kTimeout);
      // A kept-alive connection the server closed meanwhile: reconnect once and resend.
      const bool closed = ec == http::error::end_of_stream || ec == net::error::eof ||
                          ec == net::error::connection_reset || ec == net::error::broken_pipe ||
                          ec == ssl::error::stream_truncated;
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
    if (!res.keep_alive()) s.reset();
    return out;
  }
  return Err(Errc::kConnectionClosed);
}

}  // namespace blackbox::query
