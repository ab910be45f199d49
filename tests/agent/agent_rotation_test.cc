// Log rotation under continuous writing, each style against the real agent: rename + create
// and delete + create lose nothing; copytruncate and in-place truncation lose what was
// written between the agent's last read and the truncation — an inherent race, measured and
// printed, and made visible as gap records. Nothing ever arrives twice.
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "schemas/streams.h"
#include "tests/agent/support/e2e_fixture.h"

namespace blackbox::agent::testing {
namespace {

using namespace std::chrono_literals;

enum class Rotation { kRename, kDelete, kCopyTruncate, kTruncate };

std::string rot_line(int i) {
  std::string s = "rotation " + std::to_string(i) + " ";
  while (s.size() < 100) s += static_cast<char>('a' + (i + s.size()) % 26);
  return s;
}

struct RotationResult {
  int missing = 0;
  int doubled = 0;
  std::size_t gaps = 0;
};

class RotationTest : public AgentE2E {
 protected:
  RotationResult run(Rotation style) {
    constexpr int kLines = 40000;
    constexpr int kEvery = 4000;
    const std::string path = log_file();
    auto agent = start_agent(write_config());
    {
      FileWriter w(path);
      std::string chunk;
      for (int i = 0; i < kLines; ++i) {
        chunk += rot_line(i) + "\n";
        if (i % 100 == 99) {
          w.write(chunk);
          chunk.clear();
          std::this_thread::sleep_for(5ms);  // the application's pace
        }
        if (i % kEvery == kEvery - 1 && i < kLines - 1) {
          w.write(chunk);
          chunk.clear();
          // The agent must have seen the file before it goes: a file created and deleted
          // between two glob scans is invisible to any tailer.
          EXPECT_TRUE(poll_until([&] { return agent_has_open(agent->pid(), path); }, kDeadline));
          rotate(style, path, w);
        }
      }
      w.write(chunk);
    }
    // Wait for the last line, then for the stream to settle.
    EXPECT_TRUE(poll_until(
        [&] { return reassemble(peer_->records(kStreamLogs)).count.count(rot_line(kLines - 1)); },
        kDeadline));
    agent->signal(SIGTERM);
    EXPECT_EQ(agent->wait_exit(kDeadline), 0);
    auto got = reassemble(peer_->records(kStreamLogs));
    RotationResult r;
    for (int i = 0; i < kLines; ++i) {
      int n = got.count[rot_line(i)];
      r.missing += n == 0;
      r.doubled += n > 1;
    }
    r.gaps = got.gaps;
    EXPECT_EQ(peer_->stats().conflicting_batches, 0u);
    return r;
  }

  void rotate(Rotation style, const std::string& path, FileWriter& w) {
    switch (style) {
      case Rotation::kRename:
        std::filesystem::rename(path, path + ".1");
        w.reopen();
        break;
      case Rotation::kDelete:
        std::filesystem::remove(path);
        w.reopen();
        break;
      case Rotation::kCopyTruncate:
        std::filesystem::copy_file(path, path + ".1",
                                   std::filesystem::copy_options::overwrite_existing);
        [[fallthrough]];
      case Rotation::kTruncate:
        ASSERT_EQ(::truncate(path.c_str(), 0), 0);
        break;
    }
  }
};

TEST_F(RotationTest, RenameAndCreateDeliversEveryLineExactlyOnce) {
  auto r = run(Rotation::kRename);
  EXPECT_EQ(r.missing, 0);
  EXPECT_EQ(r.doubled, 0);
  EXPECT_EQ(r.gaps, 0u);
}

TEST_F(RotationTest, DeleteWhileOpenAndCreateDeliversEveryLineExactlyOnce) {
  auto r = run(Rotation::kDelete);
  EXPECT_EQ(r.missing, 0);
  EXPECT_EQ(r.doubled, 0);
  EXPECT_EQ(r.gaps, 0u);
}

TEST_F(RotationTest, CopyTruncateLosesOnlyTheInherentRaceAndSaysSo) {
  auto r = run(Rotation::kCopyTruncate);
  EXPECT_EQ(r.doubled, 0);
  EXPECT_EQ(r.gaps, 9u);  // one gap record per truncation
  EXPECT_LT(r.missing, 40000 / 10);
  RecordProperty("lines_lost", r.missing);
  std::cout << "copytruncate: " << r.missing << " of 40000 lines lost in 9 rotations (written "
            << "between the agent's last read and the truncation)\n";
}

TEST_F(RotationTest, InPlaceTruncationLosesOnlyTheInherentRaceAndSaysSo) {
  auto r = run(Rotation::kTruncate);
  EXPECT_EQ(r.doubled, 0);
  EXPECT_EQ(r.gaps, 9u);
  EXPECT_LT(r.missing, 40000 / 10);
  RecordProperty("lines_lost", r.missing);
  std::cout << "in-place truncation: " << r.missing << " of 40000 lines lost in 9 rotations\n";
}

}  // namespace
}  // namespace blackbox::agent::testing
