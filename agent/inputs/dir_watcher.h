// Event-driven discovery for the file input: an inotify watch on the directory of every
// configured glob, served by one small thread that opens a matching file the moment it is
// created or moved in, so that a file created and rotated away between two glob scans (a log
// storm under fast rotation) is still read. The periodic glob scan stays as the fallback.
//
// Contracts:
// - A file whose name matches a glob's last component is opened (O_RDONLY) as soon as the
//   thread sees its IN_CREATE / IN_MOVED_TO; the open fd goes to the input thread through
//   take(). Holding the fd is what keeps the data: a file opened here is read to its end even
//   if it is renamed, compressed and deleted a moment later.
// - A matching name that is renamed (IN_MOVED_FROM + IN_MOVED_TO in a watched directory) is
//   followed to its new name and opened there, whatever that name is: the generation that was
//   at the matched path is not missed because it moved before the thread ran. The same file
//   may be reported more than once; the caller deduplicates by FileId.
// - A name that could not be opened because it was already gone (under its first name and
//   every name it was renamed to), and whose later events say it was deleted (or moved out of
//   sight), is reported in `vanished`: a file we know existed and could not read. A file that
//   was opened under its first name and is gone when its rename is followed is not reported
//   (the input holds it). IN_Q_OVERFLOW is reported as `overflow`: the caller rescans at once.
// - Globs whose directory part has wildcards are not watched (scan only).
// Thread-safe: the watcher thread produces, the input thread calls take() and refresh().
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/inputs/file_identity.h"
#include "agent/util/unique_fd.h"

namespace blackbox::agent {

struct DiscoveredFile {
  std::string source;  // the matching name the file appeared under (its records' source)
  std::string path;    // where it was opened (differs after a followed rename)
  UniqueFd fd;
  FileId id;
};

struct Discoveries {
  std::vector<DiscoveredFile> opened;
  std::vector<std::string> vanished;  // matching names gone before they could be opened
  bool overflow = false;              // the inotify queue overflowed: events were lost
};

class DirWatcher {
 public:
  // Watches the directories of `globs` (those that exist now; refresh() adds the others) and
  // calls `wake` from the watcher thread whenever take() has something.
  DirWatcher(std::vector<std::string> globs, std::function<void()> wake);
  ~DirWatcher();
  DirWatcher(const DirWatcher&) = delete;
  DirWatcher& operator=(const DirWatcher&) = delete;

  // False when inotify is unavailable (the scan alone discovers files then).
  bool active() const { return inotify_fd_.get() >= 0; }
  // Whether take() would return something (cheap; any thread).
  bool pending() const { return pending_.load(std::memory_order_acquire); }
  Discoveries take();
  // Adds watches for glob directories created since (idempotent). Input thread, per scan.
  void refresh();

 private:
  struct Pattern {
    std::string dir;
    std::string name_glob;
  };
  struct Moving {  // a name we follow (renamed, or not openable yet)
    std::string source;
    bool missing = false;  // never opened since it appeared: losing it is a loss
  };
  void run();
  void handle_events(const char* buf, std::size_t len);
  bool matches(const std::string& dir, const std::string& name) const;
  void try_open(const std::string& source, const std::string& path, bool never_opened);

  std::vector<Pattern> patterns_;
  std::function<void()> wake_;
  UniqueFd inotify_fd_;
  UniqueFd stop_fd_;  // eventfd: ends the thread
  mutable std::mutex mu_;
  std::map<int, std::string> dirs_;  // wd → directory
  Discoveries out_;                  // guarded by mu_
  std::atomic<bool> pending_{false};
  // Watcher thread only.
  std::map<std::uint32_t, Moving> moving_;  // cookie → moved name
  std::map<std::string, Moving> missing_;   // path → not openable there (gone)
  std::thread thread_;
};

// Whether a file is compressed (by its name: .gz .zst .xz .bz2 .lz4 .Z …, or by the magic
// bytes at its start): a compressed rotated file is never read as text.
bool is_compressed(const std::string& path, int fd);

}  // namespace blackbox::agent
