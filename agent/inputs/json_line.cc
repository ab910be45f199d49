#include "agent/inputs/json_line.h"

#include <spdlog/spdlog.h>

#include "agent/inputs/json_backend.h"

namespace blackbox::agent {

namespace {

int digits(std::string_view s, std::size_t pos, std::size_t n) {
  if (pos + n > s.size()) return -1;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

bool simd_json_usable() {
#if defined(__x86_64__)
  // json_line_simd.cc is compiled for AVX2 (simdjson's haswell kernel): only call it on a CPU
  // that has it. Every x86-64 server CPU since 2013 does.
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") &&
         __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("popcnt");
#else
  return true;
#endif
}

}  // namespace

// Strict and allocation-free: runs for every JSON line, where a stream-based parser (the date
// library) would cost more than the rest of the line's handling.
std::optional<std::int64_t> parse_rfc3339_ns(std::string_view s) {
  int y = digits(s, 0, 4), mo = digits(s, 5, 2), d = digits(s, 8, 2);
  int h = digits(s, 11, 2), mi = digits(s, 14, 2), se = digits(s, 17, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
      se < 0 || se > 60 || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':')
    return std::nullopt;
  if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') return std::nullopt;
  std::size_t pos = 19;
  std::int64_t frac_ns = 0;
  if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
    ++pos;
    std::int64_t scale = 100'000'000;
    std::size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      frac_ns += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  std::int64_t offset_s = 0;
  if (pos < s.size()) {
    if ((s[pos] == 'Z' || s[pos] == 'z') && pos + 1 == s.size()) {
      ++pos;
    } else if (s[pos] == '+' || s[pos] == '-') {
      int oh = digits(s, pos + 1, 2);
      std::size_t mpos = pos + 3;
      if (mpos < s.size() && s[mpos] == ':') ++mpos;
      int om = digits(s, mpos, 2);
      if (oh < 0 || om < 0 || mpos + 2 != s.size()) return std::nullopt;
      offset_s = (oh * 3600 + om * 60) * (s[pos] == '-' ? -1 : 1);
      pos = s.size();
    } else {
      return std::nullopt;
    }
  }
  if (pos != s.size()) return std::nullopt;
  static constexpr int kDaysIn[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (d > kDaysIn[mo - 1] + (mo == 2 && leap ? 1 : 0)) return std::nullopt;
  // Days since 1970-01-01: H. Hinnant's days_from_civil (the <chrono> calendar does the
  // same with more checks, measurably slower on this path).
  const int yy = y - (mo <= 2);
  const int era = yy / 400;
  const int yoe = yy - era * 400;
  const int doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const std::int64_t days = std::int64_t{era} * 146097 + doe - 719468;
  const std::int64_t secs = days * 86400 + h * 3600 + mi * 60 + se - offset_s;
  std::int64_t ns;  // years 0000..9999 in text, 1677..2262 in int64 ns
  if (__builtin_mul_overflow(secs, 1'000'000'000, &ns) || __builtin_add_overflow(ns, frac_ns, &ns))
    return std::nullopt;
  return ns;
}

struct JsonLineParser::Impl {
  JsonBackend* backend = nullptr;
  ~Impl() { json_backend_delete(backend); }
};

JsonLineParser::JsonLineParser(JsonLineOptions options) : impl_(std::make_unique<Impl>()) {
  if (simd_json_usable()) {
    impl_->backend = json_backend_new(options);
  } else {
    static bool warned = false;
    if (!warned) spdlog::warn("json: this CPU lacks AVX2; JSON lines are kept as text only");
    warned = true;
  }
}

JsonLineParser::~JsonLineParser() = default;

bool JsonLineParser::parse(std::string_view line, RecordData& r) {
  // Most lines are not JSON: decide on the first non-blank byte before anything else.
  std::size_t first = 0;
  while (first < line.size() && (line[first] == ' ' || line[first] == '\t')) ++first;
  if (first == line.size() || line[first] != '{' || !impl_->backend) return false;
  return json_backend_parse(impl_->backend, line, first, r);
}

}  // namespace blackbox::agent
