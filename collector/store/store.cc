#include "collector/store/store.h"

#include <rocksdb/convenience.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/statistics.h>
#include <rocksdb/table.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cassert>
#include <ctime>
#include <filesystem>

#include "collector/store/codec.h"
#include "collector/store/keys.h"
#include "collector/store/retention_filter.h"
#include "collector/store/store_internals.h"
#include "collector/store/store_write_batch.h"
#include "schemas/batch.h"
#include "schemas/bytes.h"

namespace blackbox::collector {

using keys::Cf;

namespace {

constexpr std::string_view kFormatVersion = "1";
// Cap on ingest-log entries examined per scan_ingest_log() call, so that a follow filtered on
// one quiet instance can't turn into an unbounded scan.
constexpr std::size_t kMaxIngestExamined = 100'000;

std::string_view sv(const rocksdb::Slice& s) { return {s.data(), s.size()}; }
rocksdb::Slice sl(std::string_view s) { return {s.data(), s.size()}; }

std::int64_t sat_sub(std::int64_t a, std::int64_t b) {
  if (b > 0 && a < kMinTime + b) return kMinTime;
  return a - b;
}

// A RocksDB snapshot released on scope exit.
class SnapshotGuard {
 public:
  explicit SnapshotGuard(rocksdb::DB* db) : db_(db), snap_(db->GetSnapshot()) {}
  ~SnapshotGuard() { db_->ReleaseSnapshot(snap_); }
  SnapshotGuard(const SnapshotGuard&) = delete;
  SnapshotGuard& operator=(const SnapshotGuard&) = delete;
  const rocksdb::Snapshot* get() const { return snap_; }

 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snap_;
};

// The widest batch time span of any instance (meta kFleetSpanKey), 0 if none stored yet. The one
// reader of that key: open() caches it for commit(), scan_fleet_index() reads its snapshot's.
Result<std::int64_t> read_fleet_span(const StoreInternals& in, const rocksdb::ReadOptions& ro) {
  std::string v;
  auto st = in.db()->Get(ro, in.cf(Cf::kMeta), sl(keys::kFleetSpanKey), &v);
  if (st.IsNotFound()) return std::int64_t{0};
  if (auto e = status_errc(st, "read fleet span"); e != Errc::kOk) return Err(e);
  if (v.size() != 8) {
    spdlog::error("store: fleet span: value of {} bytes, expected 8", v.size());
    return Err(Errc::kCorrupt);
  }
  return bytes::load_le<std::int64_t>(v.data());
}

rocksdb::ColumnFamilyOptions cf_options(Cf cf, const StoreOptions& o,
                                        const std::shared_ptr<rocksdb::Cache>& cache,
                                        const std::shared_ptr<HoldSet>& holds, const Clock* clock) {
  rocksdb::ColumnFamilyOptions c;
  rocksdb::BlockBasedTableOptions t;
  t.block_cache = cache;
  t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  auto supported = rocksdb::GetSupportedCompressions();
  auto has = [&](rocksdb::CompressionType ct) {
    return std::find(supported.begin(), supported.end(), ct) != supported.end();
  };
  const rocksdb::CompressionType light =
      has(rocksdb::kLZ4Compression) ? rocksdb::kLZ4Compression : rocksdb::kNoCompression;
  switch (cf) {
    case Cf::kBatches:
      // Values are zstd already: compressing again buys nothing and costs CPU.
      c.compression = rocksdb::kNoCompression;
      c.write_buffer_size = o.write_buffer_bytes;
      c.max_write_buffer_number = 4;
      c.target_file_size_base = 128u << 20;
      c.max_bytes_for_level_base = 1024u << 20;
      t.block_size = 64 << 10;
      break;
    default:
      c.compression = light;
      c.write_buffer_size = std::max<std::size_t>(o.write_buffer_bytes / 4, 4u << 20);
      c.max_write_buffer_number = 4;
      break;
  }
  c.level_compaction_dynamic_level_bytes = true;
  c.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  switch (cf) {
    case Cf::kBatches:
    case Cf::kTimeIndex:
    case Cf::kFleetTime:
    case Cf::kIngestLog:
    case Cf::kSnapshots:
      c.compaction_filter_factory =
          std::make_shared<RetentionFilterFactory>(cf, o.retention_ns, clock, holds);
      // Cold files get compacted (and so filtered) at least daily.
      if (o.retention_ns > 0) c.periodic_compaction_seconds = 24 * 3600;
      break;
    default:
      break;
  }
  return c;
}

}  // namespace

// ---- names ----------------------------------------------------------------------------------

const char* state_name(InstanceState s) noexcept {
  switch (s) {
    case InstanceState::kRunning:
      return "running";
    case InstanceState::kTerminated:
      return "terminated";
    case InstanceState::kSilent:
      return "silent";
  }
  return "running";
}

std::optional<InstanceState> parse_state(std::string_view s) noexcept {
  if (s == "running") return InstanceState::kRunning;
  if (s == "terminated") return InstanceState::kTerminated;
  if (s == "silent") return InstanceState::kSilent;
  return std::nullopt;
}

const char* end_kind_name(EndKind k) noexcept {
  switch (k) {
    case EndKind::kNone:
      return "";
    case EndKind::kGoodbye:
      return "goodbye";
    case EndKind::kSilent:
      return "silent";
  }
  return "";
}

const char* lifecycle_kind_name(LifecycleKind k) noexcept {
  switch (k) {
    case LifecycleKind::kHello:
      return "hello";
    case LifecycleKind::kTerminationNotice:
      return "termination_notice";
    case LifecycleKind::kGoodbye:
      return "goodbye";
    case LifecycleKind::kWentSilent:
      return "went_silent";
    case LifecycleKind::kReconnected:
      return "reconnected";
    case LifecycleKind::kEnrolled:
      return "enrolled";
    case LifecycleKind::kAdmin:
      return "admin";
  }
  return "hello";
}

std::int64_t BatchIndexEntry::time_span_ns() const {
  // Computed unsigned so that extreme times can't overflow.
  const std::uint64_t uspan =
      static_cast<std::uint64_t>(max_time_ns) - static_cast<std::uint64_t>(min_time_ns);
  return static_cast<std::int64_t>(
      std::min<std::uint64_t>(uspan, static_cast<std::uint64_t>(kMaxTime)));
}

bool BatchIndexEntry::may_have_source(std::string_view source) const {
  if (sources_truncated) return true;
  return std::find(sources.begin(), sources.end(), source) != sources.end();
}

// ---- HoldSet, internals -------------------------------------------------------------------

bool HoldSet::contains(std::string_view instance) const {
  std::lock_guard lock(mu_);
  return holds_.find(instance) != holds_.end();
}

void HoldSet::set(const std::string& instance, bool on) {
  std::lock_guard lock(mu_);
  if (on)
    holds_.insert(instance);
  else
    holds_.erase(instance);
}

std::vector<std::string> HoldSet::list() const {
  std::lock_guard lock(mu_);
  return {holds_.begin(), holds_.end()};
}

StoreInternals::~StoreInternals() {
  if (db_) {
    for (auto* h : handles_) {
      if (h) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    }
    auto st = db_->Close();
    if (!st.ok()) spdlog::error("store: {}: close: {}", path, st.ToString());
  }
}

Errc status_errc(const rocksdb::Status& st, std::string_view what) {
  if (st.ok()) return Errc::kOk;
  if (st.IsNotFound()) return Errc::kNotFound;
  spdlog::error("store: {}: {}", what, st.ToString());
  return status_code(st);
}

Errc status_code(const rocksdb::Status& st) {
  if (st.ok()) return Errc::kOk;
  if (st.IsNotFound()) return Errc::kNotFound;
  if (st.IsCorruption()) return Errc::kCorrupt;
  if (st.IsNoSpace()) return Errc::kDiskFull;
  if (st.IsBusy() || st.IsTryAgain() || st.IsIncomplete()) return Errc::kBusy;
  if (st.IsIOError() && (st.ToString().find("Too many open files") != std::string::npos))
    return Errc::kBusy;
  return Errc::kIo;
}

bool StoreInternals::set_write_error(Errc e, std::string text) {
  std::lock_guard lock(health_mu);
  const bool changed = write_error != e;
  write_error = e;
  write_error_text = std::move(text);
  return changed;
}

// ---- open -----------------------------------------------------------------------------------

Store::Store(std::unique_ptr<StoreInternals> internals) : internals_(std::move(internals)) {}
Store::~Store() = default;

namespace {

// What a data directory holds before open(): nothing of RocksDB's (a new database may be
// created there), a database (CURRENT names its MANIFEST), or the remains of one without its
// CURRENT file — damaged: creating a database there would hide, and compaction would later
// delete, every table file it holds (issue 11 item 1).
struct DirState {
  enum Kind { kNew, kDatabase, kDamaged } kind = kNew;
  std::vector<std::string> found;  // RocksDB files seen (kDamaged: what the message names)
  std::size_t tables = 0;          // *.sst
};

bool is_rocksdb_file(const std::string& name) {
  auto ends = [&](std::string_view suf) {
    return name.size() >= suf.size() &&
           name.compare(name.size() - suf.size(), suf.size(), suf) == 0;
  };
  return ends(".sst") || ends(".log") || name.rfind("MANIFEST-", 0) == 0 ||
         name.rfind("OPTIONS-", 0) == 0 || name == "IDENTITY";
}

Result<DirState> inspect_dir(const std::string& path) {
  DirState d;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return d;
  bool current = false;
  for (const auto& e : std::filesystem::directory_iterator(path, ec)) {
    const std::string name = e.path().filename().string();
    if (name == "CURRENT") current = true;
    if (!is_rocksdb_file(name)) continue;
    if (name.ends_with(".sst")) ++d.tables;
    d.found.push_back(name);
  }
  if (ec) {
    spdlog::error("store: {}: cannot list the data directory: {}", path, ec.message());
    return Err(Errc::kIo);
  }
  std::sort(d.found.begin(), d.found.end());
  d.kind = current ? DirState::kDatabase : d.found.empty() ? DirState::kNew : DirState::kDamaged;
  return d;
}

// The one error message of a damaged directory: what is missing, what is there, what to do.
void log_damaged(const std::string& path, const DirState& d) {
  std::string some;
  for (std::size_t i = 0; i < d.found.size() && i < 4; ++i) some += (i ? ", " : "") + d.found[i];
  if (d.found.size() > 4) some += ", ...";
  spdlog::error(
      "store: {}: the database is damaged: its CURRENT file is missing, but the directory holds "
      "{} RocksDB files ({} table files: {}). Nothing was changed and no new database was "
      "created. Stop the collector and run `blackbox-collector repair --data-dir {}` (it copies "
      "the directory first, then rebuilds CURRENT and the MANIFEST from the files)",
      path, d.found.size(), d.tables, some, path);
}

rocksdb::DBOptions db_options(const StoreOptions& o, StoreInternals& in) {
  rocksdb::DBOptions db;
  if (o.file_system) {
    in.env = rocksdb::NewCompositeEnv(o.file_system);
    db.env = in.env.get();
  }
  db.create_missing_column_families = true;
  db.max_background_jobs = 2;
  db.bytes_per_sync = 1 << 20;
  db.max_total_wal_size = 512u << 20;
  db.keep_log_file_num = 4;
  db.max_open_files = o.max_open_files;
  db.statistics = rocksdb::CreateDBStatistics();
  db.statistics->set_stats_level(rocksdb::StatsLevel::kExceptDetailedTimers);
  db.enable_pipelined_write = false;
  return db;
}

std::vector<rocksdb::ColumnFamilyDescriptor> cf_descriptors(const StoreOptions& o,
                                                            StoreInternals& in) {
  auto cache = rocksdb::NewLRUCache(o.block_cache_bytes);
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (int i = 0; i < static_cast<int>(Cf::kCount); ++i) {
    auto cf = static_cast<Cf>(i);
    cfs.emplace_back(keys::cf_name(cf), cf_options(cf, o, cache, in.holds, in.clock));
  }
  return cfs;
}

void set_clock(const StoreOptions& o, StoreInternals& in) {
  if (o.clock) {
    in.clock = o.clock;
  } else {
    auto c = std::make_shared<SystemClock>();
    in.clock = c.get();
    in.clock_owner = std::move(c);
  }
}

}  // namespace

// Long but linear: options, open, then each piece of state the store keeps in memory, in order.
Result<std::unique_ptr<Store>> Store::open(const StoreOptions& o) {
  auto in = std::make_unique<StoreInternals>();
  in->path = o.path;
  set_clock(o, *in);

  // A database is created only where there is none and no remains of one.
  auto dir = inspect_dir(o.path);
  if (!dir) return dir.error();
  if (dir->kind == DirState::kDamaged) {
    log_damaged(o.path, *dir);
    return Err(Errc::kCorrupt);
  }
  rocksdb::DBOptions db = db_options(o, *in);
  db.create_if_missing = dir->kind == DirState::kNew;
  in->resume_free_bytes = o.reserve_free_bytes > 0
                              ? o.reserve_free_bytes
                              : 4 * std::uint64_t{o.write_buffer_bytes} + (16u << 20);
  auto cfs = cf_descriptors(o, *in);
  rocksdb::DB* raw = nullptr;
  // Below the reserve RocksDB is not asked to open for writing at all: a write that fails on
  // a full disk during open can abort the process (librocksdb 7.8 assertion).
  std::uint64_t free = 0;
  rocksdb::Env* env = db.env ? db.env : rocksdb::Env::Default();
  const bool full = dir->kind == DirState::kDatabase && env->GetFreeSpace(o.path, &free).ok() &&
                    free < in->resume_free_bytes;
  rocksdb::Status st =
      full ? rocksdb::Status::NoSpace(std::to_string(free) + " bytes free, below the reserve")
           : rocksdb::DB::Open(db, o.path, cfs, &in->handles_, &raw);
  if (st.IsNoSpace() && dir->kind == DirState::kDatabase) {
    // A full disk at start: serve what is stored rather than exit (and be restarted into the
    // same full disk by systemd, for ever).
    spdlog::error(
        "store: {}: open for writing: {}; opening READ-ONLY: queries are answered, "
        "ingest is refused until space is freed and the collector restarted",
        o.path, st.ToString());
    in->handles_.clear();
    st = rocksdb::DB::OpenForReadOnly(db, o.path, cfs, &in->handles_, &raw);
    in->read_only = st.ok();
    if (st.ok()) in->set_write_error(Errc::kDiskFull, "data disk full at start (read-only)");
  }
  if (!st.ok()) {
    spdlog::error("store: {}: open: {}", o.path, st.ToString());
    if (st.IsCorruption())
      spdlog::error(
          "store: {}: stop the collector and run `blackbox-collector repair "
          "--data-dir {}` (it copies the directory first)",
          o.path, o.path);
    return Err(st.IsCorruption() ? Errc::kCorrupt : Errc::kIo);
  }
  in->db_.reset(raw);

  // Format version: written once, checked on every open.
  std::string fmt;
  st = in->db()->Get({}, in->cf(Cf::kMeta), sl(keys::kFormatKey), &fmt);
  if (st.IsNotFound() && !in->read_only) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    st = in->db()->Put(wo, in->cf(Cf::kMeta), sl(keys::kFormatKey), sl(kFormatVersion));
    if (auto e = status_errc(st, "write format version"); e != Errc::kOk) return Err(e);
  } else if (st.ok() && fmt != kFormatVersion) {
    spdlog::error("store: {}: unsupported format version {}", o.path, fmt);
    return Err(Errc::kUnsupportedVersion);
  } else if (!st.ok() && !st.IsNotFound()) {
    return Err(status_errc(st, "read format version"));
  }

  // Legal holds into memory (the compaction filters consult them).
  {
    RangeIter it(*in, Cf::kMeta, std::string(keys::kHoldPrefix),
                 keys::prefix_successor(keys::kHoldPrefix));
    for (; it->Valid(); it->Next())
      in->holds->set(std::string(sv(it->key()).substr(keys::kHoldPrefix.size())), true);
    if (auto e = it.status("load holds"); e != Errc::kOk) return Err(e);
  }
  // Last ingest position.
  {
    RangeIter it(*in, Cf::kIngestLog, "", "");
    it->SeekToLast();
    if (it->Valid() && it->key().size() == 8)
      in->last_ingest_seq = bytes::load_be<std::uint64_t>(it->key().data());
    if (auto e = it.status("load ingest position"); e != Errc::kOk) return Err(e);
    in->assigned_ingest_seq = in->last_ingest_seq.load();
  }
  auto span = read_fleet_span(*in, {});
  if (!span) return span.error();
  in->fleet_max_span = *span;
  // Lifecycle keys are (instance, time, counter); seeding the counter from the real clock keeps
  // it increasing across restarts even when tests run on a frozen clock.
  in->event_counter = static_cast<std::uint64_t>(SystemClock().wall_ns());
  return std::unique_ptr<Store>(new Store(std::move(in)));
}

namespace {

// "<path>.before-repair-20261127T210501Z" (a suffix if that exists already).
std::string backup_path(const std::string& path) {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  std::string base = path;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  base += std::string(".before-repair-") + stamp;
  std::string out = base;
  std::error_code ec;
  for (int i = 1; std::filesystem::exists(out, ec); ++i) out = base + "." + std::to_string(i);
  return out;
}

}  // namespace

// Lock, copy, RepairDB, then count through a normal open: what the operator gets back.
Result<RepairReport> Store::repair(const StoreOptions& o) {
  RepairReport r;
  auto dir = inspect_dir(o.path);
  if (!dir) return dir.error();
  if (dir->kind == DirState::kNew) {
    spdlog::error("store: {}: no RocksDB files here: nothing to repair", o.path);
    return Err(Errc::kNotFound);
  }
  r.files_before = dir->found.size();
  rocksdb::Env* env = rocksdb::Env::Default();
  rocksdb::FileLock* lock = nullptr;
  if (auto st = env->LockFile(o.path + "/LOCK", &lock); !st.ok()) {
    spdlog::error("store: {}: cannot lock the database ({}): stop the collector first", o.path,
                  st.ToString());
    return Err(Errc::kBusy);
  }
  r.backup_dir = backup_path(o.path);
  std::error_code ec;
  std::filesystem::copy(o.path, r.backup_dir, std::filesystem::copy_options::recursive, ec);
  env->UnlockFile(lock).PermitUncheckedError();
  if (ec) {
    spdlog::error("store: {}: copy to {} failed: {}; nothing was repaired", o.path, r.backup_dir,
                  ec.message());
    return Err(Errc::kIo);
  }
  spdlog::info("store: {}: copied to {} before repairing", o.path, r.backup_dir);
  {
    StoreInternals in;
    set_clock(o, in);
    rocksdb::DBOptions db = db_options(o, in);
    auto st = rocksdb::RepairDB(o.path, db, cf_descriptors(o, in), rocksdb::ColumnFamilyOptions());
    if (!st.ok()) {
      spdlog::error("store: {}: repair: {} (the copy is in {})", o.path, st.ToString(),
                    r.backup_dir);
      return Err(st.IsCorruption() ? Errc::kCorrupt : Errc::kIo);
    }
  }
  auto store = open(o);
  if (!store) return store.error();
  auto instances = (*store)->list_instances();
  if (!instances) return instances.error();
  r.instances = instances->size();
  RangeIter it(*(*store)->internals_, Cf::kBatches, "", "");
  for (; it->Valid(); it->Next()) {
    auto h = parse_batch_header(codec::stored_batch_bytes(sv(it->value())),
                                Limits{UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX});
    if (!h) {
      ++r.unreadable;
      continue;
    }
    ++r.batches;
    r.records += h->record_count;
  }
  if (auto e = it.status("repair: count batches"); e != Errc::kOk) return Err(e);
  return r;
}

// ---- reads ----------------------------------------------------------------------------------

Result<std::vector<InstanceInfo>> Store::list_instances(const InstanceFilter& f) const {
  std::vector<InstanceInfo> out;
  RangeIter it(*internals_, Cf::kInstances, "", "");
  for (; it->Valid() && out.size() < f.limit; it->Next()) {
    auto info = codec::decode_instance(sv(it->value()));
    if (!info) {
      spdlog::error("store: instance {}: undecodable record", sv(it->key()));
      return Err(Errc::kCorrupt);
    }
    if (f.state && info->state != *f.state) continue;
    if (f.image && info->image != *f.image) continue;
    const std::int64_t end =
        info->end.kind != EndKind::kNone ? info->end.time_ns : info->last_seen_ns;
    if (end < f.from_ns || info->first_seen_ns >= f.to_ns) continue;
    info->legal_hold = internals_->holds->contains(info->instance);
    out.push_back(std::move(*info));
  }
  if (auto e = it.status("list instances"); e != Errc::kOk) return Err(e);
  return out;
}

Result<InstanceInfo> Store::get_instance(std::string_view instance) const {
  rocksdb::PinnableSlice v;
  auto st = internals_->db()->Get({}, internals_->cf(Cf::kInstances), sl(instance), &v);
  if (auto e = status_errc(st, "get instance"); e != Errc::kOk) return Err(e);
  auto info = codec::decode_instance(sv(v));
  if (!info) return info.error();
  info->legal_hold = internals_->holds->contains(info->instance);
  return info;
}

Result<std::vector<LifecycleEvent>> Store::lifecycle_events(std::string_view instance,
                                                            std::int64_t from_ns,
                                                            std::int64_t to_ns) const {
  std::vector<LifecycleEvent> out;
  if (from_ns >= to_ns) return out;
  std::string upper = to_ns == kMaxTime ? keys::prefix_successor(keys::instance_prefix(instance))
                                        : keys::lifecycle_key(instance, to_ns, 0);
  RangeIter it(*internals_, Cf::kLifecycle, keys::lifecycle_key(instance, from_ns, 0), upper);
  for (; it->Valid(); it->Next()) {
    auto ev = codec::decode_event(sv(it->value()));
    if (!ev) return ev.error();
    out.push_back(std::move(*ev));
  }
  if (auto e = it.status("lifecycle events"); e != Errc::kOk) return Err(e);
  return out;
}

Result<std::vector<GapRange>> Store::gaps(std::string_view instance) const {
  std::vector<GapRange> out;
  auto prefix = keys::instance_prefix(instance);
  RangeIter it(*internals_, Cf::kGaps, prefix, keys::prefix_successor(prefix));
  for (; it->Valid(); it->Next()) {
    auto k = keys::parse_batch_key(sv(it->key()));
    if (!k) return Err(Errc::kCorrupt);
    auto g = codec::decode_gap(k->stream, k->first_seq, sv(it->value()));
    if (!g) return g.error();
    out.push_back(std::move(*g));
  }
  if (auto e = it.status("gaps"); e != Errc::kOk) return Err(e);
  return out;
}

Result<std::vector<StreamHead>> Store::stream_heads(std::string_view instance) const {
  std::vector<StreamHead> out;
  auto prefix = keys::instance_prefix(instance);
  RangeIter it(*internals_, Cf::kHeads, prefix, keys::prefix_successor(prefix));
  for (; it->Valid(); it->Next()) {
    auto rest = keys::after_instance(sv(it->key()));
    if (!rest || rest->size() != 4) return Err(Errc::kCorrupt);
    auto h = codec::decode_head(bytes::load_be<std::uint32_t>(rest->data()), sv(it->value()));
    if (!h) return h.error();
    out.push_back(*h);
  }
  if (auto e = it.status("stream heads"); e != Errc::kOk) return Err(e);
  return out;
}

Result<void> Store::scan_batches(const BatchQuery& q, const IndexPredicate& want,
                                 const BatchVisitor& visit,
                                 const UnreadableVisitor& unreadable) const {
  if (q.from_ns >= q.to_ns) return {};
  SnapshotGuard snap(internals_->db());
  rocksdb::ReadOptions ro;
  ro.snapshot = snap.get();
  // The widest batch of the instance bounds how far before `from` a meeting batch can start.
  std::int64_t span = 0;
  {
    rocksdb::PinnableSlice v;
    auto st = internals_->db()->Get(ro, internals_->cf(Cf::kInstances), sl(q.instance), &v);
    if (st.IsNotFound()) return {};
    if (auto e = status_errc(st, "scan: get instance"); e != Errc::kOk) return Err(e);
    auto info = codec::decode_instance(sv(v));
    if (!info) return info.error();
    span = info->max_batch_span_ns;
  }
  const auto prefix = keys::instance_prefix(q.instance);
  std::string lower = keys::time_index_key(q.instance, sat_sub(q.from_ns, span), 0, 0);
  std::string upper = q.to_ns == kMaxTime ? keys::prefix_successor(prefix)
                                          : keys::time_index_key(q.instance, q.to_ns, 0, 0);
  RangeIter it(*internals_, Cf::kTimeIndex, std::move(lower), std::move(upper), snap.get());
  rocksdb::PinnableSlice value;
  for (; it->Valid(); it->Next()) {
    auto entry = codec::decode_index_entry(sv(it->value()));
    if (!entry) return entry.error();
    if (q.stream && entry->stream != *q.stream) continue;
    if (entry->max_time_ns < q.from_ns) continue;
    if (want && !want(*entry)) continue;
    value.Reset();
    auto st =
        internals_->db()->Get(ro, internals_->cf(Cf::kBatches),
                              keys::batch_key(q.instance, entry->stream, entry->first_seq), &value);
    if (st.IsNotFound()) continue;  // removed by retention before its index entry
    if (st.IsCorruption() && unreadable) {
      unreadable({entry->stream, entry->first_seq, entry->end_seq(), st.ToString()});
      continue;
    }
    if (auto e = status_errc(st, "scan: get batch"); e != Errc::kOk) return Err(e);
    if (!visit(StoredBatch{*entry, codec::stored_batch_bytes(sv(value))})) return {};
  }
  if (auto e = it.status("scan batches"); e != Errc::kOk) return Err(e);
  return {};
}

namespace {
// An index entry with the fields the batch header carries (scan_stream).
bool header_entry(std::string_view instance, std::string_view bytes, BatchIndexEntry& e) {
  auto h = parse_batch_header(bytes, Limits{UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX});
  if (!h) return false;
  e.instance.assign(instance);
  e.stream = h->stream;
  e.first_seq = h->first_seq;
  e.record_count = h->record_count;
  e.min_time_ns = h->min_time_ns;
  e.max_time_ns = h->max_time_ns;
  e.raw_size = h->raw_size;
  e.stored_size = static_cast<std::uint32_t>(bytes.size());
  return true;
}
}  // namespace

Result<void> Store::scan_stream(std::string_view instance, std::uint32_t stream,
                                std::uint64_t from_seq, const BatchVisitor& visit) const {
  SnapshotGuard snap(internals_->db());
  const auto prefix = keys::stream_prefix(instance, stream);
  RangeIter it(*internals_, Cf::kBatches, prefix, keys::prefix_successor(prefix), snap.get());
  // The batch holding from_seq may start before it.
  it->SeekForPrev(keys::batch_key(instance, stream, from_seq));
  if (!it->Valid()) it->Seek(prefix);
  BatchIndexEntry entry;
  for (; it->Valid(); it->Next()) {
    const std::string_view bytes = codec::stored_batch_bytes(sv(it->value()));
    if (!header_entry(instance, bytes, entry)) return Err(Errc::kCorrupt);
    if (entry.end_seq() <= from_seq) continue;
    if (!visit(StoredBatch{entry, bytes})) return {};
  }
  if (auto e = it.status("scan stream"); e != Errc::kOk) return Err(e);
  return {};
}

Result<std::string> Store::get_batch(std::string_view instance, std::uint32_t stream,
                                     std::uint64_t first_seq) const {
  std::string v;
  auto st = internals_->db()->Get({}, internals_->cf(Cf::kBatches),
                                  keys::batch_key(instance, stream, first_seq), &v);
  if (auto e = status_errc(st, "get batch"); e != Errc::kOk) return Err(e);
  v.resize(codec::stored_batch_bytes(v).size());  // without the stored-time trailer
  return v;
}

Result<std::uint64_t> Store::scan_ingest_log(std::uint64_t after, std::size_t max_batches,
                                             std::string_view instance, const BatchVisitor& visit,
                                             const UnreadableVisitor& unreadable) const {
  if (after == UINT64_MAX) return after;
  SnapshotGuard snap(internals_->db());
  rocksdb::ReadOptions ro;
  ro.snapshot = snap.get();
  RangeIter it(*internals_, Cf::kIngestLog, keys::ingest_log_key(after + 1), "", snap.get());
  std::uint64_t pos = after;
  std::size_t visited = 0, examined = 0;
  rocksdb::PinnableSlice idx, value;
  for (; it->Valid() && visited < max_batches && examined < kMaxIngestExamined; it->Next()) {
    ++examined;
    if (it->key().size() != 8) return Err(Errc::kCorrupt);
    const std::uint64_t seq = bytes::load_be<std::uint64_t>(it->key().data());
    auto ref = codec::decode_ingest_ref(sv(it->value()));
    if (!ref) return ref.error();
    if (!instance.empty() && ref->instance != instance) {
      pos = seq;
      continue;
    }
    idx.Reset();
    auto st = internals_->db()->Get(
        ro, internals_->cf(Cf::kTimeIndex),
        keys::time_index_key(ref->instance, ref->min_time_ns, ref->stream, ref->first_seq), &idx);
    if (st.IsNotFound()) {
      pos = seq;
      continue;
    }
    if (auto e = status_errc(st, "follow: get index"); e != Errc::kOk) return Err(e);
    auto entry = codec::decode_index_entry(sv(idx));
    if (!entry) return entry.error();
    value.Reset();
    st = internals_->db()->Get(ro, internals_->cf(Cf::kBatches),
                               keys::batch_key(ref->instance, ref->stream, ref->first_seq), &value);
    pos = seq;
    if (st.IsNotFound()) continue;
    if (st.IsCorruption() && unreadable) {
      unreadable({entry->stream, entry->first_seq, entry->end_seq(), st.ToString()});
      continue;
    }
    if (auto e = status_errc(st, "follow: get batch"); e != Errc::kOk) return Err(e);
    ++visited;
    if (!visit(StoredBatch{*entry, codec::stored_batch_bytes(sv(value))})) break;
  }
  if (auto e = it.status("scan ingest log"); e != Errc::kOk) return Err(e);
  return pos;
}

std::uint64_t Store::last_ingest_seq() const { return internals_->last_ingest_seq.load(); }

void StoreInternals::publish_ingest_seq(std::uint64_t seq) {
  {
    std::lock_guard lock(ingest_mu);
    last_ingest_seq.store(seq);
  }
  ingest_cv.notify_all();
}

std::uint64_t Store::wait_for_ingest(std::uint64_t after, std::chrono::nanoseconds max_wait) const {
  std::unique_lock lock(internals_->ingest_mu);
  internals_->ingest_cv.wait_for(lock, max_wait,
                                 [&] { return internals_->last_ingest_seq.load() > after; });
  return internals_->last_ingest_seq.load();
}

Result<void> Store::scan_fleet_index(
    std::int64_t from_ns, std::int64_t to_ns,
    const std::function<bool(const BatchIndexEntry&)>& visit) const {
  if (from_ns >= to_ns) return {};
  SnapshotGuard snap(internals_->db());
  rocksdb::ReadOptions ro;
  ro.snapshot = snap.get();
  auto span = read_fleet_span(*internals_, ro);
  if (!span) return span.error();
  std::string lower;
  keys::put_time(lower, sat_sub(from_ns, *span));
  std::string upper;
  if (to_ns != kMaxTime) keys::put_time(upper, to_ns);
  RangeIter it(*internals_, Cf::kFleetTime, std::move(lower), std::move(upper), snap.get());
  for (; it->Valid(); it->Next()) {
    auto entry = codec::decode_index_entry(sv(it->value()));
    if (!entry) return entry.error();
    if (entry->max_time_ns < from_ns) continue;
    if (!visit(*entry)) return {};
  }
  if (auto e = it.status("scan fleet index"); e != Errc::kOk) return Err(e);
  return {};
}

Result<std::vector<SnapshotRef>> Store::snapshots(std::string_view instance, std::int64_t from_ns,
                                                  std::int64_t to_ns) const {
  std::vector<SnapshotRef> out;
  if (from_ns >= to_ns) return out;
  std::string upper = to_ns == kMaxTime ? keys::prefix_successor(keys::instance_prefix(instance))
                                        : keys::snapshot_key(instance, to_ns, 0);
  RangeIter it(*internals_, Cf::kSnapshots, keys::snapshot_key(instance, from_ns, 0), upper);
  for (; it->Valid(); it->Next()) {
    auto rest = keys::after_instance(sv(it->key()));
    if (!rest || rest->size() != 16) return Err(Errc::kCorrupt);
    auto first = codec::decode_snapshot_ref(sv(it->value()));
    if (!first) return first.error();
    SnapshotRef r;
    r.time_ns = keys::unflip_time(bytes::load_be<std::uint64_t>(rest->data()));
    r.seq = bytes::load_be<std::uint64_t>(rest->data() + 8);
    r.batch_first_seq = *first;
    out.push_back(r);
  }
  if (auto e = it.status("snapshots"); e != Errc::kOk) return Err(e);
  return out;
}

// ---- writes ---------------------------------------------------------------------------------

StoreWriteBatch Store::write_batch() {
  auto impl = std::make_unique<StoreWriteBatch::Impl>();
  impl->in = internals_.get();
  return StoreWriteBatch(std::move(impl));
}

Result<void> Store::commit(StoreWriteBatch&& batch, CommitSync sync) {
  StoreWriteBatch::Impl& b = *batch.impl_;
  assert(b.in == internals_.get());
  if (auto e = status_errc(b.status, "commit: stage"); e != Errc::kOk) return Err(e);
  if (b.wb.Count() == 0) return {};
  std::lock_guard lock(internals_->commit_mu);
  const bool wider = b.max_span > internals_->fleet_max_span;
  if (wider) {
    std::string v;
    bytes::put_le(v, b.max_span);
    auto st = b.wb.Put(internals_->cf(Cf::kMeta), sl(keys::kFleetSpanKey), sl(v));
    if (auto e = status_errc(st, "commit: stage fleet span"); e != Errc::kOk) return Err(e);
  }
  rocksdb::WriteOptions wo;
  wo.sync = sync == CommitSync::kSync;
  if (internals_->read_only) return Err(Errc::kDiskFull);
  if (std::uint64_t free = 0;
      internals_->db()->GetEnv()->GetFreeSpace(internals_->path, &free).ok() &&
      free < internals_->resume_free_bytes) {
    if (internals_->set_write_error(Errc::kDiskFull,
                                    "free space " + std::to_string(free) +
                                        " bytes is below the reserve of " +
                                        std::to_string(internals_->resume_free_bytes)))
      spdlog::error("store: commit refused: {} bytes free on {}, below the reserve of {}", free,
                    internals_->path, internals_->resume_free_bytes);
    return Err(Errc::kDiskFull);
  }
  auto st = internals_->db()->Write(wo, &b.wb);
  if (!st.ok()) {
    const Errc e = status_code(st);
    if (classify(e) != ErrorClass::kRetryable) return Err(status_errc(st, "commit"));
    // Retryable: logged once per episode (RocksDB repeats the error on every write until it
    // resumes).
    if (internals_->set_write_error(e, st.ToString()))
      spdlog::error("store: commit: {}", st.ToString());
    return Err(e);
  }
  internals_->set_write_error(Errc::kOk, {});
  if (wider) internals_->fleet_max_span = b.max_span;
  if (b.max_ingest_seq > 0) internals_->publish_ingest_seq(b.max_ingest_seq);
  return {};
}

Result<std::optional<ChainHash>> Store::stored_batch_hash(std::string_view instance,
                                                          std::uint32_t stream,
                                                          std::uint64_t first_seq) const {
  rocksdb::PinnableSlice v;
  auto st = internals_->db()->Get({}, internals_->cf(Cf::kBatches),
                                  keys::batch_key(instance, stream, first_seq), &v);
  if (st.IsNotFound()) return std::optional<ChainHash>();
  if (auto e = status_errc(st, "duplicate check"); e != Errc::kOk) return Err(e);
  auto h = batch_chain_hash(codec::stored_batch_bytes(sv(v)));
  if (!h) {
    spdlog::error("store: batch {}/{}/{}: stored value is not a batch", instance, stream,
                  first_seq);
    return Err(Errc::kCorrupt);
  }
  return std::optional<ChainHash>(*h);
}

// ---- holds, maintenance -------------------------------------------------------------

Result<void> Store::set_legal_hold(std::string_view instance, bool on) {
  if (instance.empty()) return Err(Errc::kInvalidArgument);
  if (internals_->read_only) return Err(Errc::kDiskFull);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  const auto key = keys::hold_key(instance);
  auto st = on ? internals_->db()->Put(wo, internals_->cf(Cf::kMeta), key, "1")
               : internals_->db()->Delete(wo, internals_->cf(Cf::kMeta), key);
  if (auto e = status_errc(st, "set legal hold"); e != Errc::kOk) return Err(e);
  internals_->holds->set(std::string(instance), on);
  spdlog::info("store: legal hold {} for instance {}", on ? "set" : "released", instance);
  return {};
}

bool Store::legal_hold(std::string_view instance) const {
  return internals_->holds->contains(instance);
}

std::vector<std::string> Store::legal_holds() const { return internals_->holds->list(); }

Result<void> Store::compact_all() {
  rocksdb::CompactRangeOptions co;
  co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  for (int i = 0; i < static_cast<int>(Cf::kCount); ++i) {
    auto st = internals_->db()->CompactRange(co, internals_->handles_[i], nullptr, nullptr);
    if (auto e = status_errc(st, "compact"); e != Errc::kOk) return Err(e);
  }
  return {};
}

StoreHealth Store::health() const {
  StoreHealth h;
  h.read_only = internals_->read_only;
  {
    std::lock_guard lock(internals_->health_mu);
    h.error = internals_->write_error;
    h.reason = internals_->write_error_text;
  }
  h.writable = h.error == Errc::kOk;
  // Free space through RocksDB's file system (the one the data goes through: tests' fault layer
  // reports a full disk there), the size from statfs.
  std::uint64_t free = 0;
  if (internals_->db()->GetEnv()->GetFreeSpace(internals_->path, &free).ok()) h.free_bytes = free;
  std::error_code ec;
  const auto space = std::filesystem::space(internals_->path, ec);
  if (!ec) h.capacity_bytes = space.capacity;
  return h;
}

Result<void> Store::resume() {
  if (internals_->read_only) return Err(Errc::kDiskFull);
  // While the disk is still full a resume would fail in its flush, and a failure there can
  // leave RocksDB's error unrecoverable: wait for the reserve first.
  if (health().free_bytes < internals_->resume_free_bytes) return Err(Errc::kDiskFull);
  auto st = internals_->db()->Resume();
  if (st.ok()) return {};
  // Logged by the caller once per episode, not on every retry.
  if (st.IsNoSpace()) return Err(Errc::kDiskFull);
  if (st.IsBusy() || st.IsTryAgain() || st.IsIncomplete()) return Err(Errc::kBusy);
  return Err(Errc::kIo);
}

std::uint64_t Store::stall_micros() const {
  auto stats = internals_->db()->GetDBOptions().statistics;
  return stats ? stats->getTickerCount(rocksdb::STALL_MICROS) : 0;
}

bool Store::write_stopped() const {
  std::uint64_t v = 0;
  return internals_->db()->GetIntProperty(rocksdb::DB::Properties::kIsWriteStopped, &v) && v != 0;
}

}  // namespace blackbox::collector
