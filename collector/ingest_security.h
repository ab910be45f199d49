// The ingest port's security decision (issue 12 items 1 and 3, contract 5): which TLS and
// authentication modes the configuration gives the agents' listener, the one line the
// collector logs about it at start, and whether it may start at all. Nothing listens beyond
// loopback unauthenticated unless the operator passes --insecure (a flag, never a config key:
// the explicit ask). Also the checks of the secret and key files the collector reads.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "collector/config.h"
#include "collector/server/peer_identity.h"
#include "schemas/result.h"

namespace blackbox::collector {

class ServerTls;

struct IngestSecurity {
  std::string listen;       // collector.listen as configured
  bool loopback = false;    // the listen host is a loopback address (or "localhost")
  bool tls = false;         // [tls] cert_file set
  bool mtls = false;        // ... and client_ca_file: client certificates required
  bool token = false;       // a fleet secret: per-instance HMAC tokens
  bool enrollment = false;  // enrollment secrets (issue 12 item 2; enrollment_configured())
  bool insecure = false;    // --insecure was given
  bool allowed = true;      // false: refuse to start (`refusal` says why and what to do)
  std::string summary;  // the start line: "ingest 0.0.0.0:7700: TLS 1.3, mTLS (...), token auth"
  std::string refusal;

  bool authenticated() const { return token || enrollment || mtls; }
};

// The decision for a valid config; `insecure` is the --insecure flag.
IngestSecurity describe_ingest_security(const Config& c, bool insecure);

// Problems of the [tls] keys (validate() includes them).
std::vector<std::string> validate_tls(const Config& c);

// The ingest TLS context, or null when [tls] is off. Errors with `why` as ServerTls::create.
[[nodiscard]] Result<std::shared_ptr<ServerTls>> make_server_tls(const Config& c, std::string& why);
CertIdentityOptions cert_identity(const Config& c);

// An inline collector.auth_secret in a config file other users can read is refused
// (kInvalidArgument, `why` says to move it to auth_secret_file, mode 600). kOk without an inline
// secret or a file.
[[nodiscard]] Result<void> check_inline_secret(const std::string& config_file, const Config& c,
                                               std::string& why);

}  // namespace blackbox::collector
