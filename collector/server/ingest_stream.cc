#include "collector/server/ingest_stream.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "collector/server/tls_context.h"
#include "schemas/frame.h"

namespace blackbox::collector {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using namespace net::experimental::awaitable_operators;
using net::awaitable;
using net::ip::tcp;

namespace {

constexpr auto kTuple = net::as_tuple(net::use_awaitable);

// Reads and drops what the peer still sends (bounded by count and the timer) so that closing
// sends a FIN, not a reset that could destroy our last frame before the peer reads it.
awaitable<void> drain_then_close(tcp::socket& s, net::steady_timer& timer) {
  boost::system::error_code ec;
  s.shutdown(tcp::socket::shutdown_send, ec);
  char sink[4096];
  for (int i = 0; i < 64; ++i) {
    auto r = co_await (s.async_read_some(net::buffer(sink), kTuple) || timer.async_wait(kTuple));
    if (r.index() != 0 || std::get<0>(std::get<0>(r))) break;
  }
  s.close(ec);
}

}  // namespace

awaitable<bool> IngestStream::accept(const ServerTls* tls, const CertIdentityOptions& identity,
                                     const std::string& peer, std::chrono::milliseconds deadline) {
  // A plain listener reads frames at once: a TLS ClientHello fails the frame header check and
  // gets an ERROR frame, which the agent's TLS layer reports as "not TLS" (PROTOCOL.md §TLS).
  if (tls == nullptr) co_return true;
  tcp::socket& s = *plain_;
  net::steady_timer timer(s.get_executor());
  timer.expires_after(deadline);
  // A TLS connection starts with a handshake record: type 0x16, version major 0x03.
  unsigned char first[2] = {0, 0};
  auto peeked = co_await (
      s.async_receive(net::buffer(first, sizeof first), tcp::socket::message_peek, kTuple) ||
      timer.async_wait(kTuple));
  if (peeked.index() != 0) {
    spdlog::info("server: {}: nothing received within {} ms; closing", peer, deadline.count());
    co_return false;
  }
  auto [pec, n] = std::get<0>(peeked);
  if (pec || n == 0) co_return false;  // gone before saying anything
  const bool looks_tls = first[0] == 0x16 && (n < 2 || first[1] == 0x03);
  if (!looks_tls) {
    spdlog::warn(
        "server: plaintext connection on the TLS port from {}: the agent needs ship.tls = true",
        peer);
    std::string f;
    append_frame(f, FrameType::kError,
                 encode_error(ErrorFrame{Errc::kUnauthorized,
                                         "this collector requires TLS on this port: set "
                                         "ship.tls = true (and ship.tls_ca_file) in the agent"}));
    auto w = co_await (net::async_write(s, net::buffer(f), kTuple) || timer.async_wait(kTuple));
    (void)w;  // best effort: the connection is refused either way
    co_await drain_then_close(s, timer);
    co_return false;
  }

  context_ = tls->context();
  mutual_ = tls->mutual();
  identity_ = identity;
  tls_.emplace(std::move(*plain_), *context_);
  plain_.reset();
  auto shook = co_await (tls_->async_handshake(ssl::stream_base::server, kTuple) ||
                         timer.async_wait(kTuple));
  if (shook.index() != 0) {
    spdlog::warn("server: {}: TLS handshake not finished within {} ms; closing", peer,
                 deadline.count());
    co_return false;
  }
  if (auto [ec] = std::get<0>(shook); ec) {
    std::string detail;
    const long verify = SSL_get_verify_result(tls_->native_handle());
    if (mutual_ && verify != X509_V_OK)
      detail = std::string(" (client certificate: ") + X509_verify_cert_error_string(verify) + ")";
    spdlog::warn("server: {}: TLS handshake failed: {}{}", peer, ec.message(), detail);
    co_return false;
  }
  if (mutual_) {
    X509* cert = SSL_get0_peer_certificate(tls_->native_handle());
    cert_instances_ = certificate_instances(cert, identity_);
    if (cert_instances_.empty())
      cert_why_ = "the client certificate names no instance (identity from " +
                  describe_identity(identity_) + ")";
  }
  co_return true;
}

std::string IngestStream::check_identity(std::string_view instance) const {
  if (!mutual_) return {};
  if (!cert_why_.empty()) return cert_why_;
  for (const auto& i : cert_instances_)
    if (i == instance) return {};
  return "the client certificate is for instance " + cert_instances_.front() + ", not " +
         std::string(instance) +
         "; a connection writes only as its certificate's "
         "instance";
}

}  // namespace blackbox::collector
