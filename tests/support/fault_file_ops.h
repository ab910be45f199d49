// A FileOps (agent/spool/file_ops.h) that fails on purpose, wrapping a real one: fail the Nth
// call (of one kind, or of any kind) with a chosen errno, once or from then on, or cut the Nth
// write short (then fail the next one, as a disk filling up does). Counts every call, so a test
// can first run a workload to learn how many steps it takes, then fail step 1, 2, 3, ...
// Thread-safe (one mutex); the wrapped FileOps must outlive it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/spool/file_ops.h"

namespace blackbox::testing {

enum class FileOp : std::uint8_t {
  kOpen,
  kWrite,
  kRead,
  kSync,  // fdatasync
  kTruncate,
  kSize,
  kRename,
  kLink,
  kUnlink,
  kSyncDir,
  kCreateDirs,
  kListDir,
};
inline constexpr std::size_t kFileOpKinds = 12;
const char* file_op_name(FileOp op);

enum class FaultMode : std::uint8_t {
  kOnce,        // the chosen call fails; later calls succeed
  kFromNowOn,   // the chosen call and every later one (of any kind) fail: a dead disk
  kShortWrite,  // the chosen write writes half its bytes; the next write fails with the errno
};

struct FaultPlan {
  std::uint64_t at_step = 0;   // 1-based; 0: no fault
  std::optional<FileOp> kind;  // steps count only calls of this kind; nullopt: every call
  int err = EIO;
  FaultMode mode = FaultMode::kOnce;
};

class FaultFileOps final : public agent::FileOps {
 public:
  explicit FaultFileOps(agent::FileOps& real, FaultPlan plan = {}) : real_(real), plan_(plan) {}

  void set_plan(FaultPlan plan);
  // From now on every call fails with `err`.
  void fail_everything(int err);
  // Off: fdatasync and sync_dir are counted (and can fail) but do not reach the disk. Keeps
  // step-N loops fast; they simulate failed calls and process death, not power loss.
  void set_real_syncs(bool on);
  // A full disk: while on, every write fails with ENOSPC (after the plan had its say); the
  // first unlink that succeeds turns it off (removing a file returns space).
  void set_disk_full(bool on);
  // Calls counted so far (of the plan's kind, or all).
  std::uint64_t steps() const;
  std::uint64_t calls(FileOp op) const;
  // The first call that was failed (or cut short), if any.
  std::optional<FileOp> fired() const;

  Result<agent::UniqueFd> open(const std::string& path, agent::OpenMode mode) override;
  Result<std::size_t> pwritev(int fd, std::span<const struct iovec> iov,
                              std::uint64_t offset) override;
  Result<std::size_t> pread(int fd, char* buf, std::size_t len, std::uint64_t offset) override;
  Result<void> fdatasync(int fd) override;
  Result<void> ftruncate(int fd, std::uint64_t size) override;
  Result<std::uint64_t> file_size(int fd) override;
  Result<void> rename(const std::string& from, const std::string& to) override;
  Result<void> link(const std::string& from, const std::string& to) override;
  Result<void> unlink(const std::string& path) override;
  Result<void> sync_dir(const std::string& dir) override;
  Result<void> create_dirs(const std::string& dir) override;
  Result<std::vector<std::string>> list_dir(const std::string& dir) override;

 private:
  enum class Verdict { kPass, kFail, kShort };
  // Counts the call and decides its fate; on kFail, `err` is the errno to return.
  Verdict step(FileOp op, int& err);

  agent::FileOps& real_;
  mutable std::mutex mu_;
  FaultPlan plan_;
  std::uint64_t steps_ = 0;
  std::array<std::uint64_t, kFileOpKinds> calls_{};
  std::optional<FileOp> fired_;
  bool failing_ = false;          // kFromNowOn fired, or fail_everything()
  bool fail_next_write_ = false;  // kShortWrite fired
  bool disk_full_ = false;        // set_disk_full()
  int failing_err_ = EIO;
  bool real_syncs_ = true;
};

}  // namespace blackbox::testing
