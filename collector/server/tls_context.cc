#include "collector/server/tls_context.h"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio/buffer.hpp>

#include "schemas/secret_file.h"

namespace blackbox::collector {

namespace ssl = boost::asio::ssl;

namespace {

// The OpenSSL reason behind an Asio error (the error queue holds more detail than ec).
std::string reason(const boost::system::error_code& ec) {
  std::string out = ec.message();
  ERR_clear_error();
  return out;
}

// Builds one complete context from the files; nothing is published on error.
Result<std::shared_ptr<ssl::context>> build(const ServerTlsOptions& o, std::string& why) {
  if (o.cert_file.empty() || o.key_file.empty()) {
    why = "TLS needs both a certificate file and a key file";
    return Err(Errc::kInvalidArgument);
  }
  auto key = read_secret_file(o.key_file, why);  // refuses a key others can read
  if (!key) return key.error();
  *key += '\n';  // read_secret_file cut the PEM's last newline

  std::shared_ptr<ssl::context> ctx;
  try {  // ssl::context's constructor throws when OpenSSL cannot allocate
    ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  } catch (const std::exception& e) {
    why = fmt::format("TLS: cannot create a context: {}", e.what());
    return Err(Errc::kInternal);
  }
  SSL_CTX* native = ctx->native_handle();
  boost::system::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                       ssl::context::single_dh_use,
                   ec);
  SSL_CTX_set_min_proto_version(
      native, o.min_version == TlsVersion::k1_3 ? TLS1_3_VERSION : TLS1_2_VERSION);

  ctx->use_certificate_chain_file(o.cert_file, ec);
  if (ec) {
    why = fmt::format("TLS certificate {}: {} (want a PEM certificate chain)", o.cert_file,
                      reason(ec));
    return Err(ec.value() == ENOENT ? Errc::kNotFound : Errc::kInvalidArgument);
  }
  ctx->use_private_key(boost::asio::buffer(*key), ssl::context::pem, ec);
  if (ec) {
    why = fmt::format("TLS key {}: {} (want a PEM private key)", o.key_file, reason(ec));
    return Err(Errc::kInvalidArgument);
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    ERR_clear_error();
    why = fmt::format("TLS key {} does not belong to the certificate {}", o.key_file, o.cert_file);
    return Err(Errc::kInvalidArgument);
  }
  if (!o.client_ca_file.empty()) {
    ctx->load_verify_file(o.client_ca_file, ec);
    STACK_OF(X509_NAME)* names = ec ? nullptr : SSL_load_client_CA_file(o.client_ca_file.c_str());
    if (ec || names == nullptr) {
      why = fmt::format("TLS client CA {}: {} (want PEM CA certificates)", o.client_ca_file,
                        ec ? reason(ec) : std::string("no certificate in it"));
      ERR_clear_error();
      return Err(Errc::kInvalidArgument);
    }
    SSL_CTX_set_client_CA_list(native, names);  // takes ownership
    ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert, ec);
    // Sessions resumed under verify_peer need an id context, else OpenSSL fails the resume.
    static constexpr unsigned char kSid[] = "blackbox-ingest";
    SSL_CTX_set_session_id_context(native, kSid, sizeof kSid - 1);
  }
  return ctx;
}

}  // namespace

Result<TlsVersion> parse_tls_version(std::string_view text, std::string& why) {
  if (text == "1.3" || text == "TLSv1.3") return TlsVersion::k1_3;
  if (text == "1.2" || text == "TLSv1.2") return TlsVersion::k1_2;
  why = fmt::format("TLS version \"{}\": want \"1.2\" or \"1.3\"", text);
  return Err(Errc::kInvalidArgument);
}

const char* tls_version_name(TlsVersion v) { return v == TlsVersion::k1_3 ? "1.3" : "1.2"; }

Result<std::shared_ptr<ServerTls>> ServerTls::create(ServerTlsOptions options, std::string& why) {
  auto tls = std::make_shared<ServerTls>(std::move(options));
  auto ctx = build(tls->options_, why);
  if (!ctx) return ctx.error();
  tls->context_ = std::move(*ctx);
  return tls;
}

Result<void> ServerTls::reload(std::string& why) {
  auto ctx = build(options_, why);
  if (!ctx) return ctx.error();
  std::lock_guard lock(mu_);
  context_ = std::move(*ctx);
  return {};
}

std::shared_ptr<ssl::context> ServerTls::context() const {
  std::lock_guard lock(mu_);
  return context_;
}

}  // namespace blackbox::collector
