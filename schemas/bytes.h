// Fixed-width and varint encoding with an explicit byte order. Little-endian on the wire and
// on disk (spool); big-endian for RocksDB keys so that byte order sorts like numeric order.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

namespace blackbox::bytes {

inline void put_u8(std::string& out, std::uint8_t v) { out.push_back(static_cast<char>(v)); }

template <class T>
inline void put_le(std::string& out, T v) {
  static_assert(std::is_integral_v<T>);
  char buf[sizeof(T)];
  auto u = static_cast<std::make_unsigned_t<T>>(v);
  for (std::size_t i = 0; i < sizeof(T); ++i) buf[i] = static_cast<char>(u >> (8 * i));
  out.append(buf, sizeof(T));
}

template <class T>
inline void put_be(std::string& out, T v) {
  static_assert(std::is_integral_v<T>);
  char buf[sizeof(T)];
  auto u = static_cast<std::make_unsigned_t<T>>(v);
  for (std::size_t i = 0; i < sizeof(T); ++i)
    buf[sizeof(T) - 1 - i] = static_cast<char>(u >> (8 * i));
  out.append(buf, sizeof(T));
}

template <class T>
inline T load_le(const char* p) {
  std::make_unsigned_t<T> u = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i)
    u |= static_cast<std::make_unsigned_t<T>>(static_cast<unsigned char>(p[i])) << (8 * i);
  return static_cast<T>(u);
}

template <class T>
inline T load_be(const char* p) {
  std::make_unsigned_t<T> u = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i)
    u = static_cast<std::make_unsigned_t<T>>(u << 8) | static_cast<unsigned char>(p[i]);
  return static_cast<T>(u);
}

// Overwrites sizeof(T) bytes at `p` (for patching a length or checksum in place).
template <class T>
inline void store_le(char* p, T v) {
  auto u = static_cast<std::make_unsigned_t<T>>(v);
  for (std::size_t i = 0; i < sizeof(T); ++i) p[i] = static_cast<char>(u >> (8 * i));
}

// LEB128 unsigned varint, at most 10 bytes.
inline void put_varint(std::string& out, std::uint64_t v) {
  char buf[10];
  int n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out.append(buf, n);
}

inline void put_string(std::string& out, std::string_view s) {
  put_varint(out, s.size());
  out.append(s);
}

// A bounds-checked cursor over a byte string. Every getter returns false (and consumes
// nothing useful) when the input is too short or malformed; callers turn that into an Errc.
class Reader {
 public:
  explicit Reader(std::string_view data) : p_(data.data()), end_(data.data() + data.size()) {}

  std::size_t remaining() const { return static_cast<std::size_t>(end_ - p_); }
  bool empty() const { return p_ == end_; }
  const char* position() const { return p_; }

  template <class T>
  bool le(T& v) {
    if (remaining() < sizeof(T)) return false;
    v = load_le<T>(p_);
    p_ += sizeof(T);
    return true;
  }
  bool u8(std::uint8_t& v) { return le(v); }

  bool varint(std::uint64_t& v) {
    std::uint64_t result = 0;
    for (int shift = 0; shift <= 63 && p_ < end_; shift += 7) {
      auto byte = static_cast<unsigned char>(*p_++);
      if (shift == 63 && byte > 1) return false;  // overflows 64 bits
      result |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if (byte < 0x80) {
        v = result;
        return true;
      }
    }
    return false;
  }

  // A view of the next n bytes; n is checked against what is left before anything else.
  bool raw(std::uint64_t n, std::string_view& out) {
    if (n > remaining()) return false;
    out = std::string_view(p_, static_cast<std::size_t>(n));
    p_ += n;
    return true;
  }

  // A varint length followed by that many bytes; the length is capped by `max`.
  bool string(std::string_view& out, std::uint64_t max = UINT64_MAX) {
    std::uint64_t n;
    if (!varint(n) || n > max) return false;
    return raw(n, out);
  }

 private:
  const char* p_;
  const char* end_;
};

}  // namespace blackbox::bytes
