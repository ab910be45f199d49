// TokenFilter (store.h): a Bloom filter of the words of a batch, built once at ingest.
// Hash: FNV-1a 64 over the lower-cased word, then split into two halves for double hashing
// (Kirsch–Mitzenmacher). The hash is part of the stored format: never change it.
#include "collector/store/store.h"

#include <algorithm>
#include <bit>

namespace blackbox::collector {
namespace {

constexpr std::size_t kMinWord = 2;
constexpr std::size_t kMaxWord = 64;
constexpr std::size_t kMinBits = 1024;
constexpr std::size_t kMaxBits = 1u << 20;
constexpr std::uint8_t kHashes = 4;

inline bool is_word_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
inline unsigned char lower(unsigned char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<unsigned char>(c + 32) : c;
}

inline std::uint64_t word_hash(std::string_view w) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (char c : w) {
    h ^= lower(static_cast<unsigned char>(c));
    h *= 0x100000001b3ull;
  }
  // Finaliser (splitmix64) so that both halves are well mixed.
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}

}  // namespace

TokenFilter TokenFilter::from_bytes(std::string bits, std::uint8_t hashes) {
  TokenFilter f;
  // A filter whose size is not a power of two (or is empty) can't be probed: keep it empty,
  // which means "may contain anything".
  if (bits.empty() || !std::has_single_bit(bits.size()) || hashes == 0) return f;
  f.bits_ = std::move(bits);
  f.hashes_ = hashes;
  return f;
}

TokenFilter TokenFilter::with_capacity(std::size_t expected_words) {
  TokenFilter f;
  std::size_t bits = std::clamp(std::bit_ceil(std::max<std::size_t>(expected_words, 1) * 8),
                                kMinBits, kMaxBits);
  f.bits_.assign(bits / 8, '\0');
  f.hashes_ = kHashes;
  return f;
}

void TokenFilter::add_word(std::string_view word) {
  if (bits_.empty() || word.size() < kMinWord || word.size() > kMaxWord) return;
  const std::uint64_t h = word_hash(word);
  const std::uint64_t mask = bits_.size() * 8 - 1;
  std::uint32_t h1 = static_cast<std::uint32_t>(h), h2 = static_cast<std::uint32_t>(h >> 32) | 1;
  for (std::uint8_t i = 0; i < hashes_; ++i) {
    std::uint64_t bit = (h1 + static_cast<std::uint64_t>(i) * h2) & mask;
    bits_[bit >> 3] = static_cast<char>(bits_[bit >> 3] | (1 << (bit & 7)));
  }
}

bool TokenFilter::may_contain_word(std::string_view word) const {
  if (bits_.empty() || word.size() < kMinWord || word.size() > kMaxWord) return true;
  const std::uint64_t h = word_hash(word);
  const std::uint64_t mask = bits_.size() * 8 - 1;
  std::uint32_t h1 = static_cast<std::uint32_t>(h), h2 = static_cast<std::uint32_t>(h >> 32) | 1;
  for (std::uint8_t i = 0; i < hashes_; ++i) {
    std::uint64_t bit = (h1 + static_cast<std::uint64_t>(i) * h2) & mask;
    if (!(static_cast<unsigned char>(bits_[bit >> 3]) & (1 << (bit & 7)))) return false;
  }
  return true;
}

bool TokenFilter::may_contain_all(const std::vector<std::string>& words) const {
  for (const auto& w : words)
    if (!may_contain_word(w)) return false;
  return true;
}

void for_each_word(std::string_view text, const std::function<void(std::string_view)>& on_word) {
  std::size_t i = 0;
  const std::size_t n = text.size();
  while (i < n) {
    while (i < n && !is_word_byte(static_cast<unsigned char>(text[i]))) ++i;
    std::size_t start = i;
    while (i < n && is_word_byte(static_cast<unsigned char>(text[i]))) ++i;
    if (i > start) on_word(text.substr(start, i - start));
  }
}

std::vector<std::string> words_for_substring(std::string_view needle) {
  std::vector<std::string> out;
  std::size_t i = 0;
  const std::size_t n = needle.size();
  while (i < n) {
    while (i < n && !is_word_byte(static_cast<unsigned char>(needle[i]))) ++i;
    std::size_t start = i;
    while (i < n && is_word_byte(static_cast<unsigned char>(needle[i]))) ++i;
    // Bounded on both sides inside the needle: the line's word is exactly this one.
    if (i > start && start > 0 && i < n) {
      std::string w(needle.substr(start, i - start));
      for (auto& c : w) c = static_cast<char>(lower(static_cast<unsigned char>(c)));
      out.push_back(std::move(w));
    }
  }
  return out;
}

}  // namespace blackbox::collector
