#include "collector/server/peer_identity.h"

#include <fmt/format.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

namespace blackbox::collector {
namespace {

struct NamesFree {
  void operator()(GENERAL_NAMES* n) const { GENERAL_NAMES_free(n); }
};

std::string_view asn1_text(const ASN1_STRING* s) {
  return {reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
          static_cast<std::size_t>(ASN1_STRING_length(s))};
}

}  // namespace

Result<IdentitySource> parse_identity_source(std::string_view text, std::string& why) {
  if (text == "uri_san") return IdentitySource::kUriSan;
  if (text == "dns_san") return IdentitySource::kDnsSan;
  if (text == "cn") return IdentitySource::kCommonName;
  why = fmt::format("identity source \"{}\": want uri_san, dns_san or cn", text);
  return Err(Errc::kInvalidArgument);
}

std::string describe_identity(const CertIdentityOptions& o) {
  switch (o.source) {
    case IdentitySource::kUriSan:
      return "URI SAN " + o.uri_prefix;
    case IdentitySource::kDnsSan:
      return "DNS SAN";
    case IdentitySource::kCommonName:
      return "CN";
  }
  return "?";
}

std::vector<std::string> certificate_instances(X509* cert, const CertIdentityOptions& o) {
  std::vector<std::string> out;
  if (cert == nullptr) return out;
  if (o.source == IdentitySource::kCommonName) {
    const X509_NAME* subject = X509_get_subject_name(cert);
    for (int i = -1; (i = X509_NAME_get_index_by_NID(subject, NID_commonName, i)) >= 0;) {
      const ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i));
      out.emplace_back(asn1_text(s));
    }
    return out;
  }
  std::unique_ptr<GENERAL_NAMES, NamesFree> names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return out;
  const int want = o.source == IdentitySource::kUriSan ? GEN_URI : GEN_DNS;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names.get(), i);
    if (n->type != want) continue;
    std::string_view v = asn1_text(n->d.ia5);
    if (o.source == IdentitySource::kUriSan) {
      if (!v.starts_with(o.uri_prefix) || v.size() == o.uri_prefix.size()) continue;
      v.remove_prefix(o.uri_prefix.size());
    }
    out.emplace_back(v);
  }
  return out;
}

}  // namespace blackbox::collector
