// ServerTls: the TLS server context of a listener (the agents' ingest port; the query API's
// HTTPS uses the same class). Certificate chain and private key come from PEM files; the key
// file must be private to the collector's user (schemas/secret_file.h check_private_file).
// TLS 1.3 by default, 1.2 when min_version says so; with a client CA file a client
// certificate signed by that CA is required (mTLS) and verified (chain, validity dates).
//
// Reload (SIGHUP): reload() builds a whole new context from the same files; on success new
// connections get it (context() returns the new one; connections already made keep theirs);
// on any error the old context stays in use and `why` says what was wrong.
//
// Threads: create() and reload() from any thread; context() from any thread (a mutex guards
// the pointer swap; the returned context is immutable once published).
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "schemas/result.h"

namespace blackbox::collector {

// The lowest TLS protocol version a listener accepts.
enum class TlsVersion { k1_2, k1_3 };

// "1.2" / "1.3" (also "TLSv1.2" / "TLSv1.3"); kInvalidArgument otherwise, with `why`.
[[nodiscard]] Result<TlsVersion> parse_tls_version(std::string_view text, std::string& why);
// "1.2" / "1.3".
const char* tls_version_name(TlsVersion v);

struct ServerTlsOptions {
  std::string cert_file;       // PEM: the server certificate, then any intermediates
  std::string key_file;        // PEM private key; must be mode 600 (or stricter)
  std::string client_ca_file;  // PEM CA bundle; non-empty = mTLS (client certificate required)
  TlsVersion min_version = TlsVersion::k1_3;
};

class ServerTls {
 public:
  // Loads the files and builds the first context. Errors (with `why`, one line naming the file
  // and the cause): kNotFound (a file is missing), kInvalidArgument (a key file others can read,
  // a file that is not PEM, a key that does not match the certificate), kIo.
  [[nodiscard]] static Result<std::shared_ptr<ServerTls>> create(ServerTlsOptions options,
                                                                 std::string& why);

  // Rebuilds the context from the same files. On success later connections use it; on error
  // the current context is kept and `why` says why (same errors as create()).
  [[nodiscard]] Result<void> reload(std::string& why);

  // The context for the next connection. Never null.
  std::shared_ptr<boost::asio::ssl::context> context() const;

  const ServerTlsOptions& options() const { return options_; }
  bool mutual() const { return !options_.client_ca_file.empty(); }

  explicit ServerTls(ServerTlsOptions options) : options_(std::move(options)) {}

 private:
  const ServerTlsOptions options_;
  mutable std::mutex mu_;
  std::shared_ptr<boost::asio::ssl::context> context_;
};

}  // namespace blackbox::collector
