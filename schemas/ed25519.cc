#include "schemas/ed25519.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include <filesystem>

#include <boost/beast/core/detail/base64.hpp>

#include "schemas/secret_file.h"

namespace blackbox {

struct Ed25519Key::Pkey {
  EVP_PKEY* p = nullptr;
  ~Pkey() { EVP_PKEY_free(p); }
};

namespace {

bool raw_public(EVP_PKEY* p, Ed25519PublicKey& out) {
  std::size_t len = out.size();
  return EVP_PKEY_get_raw_public_key(p, out.data(), &len) == 1 && len == out.size();
}

}  // namespace

Ed25519Key::Ed25519Key(std::unique_ptr<Pkey> pkey) : pkey_(std::move(pkey)) {
  raw_public(pkey_->p, public_);
}
Ed25519Key::Ed25519Key(Ed25519Key&&) noexcept = default;
Ed25519Key& Ed25519Key::operator=(Ed25519Key&&) noexcept = default;
Ed25519Key::~Ed25519Key() = default;

Result<Ed25519Key> Ed25519Key::generate() {
  EVP_PKEY* p = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (!p) return Err(Errc::kInternal);
  auto pk = std::make_unique<Pkey>();
  pk->p = p;
  return Ed25519Key(std::move(pk));
}

Result<Ed25519Key> Ed25519Key::from_pem(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (!bio) return Err(Errc::kInternal);
  EVP_PKEY* p = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (!p) return Err(Errc::kInvalidArgument);
  auto pk = std::make_unique<Pkey>();
  pk->p = p;
  if (EVP_PKEY_get_id(p) != EVP_PKEY_ED25519) return Err(Errc::kInvalidArgument);
  return Ed25519Key(std::move(pk));
}

Result<Ed25519Key> Ed25519Key::load_or_create(const std::string& path, std::string& why) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec) && !ec) {
    auto key = generate();
    if (!key) {
      why = "cannot generate an Ed25519 key (OpenSSL failed)";
      return key.error();
    }
    if (auto w = write_private_file(path, key->to_pem(), why); !w) return w.error();
    return key;
  }
  auto pem = read_secret_file(path, why);
  if (!pem) return pem.error();
  auto key = from_pem(*pem);
  if (!key) why = path + " is not an Ed25519 private key in PEM (PKCS#8)";
  return key;
}

std::string Ed25519Key::to_pem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  std::string out;
  if (bio && PEM_write_bio_PrivateKey(bio, pkey_->p, nullptr, nullptr, 0, nullptr, nullptr) == 1) {
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    out.assign(data, static_cast<std::size_t>(n));
  }
  BIO_free(bio);
  return out;
}

Ed25519Signature Ed25519Key::sign(std::string_view message) const {
  Ed25519Signature sig{};
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::size_t len = sig.size();
  if (ctx && EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, pkey_->p) == 1)
    EVP_DigestSign(ctx, sig.data(), &len, reinterpret_cast<const unsigned char*>(message.data()),
                   message.size());
  EVP_MD_CTX_free(ctx);
  return sig;
}

bool ed25519_verify(const Ed25519PublicKey& key, std::string_view message,
                    const Ed25519Signature& sig) {
  EVP_PKEY* p = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, key.data(), key.size());
  if (!p) return false;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok = ctx && EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, p) == 1 &&
                  EVP_DigestVerify(ctx, sig.data(), sig.size(),
                                   reinterpret_cast<const unsigned char*>(message.data()),
                                   message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(p);
  return ok;
}

std::string ed25519_fingerprint(const Ed25519PublicKey& key) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(key.data(), key.size(), digest);
  namespace b64 = boost::beast::detail::base64;
  std::string out(b64::encoded_size(sizeof digest), '\0');
  out.resize(b64::encode(out.data(), digest, sizeof digest));
  while (!out.empty() && out.back() == '=') out.pop_back();
  return "SHA256:" + out;
}

}  // namespace blackbox
