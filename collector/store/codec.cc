#include "collector/store/codec.h"

#include <nlohmann/json.hpp>

#include "schemas/batch.h"
#include "schemas/bytes.h"

namespace blackbox::collector::codec {
namespace {

using nlohmann::json;

bool read_fixed_hash(bytes::Reader& in, ChainHash& h) {
  std::string_view raw;
  if (!in.raw(h.size(), raw)) return false;
  for (std::size_t i = 0; i < h.size(); ++i) h[i] = static_cast<std::uint8_t>(raw[i]);
  return true;
}

void put_hash(std::string& out, const ChainHash& h) {
  out.append(reinterpret_cast<const char*>(h.data()), h.size());
}

void put_prefix(std::string& out, const BatchIndexEntry& e) {
  bytes::put_u8(out, kValueVersion);
  bytes::put_le(out, e.max_time_ns);
  bytes::put_string(out, e.instance);
  bytes::put_le(out, e.stream);
  bytes::put_le(out, e.first_seq);
}

bool read_prefix(bytes::Reader& in, BatchIndexEntry& e) {
  std::uint8_t version = 0;
  std::string_view inst;
  if (!in.u8(version) || version != kValueVersion) return false;
  if (!in.le(e.max_time_ns) || !in.string(inst, 4096)) return false;
  e.instance.assign(inst);
  return in.le(e.stream) && in.le(e.first_seq);
}

template <class T>
T json_get(const json& j, const char* key, T fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  return it->get<T>();
}

}  // namespace

void encode_index_entry(std::string& out, const BatchIndexEntry& e, bool with_words) {
  put_prefix(out, e);
  bytes::put_le(out, e.record_count);
  bytes::put_le(out, e.min_time_ns);
  bytes::put_le(out, e.raw_size);
  bytes::put_le(out, e.stored_size);
  bytes::put_le(out, e.ingest_seq);
  bytes::put_le(out, e.ingest_time_ns);
  for (auto c : e.severity_counts) bytes::put_varint(out, c);
  bytes::put_u8(out, e.kinds_mask);
  bytes::put_u8(out, e.sources_truncated ? 1 : 0);
  bytes::put_varint(out, e.sources.size());
  for (const auto& s : e.sources) bytes::put_string(out, s);
  if (with_words && !e.words.empty()) {
    bytes::put_u8(out, e.words.hashes());
    bytes::put_string(out, e.words.bits());
  } else {
    bytes::put_u8(out, 0);
  }
}

Result<BatchIndexEntry> decode_index_entry(std::string_view v) {
  bytes::Reader in(v);
  BatchIndexEntry e;
  std::uint8_t truncated = 0, hashes = 0;
  std::uint64_t nsources = 0;
  if (!read_prefix(in, e) || !in.le(e.record_count) || !in.le(e.min_time_ns) ||
      !in.le(e.raw_size) || !in.le(e.stored_size) || !in.le(e.ingest_seq) ||
      !in.le(e.ingest_time_ns))
    return Err(Errc::kCorrupt);
  for (auto& c : e.severity_counts) {
    std::uint64_t x;
    if (!in.varint(x) || x > UINT32_MAX) return Err(Errc::kCorrupt);
    c = static_cast<std::uint32_t>(x);
  }
  if (!in.u8(e.kinds_mask) || !in.u8(truncated) || !in.varint(nsources) ||
      nsources > kMaxIndexedSources)
    return Err(Errc::kCorrupt);
  e.sources_truncated = truncated != 0;
  e.sources.reserve(nsources);
  for (std::uint64_t i = 0; i < nsources; ++i) {
    std::string_view s;
    if (!in.string(s, 1 << 20)) return Err(Errc::kCorrupt);
    e.sources.emplace_back(s);
  }
  if (!in.u8(hashes)) return Err(Errc::kCorrupt);
  if (hashes != 0) {
    std::string_view bits;
    if (!in.string(bits, 16 << 20)) return Err(Errc::kCorrupt);
    e.words = TokenFilter::from_bytes(std::string(bits), hashes);
  }
  if (!in.empty()) return Err(Errc::kCorrupt);
  return e;
}

void encode_ingest_ref(std::string& out, const BatchIndexEntry& e) {
  put_prefix(out, e);
  bytes::put_le(out, e.min_time_ns);
  bytes::put_le(out, e.ingest_time_ns);
}

Result<IngestRef> decode_ingest_ref(std::string_view v) {
  bytes::Reader in(v);
  IngestRef r;
  std::uint8_t version = 0;
  if (!in.u8(version) || version != kValueVersion || !in.le(r.max_time_ns) ||
      !in.string(r.instance, 4096) || !in.le(r.stream) || !in.le(r.first_seq) ||
      !in.le(r.min_time_ns))
    return Err(Errc::kCorrupt);
  return r;
}

namespace {
// Reads the shared prefix up to and including first_seq.
bool peek_prefix(bytes::Reader& in, RetentionFields& out) {
  std::uint8_t version = 0;
  std::uint32_t stream = 0;
  std::uint64_t first_seq = 0;
  return in.u8(version) && version == kValueVersion && in.le(out.max_time_ns) &&
         in.string(out.instance, 4096) && in.le(stream) && in.le(first_seq);
}
}  // namespace

bool peek_index_retention(std::string_view v, RetentionFields& out) {
  bytes::Reader in(v);
  std::uint32_t record_count = 0, raw_size = 0, stored_size = 0;
  std::int64_t min_time = 0;
  std::uint64_t ingest_seq = 0;
  out.stored_ns = 0;
  if (!peek_prefix(in, out)) return false;
  if (!in.le(record_count) || !in.le(min_time) || !in.le(raw_size) || !in.le(stored_size) ||
      !in.le(ingest_seq) || !in.le(out.stored_ns))
    out.stored_ns = 0;
  return true;
}

bool peek_ingest_retention(std::string_view v, RetentionFields& out) {
  bytes::Reader in(v);
  std::int64_t min_time = 0;
  out.stored_ns = 0;
  if (!peek_prefix(in, out)) return false;
  if (!in.le(min_time) || !in.le(out.stored_ns)) out.stored_ns = 0;
  return true;
}

namespace {
constexpr std::size_t kTrailerBytes = 12;
constexpr std::size_t kStoredSizeOffset = 44;  // schemas/batch.h header layout

// The trailer's magic must be where it belongs; for a value that starts like a batch, the
// header's stored_size must also put the end of the batch right before it (so an old value
// whose payload happens to end in the magic is never cut).
bool has_trailer(std::string_view v) {
  if (v.size() < kTrailerBytes ||
      bytes::load_le<std::uint32_t>(v.data() + v.size() - kTrailerBytes) != kStoredMagic)
    return false;
  if (v.size() < kBatchHeaderBytes + kTrailerBytes ||
      bytes::load_le<std::uint32_t>(v.data()) != kBatchMagic)
    return true;  // not a batch (store tests write arbitrary bytes): the magic decides
  const auto stored = bytes::load_le<std::uint32_t>(v.data() + kStoredSizeOffset);
  return v.size() == kBatchHeaderBytes + std::size_t{stored} + kTrailerBytes;
}
}  // namespace

std::string stored_batch_trailer(std::int64_t stored_ns) {
  std::string t;
  bytes::put_le(t, kStoredMagic);
  bytes::put_le(t, stored_ns);
  return t;
}

void encode_stored_batch(std::string& out, std::string_view batch, std::int64_t stored_ns) {
  out.append(batch);
  out += stored_batch_trailer(stored_ns);
}

std::string_view stored_batch_bytes(std::string_view v) {
  return has_trailer(v) ? v.substr(0, v.size() - kTrailerBytes) : v;
}

bool stored_batch_time(std::string_view v, std::int64_t& out) {
  if (!has_trailer(v)) return false;
  out = bytes::load_le<std::int64_t>(v.data() + v.size() - 8);
  return true;
}

std::string encode_instance(const InstanceInfo& i) {
  json j = {
      {"instance", i.instance},
      {"image", i.image},
      {"agent_version", i.agent_version},
      {"hostnames", i.hostnames},
      {"boot_ids", i.boot_ids},
      {"first_seen_ns", i.first_seen_ns},
      {"last_seen_ns", i.last_seen_ns},
      {"last_heartbeat_ns", i.last_heartbeat_ns},
      {"state", state_name(i.state)},
      {"termination_notice", i.termination_notice},
      {"termination_notice_ns", i.termination_notice_ns},
      {"records", i.records},
      {"batches", i.batches},
      {"stored_bytes", i.stored_bytes},
      {"gaps", i.gaps},
      {"gap_records", i.gap_records},
      {"min_event_ns", i.min_event_ns},
      {"max_event_ns", i.max_event_ns},
      {"max_read_ns", i.max_read_ns},
      {"max_batch_span_ns", i.max_batch_span_ns},
  };
  if (i.end.kind != EndKind::kNone) {
    j["end"] = {{"kind", end_kind_name(i.end.kind)},
                {"time_ns", i.end.time_ns},
                {"reason", i.end.reason},
                {"termination_notice", i.end.termination_notice}};
  }
  // legal_hold is not stored here: it lives in meta "hold/" and is merged in by the reader.
  return j.dump();
}

Result<InstanceInfo> decode_instance(std::string_view v) {
  json j = json::parse(v, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Err(Errc::kCorrupt);
  try {
    InstanceInfo i;
    i.instance = j.at("instance").get<std::string>();
    i.image = json_get<std::string>(j, "image", "");
    i.agent_version = json_get<std::string>(j, "agent_version", "");
    i.hostnames = json_get<std::vector<std::string>>(j, "hostnames", {});
    i.boot_ids = json_get<std::vector<std::string>>(j, "boot_ids", {});
    i.first_seen_ns = json_get<std::int64_t>(j, "first_seen_ns", 0);
    i.last_seen_ns = json_get<std::int64_t>(j, "last_seen_ns", 0);
    i.last_heartbeat_ns = json_get<std::int64_t>(j, "last_heartbeat_ns", 0);
    auto st = parse_state(json_get<std::string>(j, "state", "running"));
    if (!st) return Err(Errc::kCorrupt);
    i.state = *st;
    i.termination_notice = json_get<bool>(j, "termination_notice", false);
    i.termination_notice_ns = json_get<std::int64_t>(j, "termination_notice_ns", 0);
    i.records = json_get<std::uint64_t>(j, "records", 0);
    i.batches = json_get<std::uint64_t>(j, "batches", 0);
    i.stored_bytes = json_get<std::uint64_t>(j, "stored_bytes", 0);
    i.gaps = json_get<std::uint64_t>(j, "gaps", 0);
    i.gap_records = json_get<std::uint64_t>(j, "gap_records", 0);
    i.min_event_ns = json_get<std::int64_t>(j, "min_event_ns", kMaxTime);
    i.max_event_ns = json_get<std::int64_t>(j, "max_event_ns", kMinTime);
    i.max_read_ns = json_get<std::int64_t>(j, "max_read_ns", kMinTime);
    i.max_batch_span_ns = json_get<std::int64_t>(j, "max_batch_span_ns", 0);
    if (auto it = j.find("end"); it != j.end() && it->is_object()) {
      auto kind = json_get<std::string>(*it, "kind", "");
      i.end.kind = kind == "goodbye"  ? EndKind::kGoodbye
                   : kind == "silent" ? EndKind::kSilent
                                      : EndKind::kNone;
      i.end.time_ns = json_get<std::int64_t>(*it, "time_ns", 0);
      i.end.reason = json_get<std::string>(*it, "reason", "");
      i.end.termination_notice = json_get<bool>(*it, "termination_notice", false);
    }
    return i;
  } catch (const json::exception&) {
    return Err(Errc::kCorrupt);
  }
}

std::string encode_event(const LifecycleEvent& e) {
  json detail = json::parse(e.detail_json, nullptr, false);
  if (!detail.is_object()) detail = json::object();
  json j = {{"time_ns", e.time_ns}, {"event", lifecycle_kind_name(e.kind)},
            {"boot_id", e.boot_id}, {"hostname", e.hostname},
            {"reason", e.reason},   {"detail", detail}};
  return j.dump();
}

Result<LifecycleEvent> decode_event(std::string_view v) {
  json j = json::parse(v, nullptr, false);
  if (!j.is_object()) return Err(Errc::kCorrupt);
  try {
    LifecycleEvent e;
    e.time_ns = j.at("time_ns").get<std::int64_t>();
    auto name = j.at("event").get<std::string>();
    bool known = false;
    for (auto k :
         {LifecycleKind::kHello, LifecycleKind::kTerminationNotice, LifecycleKind::kGoodbye,
          LifecycleKind::kWentSilent, LifecycleKind::kReconnected, LifecycleKind::kEnrolled,
          LifecycleKind::kAdmin}) {
      if (name == lifecycle_kind_name(k)) {
        e.kind = k;
        known = true;
      }
    }
    if (!known) return Err(Errc::kCorrupt);
    e.boot_id = json_get<std::string>(j, "boot_id", "");
    e.hostname = json_get<std::string>(j, "hostname", "");
    e.reason = json_get<std::string>(j, "reason", "");
    auto it = j.find("detail");
    e.detail_json = (it != j.end() && it->is_object()) ? it->dump() : "{}";
    return e;
  } catch (const json::exception&) {
    return Err(Errc::kCorrupt);
  }
}

std::string encode_gap(const GapRange& g) {
  std::string out;
  bytes::put_u8(out, kValueVersion);
  bytes::put_le(out, g.to_seq);
  bytes::put_le(out, g.detected_ns);
  bytes::put_string(out, g.reason);
  return out;
}

Result<GapRange> decode_gap(std::uint32_t stream, std::uint64_t from_seq, std::string_view v) {
  bytes::Reader in(v);
  GapRange g;
  g.stream = stream;
  g.from_seq = from_seq;
  std::uint8_t version = 0;
  std::string_view reason;
  if (!in.u8(version) || version != kValueVersion || !in.le(g.to_seq) || !in.le(g.detected_ns) ||
      !in.string(reason, 1 << 16))
    return Err(Errc::kCorrupt);
  g.reason.assign(reason);
  return g;
}

std::string encode_head(const StreamHead& h) {
  std::string out;
  bytes::put_u8(out, kValueVersion);
  bytes::put_le(out, h.next_seq);
  put_hash(out, h.head);
  bytes::put_le(out, h.last_first_seq);
  return out;
}

Result<StreamHead> decode_head(std::uint32_t stream, std::string_view v) {
  bytes::Reader in(v);
  StreamHead h;
  h.stream = stream;
  std::uint8_t version = 0;
  if (!in.u8(version) || version != kValueVersion || !in.le(h.next_seq) ||
      !read_fixed_hash(in, h.head) || !in.le(h.last_first_seq) || !in.empty())
    return Err(Errc::kCorrupt);
  return h;
}

std::string encode_snapshot_ref(std::uint64_t batch_first_seq, std::int64_t stored_ns) {
  std::string out;
  bytes::put_u8(out, kValueVersion);
  bytes::put_le(out, batch_first_seq);
  bytes::put_le(out, stored_ns);
  return out;
}

bool snapshot_stored_time(std::string_view v, std::int64_t& out) {
  bytes::Reader in(v);
  std::uint8_t version = 0;
  std::uint64_t seq = 0;
  return in.u8(version) && version == kValueVersion && in.le(seq) && in.le(out);
}

Result<std::uint64_t> decode_snapshot_ref(std::string_view v) {
  bytes::Reader in(v);
  std::uint8_t version = 0;
  std::uint64_t seq = 0;
  if (!in.u8(version) || version != kValueVersion || !in.le(seq)) return Err(Errc::kCorrupt);
  return seq;
}

}  // namespace blackbox::collector::codec
