// The verify engine (issue 12 item 5; DESIGN.md contract 6): proves from the stored batches
// alone that nothing stored was altered, reordered or removed. Typed results; the HTTP/JSON
// API (collector/http/verify_json.cc) and `blackbox verify` present them.
//
// For each instance and stream it reads every stored batch in key order (Store::
// scan_raw_batches) and recomputes the hash chain (PROTOCOL.md §7): a batch is intact when its
// header and payload CRCs hold, its hash recomputes, its key matches its header, and it
// continues the previous batch (first_seq = previous end, prev_hash = previous hash). The first
// batch that does not is a break, named by (instance, stream, first_seq) and what broke:
//   content_changed  the bytes no longer hash to what the header says, or the header does not
//                    parse, or prev_hash does not match the previous batch (a rewritten batch)
//   out_of_order     the value under the key is another position's batch
//   duplicate        a batch already seen in the stream, stored again under another key
//   missing          sequence numbers absent and no gap recorded for them (also at the end,
//                    against the collector's recorded head or a signed head)
// A seq range the collector recorded as a gap (Store::gaps) and gap records the agent wrote
// are reported with their reasons and do not count as breaks. A value RocksDB cannot read
// (a damaged block) is `unreadable`, distinct from tampered.
//
// Signed heads (schemas/signed_heads.h): each signed_heads record of the lifecycle stream is
// checked against the instance's enrolled key (Store::enrollment) or an explicit key; every
// head it lists must be the hash of the recomputed chain's batch ending at its next_seq. So a
// stream rewritten consistently without the instance key is caught. Coverage: per stream, the
// seqs after the last validly signed head are the unsigned tail (batches holding only
// signed_heads records do not count: a record cannot sign itself).
//
// Thread-safe (reads one snapshot per instance scan); cost: every stored batch of the
// instances asked for is read and hashed once; lifecycle batches and batches the index marks
// as holding gap records are also decompressed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "collector/store/store.h"
#include "schemas/ed25519.h"
#include "schemas/result.h"
#include "schemas/signed_heads.h"

namespace blackbox::collector::query {

// Worst first: a report's status is the worst thing found.
enum class VerifyStatus : std::uint8_t { kIntact = 0, kGaps = 1, kUnreadable = 2, kTampered = 3 };
const char* verify_status_name(VerifyStatus s) noexcept;  // intact|gaps|unreadable|tampered

enum class BreakKind : std::uint8_t { kContentChanged, kOutOfOrder, kDuplicate, kMissing };
const char* break_kind_name(BreakKind k) noexcept;  // content_changed|out_of_order|...

struct SeqRange {
  std::uint64_t from_seq = 0;
  std::uint64_t to_seq = 0;  // exclusive
  bool operator==(const SeqRange&) const = default;
};

struct ChainBreak {
  std::uint32_t stream = 0;
  std::uint64_t first_seq = 0;  // the batch's key (for kMissing: the first missing seq)
  std::uint64_t end_seq = 0;    // its end, when known (kMissing: end of the missing range)
  BreakKind what = BreakKind::kContentChanged;
  std::string detail;  // for people
};

// A recorded loss: a seq range the collector never received (source "collector"), or a gap
// record the agent wrote (source: the record's source; seq: the record's).
struct VerifyGap {
  std::uint32_t stream = 0;
  std::uint64_t from_seq = 0;
  std::uint64_t to_seq = 0;
  std::string reason;
  std::string source;
};

struct StreamVerify {
  std::uint32_t stream = 0;
  std::uint64_t batches = 0;
  std::uint64_t records = 0;
  std::vector<SeqRange> intact;           // seq ranges whose chain recomputes unbroken
  std::uint64_t stored_end = 0;           // end of the last stored batch
  std::uint64_t signed_through = 0;       // highest next_seq of a valid signed head (0 = none)
  std::optional<SeqRange> unsigned_tail;  // stored seqs after the last signed head
};

enum class SignatureState : std::uint8_t {
  kValid,         // verifies with the instance's key and every head matches the chain
  kInvalid,       // does not verify, or another key signed it
  kHeadMismatch,  // verifies, but a head differs from the recomputed chain
  kPending,       // verifies; a head is beyond what is stored (the instance is still running)
  kUnchecked,     // no key to check it with
};
const char* signature_state_name(SignatureState s) noexcept;

struct SignatureCheck {
  std::uint64_t seq = 0;  // the signed_heads record's seq in the lifecycle stream
  std::int64_t signed_ns = 0;
  std::string fingerprint;
  SignatureState state = SignatureState::kUnchecked;
  std::string detail;
  std::vector<SignedHead> heads;
};

struct InstanceVerify {
  std::string instance;
  VerifyStatus status = VerifyStatus::kIntact;
  std::string key_source;       // "enrolled", "given", or "" (heads not checked)
  std::string key_fingerprint;  // the key the signatures were checked with
  std::string heads_note;       // e.g. "heads not checked: no enrolled key"
  std::vector<StreamVerify> streams;
  std::vector<VerifyGap> gaps;
  std::vector<ChainBreak> breaks;  // in scan order; breaks.front() is the first
  std::vector<UnreadableBatch> unreadable;
  std::vector<SignatureCheck> signatures;
  std::uint64_t signatures_valid = 0;
  std::uint64_t signatures_invalid = 0;  // kInvalid and kHeadMismatch
  bool covered = false;  // a valid signed head covers every stream's whole stored range
};

// An explicit key for the signatures: a raw public key, or a fingerprint pin ("SHA256:…")
// that the key in the records must match.
struct VerifyKey {
  std::optional<Ed25519PublicKey> public_key;
  std::string fingerprint;
};
// Parses --key: 64 hex digits (raw key), a PEM public key ("-----BEGIN PUBLIC KEY-----"), or a
// fingerprint "SHA256:…". kInvalidArgument otherwise.
[[nodiscard]] Result<VerifyKey> parse_verify_key(std::string_view text);

struct VerifyOptions {
  std::string instance;  // empty with all = true: every instance
  bool all = false;
  std::int64_t since_ns = kMinTime;  // only batches whose event-time range meets [since, until)
  std::int64_t until_ns = kMaxTime;
  std::optional<VerifyKey> key;  // used when the instance has no enrolled key
  std::size_t max_breaks = 100;  // per stream, after the first (bounded report)
};

struct VerifyReport {
  VerifyStatus status = VerifyStatus::kIntact;  // the worst of the instances
  std::vector<InstanceVerify> instances;
};

// kNotFound when options.instance never said HELLO and has no stored batch; kIo/kCorrupt
// from the store (an unreadable batch is reported, not an error).
[[nodiscard]] Result<VerifyReport> verify(const Store& store, const VerifyOptions& options);

}  // namespace blackbox::collector::query
