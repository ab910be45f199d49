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
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

namespace {

// ---- The ingest hot loop -------------------------------------------------------------------
// One pass over the text, 64 bytes at a time: a bit mask of its word bytes (SSE2 where there
// is one, a table otherwise), then every word is found with bit scans instead of a byte loop
// whose exits the branch predictor can't guess, and hashed with the same function as
// hash_word() (loads masked to the word, no per-byte tail loop for words up to 16 bytes).

// Bit i set when p[i] is a word byte; reads exactly 64 bytes.
inline std::uint64_t word_mask64(const char* p) {
#if defined(__SSE2__)
  const __m128i kCase = _mm_set1_epi8(0x20);
  const __m128i kAlphaBias = _mm_set1_epi8(static_cast<char>(0x80 - 'a'));
  const __m128i kAlphaLimit = _mm_set1_epi8(static_cast<char>(0x80 + 26));
  const __m128i kDigitBias = _mm_set1_epi8(static_cast<char>(0x80 - '0'));
  const __m128i kDigitLimit = _mm_set1_epi8(static_cast<char>(0x80 + 10));
  const __m128i kUnderscore = _mm_set1_epi8('_');
  std::uint64_t m = 0;
  for (int i = 0; i < 4; ++i) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * i));
    // Unsigned range checks as signed compares after moving the range to the bottom.
    const __m128i alpha =
        _mm_cmplt_epi8(_mm_add_epi8(_mm_or_si128(x, kCase), kAlphaBias), kAlphaLimit);
    const __m128i digit = _mm_cmplt_epi8(_mm_add_epi8(x, kDigitBias), kDigitLimit);
    const __m128i us = _mm_cmpeq_epi8(x, kUnderscore);
    const auto bits =
        static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(alpha, digit), us)));
    m |= static_cast<std::uint64_t>(bits) << (16 * i);
  }
  return m;
#else
  struct Table {
    bool word[256] = {};
    constexpr Table() {
      for (int c = 0; c < 256; ++c) word[c] = is_word_byte(static_cast<unsigned char>(c));
    }
  };
  static constexpr Table kTable;
  std::uint64_t m = 0;
  for (int i = 0; i < 64; ++i)
    m |= static_cast<std::uint64_t>(kTable.word[static_cast<unsigned char>(p[i])]) << i;
  return m;
#endif
}

inline std::uint64_t mix_chunk(std::uint64_t h, std::uint64_t chunk) {
  h = (h ^ chunk) * 0x9e3779b97f4a7c15ull;
  return h ^ (h >> 29);
}
inline std::uint64_t finish_hash(std::uint64_t h) {
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}

// hash_word() of the n-byte word at p, 1 <= n <= 16, without branches on n. Reads p[0, 16).
struct ShortWordTable {
  std::uint64_t seed[17] = {};   // the hash before the first chunk: n * multiplier
  std::uint64_t mask1[17] = {};  // the word's bytes of the first and second 8-byte loads
  std::uint64_t mask2[17] = {};
  constexpr ShortWordTable() {
    for (std::size_t n = 1; n <= 16; ++n) {
      seed[n] = static_cast<std::uint64_t>(n) * 0x9e3779b97f4a7c15ull;
      mask1[n] = ~std::uint64_t{0} >> (64 - 8 * (n < 8 ? n : 8));
      mask2[n] = ~std::uint64_t{0} >> (64 - 8 * (n > 8 ? n - 8 : 1));
    }
  }
};
constexpr ShortWordTable kShortWords;

inline std::uint64_t hash_short_word(const char* p, std::size_t n) {
  constexpr std::uint64_t kLower = 0x2020202020202020ull;
  const std::uint64_t h1 =
      mix_chunk(kShortWords.seed[n], (load64(p) | kLower) & kShortWords.mask1[n]);
  const std::uint64_t h2 = mix_chunk(h1, (load64(p + 8) | kLower) & kShortWords.mask2[n]);
  // h2 when the word has a second chunk; a mask rather than ?: so that it stays branch-free.
  const std::uint64_t second = std::uint64_t{0} - static_cast<std::uint64_t>(n > 8);
  return finish_hash(h1 ^ ((h1 ^ h2) & second));
}

// Calls sink(hash, indexable) for every maximal run of word bytes of `text`, in order;
// `indexable` is false (and the hash meaningless) for runs outside [kMinWord, kMaxWord].
template <class Sink>
inline void scan_words(std::string_view text, Sink&& sink) {
  const char* const base = text.data();
  const std::size_t size = text.size();
  // The first `body` chunks are read in place: a word starting in them has 16 bytes of text
  // from its start, which hash_short_word() reads. The rest (< 80 bytes) is scanned from a
  // zero-padded copy (zero is no word byte), so that no load leaves the text.
  const std::size_t body = size >= 80 ? (size - 16) / 64 : 0;
  const std::size_t rest = size - 64 * body;
  alignas(16) char tail[2 * 64 + 16] = {};
  if (rest > 0) std::memcpy(tail, base + 64 * body, rest);
  const std::size_t chunks = body + (rest + 63) / 64;
  auto chunk_at = [&](std::size_t c) { return c < body ? base + 64 * c : tail + 64 * (c - body); };

  auto emit = [&](const char* p, std::size_t n) {
    const bool indexable = n >= kMinWord && n <= kMaxWord;
    const std::uint64_t h = n <= 16 ? hash_short_word(p, n)
                                    : hash_word(std::string_view(p, n < kMaxWord ? n : kMaxWord));
    sink(h, indexable);
  };

  std::uint64_t cur = chunks > 0 ? word_mask64(chunk_at(0)) : 0;
  std::uint64_t carry = 0;     // the previous chunk ends inside a word
  const char* open = nullptr;  // that word's first byte (in the text, or in `tail`)
  std::size_t open_at = 0;     // and its offset in the text
  for (std::size_t c = 0; c < chunks; ++c) {
    const char* const p = chunk_at(c);
    const std::size_t at = 64 * c;
    const std::uint64_t next = c + 1 < chunks ? word_mask64(chunk_at(c + 1)) : 0;
    std::uint64_t starts = cur & ~((cur << 1) | carry);
    std::uint64_t ends = cur & ~((cur >> 1) | (next << 63));  // the last byte of each word
    if ((carry & cur) != 0 && ends) {                         // the open word ends in this chunk
      emit(open, at + static_cast<std::size_t>(std::countr_zero(ends)) + 1 - open_at);
      ends &= ends - 1;
    }
    while (starts) {
      const auto s = static_cast<std::size_t>(std::countr_zero(starts));
      starts &= starts - 1;
      if (ends) {
        emit(p + s, static_cast<std::size_t>(std::countr_zero(ends)) + 1 - s);
        ends &= ends - 1;
      } else {  // runs into the next chunk
        open = p + s;
        open_at = at + s;
      }
    }
    carry = cur >> 63;
    cur = next;
  }
}

}  // namespace

void TokenFilter::hash_words(std::string_view text, std::vector<std::uint64_t>& out) {
  scan_words(text, [&](std::uint64_t h, bool indexable) {
    if (indexable) out.push_back(h);
  });
}

void TokenFilter::add_words(std::string_view text) {
  if (bits_.empty()) return;
  const std::size_t mask = bits_.size() / 8 - 1;
  char* const base = bits_.data();
  if (hashes_ != kHashes) {
    scan_words(text, [&](std::uint64_t h, bool indexable) {
      if (indexable) add_hash(h);
    });
    return;
  }
  // Runs that are too short or too long set no bit, without a branch (one-letter words are
  // common and their pattern unpredictable).
  scan_words(text, [&](std::uint64_t h, bool indexable) {
    char* p = base + 8 * (h & mask);
    const std::uint64_t m = block_mask(h, kHashes) & (std::uint64_t{0} - indexable);
    store64(p, load64(p) | m);
  });
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
