#include "schemas/hash_chain.h"

#include "schemas/hex.h"

#include <openssl/evp.h>

#include <cstdlib>
#include <memory>

namespace blackbox {

std::string to_hex(const ChainHash& h) {
  return hex_lower({reinterpret_cast<const char*>(h.data()), h.size()});
}

ChainHash chain_hash(const ChainHash& prev, std::string_view header_part,
                     std::string_view payload) {
  // One EVP context per thread, reused: creating one per batch costs more than small batches.
  struct CtxDeleter {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  thread_local std::unique_ptr<EVP_MD_CTX, CtxDeleter> ctx(EVP_MD_CTX_new());
  ChainHash out{};
  unsigned int len = 0;
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), prev.data(), prev.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), header_part.data(), header_part.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), payload.data(), payload.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), out.data(), &len) != 1 || len != out.size()) {
    // OpenSSL's SHA-256 does not fail short of memory corruption; a wrong hash would forge
    // evidence, so stop rather than return one.
    std::abort();
  }
  return out;
}

}  // namespace blackbox
