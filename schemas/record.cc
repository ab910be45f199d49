#include "schemas/record.h"

#include <cctype>
#include <cstring>

namespace blackbox {

namespace {

constexpr std::size_t kFixedBytes = 3 + 8 + 8;  // kind, severity, flags, two times

std::size_t varint_size(std::uint64_t v) {
  std::size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

std::size_t body_size(const RecordData& r) {
  std::size_t n = kFixedBytes + varint_size(r.source.size()) + r.source.size() +
                  varint_size(r.line.size()) + r.line.size() + varint_size(r.fields.size());
  for (const Field& f : r.fields)
    n += varint_size(f.key.size()) + f.key.size() + varint_size(f.value.size()) + f.value.size();
  return n;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != b[i]) return false;
  return true;
}

// Result<bool> cannot take an error_code implicitly (bool is constructible from one).
Result<bool> fail(Errc e) { return {boost::system::in_place_error, make_error_code(e)}; }

}  // namespace

bool is_valid_kind(std::uint8_t k) noexcept { return k >= 1 && k <= 4; }

const char* kind_name(RecordKind k) noexcept {
  switch (k) {
    case RecordKind::kLog: return "log";
    case RecordKind::kLifecycle: return "lifecycle";
    case RecordKind::kSnapshot: return "snapshot";
    case RecordKind::kGap: return "gap";
  }
  return "unknown";
}

const char* severity_name(Severity s) noexcept {
  static constexpr const char* kNames[] = {"emerg",   "alert",  "crit", "err",
                                           "warning", "notice", "info", "debug"};
  const auto v = static_cast<std::uint8_t>(s);
  return v < 8 ? kNames[v] : "unknown";
}

Severity parse_severity(std::string_view s) noexcept {
  struct Alias {
    std::string_view name;
    Severity sev;
  };
  static constexpr Alias kAliases[] = {
      {"emerg", Severity::kEmerg},     {"emergency", Severity::kEmerg},
      {"panic", Severity::kEmerg},     {"alert", Severity::kAlert},
      {"crit", Severity::kCrit},       {"critical", Severity::kCrit},
      {"fatal", Severity::kCrit},      {"err", Severity::kErr},
      {"error", Severity::kErr},       {"warning", Severity::kWarning},
      {"warn", Severity::kWarning},    {"notice", Severity::kNotice},
      {"info", Severity::kInfo},       {"informational", Severity::kInfo},
      {"debug", Severity::kDebug},     {"trace", Severity::kDebug},
  };
  if (s.size() == 1 && s[0] >= '0' && s[0] <= '7') return static_cast<Severity>(s[0] - '0');
  for (const Alias& a : kAliases)
    if (iequals(s, a.name)) return a.sev;
  return Severity::kUnknown;
}

std::size_t encoded_record_size(const RecordData& r) noexcept {
  const std::size_t body = body_size(r);
  return varint_size(body) + body;
}

void append_record(std::string& out, const RecordData& r) {
  const std::size_t body = body_size(r);
  const std::size_t old = out.size();
  out.resize(old + varint_size(body) + body);
  char* p = out.data() + old;
  auto put_varint = [&p](std::uint64_t v) {
    while (v >= 0x80) {
      *p++ = static_cast<char>(v | 0x80);
      v >>= 7;
    }
    *p++ = static_cast<char>(v);
  };
  auto put_bytes = [&](std::string_view s) {
    put_varint(s.size());
    if (!s.empty()) std::memcpy(p, s.data(), s.size());
    p += s.size();
  };
  put_varint(body);
  *p++ = static_cast<char>(r.kind);
  *p++ = static_cast<char>(r.severity);
  *p++ = static_cast<char>(r.flags);
  bytes::store_le(p, r.event_time_ns);
  bytes::store_le(p + 8, r.read_time_ns);
  p += 16;
  put_bytes(r.source);
  put_bytes(r.line);
  put_varint(r.fields.size());
  for (const Field& f : r.fields) {
    put_bytes(f.key);
    put_bytes(f.value);
  }
}

void RecordView::fields(std::vector<Field>& out) const {
  out.clear();
  bytes::Reader in(fields_raw);
  for (std::uint32_t i = 0; i < field_count; ++i) {
    Field f;
    if (!in.string(f.key) || !in.string(f.value)) return;  // validated by RecordReader
    out.push_back(f);
  }
}

RecordReader::RecordReader(std::string_view raw, std::uint64_t first_seq, std::uint32_t count,
                           const Limits& limits)
    : in_(raw), next_seq_(first_seq), left_(count), max_line_bytes_(limits.max_line_bytes) {}

Result<bool> RecordReader::next(RecordView& out) {
  if (left_ == 0) {
    if (!in_.empty()) return fail(Errc::kMalformedRecord);  // bytes after the last record
    return false;
  }
  std::uint64_t len;
  std::string_view body;
  if (!in_.varint(len) || !in_.raw(len, body)) return fail(Errc::kMalformedRecord);
  bytes::Reader r(body);
  std::uint8_t kind, sev, flags;
  std::uint64_t field_count;
  if (!r.u8(kind) || !r.u8(sev) || !r.u8(flags) || !r.le(out.event_time_ns) ||
      !r.le(out.read_time_ns) || !r.string(out.source, kMaxSourceBytes) || !r.string(out.line))
    return fail(Errc::kMalformedRecord);
  // Only log lines have a line cap; other kinds (snapshots) are bounded by the batch cap.
  if (kind == static_cast<std::uint8_t>(RecordKind::kLog) && out.line.size() > max_line_bytes_)
    return fail(Errc::kLineTooLong);
  if (!is_valid_kind(kind) || (sev > 7 && sev != 255) || (flags & ~record_flags::kKnownMask))
    return fail(Errc::kMalformedRecord);
  // Each field takes at least two bytes, which bounds a lying count before we loop on it.
  if (!r.varint(field_count) || field_count > r.remaining() / 2)
    return fail(Errc::kMalformedRecord);
  const char* fields_begin = r.position();
  for (std::uint64_t i = 0; i < field_count; ++i) {
    std::string_view k, v;
    if (!r.string(k) || !r.string(v)) return fail(Errc::kMalformedRecord);
  }
  if (!r.empty()) return fail(Errc::kMalformedRecord);
  out.fields_raw = std::string_view(fields_begin, static_cast<std::size_t>(r.position() - fields_begin));
  out.field_count = static_cast<std::uint32_t>(field_count);
  out.kind = static_cast<RecordKind>(kind);
  out.severity = static_cast<Severity>(sev);
  out.flags = flags;
  out.seq = next_seq_++;
  --left_;
  return true;
}

}  // namespace blackbox
