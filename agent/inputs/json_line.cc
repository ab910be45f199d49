#include "agent/inputs/json_line.h"

#include <simdjson.h>

#include <chrono>
#include <cmath>

namespace blackbox::agent {

namespace od = simdjson::ondemand;

static_assert(JsonLineParser::kPadding >= simdjson::SIMDJSON_PADDING);

namespace {

bool is_time_key(std::string_view k) {
  return k == "time" || k == "ts" || k == "timestamp" || k == "@timestamp";
}
bool is_level_key(std::string_view k) { return k == "level" || k == "severity" || k == "lvl"; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' ||
                        s.back() == '\n'))
    s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

// Epoch number in s, ms, µs or ns, told apart by magnitude (valid for years 1973..5138).
std::optional<std::int64_t> epoch_to_ns(double v) {
  if (!std::isfinite(v) || v <= 0) return std::nullopt;
  double ns;
  if (v < 1e11) ns = v * 1e9;
  else if (v < 1e14) ns = v * 1e6;
  else if (v < 1e17) ns = v * 1e3;
  else ns = v;
  if (ns >= 9.2e18) return std::nullopt;
  return static_cast<std::int64_t>(ns);
}

// Numeric levels: syslog 0..7, or bunyan/pino 10..60.
Severity numeric_severity(std::int64_t v) {
  if (v >= 0 && v <= 7) return static_cast<Severity>(v);
  switch (v) {
    case 10: return Severity::kDebug;    // trace
    case 20: return Severity::kDebug;
    case 30: return Severity::kInfo;
    case 40: return Severity::kWarning;
    case 50: return Severity::kErr;
    case 60: return Severity::kCrit;     // fatal
    default: return Severity::kUnknown;
  }
}

int digits(std::string_view s, std::size_t pos, std::size_t n) {
  if (pos + n > s.size()) return -1;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
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
  using namespace std::chrono;
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  const std::int64_t days = sys_days(ymd).time_since_epoch().count();
  const std::int64_t secs = days * 86400 + h * 3600 + mi * 60 + se - offset_s;
  return secs * 1'000'000'000 + frac_ns;
}

struct JsonLineParser::Impl {
  JsonLineOptions options;
  od::parser parser;
  std::vector<Field> fields;
};

JsonLineParser::JsonLineParser(JsonLineOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
  impl_->fields.reserve(options.max_fields);
}

JsonLineParser::~JsonLineParser() = default;

bool JsonLineParser::parse(std::string_view line, RecordData& r) {
  std::string_view body = trim(line);
  if (body.size() < 2 || body.front() != '{' || body.back() != '}' ||
      body.size() > impl_->options.max_json_bytes)
    return false;
  // `body` lies inside `line`, which the caller guarantees is followed by kPadding readable
  // bytes; the bytes between body's end and line's end count towards that.
  const std::size_t capacity =
      static_cast<std::size_t>(line.data() + line.size() - body.data()) + kPadding;
  auto& fields = impl_->fields;
  fields.clear();
  od::document doc;
  if (impl_->parser.iterate(body.data(), body.size(), capacity).get(doc)) return false;
  od::object obj;
  if (doc.get_object().get(obj)) return false;
  std::optional<std::int64_t> time;
  Severity severity = Severity::kUnknown;
  for (auto member : obj) {
    od::field f;
    if (std::move(member).get(f)) return false;
    std::string_view key;
    if (f.unescaped_key().get(key)) return false;
    od::value v = f.value();
    od::json_type type;
    if (v.type().get(type)) return false;
    std::string_view raw;
    bool used = false;
    switch (type) {
      case od::json_type::object: {
        od::object o;
        if (v.get_object().get(o) || o.raw_json().get(raw)) return false;
        break;
      }
      case od::json_type::array: {
        od::array a;
        if (v.get_array().get(a) || a.raw_json().get(raw)) return false;
        break;
      }
      case od::json_type::string: {
        raw = trim(v.raw_json_token());
        if (!time && is_time_key(key)) {
          std::string_view text;
          if (!v.get_string().get(text)) {
            time = parse_rfc3339_ns(text);
            used = time.has_value();
          }
        } else if (severity == Severity::kUnknown && is_level_key(key)) {
          std::string_view text;
          if (!v.get_string().get(text)) {
            severity = parse_severity(text);
            used = severity != Severity::kUnknown;
          }
        }
        break;
      }
      case od::json_type::number: {
        raw = trim(v.raw_json_token());
        if (!time && is_time_key(key)) {
          double d;
          if (!v.get_double().get(d)) {
            time = epoch_to_ns(d);
            used = time.has_value();
          }
        } else if (severity == Severity::kUnknown && is_level_key(key)) {
          std::int64_t n;
          if (!v.get_int64().get(n)) {
            severity = numeric_severity(n);
            used = severity != Severity::kUnknown;
          }
        }
        break;
      }
      default:
        raw = trim(v.raw_json_token());
        break;
    }
    if (!used && fields.size() < impl_->options.max_fields) fields.push_back(Field{key, raw});
  }
  if (time) r.event_time_ns = *time;
  if (severity != Severity::kUnknown) r.severity = severity;
  r.fields = fields;
  r.flags |= record_flags::kJson;
  return true;
}

}  // namespace blackbox::agent
