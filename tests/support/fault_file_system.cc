#include "tests/support/fault_file_system.h"

namespace blackbox::testing {

namespace {

using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;

class FaultWritableFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultWritableFile(std::unique_ptr<rocksdb::FSWritableFile>&& f, FaultFileSystem& fs)
      : FSWritableFileOwnerWrapper(std::move(f)), fs_(fs) {}

  IOStatus Append(const Slice& d, const IOOptions& o, IODebugContext* dbg) override {
    auto st = fs_.step(FsOp::kWrite);
    return st.ok() ? FSWritableFileOwnerWrapper::Append(d, o, dbg) : st;
  }
  IOStatus Append(const Slice& d, const IOOptions& o, const rocksdb::DataVerificationInfo& v,
                  IODebugContext* dbg) override {
    auto st = fs_.step(FsOp::kWrite);
    return st.ok() ? FSWritableFileOwnerWrapper::Append(d, o, v, dbg) : st;
  }
  IOStatus PositionedAppend(const Slice& d, uint64_t off, const IOOptions& o,
                            IODebugContext* dbg) override {
    auto st = fs_.step(FsOp::kWrite);
    return st.ok() ? FSWritableFileOwnerWrapper::PositionedAppend(d, off, o, dbg) : st;
  }
  IOStatus PositionedAppend(const Slice& d, uint64_t off, const IOOptions& o,
                            const rocksdb::DataVerificationInfo& v, IODebugContext* dbg) override {
    auto st = fs_.step(FsOp::kWrite);
    return st.ok() ? FSWritableFileOwnerWrapper::PositionedAppend(d, off, o, v, dbg) : st;
  }
  IOStatus Truncate(uint64_t size, const IOOptions& o, IODebugContext* dbg) override {
    auto st = fs_.step(FsOp::kWrite);
    return st.ok() ? FSWritableFileOwnerWrapper::Truncate(size, o, dbg) : st;
  }
  IOStatus Sync(const IOOptions& o, IODebugContext* dbg) override {
    auto st = fs_.step(FsOp::kSync);
    return st.ok() ? FSWritableFileOwnerWrapper::Sync(o, dbg) : st;
  }
  IOStatus Fsync(const IOOptions& o, IODebugContext* dbg) override {
    auto st = fs_.step(FsOp::kSync);
    return st.ok() ? FSWritableFileOwnerWrapper::Fsync(o, dbg) : st;
  }
  IOStatus RangeSync(uint64_t off, uint64_t n, const IOOptions& o, IODebugContext* dbg) override {
    auto st = fs_.step(FsOp::kSync);
    return st.ok() ? FSWritableFileOwnerWrapper::RangeSync(off, n, o, dbg) : st;
  }

 private:
  FaultFileSystem& fs_;
};

class FaultDirectory final : public rocksdb::FSDirectoryWrapper {
 public:
  FaultDirectory(std::unique_ptr<rocksdb::FSDirectory>&& d, FaultFileSystem& fs)
      : FSDirectoryWrapper(std::move(d)), fs_(fs) {}

  IOStatus Fsync(const IOOptions& o, IODebugContext* dbg) override {
    auto st = fs_.step(FsOp::kSync);
    return st.ok() ? FSDirectoryWrapper::Fsync(o, dbg) : st;
  }
  IOStatus FsyncWithDirOptions(const IOOptions& o, IODebugContext* dbg,
                               const rocksdb::DirFsyncOptions& d) override {
    auto st = fs_.step(FsOp::kSync);
    return st.ok() ? FSDirectoryWrapper::FsyncWithDirOptions(o, dbg, d) : st;
  }

 private:
  FaultFileSystem& fs_;
};

}  // namespace

FaultFileSystem::FaultFileSystem(std::shared_ptr<rocksdb::FileSystem> base)
    : FileSystemWrapper(base) {}

IOStatus FaultFileSystem::GetFreeSpace(const std::string& path, const rocksdb::IOOptions& o,
                                       std::uint64_t* free, rocksdb::IODebugContext* dbg) {
  if (error_.load() == FaultError::kNoSpace && fail_at_.load() != 0 && faults_.load() > 0) {
    *free = 0;
    return IOStatus::OK();
  }
  return target()->GetFreeSpace(path, o, free, dbg);
}

void FaultFileSystem::arm(std::uint64_t step, FaultMode mode, unsigned ops, FaultError error) {
  fail_at_ = 0;
  error_ = error;
  steps_ = 0;
  faults_ = 0;
  sticky_ = mode == FaultMode::kSticky;
  ops_ = ops;
  fail_at_ = step;
}

void FaultFileSystem::disarm() {
  fail_at_ = 0;
  steps_ = 0;
  faults_ = 0;
}

IOStatus FaultFileSystem::step(FsOp op) {
  if ((ops_.load() & static_cast<unsigned>(op)) == 0) return IOStatus::OK();
  const std::uint64_t n = steps_.fetch_add(1) + 1;
  const std::uint64_t at = fail_at_.load();
  if (at == 0 || n < at || (n > at && !sticky_.load())) return IOStatus::OK();
  faults_.fetch_add(1);
  if (error_.load() == FaultError::kNoSpace)
    return IOStatus::NoSpace("blackbox.FaultFileSystem: injected ENOSPC at step " +
                             std::to_string(n));
  if (error_.load() == FaultError::kTooManyOpenFiles)
    return IOStatus::IOError("blackbox.FaultFileSystem: injected at step " + std::to_string(n),
                             "Too many open files");
  return IOStatus::IOError("blackbox.FaultFileSystem: injected fault at step " + std::to_string(n));
}

IOStatus FaultFileSystem::wrap(IOStatus st, std::unique_ptr<rocksdb::FSWritableFile>* r) {
  if (st.ok()) *r = std::make_unique<FaultWritableFile>(std::move(*r), *this);
  return st;
}

IOStatus FaultFileSystem::NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                          std::unique_ptr<rocksdb::FSWritableFile>* r,
                                          IODebugContext* dbg) {
  if (auto st = step(FsOp::kNewFile); !st.ok()) return st;
  return wrap(target()->NewWritableFile(f, o, r, dbg), r);
}

IOStatus FaultFileSystem::ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                             std::unique_ptr<rocksdb::FSWritableFile>* r,
                                             IODebugContext* dbg) {
  if (auto st = step(FsOp::kNewFile); !st.ok()) return st;
  return wrap(target()->ReopenWritableFile(f, o, r, dbg), r);
}

IOStatus FaultFileSystem::ReuseWritableFile(const std::string& f, const std::string& old,
                                            const rocksdb::FileOptions& o,
                                            std::unique_ptr<rocksdb::FSWritableFile>* r,
                                            IODebugContext* dbg) {
  if (auto st = step(FsOp::kNewFile); !st.ok()) return st;
  return wrap(target()->ReuseWritableFile(f, old, o, r, dbg), r);
}

IOStatus FaultFileSystem::NewDirectory(const std::string& name, const IOOptions& o,
                                       std::unique_ptr<rocksdb::FSDirectory>* r,
                                       IODebugContext* dbg) {
  if (auto st = step(FsOp::kNewFile); !st.ok()) return st;
  auto st = target()->NewDirectory(name, o, r, dbg);
  if (st.ok()) *r = std::make_unique<FaultDirectory>(std::move(*r), *this);
  return st;
}

IOStatus FaultFileSystem::RenameFile(const std::string& src, const std::string& dst,
                                     const IOOptions& o, IODebugContext* dbg) {
  if (auto st = step(FsOp::kRename); !st.ok()) return st;
  return target()->RenameFile(src, dst, o, dbg);
}

}  // namespace blackbox::testing
