#include "collector/server/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "schemas/hex.h"

namespace blackbox::collector {

std::string hello_token(std::string_view secret, std::string_view instance_id) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(instance_id.data()), instance_id.size(), mac, &len);
  return hex_lower({reinterpret_cast<const char*>(mac), len});
}

bool token_valid(std::string_view secret, std::string_view instance_id, std::string_view token) {
  const std::string want = hello_token(secret, instance_id);
  return token.size() == want.size() && CRYPTO_memcmp(token.data(), want.data(), want.size()) == 0;
}

bool valid_instance_id(std::string_view id) {
  if (id.empty() || id.size() > 256) return false;
  for (char c : id)
    if (c < 0x21 || c > 0x7e) return false;
  return true;
}

}  // namespace blackbox::collector
