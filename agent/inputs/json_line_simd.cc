// The simdjson half of JsonLineParser. On x86-64 this file alone is compiled for AVX2
// (simdjson's on-demand API is compiled in, not dispatched at run time, and its generic
// kernel is ~4× slower); json_line.cc calls into it only after checking the CPU. It keeps
// to simdjson and plain arrays so that no template instance compiled here for AVX2 is shared
// with the rest of the program.
#include <simdjson.h>

#include <cmath>

#include "agent/inputs/json_backend.h"

namespace blackbox::agent {

namespace od = simdjson::ondemand;

static_assert(kJsonPadding >= simdjson::SIMDJSON_PADDING);

struct JsonBackend {
  JsonLineOptions options;
  od::parser parser;
  Field fields[kMaxJsonFields];
};

JsonBackend* json_backend_new(const JsonLineOptions& options) {
  auto* b = new JsonBackend();
  b->options = options;
  if (b->options.max_fields > kMaxJsonFields) b->options.max_fields = kMaxJsonFields;
  return b;
}

void json_backend_delete(JsonBackend* b) { delete b; }

namespace {

bool is_time_key(std::string_view k) {
  return k == "time" || k == "ts" || k == "timestamp" || k == "@timestamp";
}
bool is_level_key(std::string_view k) { return k == "level" || k == "severity" || k == "lvl"; }

std::string_view trim(std::string_view s) {
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

// v·scale + add, or nothing when it does not fit in int64 ns (past the year 2262).
std::optional<std::int64_t> scaled(std::int64_t v, std::int64_t scale, std::int64_t add = 0) {
  std::int64_t ns;
  if (__builtin_mul_overflow(v, scale, &ns) || __builtin_add_overflow(ns, add, &ns))
    return std::nullopt;
  return ns;
}

// Epoch number in s, ms, µs or ns, told apart by magnitude (valid for years 1973..2262).
std::optional<std::int64_t> epoch_to_ns(std::int64_t v) {
  if (v <= 0) return std::nullopt;
  if (v < 100'000'000'000) return scaled(v, 1'000'000'000);
  if (v < 100'000'000'000'000) return scaled(v, 1'000'000);
  if (v < 100'000'000'000'000'000) return scaled(v, 1'000);
  return v;
}

std::optional<std::int64_t> epoch_to_ns(double v) {
  if (!std::isfinite(v) || v <= 0 || v >= 9.2e18) return std::nullopt;
  std::int64_t scale;  // ns per unit
  if (v < 1e11)
    scale = 1'000'000'000;
  else if (v < 1e14)
    scale = 1'000'000;
  else if (v < 1e17)
    scale = 1'000;
  else
    return static_cast<std::int64_t>(v);
  // Whole units and the fraction apart: a double cannot hold ns since 1970 exactly.
  const double whole = std::floor(v);
  return scaled(static_cast<std::int64_t>(whole), scale,
                static_cast<std::int64_t>(std::llround((v - whole) * static_cast<double>(scale))));
}

// Numeric levels: syslog 0..7, or bunyan/pino 10..60.
Severity numeric_severity(std::int64_t v) {
  if (v >= 0 && v <= 7) return static_cast<Severity>(v);
  switch (v) {
    case 10:
      return Severity::kDebug;  // trace
    case 20:
      return Severity::kDebug;
    case 30:
      return Severity::kInfo;
    case 40:
      return Severity::kWarning;
    case 50:
      return Severity::kErr;
    case 60:
      return Severity::kCrit;  // fatal
    default:
      return Severity::kUnknown;
  }
}

}  // namespace

// One pass over the document on purpose (~85 lines): simdjson's on-demand parser reads each
// value once, in document order, so recognising time/level/message and keeping the other
// fields happen in the same loop; splitting it would mean a second walk per line.
bool json_backend_parse(JsonBackend* b, std::string_view line, std::size_t first, RecordData& r) {
  std::string_view body = trim(line.substr(first));
  if (body.size() < 2 || body.front() != '{' || body.back() != '}' ||
      body.size() > b->options.max_json_bytes)
    return false;
  // `body` lies inside `line`, which the caller guarantees is followed by kJsonPadding readable
  // bytes; the bytes between body's end and line's end count towards that.
  const std::size_t capacity =
      static_cast<std::size_t>(line.data() + line.size() - body.data()) + kJsonPadding;
  std::size_t nfields = 0;
  od::document doc;
  if (b->parser.iterate(body.data(), body.size(), capacity).get(doc)) return false;
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
          std::int64_t i;
          double d;
          if (!v.get_int64().get(i)) {
            time = epoch_to_ns(i);
          } else if (!v.get_double().get(d)) {
            time = epoch_to_ns(d);
          }
          used = time.has_value();
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
    if (!used && nfields < b->options.max_fields) b->fields[nfields++] = Field{key, raw};
  }
  if (time) r.event_time_ns = *time;
  if (severity != Severity::kUnknown) r.severity = severity;
  r.fields = std::span<const Field>(b->fields, nfields);
  r.flags |= record_flags::kJson;
  return true;
}

}  // namespace blackbox::agent
