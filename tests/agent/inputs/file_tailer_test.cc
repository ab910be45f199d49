#include "agent/inputs/file_tailer.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "schemas/record.h"
#include "tests/agent/support/temp_dir.h"

namespace blackbox::agent {
namespace {

using testing::TempDir;

struct Capture : LineSink {
  struct Line {
    std::string text;
    std::uint8_t flags;
  };
  std::vector<Line> lines;
  std::vector<std::string> gaps;
  void on_line(std::string_view, std::string_view line, std::uint8_t flags, std::int64_t) override {
    lines.push_back({std::string(line), flags});
  }
  void on_gap(std::string_view, std::string_view body, std::int64_t) override {
    gaps.emplace_back(body);
  }
};

void append(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary | std::ios::app) << data;
}

std::unique_ptr<FileTailer> open_tailer(const std::string& path, TailerOptions o = {},
                                        std::uint64_t offset = 0, bool mid = false) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st;
  ::fstat(fd.get(), &st);
  FileId id{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
  return std::make_unique<FileTailer>(path, std::move(fd), id, offset, mid, o);
}

std::uint64_t read_all(FileTailer& t, Capture& sink, std::int64_t now = 0) {
  ReadBuffer buf;
  std::uint64_t total = 0;
  for (int i = 0; i < 10000; ++i) {
    auto r = t.read(sink, buf, 1 << 20, now, now);
    EXPECT_TRUE(r);
    total += r->bytes;
    if (r->eof) break;
  }
  return total;
}

TEST(FileTailer, KeepsLinesByteExactCrlfNulAndInvalidUtf8) {
  TempDir dir;
  const std::string path = dir / "a.log";
  const std::string nul("a\0b", 3);
  append(path, "plain\r\n" + nul + "\n\xff\xfe bad utf8\n\n  spaces  \nlast");
  auto t = open_tailer(path);
  Capture sink;
  read_all(*t, sink);
  ASSERT_EQ(sink.lines.size(), 5u);
  EXPECT_EQ(sink.lines[0].text, "plain\r");
  EXPECT_EQ(sink.lines[1].text, nul);
  EXPECT_EQ(sink.lines[2].text, "\xff\xfe bad utf8");
  EXPECT_EQ(sink.lines[3].text, "");
  EXPECT_EQ(sink.lines[4].text, "  spaces  ");
  for (const auto& l : sink.lines) EXPECT_EQ(l.flags, 0);
  EXPECT_TRUE(t->has_pending());
  EXPECT_EQ(t->emitted_offset(), t->read_offset() - 4);  // "last" is not emitted yet
}

TEST(FileTailer, LineOfExactlyMaxBytesIsOneRecordAndLongerOnesAreSplitAndFlagged) {
  TempDir dir;
  const std::string path = dir / "big.log";
  TailerOptions o;
  o.chunk_bytes = 64 * 1024;
  o.max_line_bytes = 1 << 20;
  const std::string exact(1 << 20, 'x');
  std::string longer(2 * (1 << 20) + 5, 'y');
  longer[0] = 'Y';
  append(path, exact + "\n" + longer + "\nafter\n");
  auto t = open_tailer(path, o);
  Capture sink;
  read_all(*t, sink);
  ASSERT_EQ(sink.lines.size(), 5u);
  EXPECT_EQ(sink.lines[0].text, exact);
  EXPECT_EQ(sink.lines[0].flags, 0);
  EXPECT_EQ(sink.lines[1].flags, record_flags::kSplitHead);
  EXPECT_EQ(sink.lines[2].flags, record_flags::kSplitHead | record_flags::kSplitTail);
  EXPECT_EQ(sink.lines[3].flags, record_flags::kSplitTail);
  EXPECT_EQ(sink.lines[1].text + sink.lines[2].text + sink.lines[3].text, longer);
  EXPECT_EQ(sink.lines[3].text.size(), 5u);
  EXPECT_EQ(sink.lines[4].text, "after");
  EXPECT_EQ(sink.lines[4].flags, 0);
}

TEST(FileTailer, PartialLineIsEmittedAfterTheTimeoutAndItsRestIsAContinuation) {
  TempDir dir;
  const std::string path = dir / "p.log";
  TailerOptions o;
  o.partial_timeout_ns = 1'000'000'000;
  append(path, "whole\nhalf a li");
  auto t = open_tailer(path, o);
  Capture sink;
  ReadBuffer buf;
  ASSERT_TRUE(t->read(sink, buf, 1 << 20, 0, 0));
  EXPECT_FALSE(t->flush_partial(sink, 0, 999'999'999, false));  // not yet
  EXPECT_TRUE(t->flush_partial(sink, 0, 1'000'000'000, false));
  ASSERT_EQ(sink.lines.size(), 2u);
  EXPECT_EQ(sink.lines[1].text, "half a li");
  EXPECT_EQ(sink.lines[1].flags, record_flags::kPartial);
  EXPECT_EQ(t->position().flags, position_flags::kMidLine);
  append(path, "ne\nnext\n");
  ASSERT_TRUE(t->read(sink, buf, 1 << 20, 0, 2'000'000'000));
  ASSERT_EQ(sink.lines.size(), 4u);
  EXPECT_EQ(sink.lines[2].text, "ne");
  EXPECT_EQ(sink.lines[2].flags, record_flags::kSplitTail);
  EXPECT_EQ(sink.lines[3].flags, 0);
  EXPECT_EQ(t->position().flags, 0);
}

TEST(FileTailer, ResumesMidLineAsAContinuation) {
  TempDir dir;
  const std::string path = dir / "r.log";
  append(path, "0123456789tail of a line\nnext\n");
  auto t = open_tailer(path, {}, 10, /*mid=*/true);
  Capture sink;
  read_all(*t, sink);
  ASSERT_EQ(sink.lines.size(), 2u);
  EXPECT_EQ(sink.lines[0].text, "tail of a line");
  EXPECT_EQ(sink.lines[0].flags, record_flags::kSplitTail);
}

TEST(FileTailer, NoticesTruncationAndRestartsAtZeroWithAGapRecord) {
  TempDir dir;
  const std::string path = dir / "t.log";
  append(path, "one\ntwo\n");
  auto t = open_tailer(path);
  Capture sink;
  read_all(*t, sink);
  ASSERT_EQ(*t->check(), FileChange::kNone);
  ASSERT_EQ(::truncate(path.c_str(), 0), 0);
  append(path, "three\n");
  EXPECT_EQ(*t->check(), FileChange::kTruncated);
  t->restart_after_truncation(sink, 0, 0);
  ASSERT_EQ(sink.gaps.size(), 1u);
  EXPECT_NE(sink.gaps[0].find("truncated"), std::string::npos);
  read_all(*t, sink);
  ASSERT_EQ(sink.lines.size(), 3u);
  EXPECT_EQ(sink.lines[2].text, "three");
}

TEST(FileTailer, NoticesATruncationThatGrewPastTheOldOffsetByItsFingerprint) {
  TempDir dir;
  const std::string path = dir / "t2.log";
  append(path, "aaaa\n");
  auto t = open_tailer(path);
  Capture sink;
  read_all(*t, sink);
  ASSERT_EQ(::truncate(path.c_str(), 0), 0);
  append(path, "bbbbbbbbbbbbbbbbbb\n");  // already longer than what we had read
  EXPECT_EQ(*t->check(), FileChange::kTruncated);
}

TEST(FileTailer, NoticesDeletion) {
  TempDir dir;
  const std::string path = dir / "d.log";
  append(path, "x\n");
  auto t = open_tailer(path);
  Capture sink;
  read_all(*t, sink);
  ASSERT_EQ(::unlink(path.c_str()), 0);
  EXPECT_EQ(*t->check(), FileChange::kDeleted);
}

}  // namespace
}  // namespace blackbox::agent
