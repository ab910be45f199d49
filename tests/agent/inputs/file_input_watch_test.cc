// FileInput with inotify discovery (DirWatcher), on real files: what happens between two
// looks is made deterministic by holding the watcher thread inside its wake callback (a gate)
// while the test creates, renames and deletes files; the kernel queues those events and the
// watcher handles them all once the gate opens. Also: compressed files are never followed.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "agent/inputs/file_input.h"
#include "schemas/gap_body.h"
#include "tests/agent/support/temp_dir.h"

namespace blackbox::agent {
namespace {

using testing::TempDir;

struct Capture : LineSink {
  std::vector<std::string> lines;
  std::vector<GapBody> gaps;
  void on_line(std::string_view, std::string_view line, std::uint8_t, std::int64_t) override {
    lines.emplace_back(line);
  }
  void on_gap(std::string_view, std::string_view body, std::int64_t) override {
    auto g = decode_gap_body(body);
    ASSERT_TRUE(g);
    gaps.push_back(*g);
  }
  bool has(const std::string& l) const {
    return std::find(lines.begin(), lines.end(), l) != lines.end();
  }
};

// The watcher's wake callback: counts wakes and, while closed, holds the watcher thread.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = true;
  int wakes = 0;
  void wake() {
    std::unique_lock lock(mu);
    ++wakes;
    cv.notify_all();
    cv.wait(lock, [&] { return open; });
  }
  void set_open(bool o) {
    std::lock_guard lock(mu);
    open = o;
    cv.notify_all();
  }
  bool wait_wakes(int n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(120), [&] { return wakes >= n; });
  }
};

void write_file(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

class FileInputWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FileInputOptions o;
    o.globs = {dir_ / "*.log"};
    input_ = std::make_unique<FileInput>(o, std::vector<FilePosition>{}, true, metrics_);
    input_->watch([this] { gate_.wake(); });
    input_->scan(sink_, 0, 0);
  }
  void TearDown() override {
    gate_.set_open(true);  // never leave the watcher thread held
    input_.reset();
  }
  // Holds the watcher: a matching file is created and the test waits for its wake.
  void hold_watcher() {
    gate_.set_open(false);
    const int before = gate_.wakes;
    write_file(dir_ / ("hold" + std::to_string(before) + ".log"), "");
    ASSERT_TRUE(gate_.wait_wakes(before + 1));
  }
  void release_and_discover() {
    const int before = gate_.wakes;
    gate_.set_open(true);
    ASSERT_TRUE(gate_.wait_wakes(before + 1));
    ASSERT_TRUE(input_->discovery_pending());
    input_->discover(sink_, 0, 0);
    ReadBuffer buf;
    input_->poll(sink_, buf, 0, 0, [] {});
  }

  TempDir dir_;
  Metrics registry_;
  AgentMetrics metrics_{registry_};
  Gate gate_;
  Capture sink_;
  std::unique_ptr<FileInput> input_;
};

TEST_F(FileInputWatchTest, FilesGoneBeforeTheyCouldBeOpenedAreGapsAndRenamedOnesAreFollowed) {
  hold_watcher();
  // Created and deleted while the watcher was held: known to have existed, never read.
  write_file(dir_ / "c.log", "c line\n");
  std::filesystem::remove(dir_ / "c.log");
  // Created, renamed to a name no glob matches, deleted: the same.
  write_file(dir_ / "d.log", "d line\n");
  std::filesystem::rename(dir_ / "d.log", dir_ / "d.log.1");
  std::filesystem::remove(dir_ / "d.log.1");
  // Created and renamed away: followed to its new name, its records keep the old one.
  write_file(dir_ / "e.log", "e line\n");
  std::filesystem::rename(dir_ / "e.log", dir_ / "e.rotated");
  release_and_discover();

  EXPECT_TRUE(sink_.has("e line"));
  ASSERT_EQ(sink_.gaps.size(), 2u);
  EXPECT_EQ(sink_.gaps[0].reason, gap_reason::kVanishedBeforeRead);
  EXPECT_EQ(sink_.gaps[0].source, dir_ / "c.log");
  EXPECT_EQ(sink_.gaps[1].reason, gap_reason::kVanishedBeforeRead);
  EXPECT_EQ(sink_.gaps[1].source, dir_ / "d.log");
  EXPECT_EQ(metrics_.files_vanished.load(), 2u);
  EXPECT_EQ(metrics_.gaps.load(), 2u);
  EXPECT_FALSE(sink_.has("c line"));
}

TEST_F(FileInputWatchTest, QueueOverflowIsAGapAndARescanFindsWhatTheEventsMissed) {
  std::ifstream in("/proc/sys/fs/inotify/max_queued_events");
  int max_queued = 16384;
  in >> max_queued;
  ASSERT_LE(max_queued, 1 << 20) << "a flood this large would make the test slow";
  hold_watcher();
  for (int i = 0; i < max_queued + 16; ++i) write_file(dir_ / ("n" + std::to_string(i)), "");
  write_file(dir_ / "late.log", "late line\n");  // its event is past the overflow
  release_and_discover();

  ASSERT_FALSE(sink_.gaps.empty());
  EXPECT_EQ(sink_.gaps.back().reason, gap_reason::kWatchOverflow);
  EXPECT_EQ(metrics_.watch_overflows.load(), 1u);
  EXPECT_TRUE(sink_.has("late line")) << "the rescan after the overflow follows it";
}

TEST(FileInputCompressed, CompressedFilesAreNeverReadAsText) {
  TempDir dir;
  write_file(dir / "app.log", "plain\n");
  write_file(dir / "app.log.1.gz", "not really gzip but named so\n");
  write_file(dir / "app.log.2", std::string("\x28\xb5\x2f\xfd", 4) + "zstd magic\n");
  write_file(dir / "app.log.3", "\x1f\x8b gzip magic\n");
  write_file(dir / "app.log.4.xz", "xz by name\n");
  Metrics registry;
  AgentMetrics metrics{registry};
  FileInputOptions o;
  o.globs = {dir / "app.log*"};
  FileInput input(o, {}, true, metrics);
  Capture sink;
  input.scan(sink, 0, 0);
  input.scan(sink, 0, 0);  // skipped files stay skipped, counted once
  ReadBuffer buf;
  input.poll(sink, buf, 0, 0, [] {});
  EXPECT_EQ(input.open_files(), 1u);
  EXPECT_EQ(sink.lines, std::vector<std::string>{"plain"});
  EXPECT_EQ(metrics.compressed_skipped.load(), 4u);
}

}  // namespace
}  // namespace blackbox::agent
