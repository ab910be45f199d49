#include "agent/ship/transport.h"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "schemas/secret_file.h"

namespace blackbox::agent {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using namespace net::experimental::awaitable_operators;

namespace {

constexpr auto kTuple = net::as_tuple(net::use_awaitable);

// What a failed client handshake means, for a person reading the agent's log.
std::string handshake_failure(const boost::system::error_code& ec, SSL* native) {
  const long verify = SSL_get_verify_result(native);
  if (verify != X509_V_OK)
    return fmt::format("the collector's certificate was refused: {}",
                       X509_verify_cert_error_string(verify));
  if (ec.category() == net::error::get_ssl_category()) {
    const int reason = ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
    if (reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_PACKET_LENGTH_TOO_LONG ||
        reason == SSL_R_UNKNOWN_PROTOCOL)
      return fmt::format(
          "the collector does not speak TLS on this port ({}): turn TLS on at the collector "
          "([tls] cert_file/key_file) or set ship.tls = false",
          ec.message());
  }
  if (ec == ssl::error::stream_truncated || ec == net::error::eof ||
      ec == net::error::connection_reset)
    return fmt::format(
        "the collector closed the connection during the TLS handshake ({}): it may not speak "
        "TLS on this port (ship.tls = true needs [tls] on the collector)",
        ec.message());
  return fmt::format("TLS handshake failed: {}", ec.message());
}

}  // namespace

Result<std::shared_ptr<ClientTls>> ClientTls::create(ClientTlsOptions o, std::string& why) {
  ssl::context ctx(ssl::context::tls_client);
  SSL_CTX* native = ctx.native_handle();
  boost::system::error_code ec;
  if (o.min_version != "1.3" && o.min_version != "1.2") {
    why = fmt::format("ship.tls_min_version \"{}\": want \"1.2\" or \"1.3\"", o.min_version);
    return Err(Errc::kInvalidArgument);
  }
  SSL_CTX_set_min_proto_version(native, o.min_version == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION);
  if (o.ca_file.empty())
    ctx.set_default_verify_paths(ec);
  else
    ctx.load_verify_file(o.ca_file, ec);
  if (ec) {
    why = fmt::format("ship.tls_ca_file {}: {}", o.ca_file.empty() ? "(system)" : o.ca_file,
                      ec.message());
    ERR_clear_error();
    return Err(Errc::kInvalidArgument);
  }
  ctx.set_verify_mode(ssl::verify_peer, ec);
  if (o.cert_file.empty() != o.key_file.empty()) {
    why = "ship.tls_cert_file and ship.tls_key_file go together (mTLS): set both or neither";
    return Err(Errc::kInvalidArgument);
  }
  if (!o.cert_file.empty()) {
    ctx.use_certificate_chain_file(o.cert_file, ec);
    if (ec) {
      why = fmt::format("ship.tls_cert_file {}: {}", o.cert_file, ec.message());
      ERR_clear_error();
      return Err(Errc::kInvalidArgument);
    }
    auto key = read_secret_file(o.key_file, why);  // refused when others may read it
    if (!key) return key.error();
    *key += '\n';
    ctx.use_private_key(net::buffer(*key), ssl::context::pem, ec);
    if (ec || SSL_CTX_check_private_key(native) != 1) {
      why = fmt::format("ship.tls_key_file {}: {}", o.key_file,
                        ec ? ec.message() : "does not belong to " + o.cert_file);
      ERR_clear_error();
      return Err(Errc::kInvalidArgument);
    }
  }
  return std::make_shared<ClientTls>(std::move(o), std::move(ctx));
}

net::awaitable<bool> Transport::start_tls(ClientTls& tls, const std::string& host,
                                          std::chrono::milliseconds timeout, std::string& why) {
  tls_.emplace(std::move(*plain_), tls.context());
  plain_.reset();
  SSL* native = tls_->native_handle();
  const std::string& name = tls.options().server_name.empty() ? host : tls.options().server_name;
  X509_VERIFY_PARAM* param = SSL_get0_param(native);
  boost::system::error_code ec;
  net::ip::make_address(name, ec);
  if (!ec) {
    X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
  } else {
    SSL_set_tlsext_host_name(native, name.c_str());
    X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
  }
  net::steady_timer timer(tls_->get_executor());
  timer.expires_after(timeout);
  auto r = co_await (tls_->async_handshake(ssl::stream_base::client, kTuple) ||
                     timer.async_wait(kTuple));
  if (r.index() != 0) {
    why = fmt::format("TLS handshake not finished within {} ms", timeout.count());
    co_return false;
  }
  if (auto [hec] = std::get<0>(r); hec) {
    why = handshake_failure(hec, native);
    ERR_clear_error();
    co_return false;
  }
  co_return true;
}

}  // namespace blackbox::agent
