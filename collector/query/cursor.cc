#include "collector/query/cursor.h"

#include <charconv>
#include <cstdio>
#include <vector>

namespace blackbox::collector::query {
namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t p = s.find(sep, start);
    out.push_back(
        s.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start));
    if (p == std::string_view::npos) return out;
    start = p + 1;
  }
}

template <class T>
bool number(std::string_view s, T& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

std::string pos_text(const ScanPos& p) {
  return std::to_string(p.min_time) + "_" + std::to_string(p.stream) + "_" +
         std::to_string(p.first_seq) + "_" + std::to_string(p.seq);
}

bool parse_pos(std::string_view s, ScanPos& p) {
  auto parts = split(s, '_');
  return parts.size() == 4 && number(parts[0], p.min_time) && number(parts[1], p.stream) &&
         number(parts[2], p.first_seq) && number(parts[3], p.seq);
}

}  // namespace

std::uint64_t source_hash(std::string_view source) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (char c : source) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

std::string encode_records_cursor(const RecordsCursor& c) {
  std::string out = "r1." + std::to_string(c.since) + "." + std::to_string(c.until) + "." +
                    pos_text(c.scan_from) + "." + pos_text(c.emit_from);
  for (const auto& k : c.keys) {
    char hash[17];
    std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(k.source_hash));
    out += ".k" + std::to_string(k.stream) + "_" + hash + "_" + std::to_string(k.front_seq) + "_" +
           std::to_string(k.after_left);
  }
  return out;
}

Result<RecordsCursor> decode_records_cursor(std::string_view s) {
  auto parts = split(s, '.');
  RecordsCursor c;
  if (parts.size() < 5 || parts.size() > 5 + kMaxCursorKeys || parts[0] != "r1" ||
      !number(parts[1], c.since) || !number(parts[2], c.until) ||
      !parse_pos(parts[3], c.scan_from) || !parse_pos(parts[4], c.emit_from) ||
      c.emit_from < c.scan_from)
    return Err(Errc::kInvalidArgument);
  for (std::size_t i = 5; i < parts.size(); ++i) {
    auto f = split(parts[i].substr(parts[i].empty() ? 0 : 1), '_');
    ContextKey k;
    if (parts[i].empty() || parts[i][0] != 'k' || f.size() != 4 || !number(f[0], k.stream) ||
        f[1].size() != 16 || !number(f[2], k.front_seq) || !number(f[3], k.after_left))
      return Err(Errc::kInvalidArgument);
    auto [p, ec] = std::from_chars(f[1].data(), f[1].data() + 16, k.source_hash, 16);
    if (ec != std::errc() || p != f[1].data() + 16) return Err(Errc::kInvalidArgument);
    c.keys.push_back(k);
  }
  return c;
}

std::string encode_follow_cursor(std::uint64_t ingest_pos) {
  return "f1." + std::to_string(ingest_pos);
}

Result<std::uint64_t> decode_follow_cursor(std::string_view s) {
  std::uint64_t pos = 0;
  if (s.substr(0, 3) != "f1." || !number(s.substr(3), pos)) return Err(Errc::kInvalidArgument);
  return pos;
}

std::string encode_instances_cursor(std::string_view last_instance) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "i1.";
  for (char ch : last_instance) {
    const auto u = static_cast<unsigned char>(ch);
    out += kHex[u >> 4];
    out += kHex[u & 15];
  }
  return out;
}

Result<std::string> decode_instances_cursor(std::string_view s) {
  if (s.substr(0, 3) != "i1." || s.size() % 2 != 1 || s.size() > 3 + 2 * 512)
    return Err(Errc::kInvalidArgument);
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 3; i + 1 < s.size(); i += 2) {
    const int hi = nibble(s[i]), lo = nibble(s[i + 1]);
    if (hi < 0 || lo < 0) return Err(Errc::kInvalidArgument);
    out += static_cast<char>(hi << 4 | lo);
  }
  return out;
}

}  // namespace blackbox::collector::query
