// Store: the collector's RocksDB database, and the read API the query server codes against.
//
// One database per collector data dir, one column family per access path, big-endian keys so
// that byte order is numeric order (layout and the reason for every key: collector/README.md).
// The batch is the unit of storage: the bytes the agent spooled, unchanged, keyed by
// (instance, stream, first_seq); small index entries computed once at ingest sit beside it.
//
// Threads: every const method may be called from any thread at any time, concurrently with
// each other and with ingest writes (the single writer lives in collector/ingest/). A scan
// reads one consistent RocksDB snapshot. The collector's writers (ingest, ledger) stage typed
// writes in a StoreWriteBatch (store_write_batch.h) and commit() it; keys, value codecs and
// column families stay private to collector/store/.
//
// Errors: Errc::kNotFound for a missing instance/batch; Errc::kCorrupt when a stored value
// does not decode; Errc::kIo for a RocksDB error (logged with its status string).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "schemas/clock.h"
#include "schemas/ed25519.h"
#include "schemas/hash_chain.h"
#include "schemas/record.h"
#include "schemas/result.h"

namespace rocksdb {
class FileSystem;
}

namespace blackbox::collector {

class StoreInternals;
class StoreWriteBatch;

inline constexpr std::int64_t kMinTime = std::numeric_limits<std::int64_t>::min();
inline constexpr std::int64_t kMaxTime = std::numeric_limits<std::int64_t>::max();

// ---- Instances -------------------------------------------------------------------------------

enum class InstanceState : std::uint8_t { kRunning = 0, kTerminated = 1, kSilent = 2 };
const char* state_name(InstanceState s) noexcept;  // "running" | "terminated" | "silent"
std::optional<InstanceState> parse_state(std::string_view s) noexcept;

enum class EndKind : std::uint8_t { kNone = 0, kGoodbye = 1, kSilent = 2 };
const char* end_kind_name(EndKind k) noexcept;  // "" | "goodbye" | "silent"

// How an instance ended (schemas/instance.schema.json "end"); kind kNone while running.
struct InstanceEnd {
  EndKind kind = EndKind::kNone;
  std::int64_t time_ns = 0;         // GOODBYE received, or when a silent instance was last seen
  std::string reason;               // GOODBYE reason ("sigterm"); empty when silent
  bool termination_notice = false;  // a termination notice arrived before the end
  bool operator==(const InstanceEnd&) const = default;
};

// What the collector knows about one instance (schemas/instance.schema.json).
struct InstanceInfo {
  std::string instance;
  std::string image;                   // image id from the latest HELLO
  std::string agent_version;           // from the latest HELLO
  std::vector<std::string> hostnames;  // every hostname seen in HELLO, oldest first (capped)
  std::vector<std::string> boot_ids;   // every boot id seen in HELLO, oldest first (capped)
  std::int64_t first_seen_ns = 0;      // first HELLO (collector clock)
  std::int64_t last_seen_ns = 0;       // last frame of any kind (collector clock)
  std::int64_t last_heartbeat_ns = 0;  // last HEARTBEAT; 0 = never
  InstanceState state = InstanceState::kRunning;
  InstanceEnd end;                  // kind kNone while running
  bool termination_notice = false;  // a termination notice was seen (this life)
  std::int64_t termination_notice_ns = 0;
  std::uint64_t records = 0;             // records stored (duplicates never counted)
  std::uint64_t batches = 0;             // batches stored
  std::uint64_t stored_bytes = 0;        // batch bytes stored
  std::uint64_t gaps = 0;                // gap ranges recorded (see gaps())
  std::uint64_t gap_records = 0;         // sequence numbers covered by those gaps
  std::int64_t min_event_ns = kMaxTime;  // window-time range over stored batches (window_time.h)
  std::int64_t max_event_ns = kMinTime;
  // The latest agent read time of any stored record (what `--last` counts back from);
  // kMinTime for a store written before it was kept.
  std::int64_t max_read_ns = kMinTime;
  std::int64_t max_batch_span_ns = 0;  // widest (max_time - min_time) of any stored batch
  bool legal_hold = false;             // retention never deletes this instance's data
  bool operator==(const InstanceInfo&) const = default;
};

// Filters for list_instances(); every set field must match.
struct InstanceFilter {
  std::optional<InstanceState> state;
  std::optional<std::string> image;
  // The instance's life [first_seen, end or last_seen] must intersect [from_ns, to_ns).
  std::int64_t from_ns = kMinTime;
  std::int64_t to_ns = kMaxTime;
  std::size_t limit = std::numeric_limits<std::size_t>::max();
};

// ---- Enrollment (issue 12 item 2)

struct Enrollment {
  std::string instance;
  Ed25519PublicKey public_key{};  // the instance's own key: HELLO proofs, signed chain heads
  std::int64_t enrolled_ns = 0;   // collector clock
  std::string secret_name;        // the enrollment secret that proved it ("" = the only one)
  std::string peer;               // remote address of the enrolling connection
  bool operator==(const Enrollment&) const = default;
};

// ---- Lifecycle events, gaps, heads -----------------------------------------------------------

enum class LifecycleKind : std::uint8_t {
  kHello = 1,              // a HELLO was accepted
  kTerminationNotice = 2,  // the agent reported a termination notice (lifecycle stream)
  kGoodbye = 3,            // a GOODBYE was received: clean end
  kWentSilent = 4,         // no heartbeat for silent_after: declared silent by the collector
  kReconnected = 5,        // a HELLO after the instance had been declared silent
  kEnrolled = 6,           // an instance key was enrolled (issue 12 item 2); detail: key, peer
  kAdmin = 7,              // audit: an admin action on this instance (legal hold, release,
                           // re-enrollment...); reason: the action, detail: who, from where
};
// "hello" | "termination_notice" | "goodbye" | "went_silent" | "reconnected" | "enrolled" |
// "admin"
const char* lifecycle_kind_name(LifecycleKind k) noexcept;

// schemas/lifecycle_event.schema.json
struct LifecycleEvent {
  std::int64_t time_ns = 0;  // collector clock, except termination_notice: the agent's time
  LifecycleKind kind = LifecycleKind::kHello;
  std::string boot_id;      // empty = null
  std::string hostname;     // empty = null
  std::string reason;       // empty = null
  std::string detail_json;  // a JSON object ("{}" at least): agent_version, image, last_seq...
  bool operator==(const LifecycleEvent&) const = default;
};

// Sequence numbers [from_seq, to_seq) of one stream that the collector never received: the
// agent sent a batch starting after the stream's next expected sequence.
struct GapRange {
  std::uint32_t stream = 0;
  std::uint64_t from_seq = 0;
  std::uint64_t to_seq = 0;      // exclusive
  std::int64_t detected_ns = 0;  // collector clock
  std::string reason;
  bool operator==(const GapRange&) const = default;
};

// The stored end of one stream: what WELCOME tells a reconnecting agent.
struct StreamHead {
  std::uint32_t stream = 0;
  std::uint64_t next_seq = 0;        // first sequence not stored
  ChainHash head{};                  // hash of the last stored batch (zeros if none)
  std::uint64_t last_first_seq = 0;  // first_seq of that batch
  bool operator==(const StreamHead&) const = default;
};

// ---- Batches and their index entries ---------------------------------------------------------

// A Bloom filter over the words of a batch's lines and sources,
// lower-cased ASCII; a word is a maximal run of [A-Za-z0-9_] of 2..64 bytes. If
// may_contain_word(w) is false, no record of the batch contains w as a whole word. Matching
// a substring search: only words bounded on both sides inside the search text are words of
// the line (see words_for_substring()).
class TokenFilter {
 public:
  TokenFilter() = default;  // empty = "may contain anything"
  static TokenFilter from_bytes(std::string bits, std::uint8_t hashes);

  bool empty() const { return bits_.empty(); }
  bool may_contain_word(std::string_view word) const;
  // True when every word in `words` may be present.
  bool may_contain_all(const std::vector<std::string>& words) const;

  const std::string& bits() const { return bits_; }
  std::uint8_t hashes() const { return hashes_; }

  // For building (ingest): a filter sized for `expected_words` distinct words.
  static TokenFilter with_capacity(std::size_t expected_words);
  void add_word(std::string_view word);  // ignored unless 2..64 bytes
  void add_hash(std::uint64_t word_hash);
  // The stored hash of a word (case-insensitive); see token_filter.cc for the format.
  static std::uint64_t word_hash(std::string_view word);
  // Appends the hash of every indexable word of `text` to `out`, in order.
  static void hash_words(std::string_view text, std::vector<std::uint64_t>& out);
  // Adds every indexable word of `text` (the words hash_words() finds; the ingest hot loop).
  void add_words(std::string_view text);

 private:
  std::string bits_;
  std::uint8_t hashes_ = 0;
};

// Calls on_word(word) for each word of `text`, as it appears (not lower-cased).
void for_each_word(std::string_view text, const std::function<void(std::string_view)>& on_word);
// Words of `needle` that any line containing `needle` must contain as whole words: those
// with a non-word byte on both sides inside the needle. Lower-cased.
std::vector<std::string> words_for_substring(std::string_view needle);

// Severity buckets: index = syslog severity 0..7, index 8 = unknown.
using SeverityCounts = std::array<std::uint32_t, 9>;

// The index entry written once at ingest for every stored batch.
struct BatchIndexEntry {
  std::string instance;
  std::uint32_t stream = 0;
  std::uint64_t first_seq = 0;
  std::uint32_t record_count = 0;
  std::int64_t min_time_ns = 0;  // window-time range of the records (window_time.h)
  std::int64_t max_time_ns = 0;
  std::uint32_t raw_size = 0;       // decompressed bytes
  std::uint32_t stored_size = 0;    // bytes of the whole stored batch (header included)
  std::uint64_t ingest_seq = 0;     // position in the fleet-wide ingest log (scan_ingest_log)
  std::int64_t ingest_time_ns = 0;  // collector clock when stored
  SeverityCounts severity_counts{};
  std::uint8_t kinds_mask = 0;       // bit (1 << RecordKind) per kind present
  std::vector<std::string> sources;  // distinct sources, at most kMaxIndexedSources
  bool sources_truncated = false;    // more sources than listed: don't skip on source
  TokenFilter words;                 // empty if word indexing is off: don't skip on words

  std::uint64_t end_seq() const { return first_seq + record_count; }
  // max_time_ns - min_time_ns (>= 0: the indexer checks max >= min), saturated at kMaxTime.
  std::int64_t time_span_ns() const;
  bool has_kind(RecordKind k) const { return kinds_mask & (1u << static_cast<unsigned>(k)); }
  // False when the batch certainly has no record from `source`.
  bool may_have_source(std::string_view source) const;
};
inline constexpr std::size_t kMaxIndexedSources = 32;

// One stored batch handed to a visitor. `bytes` are the batch exactly as the agent sent it:
// decode them with decode_batch() (schemas/batch.h). Both views are valid only during the call.
struct StoredBatch {
  const BatchIndexEntry& index;
  std::string_view bytes;
};

// A stored batch a scan skipped because it could not be read (issue 11 item 2): a damaged block
// of the database (RocksDB Corruption) or, at the query layer, a stored value that does not
// decode. Its records [first_seq, end_seq) of `stream` are missing from the answer.
struct UnreadableBatch {
  std::uint32_t stream = 0;
  std::uint64_t first_seq = 0;
  std::uint64_t end_seq = 0;  // first_seq + the index entry's record count
  std::string error;          // what the read said
  bool operator==(const UnreadableBatch&) const = default;
};
using UnreadableVisitor = std::function<void(const UnreadableBatch&)>;
// One stored batch value as Store::scan_raw_batches() reads it: where its key puts it, and its
// bytes without the stored-time trailer, or why it could not be read.
struct RawStoredBatch {
  std::uint32_t stream = 0;
  std::uint64_t key_first_seq = 0;
  std::string_view bytes;   // valid only during the call; empty when `error` is set
  std::string error;        // non-empty: RocksDB could not read the value (damaged)
  std::uint64_t index_end_seq = 0;  // with `error`: the end its index entry names (0 = none)
};
using RawBatchVisitor = std::function<bool(const RawStoredBatch&)>;

// Return false to stop a scan early.
using IndexPredicate = std::function<bool(const BatchIndexEntry&)>;
using BatchVisitor = std::function<bool(const StoredBatch&)>;

struct BatchQuery {
  std::string instance;
  std::optional<std::uint32_t> stream;  // nullopt = all streams
  std::int64_t from_ns = kMinTime;      // batches whose [min_time, max_time] meets [from, to)
  std::int64_t to_ns = kMaxTime;
};

// A host snapshot record's location (stream kStreamSnapshots).
struct SnapshotRef {
  std::int64_t time_ns = 0;           // the snapshot record's event time
  std::uint64_t seq = 0;              // the record's sequence number
  std::uint64_t batch_first_seq = 0;  // the batch holding it: get_batch(instance, 3, this)
  bool operator==(const SnapshotRef&) const = default;
};

// ---- The store -------------------------------------------------------------------------------

struct StoreOptions {
  std::string path;               // data dir; created if missing (parent must exist)
  std::int64_t retention_ns = 0;  // delete batches older than this (event time); 0 = keep
  std::size_t block_cache_bytes = 256u << 20;
  std::size_t write_buffer_bytes = 64u << 20;  // memtable size of the batches column family
  // Table files RocksDB keeps open (-1 = all): the file descriptors it may hold besides its
  // WAL, manifest and log. The collector sets it from storage.max_open_files and leaves room
  // for it below the open-file limit (collector/server/fd_limit.h).
  int max_open_files = -1;
  const Clock* clock = nullptr;                // retention's "now"; nullptr = SystemClock
  // Every file operation of the database goes through this file system (tests wrap the
  // default one to inject faults: tests/support/fault_file_system.h); nullptr = the default.
  std::shared_ptr<rocksdb::FileSystem> file_system;
  // Free space commit() keeps in reserve on the data dir's file system: below it a commit is
  // refused (kDiskFull) before RocksDB is called, so that RocksDB never meets a full disk in
  // the middle of a WAL write (librocksdb 7.8 aborts on the write after a failed WAL append),
  // and flushes and compactions still have room. 0 = 4 write buffers + 16 MiB.
  std::uint64_t reserve_free_bytes = 0;
};

// What Store::repair() did (`blackbox-collector repair`).
struct RepairReport {
  std::string backup_dir;        // the copy of the directory made before repairing
  std::size_t files_before = 0;  // RocksDB files in the directory before
  std::size_t instances = 0;     // instance records readable after the repair
  std::uint64_t batches = 0;     // stored batches readable after the repair
  std::uint64_t records = 0;     // records in those batches (their headers' counts)
  std::uint64_t unreadable = 0;  // batch values that did not parse as a batch
};

// Whether the store takes writes now: GET /v1/health, the writer's pause (issue 11 item 6).
struct StoreHealth {
  bool writable = true;
  // Opened read-only because the disk was full at start: writable again only after a restart.
  bool read_only = false;
  Errc error = Errc::kOk;  // why not writable: kDiskFull, kBusy (e.g. out of file descriptors)
  std::string reason;      // one line for people ("data disk full", the RocksDB status)
  std::uint64_t free_bytes = 0;      // available on the data dir's file system
  std::uint64_t capacity_bytes = 0;  // size of that file system
};

// Whether Store::commit() syncs the WAL before returning.
enum class CommitSync : std::uint8_t { kNoSync, kSync };

class Store {
 public:
  // Opens the database at options.path and every column family. A new database is created
  // only in a missing or empty directory (one holding no RocksDB file): a directory holding
  // RocksDB files (*.sst, MANIFEST-*, OPTIONS-*, *.log, IDENTITY) but no CURRENT is damaged,
  // and open() refuses it, every time, writing nothing there (the error log names what is
  // missing and says to run repair()).
  // A database that cannot be opened for writing because its disk is full (RocksDB NoSpace) is
  // opened read-only instead: queries are answered, every commit() fails with kDiskFull, and
  // health() says so (the collector comes up read-only rather than exiting; a restart after
  // space is freed makes it writable).
  // Errors: kIo (RocksDB could not open: lock held, permissions, ...), kCorrupt (damaged).
  [[nodiscard]] static Result<std::unique_ptr<Store>> open(const StoreOptions& options);

  // `blackbox-collector repair`: copies options.path to "<path>.before-repair-<UTC time>"
  // (nothing is repaired unless the copy succeeds), runs RocksDB's RepairDB with the store's
  // column families and options (it rebuilds CURRENT and the MANIFEST from the table and log
  // files), then opens the result and counts what it holds. The collector must be stopped
  // (the database lock is taken first). Errors: kBusy (locked), kIo, kCorrupt.
  [[nodiscard]] static Result<RepairReport> repair(const StoreOptions& options);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // ---- Instances
  // Instances matching `filter`, ordered by instance id.
  [[nodiscard]] Result<std::vector<InstanceInfo>> list_instances(
      const InstanceFilter& filter = {}) const;
  // kNotFound if the instance never said HELLO.
  [[nodiscard]] Result<InstanceInfo> get_instance(std::string_view instance) const;

  // Lifecycle events of one instance with time in [from_ns, to_ns), oldest first.
  [[nodiscard]] Result<std::vector<LifecycleEvent>> lifecycle_events(
      std::string_view instance, std::int64_t from_ns = kMinTime,
      std::int64_t to_ns = kMaxTime) const;

  // Gap ranges of one instance ordered by (stream, from_seq).
  [[nodiscard]] Result<std::vector<GapRange>> gaps(std::string_view instance) const;

  // Stream heads of one instance ordered by stream.
  [[nodiscard]] Result<std::vector<StreamHead>> stream_heads(std::string_view instance) const;

  // ---- Batches
  // Batches of q.instance (one stream or all) whose event-time range meets [from, to), in
  // order of min_time (ties: stream, first_seq). For each index entry `want` decides whether
  // the batch is read at all (nullptr = every batch); wanted batches go to `visit`. Either
  // callback returns false to stop. Index entries whose batch retention has already removed
  // are skipped. A batch whose read fails with Corruption (a damaged block) goes to
  // `unreadable` and the scan goes on; without `unreadable` the scan fails with kCorrupt.
  [[nodiscard]] Result<void> scan_batches(const BatchQuery& q, const IndexPredicate& want,
                                          const BatchVisitor& visit,
                                          const UnreadableVisitor& unreadable = nullptr) const;

  // Every batch of one stream with end_seq > from_seq, in sequence order (verify, export).
  [[nodiscard]] Result<void> scan_stream(std::string_view instance, std::uint32_t stream,
                                         std::uint64_t from_seq, const BatchVisitor& visit) const;

  // `blackbox verify` (issue 12 item 5; store_verify.cc): every stored batch value of one
  // instance in key order (stream, then first_seq), unparsed, so that a value whose header no
  // longer parses is still named by its key. A value RocksDB cannot read (a damaged block) is
  // visited with `error` set and empty bytes; the scan goes on past it (the time index names
  // the batches after it). Return false from `visit` to stop.
  [[nodiscard]] Result<void> scan_raw_batches(std::string_view instance,
                                              const RawBatchVisitor& visit) const;
  // The stored bytes of one batch; kNotFound if absent.
  [[nodiscard]] Result<std::string> get_batch(std::string_view instance, std::uint32_t stream,
                                              std::uint64_t first_seq) const;

  // Live follow: batches stored after ingest position `after` (0 = from the start), in ingest
  // order, at most `max_batches`, across all instances unless `instance` is non-empty.
  // Returns the position of the last batch examined; pass it back as `after` next time.
  // Damaged batches go to `unreadable` as in scan_batches().
  [[nodiscard]] Result<std::uint64_t> scan_ingest_log(
      std::uint64_t after, std::size_t max_batches, std::string_view instance,
      const BatchVisitor& visit, const UnreadableVisitor& unreadable = nullptr) const;
  // Ingest position of the newest stored batch (0 if none).
  std::uint64_t last_ingest_seq() const;
  // Waits until a batch with ingest position > `after` is stored or `max_wait` has passed,
  // whichever comes first; returns last_ingest_seq(). Live follow waits here instead of
  // polling. Any thread; woken by every commit.
  std::uint64_t wait_for_ingest(std::uint64_t after, std::chrono::nanoseconds max_wait) const;

  // Fleet-wide: index entries of every instance's batches whose min_time is in
  // [from_ns - max span, to_ns) and whose range meets [from_ns, to_ns), by min_time.
  // Only index entries: fetch bytes with get_batch() where wanted.
  [[nodiscard]] Result<void> scan_fleet_index(
      std::int64_t from_ns, std::int64_t to_ns,
      const std::function<bool(const BatchIndexEntry&)>& visit) const;

  // Host snapshots of one instance with time in [from_ns, to_ns), oldest first.
  [[nodiscard]] Result<std::vector<SnapshotRef>> snapshots(std::string_view instance,
                                                           std::int64_t from_ns = kMinTime,
                                                           std::int64_t to_ns = kMaxTime) const;

  // ---- Legal hold: retention never deletes the data of an instance on hold.
  // Thread-safe; persisted at once (synced).
  [[nodiscard]] Result<void> set_legal_hold(std::string_view instance, bool on);
  bool legal_hold(std::string_view instance) const;
  std::vector<std::string> legal_holds() const;

  // ---- Enrolled instance keys (issue 12 item 2): the public key each instance enrolled with.
  // Thread-safe; writes are persisted at once (synced). Errors: kIo, kCorrupt, and kDiskFull
  // on a read-only store.
  [[nodiscard]] Result<std::optional<Enrollment>> enrollment(std::string_view instance) const;
  [[nodiscard]] Result<std::vector<Enrollment>> enrollments() const;  // by instance id
  [[nodiscard]] Result<void> put_enrollment(const Enrollment& e);
  // Forgets an instance's key so that its next HELLO enrolls again (admin re-enrollment).
  // kNotFound if it had none.
  [[nodiscard]] Result<void> delete_enrollment(std::string_view instance);

  // ---- Writes (the collector's writers: one thread at a time, the ingest writer thread)
  // A new, empty batch of typed writes bound to this store (store_write_batch.h).
  StoreWriteBatch write_batch();
  // Writes everything staged in `batch` atomically in one RocksDB write (WAL synced with
  // kSync), then publishes the highest ingest position it holds (last_ingest_seq(),
  // wait_for_ingest()). An empty batch is a no-op. Errors: the first staging error, or the
  // write's (kIo, kDiskFull, kCorrupt, kBusy). After an error nothing of the batch may be
  // assumed durable or lost: the caller must stop acknowledging (RocksDB refuses further
  // writes after a failed WAL write or sync).
  [[nodiscard]] Result<void> commit(StoreWriteBatch&& batch, CommitSync sync);

  // The chain hash of the stored batch (instance, stream, first_seq), nullopt if none is
  // stored (the writer's duplicate check). kCorrupt if the stored value is not a batch.
  [[nodiscard]] Result<std::optional<ChainHash>> stored_batch_hash(std::string_view instance,
                                                                   std::uint32_t stream,
                                                                   std::uint64_t first_seq) const;

  // ---- Maintenance
  // Compacts every column family now (runs retention). Blocking: not on an I/O thread.
  [[nodiscard]] Result<void> compact_all();
  // ---- Health (issue 11 item 6)
  // A commit that failed with a retryable error (kDiskFull: NoSpace; kBusy: busy, or out of
  // file descriptors) leaves RocksDB refusing writes but answering reads: the store says so
  // here until a commit succeeds again. Any thread.
  StoreHealth health() const;
  // Asks RocksDB to take writes again after such an error (DB::Resume(): it flushes what it
  // holds; fails while the disk is still full). The writer calls it before retrying. kOk when
  // there was nothing to resume. Errors: the resume's (kDiskFull, kBusy, kIo); kDiskFull when
  // the store was opened read-only.
  [[nodiscard]] Result<void> resume();

  // RocksDB's "is writing stopped or delayed" counters, for metrics.
  std::uint64_t stall_micros() const;
  bool write_stopped() const;

 private:
  explicit Store(std::unique_ptr<StoreInternals> internals);
  std::unique_ptr<StoreInternals> internals_;
};

}  // namespace blackbox::collector
