// FaultFileSystem: a rocksdb::FileSystem wrapper for fail-at-step-N tests of the collector's
// store (StoreOptions::file_system). It counts the file operations that make data durable —
// creating a file, writing to it, syncing it or its directory, renaming — and fails the Nth one
// with an IOError, either once or for every counted call from then on (a disk gone bad).
//
// Steps are numbered from 1 from the last arm() or disarm(). Every other call passes through
// unchanged. Thread-safe: RocksDB calls it from its own threads too.
#pragma once

#include <rocksdb/file_system.h>

#include <atomic>
#include <cstdint>
#include <memory>

namespace blackbox::testing {

enum class FsOp : unsigned {
  kNewFile = 1,  // NewWritableFile, ReopenWritableFile, ReuseWritableFile, NewDirectory
  kWrite = 2,    // Append, PositionedAppend, Truncate
  kSync = 4,     // Sync, Fsync, RangeSync of a file; Fsync of a directory
  kRename = 8,   // RenameFile
};
inline constexpr unsigned kAllFsOps = 15;

enum class FaultMode : std::uint8_t {
  kOnce,    // only step N fails
  kSticky,  // step N and every counted call after it fail
};

// What a failing call returns: a plain IOError (a disk gone bad), NoSpace (a full disk), or
// the IOError RocksDB makes of EMFILE (the process is out of file descriptors).
enum class FaultError : std::uint8_t { kIo, kNoSpace, kTooManyOpenFiles };

class FaultFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  explicit FaultFileSystem(
      std::shared_ptr<rocksdb::FileSystem> base = rocksdb::FileSystem::Default());

  // Restarts the count; the `step`th counted call (1-based) whose kind is in `ops` fails.
  void arm(std::uint64_t step, FaultMode mode = FaultMode::kSticky, unsigned ops = kAllFsOps,
           FaultError error = FaultError::kIo);
  // Restarts the count; nothing fails.
  void disarm();
  // Counted calls since the last arm()/disarm(), and how many of them failed.
  std::uint64_t steps() const { return steps_.load(); }
  std::uint64_t faults() const { return faults_.load(); }

  // The fault decision, for the wrapped files: counts one call of kind `op`.
  rocksdb::IOStatus step(FsOp op);

  const char* Name() const override { return "blackbox.FaultFileSystem"; }
  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                       std::unique_ptr<rocksdb::FSWritableFile>* r,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& f, const std::string& old,
                                      const rocksdb::FileOptions& o,
                                      std::unique_ptr<rocksdb::FSWritableFile>* r,
                                      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewDirectory(const std::string& name, const rocksdb::IOOptions& o,
                                 std::unique_ptr<rocksdb::FSDirectory>* r,
                                 rocksdb::IODebugContext* dbg) override;
  // A full disk (armed with FaultError::kNoSpace, once its first fault struck) has 0 bytes
  // free, as statfs would say; otherwise the base file system's answer.
  rocksdb::IOStatus GetFreeSpace(const std::string& path, const rocksdb::IOOptions& o,
                                 std::uint64_t* free, rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus RenameFile(const std::string& src, const std::string& dst,
                               const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override;

 private:
  rocksdb::IOStatus wrap(rocksdb::IOStatus st, std::unique_ptr<rocksdb::FSWritableFile>* r);

  std::atomic<std::uint64_t> steps_{0};
  std::atomic<std::uint64_t> faults_{0};
  std::atomic<std::uint64_t> fail_at_{0};  // 0 = disarmed
  std::atomic<bool> sticky_{false};
  std::atomic<unsigned> ops_{kAllFsOps};
  std::atomic<FaultError> error_{FaultError::kIo};
};

}  // namespace blackbox::testing
