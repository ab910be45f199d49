#include "collector/ingest/batch_indexer.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <variant>

#include "schemas/gap_body.h"
#include "schemas/lifecycle_body.h"
#include "schemas/streams.h"

namespace blackbox::collector {
namespace {

// Scratch above this size is released after use, so that one huge batch does not pin its
// buffer on the thread for ever.
constexpr std::size_t kKeepScratchBytes = 8u << 20;

// Halves a power-of-two Bloom filter while it stays sparse: bit i of the half is bit i OR
// bit i + m/2, which is what a filter built with the smaller mask would hold.
std::string fold_filter(std::string bits) {
  constexpr std::size_t kMinBytes = 64;
  auto popcount = [](std::string_view b) {
    std::size_t n = 0;
    for (std::size_t i = 0; i + 8 <= b.size(); i += 8) {
      std::uint64_t v;
      std::memcpy(&v, b.data() + i, 8);
      // SWAR popcount (no -mpopcnt: the libgcc call is slow).
      v = v - ((v >> 1) & 0x5555555555555555ull);
      v = (v & 0x3333333333333333ull) + ((v >> 2) & 0x3333333333333333ull);
      v = (v + (v >> 4)) & 0x0f0f0f0f0f0f0f0full;
      n += static_cast<std::size_t>((v * 0x0101010101010101ull) >> 56);
    }
    return n;
  };
  std::size_t ones = popcount(bits);
  while (bits.size() > kMinBytes) {
    const std::size_t half = bits.size() / 2;
    // Folding at most doubles the density; stop before it passes ~1/3.
    if (ones * 2 * 3 > half * 8) break;
    for (std::size_t i = 0; i < half; ++i) bits[i] = static_cast<char>(bits[i] | bits[i + half]);
    bits.resize(half);
    ones = popcount(bits);
  }
  return bits;
}

}  // namespace

Result<void> BatchIndexer::index(std::string_view instance, std::string&& bytes,
                                 IndexedBatch& out) {
  out.bytes = std::move(bytes);
  out.snapshots.clear();
  out.notices.clear();
  BatchIndexEntry& e = out.entry;
  e = BatchIndexEntry{};
  e.instance.assign(instance);

  // decode_batch() parses the header again; we need it first to size the filter.
  auto pre = parse_batch_header(out.bytes, options_.limits);
  if (!pre) return pre.error();
  out.header = *pre;
  TokenFilter words;
  if (options_.index_words) {
    // Sized generously (a word per 32 raw bytes, 8 bits each), then folded down to its real
    // density once the words are in.
    words = TokenFilter::with_capacity(std::max<std::uint32_t>(pre->raw_size / 32, 1));
  }

  bool bad_record = false;
  out.max_read_time_ns = kMinTime;
  out.gap_reasons.clear();
  out.skewed_records = 0;
  // The index range: the records' window times, whatever the header claims (PROTOCOL.md §3).
  std::int64_t min_time = kMaxTime, max_time = kMinTime;
  std::string_view last_words_source;  // valid while the batch's raw bytes are
  const std::string* last_source = nullptr;
  auto on_record = [&](const RecordView& r) {
    if (!is_valid_kind(static_cast<std::uint8_t>(r.kind))) {
      bad_record = true;
      return;
    }
    const std::int64_t t = window_time(r.event_time_ns, r.read_time_ns, options_.time_skew_ns);
    if (t != r.event_time_ns) ++out.skewed_records;
    min_time = std::min(min_time, t);
    max_time = std::max(max_time, t);
    out.max_read_time_ns = std::max(out.max_read_time_ns, r.read_time_ns);
    const auto sev = static_cast<unsigned>(r.severity);
    ++e.severity_counts[sev < 8 ? sev : 8];
    e.kinds_mask = static_cast<std::uint8_t>(e.kinds_mask | (1u << static_cast<unsigned>(r.kind)));
    if (!last_source || *last_source != r.source) {
      auto it = std::find(e.sources.begin(), e.sources.end(), r.source);
      if (it != e.sources.end()) {
        last_source = &*it;
      } else if (e.sources.size() < kMaxIndexedSources) {
        e.sources.emplace_back(r.source);
        last_source = &e.sources.back();
      } else {
        e.sources_truncated = true;
      }
    }
    if (!words.empty()) {
      words.add_words(r.line);
      if (r.source != last_words_source) {
        words.add_words(r.source);
        last_words_source = r.source;
      }
    }
    if (r.kind == RecordKind::kSnapshot) {
      out.snapshots.push_back(SnapshotRef{t, r.seq, out.header.first_seq});
    } else if (r.kind == RecordKind::kGap) {
      // Few (a loss is rare): decoded for the gap metrics. An undecodable body counts as "".
      auto body = decode_gap_body(r.line);
      out.gap_reasons.push_back(body ? body->reason : std::string());
    } else if (r.kind == RecordKind::kLifecycle) {
      // Lifecycle records are few (hello, notice, goodbye): decoding each costs nothing. A body
      // that does not decode is stored as it is and indexes nothing.
      auto body = decode_lifecycle_body(r.line);
      if (body && std::holds_alternative<TerminationNoticeBody>(*body))
        out.notices.push_back(
            NoticeRecord{r.event_time_ns, r.seq, std::get<TerminationNoticeBody>(*body).reason});
    }
  };

  auto h = decode_batch(out.bytes, options_.limits, zstd_, scratch_, on_record);
  if (scratch_.capacity() > kKeepScratchBytes) std::string().swap(scratch_);
  if (!h) return h.error();
  if (bad_record) return Err(Errc::kMalformedRecord);

  e.stream = h->stream;
  e.first_seq = h->first_seq;
  e.record_count = h->record_count;
  e.min_time_ns = min_time;  // record_count >= 1 (decode_batch): both were set
  e.max_time_ns = max_time;
  e.raw_size = h->raw_size;
  e.stored_size = static_cast<std::uint32_t>(out.bytes.size());
  if (!words.empty()) {
    e.words = TokenFilter::from_bytes(fold_filter(words.bits()), words.hashes());
  }
  return {};
}

}  // namespace blackbox::collector
