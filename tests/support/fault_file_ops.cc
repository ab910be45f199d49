#include "tests/support/fault_file_ops.h"

#include <algorithm>

namespace blackbox::testing {

namespace {

boost::system::error_code os_error(int err) { return {err, boost::system::system_category()}; }

}  // namespace

const char* file_op_name(FileOp op) {
  static constexpr const char* kNames[kFileOpKinds] = {
      "open",   "write", "read",   "fdatasync", "ftruncate",   "file_size",
      "rename", "link",  "unlink", "sync_dir",  "create_dirs", "list_dir"};
  return kNames[static_cast<std::size_t>(op)];
}

void FaultFileOps::set_plan(FaultPlan plan) {
  std::lock_guard lock(mu_);
  plan_ = plan;
  steps_ = 0;
  fired_.reset();
  failing_ = fail_next_write_ = false;
}

void FaultFileOps::fail_everything(int err) {
  std::lock_guard lock(mu_);
  failing_ = true;
  failing_err_ = err;
}

void FaultFileOps::set_disk_full(bool on) {
  std::lock_guard lock(mu_);
  disk_full_ = on;
}

void FaultFileOps::set_real_syncs(bool on) {
  std::lock_guard lock(mu_);
  real_syncs_ = on;
}

std::uint64_t FaultFileOps::steps() const {
  std::lock_guard lock(mu_);
  return steps_;
}

std::uint64_t FaultFileOps::calls(FileOp op) const {
  std::lock_guard lock(mu_);
  return calls_[static_cast<std::size_t>(op)];
}

std::optional<FileOp> FaultFileOps::fired() const {
  std::lock_guard lock(mu_);
  return fired_;
}

FaultFileOps::Verdict FaultFileOps::step(FileOp op, int& err) {
  std::lock_guard lock(mu_);
  ++calls_[static_cast<std::size_t>(op)];
  if (failing_) {
    err = failing_err_;
    return Verdict::kFail;
  }
  if (fail_next_write_ && op == FileOp::kWrite) {
    fail_next_write_ = false;
    err = plan_.err;
    return Verdict::kFail;
  }
  const bool disk_full = disk_full_ && op == FileOp::kWrite;
  if (disk_full) err = ENOSPC;
  if (plan_.kind && *plan_.kind != op) return disk_full ? Verdict::kFail : Verdict::kPass;
  if (++steps_ != plan_.at_step) return disk_full ? Verdict::kFail : Verdict::kPass;
  fired_ = op;
  err = plan_.err;
  switch (plan_.mode) {
    case FaultMode::kOnce:
      return Verdict::kFail;
    case FaultMode::kFromNowOn:
      failing_ = true;
      failing_err_ = plan_.err;
      return Verdict::kFail;
    case FaultMode::kShortWrite:
      if (op != FileOp::kWrite) return Verdict::kFail;  // only writes can be cut short
      fail_next_write_ = true;
      return Verdict::kShort;
  }
  return Verdict::kPass;
}

Result<agent::UniqueFd> FaultFileOps::open(const std::string& path, agent::OpenMode mode) {
  int err = 0;
  if (step(FileOp::kOpen, err) != Verdict::kPass) return os_error(err);
  return real_.open(path, mode);
}

Result<std::size_t> FaultFileOps::pwritev(int fd, std::span<const struct iovec> iov,
                                          std::uint64_t offset) {
  int err = 0;
  switch (step(FileOp::kWrite, err)) {
    case Verdict::kPass:
      return real_.pwritev(fd, iov, offset);
    case Verdict::kFail:
      return os_error(err);
    case Verdict::kShort:
      break;
  }
  // Write half of what was asked (at least one byte), as a write interrupted by a full disk.
  std::size_t total = 0;
  for (const auto& v : iov) total += v.iov_len;
  std::size_t want = std::max<std::size_t>(1, total / 2);
  std::vector<struct iovec> part;
  for (const auto& v : iov) {
    if (want == 0) break;
    const std::size_t n = std::min(want, v.iov_len);
    part.push_back({v.iov_base, n});
    want -= n;
  }
  return real_.pwritev(fd, part, offset);
}

Result<std::size_t> FaultFileOps::pread(int fd, char* buf, std::size_t len, std::uint64_t offset) {
  int err = 0;
  if (step(FileOp::kRead, err) != Verdict::kPass) return os_error(err);
  return real_.pread(fd, buf, len, offset);
}

Result<void> FaultFileOps::fdatasync(int fd) {
  int err = 0;
  if (step(FileOp::kSync, err) != Verdict::kPass) return os_error(err);
  {
    std::lock_guard lock(mu_);
    if (!real_syncs_) return {};
  }
  return real_.fdatasync(fd);
}

Result<void> FaultFileOps::ftruncate(int fd, std::uint64_t size) {
  int err = 0;
  if (step(FileOp::kTruncate, err) != Verdict::kPass) return os_error(err);
  return real_.ftruncate(fd, size);
}

Result<std::uint64_t> FaultFileOps::file_size(int fd) {
  int err = 0;
  if (step(FileOp::kSize, err) != Verdict::kPass) return os_error(err);
  return real_.file_size(fd);
}

Result<void> FaultFileOps::rename(const std::string& from, const std::string& to) {
  int err = 0;
  if (step(FileOp::kRename, err) != Verdict::kPass) return os_error(err);
  return real_.rename(from, to);
}

Result<void> FaultFileOps::link(const std::string& from, const std::string& to) {
  int err = 0;
  if (step(FileOp::kLink, err) != Verdict::kPass) return os_error(err);
  return real_.link(from, to);
}

Result<void> FaultFileOps::unlink(const std::string& path) {
  int err = 0;
  if (step(FileOp::kUnlink, err) != Verdict::kPass) return os_error(err);
  auto r = real_.unlink(path);
  if (r) set_disk_full(false);
  return r;
}

Result<void> FaultFileOps::sync_dir(const std::string& dir) {
  int err = 0;
  if (step(FileOp::kSyncDir, err) != Verdict::kPass) return os_error(err);
  {
    std::lock_guard lock(mu_);
    if (!real_syncs_) return {};
  }
  return real_.sync_dir(dir);
}

Result<void> FaultFileOps::create_dirs(const std::string& dir) {
  int err = 0;
  if (step(FileOp::kCreateDirs, err) != Verdict::kPass) return os_error(err);
  return real_.create_dirs(dir);
}

Result<std::vector<std::string>> FaultFileOps::list_dir(const std::string& dir) {
  int err = 0;
  if (step(FileOp::kListDir, err) != Verdict::kPass) return os_error(err);
  return real_.list_dir(dir);
}

}  // namespace blackbox::testing
