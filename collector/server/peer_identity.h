// Instance identity from an agent's client certificate (mTLS, issue 12 item 1, contract 5):
// which instance ids a verified certificate may write as. The source is configurable: URI SANs
// that start with a prefix (default "blackbox://instance/", so "blackbox://instance/i-0abc"
// names i-0abc), DNS SANs (each one names an instance), or the subject's common name.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "schemas/result.h"

typedef struct x509_st X509;

namespace blackbox::collector {

enum class IdentitySource { kUriSan, kDnsSan, kCommonName };

struct CertIdentityOptions {
  IdentitySource source = IdentitySource::kUriSan;
  std::string uri_prefix = "blackbox://instance/";  // kUriSan only
};

// "uri_san" / "dns_san" / "cn"; kInvalidArgument otherwise, with `why`.
[[nodiscard]] Result<IdentitySource> parse_identity_source(std::string_view text, std::string& why);
// How the identity is taken, for the start line: "URI SAN blackbox://instance/", "DNS SAN", "CN".
std::string describe_identity(const CertIdentityOptions& o);

// The instance ids `cert` names under `o` (borrowed pointer; may be empty).
std::vector<std::string> certificate_instances(X509* cert, const CertIdentityOptions& o);

}  // namespace blackbox::collector
