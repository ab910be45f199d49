// The agent's durable spool (DESIGN.md contracts 1 and 3): sealed batches wait here, each with
// the checkpoint committed alongside it, until the collector acknowledges them. A directory
// of append-only segments (format: segment_format.h). One writer thread appends; the
// shipper's thread reads, acknowledges and thereby deletes whole segments; both may run at
// once. Recovery at open(): torn tails are truncated, damaged segments quarantined (their
// valid entries kept, the damage reported so that a gap record makes it visible), and the
// state — sequence numbers, chain heads, file positions — comes from the last valid entry.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/spool/checkpoint.h"
#include "agent/spool/file_ops.h"
#include "agent/spool/segment_format.h"
#include "schemas/batch.h"
#include "schemas/result.h"

namespace blackbox::agent {

enum class FsyncPolicy : std::uint8_t {
  kAlways,    // fdatasync each append group before anything in it may be shipped
  kInterval,  // fdatasync at most every fsync_interval (sync()); ship at once
  kNever,     // leave it to the kernel; ship at once (survives kill -9, not power loss)
};

struct SpoolOptions {
  std::string dir;
  std::uint64_t segment_bytes = 16u << 20;  // roll to a new segment past this size
  std::uint64_t max_bytes = 256u << 20;     // hard cap over all segments
  FsyncPolicy fsync = FsyncPolicy::kAlways;
  std::size_t max_quarantined = 8;  // damaged originals kept for forensics
  // A file of this many bytes (<dir>/reserve) is kept so that, on a full disk, the spool can
  // still start the fresh segment that lets an acknowledged active segment go (its state must
  // be carried first). Grown to twice the state entry when that is larger. 0: no reserve.
  std::uint64_t reserve_bytes = 64u << 10;
  // Who writes (recorded in every new segment). At open, segments with batches written under
  // another instance id are set aside in <dir>/foreign/<instance>/ and reported, never shipped
  // as this one's. Empty instance_id: not checked.
  SpoolIdentity identity;
  // Every file operation goes through this (tests inject faults); nullptr: posix_file_ops().
  // Not owned; must outlive the spool.
  FileOps* file_ops = nullptr;
};

// One stretch of spool bytes that recovery could not read.
struct SpoolDamage {
  std::uint64_t segment = 0;
  std::uint64_t offset = 0;
  std::uint64_t bytes = 0;
};

// Batches found in the spool that another instance wrote: set aside, to be reported.
struct ForeignSpool {
  SpoolIdentity identity;  // the writer (the boot id of its newest segment)
  std::string moved_to;    // the directory now holding them
  std::size_t segments = 0;
  std::size_t batches = 0;
  std::uint64_t records = 0;
  std::uint64_t bytes = 0;
};

struct RecoveryReport {
  bool fresh = true;         // no state found: a first start
  Checkpoint state;          // from the last valid entry
  std::size_t segments = 0;  // kept, with unacknowledged-or-unknown batches
  std::size_t batches = 0;
  std::uint64_t truncated_bytes = 0;  // torn tail cut off (never committed: no loss)
  std::vector<SpoolDamage> damage;    // quarantined: lost, to be reported as gaps
  std::vector<ForeignSpool> foreign;  // set aside: another instance's, to be reported
  std::size_t unlabelled_segments = 0;  // version 1 segments with batches: identity unknown
};

// Where the shipper is in the spool.
struct SpoolCursor {
  std::uint64_t segment = 0;
  std::uint64_t offset = 0;
};

// One entry to append: a sealed batch and its checkpoint, or (batch empty) a checkpoint alone.
struct SpoolAppend {
  std::string_view batch;
  std::string_view checkpoint;
  std::uint32_t stream = 0;   // of the batch
  std::uint64_t end_seq = 0;  // of the batch (exclusive)
};

enum class ReadStatus {
  kBatch,           // `batch` and `header` hold the next unacknowledged batch
  kEnd,             // nothing more readable yet
  kCorruptSkipped,  // an entry failed its CRC when read back: skipped, logged; a gap
};

class Spool {
 public:
  // Opens (creating) the spool in options.dir and recovers it; fills `report`.
  // Errors: kIo (directory unusable), kFsyncFailed.
  [[nodiscard]] static Result<std::unique_ptr<Spool>> open(const SpoolOptions& options,
                                                           RecoveryReport& report);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  static std::uint64_t entry_bytes(const SpoolAppend& e);

  // ---- Writer thread ----
  // Blocks until `bytes` more fit under max_bytes (acknowledgements free space), or until
  // `cancel` is true and cancel_waits() was called. Returns whether they fit; `waited` says
  // whether the spool was full.
  bool wait_for_space(std::uint64_t bytes, const std::atomic<bool>& cancel, bool* waited = nullptr);
  // Whether `bytes` more fit now.
  bool fits(std::uint64_t bytes) const;
  // Appends `entries` in order, rolling segments as needed, syncing per policy, then makes
  // them readable and calls the publish callback. On kDiskFull / kIo (retryable) nothing of
  // the failed part stays readable, `appended` says how many entries made it (durable per the
  // policy), and a retry of the rest starts on an entry boundary (a partial entry the failed
  // write left is truncated first; while that truncation fails, appends fail with kIo).
  // kFsyncFailed is fatal: stop, acknowledge nothing more.
  // On kDiskFull with every batch of the active segment acknowledged, the active segment is
  // released first (release_acked_active) and the write tried once more: a spool that filled
  // its disk frees itself as soon as the collector has everything.
  [[nodiscard]] Result<void> append(std::span<const SpoolAppend> entries,
                                    std::size_t* appended = nullptr);
  // Syncs what was written since the last sync (kInterval timer; shutdown).
  [[nodiscard]] Result<void> sync();
  // At a clean stop, once no writer runs: when everything is acknowledged, starts a fresh
  // segment (carrying the state) so that the acknowledged one can go.
  [[nodiscard]] Result<void> trim();
  // When the active segment holds batches and all of them are acknowledged: starts a fresh
  // segment carrying the state (on a full disk, in the room of the reserve file, which is made
  // again afterwards) and removes the old one. Returns whether it did. Errors as roll():
  // kDiskFull / kIo retryable (nothing changed), kFsyncFailed fatal.
  [[nodiscard]] Result<bool> release_acked_active();
  // Room for at least one more whole segment, under max_bytes and on the disk: a full spool's
  // episode is over (hysteresis: not over at the first entry that fits again).
  bool has_headroom() const;
  // Free bytes on the spool's file system for an unprivileged writer (statvfs); 0 if unknown.
  std::uint64_t free_disk_bytes() const;

  // ---- Shipper thread ----
  SpoolCursor begin() const;
  // Reads the next batch at or after `cursor` that is not acknowledged, advancing `cursor`.
  [[nodiscard]] Result<ReadStatus> read_next(SpoolCursor& cursor, std::string& batch,
                                             BatchHeader& header);
  // The collector holds every record of `stream` below `end_seq`: deletes every segment
  // (except the active one) that holds nothing else unacknowledged. A segment file that cannot
  // be removed is logged and counted (unlink_failures()) and kept: the next acknowledgement
  // tries again (until then it counts against max_bytes; found at a restart, it would be
  // shipped again, which the collector stores once).
  void ack(std::uint32_t stream, std::uint64_t end_seq);

  // ---- Any thread ----
  void set_on_publish(std::function<void()> fn);
  void cancel_waits();
  std::uint64_t bytes() const;
  std::uint64_t max_bytes() const { return options_.max_bytes; }
  std::uint64_t acked_end(std::uint32_t stream) const;
  // Every batch appended so far is acknowledged.
  bool all_acked() const;
  // Files the spool meant to remove and could not (acknowledged segments, cleanup after a
  // failed roll, stale temporaries, old quarantined copies). Each was also logged.
  std::uint64_t unlink_failures() const { return unlink_failures_.load(); }

 private:
  struct Segment;
  using SeqEnds = std::vector<std::pair<std::uint32_t, std::uint64_t>>;

  explicit Spool(SpoolOptions options);
  [[nodiscard]] Result<void> recover(RecoveryReport& report);
  [[nodiscard]] Result<std::vector<std::uint64_t>> list_segments();
  [[nodiscard]] Result<std::shared_ptr<Segment>> recover_segment(std::uint64_t id, bool last,
                                                                 std::string& last_cp,
                                                                 RecoveryReport& report,
                                                                 std::size_t& batches);
  [[nodiscard]] Result<void> quarantine(Segment& seg);
  // Moves `seg` (holding `batches`) to <dir>/foreign/<its instance>/, counted in `report`.
  [[nodiscard]] Result<void> set_aside(const Segment& seg, std::size_t batches,
                                       RecoveryReport& report);
  // Whether `seg` was written by another instance than options_.identity.
  bool foreign(const Segment& seg) const;
  [[nodiscard]] Result<void> copy_valid_entries(Segment& seg, int out);
  void prune_quarantine();
  [[nodiscard]] Result<void> repair_tail(Segment& seg);
  // fdatasync of `fd` / fsync of the spool directory, logged; any failure is kFsyncFailed
  // (fatal: durability unknown), whatever the errno.
  [[nodiscard]] Result<void> sync_file(int fd, const std::string& path);
  [[nodiscard]] Result<void> sync_spool_dir();
  // Unlinks `path`; a failure is logged and counted (unlink_failures()). Returns success.
  bool remove_file(const std::string& path, std::string_view what);
  // Writes the reserve file when it is missing (writer thread). Failure is logged at debug
  // level and retried at the next release: a full disk is the usual cause.
  void make_reserve();
  [[nodiscard]] Result<void> roll();
  // What roll() writes: header, identity entry, state entry (writer thread).
  std::uint64_t roll_bytes() const;
  [[nodiscard]] Result<void> write_run(std::span<const SpoolAppend> entries);
  bool fully_acked_locked(const Segment& seg) const;
  void delete_acked_locked();
  static std::uint64_t seq_end(const SeqEnds& v, std::uint32_t stream);
  static void raise(SeqEnds& v, std::uint32_t stream, std::uint64_t end);

  SpoolOptions options_;
  FileOps& ops_;
  std::string quarantine_dir_;
  std::string last_checkpoint_;       // writer: checkpoint of the latest entry, carried by rolls
  std::uint64_t unsynced_bytes_ = 0;  // writer
  std::uint64_t next_id_ = 0;         // writer: id of the next segment
  bool reserve_present_ = false;      // writer: <dir>/reserve holds its bytes

  mutable std::mutex mu_;
  std::condition_variable space_cv_;
  std::deque<std::shared_ptr<Segment>> segments_;  // by id; back() is the active segment
  std::uint64_t total_bytes_ = 0;
  SeqEnds acked_end_;
  SeqEnds written_end_;
  std::function<void()> on_publish_;
  std::atomic<std::uint64_t> unlink_failures_{0};
};

}  // namespace blackbox::agent
