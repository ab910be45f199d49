#include "schemas/key_auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstring>

#include "schemas/bytes.h"

namespace blackbox {

std::string key_auth_message(std::string_view nonce, std::string_view instance_id,
                             std::string_view public_key) {
  std::string out(kKeyAuthDomain);
  out.append(nonce);
  bytes::put_string(out, instance_id);
  out.append(public_key);
  return out;
}

std::string enrollment_mac(std::string_view secret, std::string_view message) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &len);
  return std::string(reinterpret_cast<const char*>(mac), len);
}

bool enrollment_mac_valid(std::string_view secret, std::string_view message, std::string_view mac) {
  const std::string want = enrollment_mac(secret, message);
  return mac.size() == want.size() && CRYPTO_memcmp(mac.data(), want.data(), want.size()) == 0;
}

std::string public_key_bytes(const Ed25519PublicKey& key) {
  return std::string(reinterpret_cast<const char*>(key.data()), key.size());
}

std::optional<Ed25519PublicKey> parse_public_key(std::string_view raw) {
  if (raw.size() != kEd25519PublicKeyBytes) return std::nullopt;
  Ed25519PublicKey key;
  std::memcpy(key.data(), raw.data(), key.size());
  return key;
}

Proof make_proof(const Ed25519Key& key, std::string_view nonce, std::string_view instance_id,
                 const std::string* enrollment_secret) {
  const std::string msg = key_auth_message(nonce, instance_id, public_key_bytes(key.public_key()));
  const Ed25519Signature sig = key.sign(msg);
  Proof p;
  p.signature.assign(reinterpret_cast<const char*>(sig.data()), sig.size());
  if (enrollment_secret) p.enrollment_mac = enrollment_mac(*enrollment_secret, msg);
  return p;
}

bool proof_signature_valid(const Ed25519PublicKey& key, std::string_view nonce,
                           std::string_view instance_id, const Proof& proof) {
  if (proof.signature.size() != kEd25519SignatureBytes) return false;
  Ed25519Signature sig;
  std::memcpy(sig.data(), proof.signature.data(), sig.size());
  return ed25519_verify(key, key_auth_message(nonce, instance_id, public_key_bytes(key)), sig);
}

}  // namespace blackbox
