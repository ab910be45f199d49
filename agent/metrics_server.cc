#include "agent/metrics_server.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <thread>

#include "schemas/host_port.h"
#include "schemas/last_resort.h"

namespace blackbox::agent {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {
constexpr auto use_nothrow = net::as_tuple(net::use_awaitable);
constexpr int kMaxConnections = 16;
}  // namespace

struct MetricsServer::Impl {
  Impl(const Metrics& r, const Health& h) : registry(r), health(h) {}
  const Metrics& registry;
  const Health& health;
  net::io_context io{1};
  tcp::acceptor acceptor{io};
  std::thread thread;
  std::atomic<int> connections{0};

  net::awaitable<void> serve(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer(8192);
    http::request_parser<http::empty_body> parser;
    parser.header_limit(8192);
    stream.expires_after(std::chrono::seconds(5));
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_nothrow);
    if (!ec) {
      const auto& req = parser.get();
      http::response<http::string_body> res;
      res.version(req.version());
      res.keep_alive(false);
      if (req.method() == http::verb::get && req.target() == "/metrics") {
        res.result(http::status::ok);
        res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
        res.body() = registry.render();
      } else if (req.method() == http::verb::get && req.target() == "/health") {
        res.result(health.level() == Health::Level::kFailing ? http::status::service_unavailable
                                                             : http::status::ok);
        res.set(http::field::content_type, "application/json");
        res.body() = health.to_json();
      } else {
        res.result(http::status::not_found);
        res.set(http::field::content_type, "text/plain");
        res.body() = "not found: try GET /metrics or GET /health\n";
      }
      res.prepare_payload();
      stream.expires_after(std::chrono::seconds(5));
      co_await http::async_write(stream, res, use_nothrow);
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    --connections;
  }

  net::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(use_nothrow);
      if (ec) {
        if (ec == net::error::operation_aborted) co_return;
        continue;
      }
      if (connections.load() >= kMaxConnections) continue;  // dropped: closes the socket
      ++connections;
      net::co_spawn(io, serve(std::move(socket)), LastResort("metrics: HTTP session"));
    }
  }
};

MetricsServer::MetricsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MetricsServer::~MetricsServer() {
  net::post(impl_->io, [impl = impl_.get()] {
    beast::error_code ignored;
    impl->acceptor.close(ignored);
  });
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::uint16_t MetricsServer::port() const {
  beast::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(const std::string& listen,
                                                            const Metrics& registry,
                                                            const Health& health) {
  auto hp = parse_host_port(listen);
  if (!hp) return hp.error();
  beast::error_code ec;
  auto address = net::ip::make_address(hp->host, ec);
  if (ec) {
    spdlog::error("metrics: \"{}\" is not an IP address", hp->host);
    return Err(Errc::kInvalidArgument);
  }
  auto impl = std::make_unique<Impl>(registry, health);
  tcp::endpoint endpoint(address, hp->port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    spdlog::error("metrics: cannot listen on {}: {}", listen, ec.message());
    return Err(Errc::kIo);
  }
  std::unique_ptr<MetricsServer> server(new MetricsServer(std::move(impl)));
  Impl* p = server->impl_.get();
  spdlog::info("metrics listening on {}:{}", address.to_string(), server->port());
  net::co_spawn(p->io, p->accept_loop(), LastResort("metrics: accept loop"));
  p->thread = std::thread([p] { p->io.run(); });
  return server;
}

}  // namespace blackbox::agent
