// Transport: the shipper's connection to a collector, plain TCP or TLS over it (issue 12 item
// 1), so that the frame code is the same for both. An Asio AsyncReadStream/AsyncWriteStream
// (net::async_read / async_write work on it); socket() is the TCP socket to connect first.
//
// ClientTls: the agent's TLS settings ([ship] tls_* keys), built once at start: the collector
// is verified against tls_ca_file (default: the system's trust store) and its certificate must
// name tls_server_name (default: the host of the collector address; an IP address is checked
// against the certificate's IP SANs); with tls_cert_file/tls_key_file the agent presents a
// client certificate (mTLS; the key file must be mode 600, schemas/secret_file.h).
//
// Threads: the shipper's network thread only (ClientTls::create from any thread).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "schemas/result.h"

namespace blackbox::agent {

struct ClientTlsOptions {
  std::string ca_file;      // PEM CAs to verify the collector; empty: the system trust store
  std::string server_name;  // SNI and the name checked; empty: the collector address's host
  std::string cert_file;    // PEM client certificate (mTLS); empty: none
  std::string key_file;     // its PEM private key, mode 600
  std::string min_version = "1.3";  // "1.3" or "1.2"
};

class ClientTls {
 public:
  // Errors with `why` naming the file: kNotFound, kInvalidArgument (bad PEM, a key others can
  // read, a key not matching the certificate, a bad min_version).
  [[nodiscard]] static Result<std::shared_ptr<ClientTls>> create(ClientTlsOptions options,
                                                                 std::string& why);
  boost::asio::ssl::context& context() { return context_; }
  const ClientTlsOptions& options() const { return options_; }

  ClientTls(ClientTlsOptions options, boost::asio::ssl::context context)
      : options_(std::move(options)), context_(std::move(context)) {}

 private:
  ClientTlsOptions options_;
  boost::asio::ssl::context context_;
};

class Transport {
 public:
  using tcp = boost::asio::ip::tcp;
  using executor_type = tcp::socket::executor_type;

  explicit Transport(boost::asio::io_context& io) : plain_(std::in_place, io) {}

  // The TCP socket (connect it before start_tls()).
  tcp::socket& socket() { return tls_ ? tls_->next_layer() : *plain_; }

  // TLS handshake as a client within `timeout`, verifying the collector as `host` (or
  // tls_server_name). False: `why` is one line for the log, saying e.g. that the collector does
  // not speak TLS, or which certificate check failed.
  boost::asio::awaitable<bool> start_tls(ClientTls& tls, const std::string& host,
                                         std::chrono::milliseconds timeout, std::string& why);

  executor_type get_executor() { return socket().get_executor(); }
  void close(boost::system::error_code& ec) { socket().close(ec); }

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
  std::optional<tcp::socket> plain_;  // until start_tls()
  std::optional<boost::asio::ssl::stream<tcp::socket>> tls_;
};

}  // namespace blackbox::agent
