// IngestStream: an agent connection's byte stream, plain TCP or TLS over it (issue 12 item 1),
// so that Session's frame code is the same for both. It is an Asio AsyncReadStream and
// AsyncWriteStream (net::async_read / async_write work on it), and keeps the few socket calls
// Session makes (remote_endpoint, shutdown, close) acting on the TCP socket underneath.
//
// accept() runs first, before any frame is read: on a TLS listener it peeks at the first
// bytes; a client that does not start with a TLS handshake record (0x16 0x03) gets a plaintext
// ERROR frame saying the port needs TLS, and a log line naming its address; otherwise the TLS
// handshake runs (client certificate verified when the listener does mTLS). A plain listener
// does nothing here (a TLS ClientHello then fails the frame header check like any non-frame).
//
// check_identity() (mTLS): the instance a HELLO names must be one the client certificate
// carries (peer_identity.h).
//
// Threads: all calls on the session's strand.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "collector/server/peer_identity.h"

namespace blackbox::collector {

class ServerTls;

class IngestStream {
 public:
  using tcp = boost::asio::ip::tcp;
  using executor_type = tcp::socket::executor_type;

  explicit IngestStream(tcp::socket socket) : plain_(std::move(socket)) {}

  // Peek, then (TLS listener) handshake, within `deadline`. `tls` null: a plain listener.
  // False: the connection is refused (logged, and answered when the peer can read it); close it.
  boost::asio::awaitable<bool> accept(const ServerTls* tls, const CertIdentityOptions& identity,
                                      const std::string& peer, std::chrono::milliseconds deadline);

  // With mTLS: empty if `instance` is one the client certificate names, else why not (one line
  // for the agent and the log). Without TLS or without client certificates: always empty.
  std::string check_identity(std::string_view instance) const;

  executor_type get_executor() { return lowest().get_executor(); }
  tcp::endpoint remote_endpoint(boost::system::error_code& ec) const {
    return lowest().remote_endpoint(ec);
  }
  void shutdown(tcp::socket::shutdown_type what, boost::system::error_code& ec) {
    lowest().shutdown(what, ec);
  }
  void close(boost::system::error_code& ec) { lowest().close(ec); }

  template <class Buffers, class Token>
  auto async_read_some(const Buffers& b, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const Buffers& bufs) {
          if (tls_)
            tls_->async_read_some(bufs, std::move(handler));
          else
            plain_->async_read_some(bufs, std::move(handler));
        },
        token, b);
  }
  template <class Buffers, class Token>
  auto async_write_some(const Buffers& b, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const Buffers& bufs) {
          if (tls_)
            tls_->async_write_some(bufs, std::move(handler));
          else
            plain_->async_write_some(bufs, std::move(handler));
        },
        token, b);
  }

 private:
  tcp::socket& lowest() { return tls_ ? tls_->next_layer() : *plain_; }
  const tcp::socket& lowest() const { return tls_ ? tls_->next_layer() : *plain_; }

  std::optional<tcp::socket> plain_;                    // until a TLS handshake starts
  std::shared_ptr<boost::asio::ssl::context> context_;  // outlives tls_ (declared first)
  std::optional<boost::asio::ssl::stream<tcp::socket>> tls_;
  bool mutual_ = false;
  CertIdentityOptions identity_;
  std::vector<std::string> cert_instances_;  // mTLS: the instances the certificate names
  std::string cert_why_;                     // mTLS: why it names none
};

}  // namespace blackbox::collector
