#include "agent/inputs/dir_watcher.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string_view>

namespace blackbox::agent {
namespace {

constexpr std::uint32_t kMask = IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ONLYDIR;
constexpr std::size_t kMaxMoving = 4096;  // unmatched renames remembered (bounded)

bool has_wildcard(std::string_view s) { return s.find_first_of("*?[") != std::string_view::npos; }

}  // namespace

bool is_compressed(const std::string& path, int fd) {
  static constexpr std::array<std::string_view, 11> kSuffixes = {
      ".gz", ".tgz", ".zst", ".zstd", ".xz", ".bz2", ".lz4", ".lzma", ".lz", ".Z", ".zip"};
  for (auto s : kSuffixes)
    if (path.size() > s.size() && path.compare(path.size() - s.size(), s.size(), s) == 0)
      return true;
  unsigned char m[6] = {};
  const ssize_t n = ::pread(fd, m, sizeof m, 0);
  if (n >= 2 && m[0] == 0x1f && (m[1] == 0x8b || m[1] == 0x9d)) return true;  // gzip, compress
  if (n >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd) return true;
  if (n >= 6 && std::memcmp(m,
                            "\xfd"
                            "7zXZ\0",
                            6) == 0)
    return true;
  if (n >= 4 && m[0] == 'B' && m[1] == 'Z' && m[2] == 'h' && m[3] >= '1' && m[3] <= '9')
    return true;
  if (n >= 4 && m[0] == 0x04 && m[1] == 0x22 && m[2] == 0x4d && m[3] == 0x18) return true;
  return false;
}

DirWatcher::DirWatcher(std::vector<std::string> globs, std::function<void()> wake)
    : wake_(std::move(wake)) {
  for (const auto& g : globs) {
    const auto slash = g.rfind('/');
    Pattern p;
    p.dir = slash == std::string::npos ? "" : g.substr(0, slash + 1);  // with its '/'
    p.name_glob = slash == std::string::npos ? g : g.substr(slash + 1);
    if (has_wildcard(p.dir)) {
      spdlog::info("files: {} has wildcards in its directory; found by the glob scan only", g);
      continue;
    }
    patterns_.push_back(std::move(p));
  }
  if (patterns_.empty()) return;
  inotify_fd_ = UniqueFd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  stop_fd_ = UniqueFd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!inotify_fd_ || !stop_fd_) {
    spdlog::warn("files: inotify unavailable ({}); new files are found by the glob scan only",
                 std::strerror(errno));
    inotify_fd_.reset();
    return;
  }
  refresh();
  thread_ = std::thread([this] { run(); });
}

DirWatcher::~DirWatcher() {
  if (thread_.joinable()) {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(stop_fd_.get(), &one, sizeof one);
    thread_.join();
  }
}

void DirWatcher::refresh() {
  if (!active()) return;
  for (const auto& p : patterns_) {
    const std::string dir = p.dir.empty() ? "." : p.dir;
    const int wd = ::inotify_add_watch(inotify_fd_.get(), dir.c_str(), kMask);
    if (wd < 0) continue;  // not there (yet): the scan says so; retried at the next scan
    std::lock_guard lock(mu_);
    dirs_[wd] = p.dir;
  }
}

Discoveries DirWatcher::take() {
  std::lock_guard lock(mu_);
  Discoveries d = std::move(out_);
  out_ = Discoveries{};
  pending_.store(false, std::memory_order_release);
  return d;
}

bool DirWatcher::matches(const std::string& dir, const std::string& name) const {
  for (const auto& p : patterns_)
    if (p.dir == dir && ::fnmatch(p.name_glob.c_str(), name.c_str(), FNM_PERIOD) == 0) return true;
  return false;
}

void DirWatcher::try_open(const std::string& source, const std::string& path, bool never_opened) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd) {
    // Gone already: its next events say where (a rename) or that it was deleted. Other
    // errors (permissions) are the glob scan's to report.
    if (errno == ENOENT) {
      if (missing_.size() >= kMaxMoving) missing_.erase(missing_.begin());
      missing_[path] = Moving{source, never_opened};
    }
    return;
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return;
  missing_.erase(path);
  std::lock_guard lock(mu_);
  out_.opened.push_back(DiscoveredFile{
      source, path, std::move(fd),
      FileId{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)}});
}

void DirWatcher::handle_events(const char* buf, std::size_t len) {
  for (std::size_t off = 0; off + sizeof(inotify_event) <= len;) {
    const auto* ev = reinterpret_cast<const inotify_event*>(buf + off);
    off += sizeof(inotify_event) + ev->len;
    if (ev->mask & IN_Q_OVERFLOW) {
      std::lock_guard lock(mu_);
      out_.overflow = true;
      moving_.clear();
      missing_.clear();
      continue;
    }
    std::string dir;
    {
      std::lock_guard lock(mu_);
      auto it = dirs_.find(ev->wd);
      if (it == dirs_.end()) continue;
      if (ev->mask & IN_IGNORED) {  // the directory went away; refresh() watches it again
        dirs_.erase(it);
        continue;
      }
      dir = it->second;
    }
    if (ev->len == 0 || (ev->mask & IN_ISDIR)) continue;
    const std::string name(ev->name);
    const std::string path = dir + name;
    if (ev->mask & IN_MOVED_TO) {
      if (auto m = moving_.find(ev->cookie); m != moving_.end()) {
        // A name we follow was renamed: open it under its new name (its records keep the
        // name they were written under).
        const Moving moved = m->second;
        moving_.erase(m);
        try_open(moved.source, path, moved.missing);
        continue;
      }
    }
    if (ev->mask & (IN_CREATE | IN_MOVED_TO)) {
      if (matches(dir, name)) try_open(path, path, true);
    } else if (ev->mask & IN_MOVED_FROM) {
      auto miss = missing_.find(path);
      if (miss != missing_.end() || matches(dir, name)) {
        if (moving_.size() >= kMaxMoving) moving_.erase(moving_.begin());
        // Followed even when we opened something under this name: it may have been a later
        // file than the one renamed now. A rename of a file we never managed to open keeps
        // that mark, so that losing it in the end is reported.
        moving_[ev->cookie] = miss != missing_.end() ? miss->second : Moving{path, false};
        if (miss != missing_.end()) missing_.erase(miss);
      }
    } else if (ev->mask & IN_DELETE) {
      if (auto miss = missing_.find(path); miss != missing_.end()) {
        if (miss->second.missing) {
          std::lock_guard lock(mu_);
          out_.vanished.push_back(miss->second.source);
        }
        missing_.erase(miss);
      }
    }
  }
}

void DirWatcher::run() {
  alignas(inotify_event) static thread_local char buf[64 * 1024];
  pollfd fds[2] = {{inotify_fd_.get(), POLLIN, 0}, {stop_fd_.get(), POLLIN, 0}};
  while (true) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      spdlog::warn("files: inotify poll failed ({}); new files are found by the glob scan only",
                   std::strerror(errno));
      return;
    }
    if (fds[1].revents) return;
    // Renames whose IN_MOVED_TO did not follow in this read moved out of the watched
    // directories: a file we could not open under its old name is lost to us.
    auto before = moving_;
    bool any = false;
    for (ssize_t n; (n = ::read(inotify_fd_.get(), buf, sizeof buf)) > 0;) {
      handle_events(buf, static_cast<std::size_t>(n));
      any = true;
    }
    for (const auto& [cookie, m] : before) {
      auto it = moving_.find(cookie);
      if (it == moving_.end()) continue;
      if (m.missing) {
        std::lock_guard lock(mu_);
        out_.vanished.push_back(m.source);
      }
      moving_.erase(it);
    }
    if (!any) continue;
    bool has;
    {
      std::lock_guard lock(mu_);
      has = !out_.opened.empty() || !out_.vanished.empty() || out_.overflow;
    }
    if (has) {
      pending_.store(true, std::memory_order_release);
      wake_();
    }
  }
}

}  // namespace blackbox::agent
