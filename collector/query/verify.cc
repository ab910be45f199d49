#include "collector/query/verify.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include "schemas/batch.h"
#include "schemas/gap_body.h"
#include "schemas/hex.h"
#include "schemas/streams.h"
#include "schemas/zstd_codec.h"

namespace blackbox::collector::query {

namespace {

// Stored batches were checked against the collector's limits when they arrived; verify reads
// whatever is stored (a collector may have run with larger limits), bounded by the header CRC.
constexpr Limits kAnyLimits{UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX};

struct LifecycleBatch {
  std::uint64_t first_seq = 0, end_seq = 0;
  bool only_signed = false;  // holds signed_heads records only
};

struct FoundSigned {
  std::uint64_t seq = 0;
  SignedHeadsBody body;
};

using EndKey = std::pair<std::uint32_t, std::uint64_t>;  // (stream, end_seq)

// Pass 1: the signed_heads records of the lifecycle stream (a small stream), and which of its
// batches hold nothing else. Batches that do not decode are left to the chain pass to report.
void collect_signed(const Store& store, const std::string& instance,
                    std::vector<FoundSigned>& found, std::vector<LifecycleBatch>& batches) {
  ZstdDecompressor zstd;
  std::string scratch;
  std::set<std::uint64_t> seqs;
  // A scan that stops at a value it cannot parse has still collected what came before; the
  // chain pass names that value.
  (void)store.scan_stream(instance, kStreamLifecycle, 0, [&](const StoredBatch& b) {
    bool only = true;
    std::vector<FoundSigned> here;
    auto h = decode_batch(b.bytes, kAnyLimits, zstd, scratch, [&](const RecordView& r) {
      if (r.kind == RecordKind::kLifecycle && is_signed_heads_line(r.line)) {
        if (auto body = decode_signed_heads_body(r.line)) {
          here.push_back({r.seq, std::move(*body)});
          return;
        }
      }
      only = false;
    });
    if (!h) return true;
    batches.push_back({h->first_seq, h->end_seq(), only});
    for (auto& f : here)
      if (seqs.insert(f.seq).second) found.push_back(std::move(f));
    return true;
  });
}

// Whether recorded gaps of `stream` cover all of [from, to).
bool gaps_cover(const std::vector<GapRange>& gaps, std::uint32_t stream, std::uint64_t from,
                std::uint64_t to) {
  std::uint64_t at = from;
  for (const auto& g : gaps)  // ordered by (stream, from_seq)
    if (g.stream == stream && g.from_seq <= at && g.to_seq > at) at = g.to_seq;
  return at >= to;
}

// The chain of one stream as the scan walks it.
struct ChainState {
  StreamVerify out;
  bool known = false;  // `expected` and `prev` hold: the next batch must continue them
  bool open = false;   // the last intact range may be extended
  std::uint64_t expected = 0;
  ChainHash prev{};
  std::uint64_t prev_first = 0;
  std::set<ChainHash> seen;
  std::size_t breaks = 0;
};

class InstanceChecker {
 public:
  InstanceChecker(const Store& store, const VerifyOptions& o, InstanceVerify& rep)
      : store_(store), o_(o), rep_(rep) {}

  Result<void> run();

 private:
  void on_batch(const RawStoredBatch& b);
  void begin_stream(std::uint32_t stream);
  void end_stream();
  void add_break(ChainBreak b);
  void cut(ChainState& s) {
    s.known = false;
    s.open = false;
  }
  void check_signatures(const std::vector<FoundSigned>& found, bool running);
  void coverage(const std::vector<LifecycleBatch>& lifecycle);
  void agent_gap_records();
  // An unreadable batch holds the last seq before `end`: its head cannot be recomputed.
  bool unreadable_at(std::uint32_t stream, std::uint64_t end) const {
    return std::any_of(rep_.unreadable.begin(), rep_.unreadable.end(), [&](const auto& u) {
      return u.stream == stream && u.first_seq < end && u.end_seq >= end;
    });
  }

  const Store& store_;
  const VerifyOptions& o_;
  InstanceVerify& rep_;
  std::vector<GapRange> gaps_;
  std::vector<StreamHead> heads_;
  std::optional<ChainState> cur_;
  std::set<EndKey> wanted_;
  std::map<EndKey, ChainHash> hashes_;  // recomputed hash of the intact batch ending there
};

void InstanceChecker::add_break(ChainBreak b) {
  if (cur_->breaks++ > o_.max_breaks) return;  // the first and max_breaks more
  rep_.breaks.push_back(std::move(b));
}

void InstanceChecker::begin_stream(std::uint32_t stream) {
  cur_.emplace();
  cur_->out.stream = stream;
  cur_->known = o_.since_ns == kMinTime;  // from the start: seq 0 after the zero hash
}

void InstanceChecker::end_stream() {
  if (!cur_) return;
  ChainState& s = *cur_;
  // The collector recorded more as stored than the scan found: the tail was removed.
  if (o_.until_ns == kMaxTime) {
    for (const auto& h : heads_) {
      if (h.stream != s.out.stream || h.next_seq <= s.out.stored_end) continue;
      if (gaps_cover(gaps_, h.stream, s.out.stored_end, h.next_seq)) continue;
      if (s.known || s.out.batches == 0)
        add_break({h.stream, s.out.stored_end, h.next_seq, BreakKind::kMissing,
                   fmt::format("the collector recorded seqs up to {} as stored; [{}, {}) are "
                               "not there",
                               h.next_seq, s.out.stored_end, h.next_seq)});
    }
  }
  rep_.streams.push_back(std::move(s.out));
  cur_.reset();
}

// One stored value: unreadable, broken (content, order, duplicate, missing before it), or the
// next intact link of the chain. Long because each outcome is a few lines; they read in order.
void InstanceChecker::on_batch(const RawStoredBatch& b) {
  if (!cur_ || cur_->out.stream != b.stream) {
    end_stream();
    begin_stream(b.stream);
  }
  ChainState& s = *cur_;
  const std::uint64_t key = b.key_first_seq;
  if (!b.error.empty()) {
    rep_.unreadable.push_back(
        {b.stream, key, std::max(b.index_end_seq, key), "stored value unreadable: " + b.error});
    cut(s);
    return;
  }
  auto h = parse_batch_header(b.bytes, kAnyLimits);
  if (!h) {
    add_break({b.stream, key, 0, BreakKind::kContentChanged,
               "the stored value is not a valid batch: " + h.error().message()});
    cut(s);
    return;
  }
  if (h->max_time_ns < o_.since_ns || h->min_time_ns >= o_.until_ns) {
    cut(s);  // outside the window asked for: the chain restarts at the next batch inside it
    return;
  }
  if (auto ok = verify_batch_integrity(*h, b.bytes); !ok) {
    add_break({b.stream, key, h->end_seq(), BreakKind::kContentChanged,
               "the batch's bytes changed: " + ok.error().message()});
    cut(s);
    return;
  }
  if (h->stream != b.stream || h->first_seq != key) {
    const bool dup = s.seen.count(h->hash) != 0;
    add_break(
        {b.stream, key, h->end_seq(), dup ? BreakKind::kDuplicate : BreakKind::kOutOfOrder,
         fmt::format("the value stored as seq {} of stream {} is {}batch {} of stream {}", key,
                     b.stream, dup ? "a second copy of " : "", h->first_seq, h->stream)});
    cut(s);
    return;
  }
  if (s.known && key > s.expected) {
    if (!gaps_cover(gaps_, b.stream, s.expected, key))
      add_break({b.stream, s.expected, key, BreakKind::kMissing,
                 fmt::format("seqs [{}, {}) are not stored and no gap was recorded for them",
                             s.expected, key)});
    s.open = false;
  } else if (s.known && key < s.expected) {
    add_break(
        {b.stream, key, h->end_seq(),
         s.seen.count(h->hash) ? BreakKind::kDuplicate : BreakKind::kOutOfOrder,
         fmt::format("batch {} overlaps the batch before it, which ends at {}", key, s.expected)});
    cut(s);
    return;
  } else if (s.known && h->prev_hash != s.prev) {
    add_break({b.stream, key, h->end_seq(), BreakKind::kContentChanged,
               fmt::format("its prev_hash is not the hash of the batch before it (seq {}): one "
                           "of the two was rewritten",
                           s.prev_first)});
    s.open = false;
  }
  s.known = true;
  s.expected = h->end_seq();
  s.prev = h->hash;
  s.prev_first = key;
  s.seen.insert(h->hash);
  s.out.batches += 1;
  s.out.records += h->record_count;
  s.out.stored_end = std::max(s.out.stored_end, h->end_seq());
  if (s.open && !s.out.intact.empty() && s.out.intact.back().to_seq == key)
    s.out.intact.back().to_seq = h->end_seq();
  else
    s.out.intact.push_back({key, h->end_seq()});
  s.open = true;
  if (wanted_.count({b.stream, h->end_seq()})) hashes_[{b.stream, h->end_seq()}] = h->hash;
}

// Each signed_heads record against the key and the recomputed chains.
void InstanceChecker::check_signatures(const std::vector<FoundSigned>& found, bool running) {
  std::optional<Ed25519PublicKey> key;
  std::string pin;
  auto enrolled = store_.enrollment(rep_.instance);
  if (enrolled && *enrolled) {
    key = (*enrolled)->public_key;
    rep_.key_source = "enrolled";
  } else if (o_.key && o_.key->public_key) {
    key = *o_.key->public_key;
    rep_.key_source = "given";
  } else if (o_.key && !o_.key->fingerprint.empty()) {
    pin = o_.key->fingerprint;
    rep_.key_source = "pinned";
  }
  rep_.key_fingerprint = key ? ed25519_fingerprint(*key) : pin;
  if (rep_.key_source.empty()) rep_.heads_note = "heads not checked: no enrolled key";
  for (const auto& f : found) {
    SignatureCheck c{
        f.seq, f.body.signed_ns, ed25519_fingerprint(f.body.public_key), SignatureState::kValid,
        "",    f.body.heads};
    if (rep_.key_source.empty()) {
      c.state = SignatureState::kUnchecked;
    } else if (key ? f.body.public_key != *key : c.fingerprint != pin) {
      c.state = SignatureState::kInvalid;
      c.detail = fmt::format("signed by another key ({}), not the instance's ({})", c.fingerprint,
                             rep_.key_fingerprint);
    } else if (!signed_heads_valid(f.body)) {
      c.state = SignatureState::kInvalid;
      c.detail = "the signature does not verify: the record was altered";
    } else if (f.body.instance != rep_.instance) {
      c.state = SignatureState::kInvalid;
      c.detail = "signed for instance " + f.body.instance;
    } else {
      for (const auto& h : f.body.heads) {
        auto it = hashes_.find({h.stream, h.next_seq});
        if (it != hashes_.end()) {
          if (it->second == h.head) continue;
          c.state = SignatureState::kHeadMismatch;
          c.detail = fmt::format(
              "stream {} at seq {}: the stored chain's hash is {}, the signed head is {}: the "
              "stream was rewritten",
              h.stream, h.next_seq, to_hex(it->second), to_hex(h.head));
          break;
        }
        std::uint64_t stored_end = 0;
        for (const auto& s : rep_.streams)
          if (s.stream == h.stream) stored_end = s.stored_end;
        if (h.next_seq > stored_end && running) {
          c.state = SignatureState::kPending;
          c.detail = fmt::format("stream {} up to seq {} is not stored yet", h.stream, h.next_seq);
        } else if (o_.since_ns == kMinTime && o_.until_ns == kMaxTime &&
                   !gaps_cover(gaps_, h.stream, h.next_seq - (h.next_seq > 0), h.next_seq) &&
                   !unreadable_at(h.stream, h.next_seq)) {
          c.state = SignatureState::kHeadMismatch;
          c.detail = fmt::format("stream {}: no intact stored batch ends at the signed seq {}",
                                 h.stream, h.next_seq);
          break;
        }
      }
    }
    if (c.state == SignatureState::kValid) {
      ++rep_.signatures_valid;
      for (const auto& h : f.body.heads)
        for (auto& s : rep_.streams)
          if (s.stream == h.stream) s.signed_through = std::max(s.signed_through, h.next_seq);
    } else if (c.state == SignatureState::kInvalid || c.state == SignatureState::kHeadMismatch) {
      ++rep_.signatures_invalid;
    }
    rep_.signatures.push_back(std::move(c));
  }
}

// The unsigned tail of each stream, and whether the signed heads cover everything stored.
void InstanceChecker::coverage(const std::vector<LifecycleBatch>& lifecycle) {
  rep_.covered = !rep_.key_source.empty();
  for (auto& s : rep_.streams) {
    if (s.batches == 0) continue;
    std::uint64_t end = s.stored_end;
    if (s.stream == kStreamLifecycle) {
      for (auto it = lifecycle.rbegin(); it != lifecycle.rend(); ++it)
        if (it->end_seq == end && it->only_signed && it->first_seq >= s.signed_through)
          end = it->first_seq;
    }
    if (end > s.signed_through) {
      s.unsigned_tail = SeqRange{s.signed_through, end};
      rep_.covered = false;
    }
  }
}

// Gap records the agent wrote (kind gap): read from the batches the index marks as holding one.
void InstanceChecker::agent_gap_records() {
  ZstdDecompressor zstd;
  std::string scratch;
  BatchQuery q{rep_.instance, std::nullopt, o_.since_ns, o_.until_ns};
  auto r = store_.scan_batches(
      q, [](const BatchIndexEntry& e) { return e.has_kind(RecordKind::kGap); },
      [&](const StoredBatch& b) {
        (void)decode_batch(b.bytes, kAnyLimits, zstd, scratch, [&](const RecordView& rec) {
          if (rec.kind != RecordKind::kGap) return;
          auto body = decode_gap_body(rec.line);
          rep_.gaps.push_back({b.index.stream, rec.seq, rec.seq + 1,
                               body ? body->reason : std::string("(gap record unreadable)"),
                               body ? body->source : std::string(rec.source)});
        });
        return true;
      },
      [](const UnreadableBatch&) {});  // the chain pass reports unreadable batches
  if (!r)
    spdlog::warn("verify {}: reading gap records failed: {}", rep_.instance, r.error().message());
}

Result<void> InstanceChecker::run() {
  auto gaps = store_.gaps(rep_.instance);
  if (!gaps) return gaps.error();
  gaps_ = std::move(*gaps);
  auto heads = store_.stream_heads(rep_.instance);
  if (!heads) return heads.error();
  heads_ = std::move(*heads);
  auto info = store_.get_instance(rep_.instance);
  const bool running = !info || info->state == InstanceState::kRunning;
  for (const auto& g : gaps_)
    rep_.gaps.push_back({g.stream, g.from_seq, g.to_seq, g.reason, "collector"});
  agent_gap_records();

  std::vector<FoundSigned> found;
  std::vector<LifecycleBatch> lifecycle;
  collect_signed(store_, rep_.instance, found, lifecycle);
  for (const auto& f : found)
    for (const auto& h : f.body.heads) wanted_.insert({h.stream, h.next_seq});

  auto scanned = store_.scan_raw_batches(rep_.instance, [this](const RawStoredBatch& b) {
    on_batch(b);
    return true;
  });
  if (!scanned) return scanned.error();
  end_stream();
  // Streams the collector recorded but of which nothing is stored at all.
  for (const auto& h : heads_) {
    const bool seen = std::any_of(rep_.streams.begin(), rep_.streams.end(),
                                  [&](const StreamVerify& s) { return s.stream == h.stream; });
    if (!seen && h.next_seq > 0) {
      begin_stream(h.stream);
      end_stream();
    }
  }
  check_signatures(found, running);
  coverage(lifecycle);

  if (!rep_.breaks.empty() || rep_.signatures_invalid > 0)
    rep_.status = VerifyStatus::kTampered;
  else if (!rep_.unreadable.empty())
    rep_.status = VerifyStatus::kUnreadable;
  else if (!rep_.gaps.empty())
    rep_.status = VerifyStatus::kGaps;
  return {};
}

Result<Ed25519PublicKey> pem_public_key(std::string_view pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), int(pem.size())),
                                                &BIO_free);
  if (!bio) return Err(Errc::kInternal);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(
      PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
  Ed25519PublicKey out{};
  std::size_t len = out.size();
  if (!pkey || EVP_PKEY_get_base_id(pkey.get()) != EVP_PKEY_ED25519 ||
      EVP_PKEY_get_raw_public_key(pkey.get(), out.data(), &len) != 1 || len != out.size())
    return Err(Errc::kInvalidArgument);
  return out;
}

}  // namespace

const char* verify_status_name(VerifyStatus s) noexcept {
  switch (s) {
    case VerifyStatus::kIntact:
      return "intact";
    case VerifyStatus::kGaps:
      return "gaps";
    case VerifyStatus::kUnreadable:
      return "unreadable";
    case VerifyStatus::kTampered:
      return "tampered";
  }
  return "?";
}

const char* break_kind_name(BreakKind k) noexcept {
  switch (k) {
    case BreakKind::kContentChanged:
      return "content_changed";
    case BreakKind::kOutOfOrder:
      return "out_of_order";
    case BreakKind::kDuplicate:
      return "duplicate";
    case BreakKind::kMissing:
      return "missing";
  }
  return "?";
}

const char* signature_state_name(SignatureState s) noexcept {
  switch (s) {
    case SignatureState::kValid:
      return "valid";
    case SignatureState::kInvalid:
      return "invalid";
    case SignatureState::kHeadMismatch:
      return "head_mismatch";
    case SignatureState::kPending:
      return "pending";
    case SignatureState::kUnchecked:
      return "unchecked";
  }
  return "?";
}

Result<VerifyKey> parse_verify_key(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  VerifyKey k;
  if (text.substr(0, 7) == "SHA256:" && text.size() == 7 + 43) {
    k.fingerprint = std::string(text);
    return k;
  }
  if (text.find("-----BEGIN PUBLIC KEY-----") != std::string_view::npos) {
    auto raw = pem_public_key(text);
    if (!raw) return raw.error();
    k.public_key = *raw;
    return k;
  }
  if (text.size() == 2 * kEd25519PublicKeyBytes) {
    if (auto raw = unhex(text); raw && raw->size() == kEd25519PublicKeyBytes) {
      k.public_key.emplace();
      std::copy(raw->begin(), raw->end(), reinterpret_cast<char*>(k.public_key->data()));
      return k;
    }
  }
  return Err(Errc::kInvalidArgument);
}

Result<VerifyReport> verify(const Store& store, const VerifyOptions& o) {
  std::vector<std::string> ids;
  if (o.all) {
    auto list = store.list_instances();
    if (!list) return list.error();
    for (auto& i : *list) ids.push_back(std::move(i.instance));
  } else {
    if (!store.get_instance(o.instance)) {
      bool any = false;
      auto r = store.scan_raw_batches(o.instance, [&any](const RawStoredBatch&) {
        any = true;
        return false;
      });
      if (!r) return r.error();
      if (!any) return Err(Errc::kNotFound);
    }
    ids.push_back(o.instance);
  }
  VerifyReport report;
  for (const auto& id : ids) {
    InstanceVerify rep;
    rep.instance = id;
    InstanceChecker checker(store, o, rep);
    if (auto r = checker.run(); !r) return r.error();
    report.status = std::max(report.status, rep.status);
    report.instances.push_back(std::move(rep));
  }
  return report;
}

}  // namespace blackbox::collector::query
