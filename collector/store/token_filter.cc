// TokenFilter (store.h): a blocked Bloom filter of the words of a batch, built once at ingest.
// Stored format (part of the time_index value; never change it without a version bump):
//   bits: a power-of-two number of bytes (>= 8), read as little-endian 64-bit blocks;
//   hash: word_hash() below over the word lower-cased (ASCII: byte | 0x20 for word bytes);
//   a word sets `hashes` bits, all in block (h mod blocks), at bit positions taken 6 bits at a
//   time from the top of h. One cache line per word, and the filter can be folded in half
//   (OR of the halves) without rebuilding it.
#include <algorithm>
#include <bit>
#include <cstring>

#include "collector/store/store.h"
#include "schemas/bytes.h"

namespace blackbox::collector {
namespace {

constexpr std::size_t kMinWord = 2;
constexpr std::size_t kMaxWord = 64;
constexpr std::size_t kMinBytes = 64;
constexpr std::size_t kMaxBytes = 1u << 17;
constexpr std::uint8_t kHashes = 4;

constexpr bool is_word_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
inline unsigned char lower(unsigned char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<unsigned char>(c + 32) : c;
}

}  // namespace

namespace {
inline std::uint64_t load64(const char* p) {
  if constexpr (std::endian::native == std::endian::little) {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
  } else {
    return bytes::load_le<std::uint64_t>(p);
  }
}
inline void store64(char* p, std::uint64_t v) {
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(p, &v, 8);
  } else {
    bytes::store_le(p, v);
  }
}
inline std::uint64_t hash_word(std::string_view w) {
  // Word bytes are [A-Za-z0-9_]: OR 0x20 lower-cases letters, keeps digits and maps '_' to
  // 0x7f, which is no word byte: a lossless lower-casing, eight bytes at a time.
  constexpr std::uint64_t kLower = 0x2020202020202020ull;
  constexpr std::uint64_t kMul = 0x9e3779b97f4a7c15ull;
  std::uint64_t h = static_cast<std::uint64_t>(w.size()) * kMul;
  const char* p = w.data();
  std::size_t n = w.size();
  while (n >= 8) {
    h = (h ^ (load64(p) | kLower)) * kMul;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    std::uint64_t x = 0;
    for (std::size_t i = 0; i < n; ++i)
      x |= static_cast<std::uint64_t>(static_cast<unsigned char>(p[i]) | 0x20) << (8 * i);
    h = (h ^ x) * kMul;
    h ^= h >> 29;
  }
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}
}  // namespace

std::uint64_t TokenFilter::word_hash(std::string_view w) { return hash_word(w); }

namespace {
inline std::uint64_t block_mask(std::uint64_t h, std::uint8_t hashes) {
  std::uint64_t m = 0;
  for (std::uint8_t i = 0; i < hashes; ++i) m |= std::uint64_t{1} << ((h >> (58 - 6 * i)) & 63);
  return m;
}
}  // namespace

TokenFilter TokenFilter::from_bytes(std::string bits, std::uint8_t hashes) {
  TokenFilter f;
  // A filter whose size is not a power of two >= 8 (or is empty) can't be probed: keep it
  // empty, which means "may contain anything".
  if (bits.size() < 8 || !std::has_single_bit(bits.size()) || hashes == 0 || hashes > 8) return f;
  f.bits_ = std::move(bits);
  f.hashes_ = hashes;
  return f;
}

TokenFilter TokenFilter::with_capacity(std::size_t expected_words) {
  TokenFilter f;
  const std::size_t bytes =
      std::clamp(std::bit_ceil(std::max<std::size_t>(expected_words, 1)), kMinBytes, kMaxBytes);
  f.bits_.assign(bytes, '\0');
  f.hashes_ = kHashes;
  return f;
}

void TokenFilter::add_hash(std::uint64_t h) {
  if (bits_.empty()) return;
  const std::size_t blocks = bits_.size() / 8;
  char* p = bits_.data() + 8 * (h & (blocks - 1));
  store64(p, load64(p) | block_mask(h, hashes_));
}

void TokenFilter::add_hashes(std::span<const std::uint64_t> hashes) {
  if (bits_.empty()) return;
  const std::size_t mask = bits_.size() / 8 - 1;
  char* base = bits_.data();
  if (hashes_ == kHashes) {  // the constant lets the compiler unroll block_mask
    for (std::uint64_t h : hashes) {
      char* p = base + 8 * (h & mask);
      store64(p, load64(p) | block_mask(h, kHashes));
    }
  } else {
    for (std::uint64_t h : hashes) add_hash(h);
  }
}

void TokenFilter::hash_words(std::string_view text, std::vector<std::uint64_t>& out) {
  struct Table {
    bool word[256] = {};
    constexpr Table() {
      for (int c = 0; c < 256; ++c) word[c] = is_word_byte(static_cast<unsigned char>(c));
    }
  };
  static constexpr Table kTable;
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    while (p < end && !kTable.word[*p]) ++p;
    const auto* start = p;
    while (p < end && kTable.word[*p]) ++p;
    const auto n = static_cast<std::size_t>(p - start);
    if (n >= kMinWord && n <= kMaxWord)
      out.push_back(hash_word(std::string_view(reinterpret_cast<const char*>(start), n)));
  }
}

void TokenFilter::add_word(std::string_view word) {
  if (word.size() < kMinWord || word.size() > kMaxWord) return;
  add_hash(hash_word(word));
}

bool TokenFilter::may_contain_word(std::string_view word) const {
  if (bits_.empty() || word.size() < kMinWord || word.size() > kMaxWord) return true;
  const std::uint64_t h = hash_word(word);
  const std::size_t blocks = bits_.size() / 8;
  const std::uint64_t m = block_mask(h, hashes_);
  return (load64(bits_.data() + 8 * (h & (blocks - 1))) & m) == m;
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
