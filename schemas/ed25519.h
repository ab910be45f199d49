// Ed25519 instance keys (issue 12 items 2 and 5; contract 6), over OpenSSL 3's EVP API.
// The agent generates its own key pair on first start and keeps the private key in its state
// directory (PKCS#8 PEM, mode 0600, readable with `openssl pkey`); the collector stores only
// the 32-byte public key an instance enrolled, and checks HELLO proofs and signed chain heads
// with it.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "schemas/result.h"

namespace blackbox {

inline constexpr std::size_t kEd25519PublicKeyBytes = 32;
inline constexpr std::size_t kEd25519SignatureBytes = 64;
using Ed25519PublicKey = std::array<std::uint8_t, kEd25519PublicKeyBytes>;
using Ed25519Signature = std::array<std::uint8_t, kEd25519SignatureBytes>;

class Ed25519Key {
 public:
  // A fresh key pair from OpenSSL's CSPRNG. kInternal if OpenSSL fails.
  [[nodiscard]] static Result<Ed25519Key> generate();
  // A private key from PKCS#8 PEM text. kInvalidArgument if it is not an Ed25519 private key.
  [[nodiscard]] static Result<Ed25519Key> from_pem(std::string_view pem);
  // Loads `path` (check_private_file(): refused when others may read it); when `path` does not
  // exist, generates a key and writes it there (write_private_file()). `why` says what failed.
  [[nodiscard]] static Result<Ed25519Key> load_or_create(const std::string& path,
                                                         std::string& why);

  Ed25519Key(Ed25519Key&&) noexcept;
  Ed25519Key& operator=(Ed25519Key&&) noexcept;
  ~Ed25519Key();

  std::string to_pem() const;  // PKCS#8 PEM of the private key
  const Ed25519PublicKey& public_key() const { return public_; }
  Ed25519Signature sign(std::string_view message) const;

 private:
  struct Pkey;
  explicit Ed25519Key(std::unique_ptr<Pkey> pkey);
  std::unique_ptr<Pkey> pkey_;
  Ed25519PublicKey public_{};
};

// True when `sig` is `key`'s signature of `message`.
bool ed25519_verify(const Ed25519PublicKey& key, std::string_view message,
                    const Ed25519Signature& sig);

// "SHA256:" and the unpadded base64 of SHA-256 over the raw public key (OpenSSH's style), for
// people comparing keys in logs, `blackbox enrollments` and verify reports.
std::string ed25519_fingerprint(const Ed25519PublicKey& key);

}  // namespace blackbox
