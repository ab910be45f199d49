// Issue 11 item 1: a damaged data directory is never replaced by an empty store. A real store
// with data in table files loses its CURRENT file; the real binary must refuse to start, every
// time, without writing anything into the directory, and name the repair; `blackbox-collector
// repair` copies the directory, rebuilds it, and the data is back.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <sstream>

#include "schemas/streams.h"
#include "tests/collector/writer_harness.h"
#include "tests/support/child_process.h"
#include "tests/support/test_agent.h"

namespace blackbox::collector::testing {
namespace {

namespace fs = std::filesystem;
using blackbox::testing::run;

constexpr int kBatches = 20;
constexpr std::uint32_t kRecordsPerBatch = 50;

// Every file of a directory (relative name → bytes): "byte-identical" is equality of this.
std::map<std::string, std::string> contents(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    out[fs::relative(e.path(), dir).string()] = ss.str();
  }
  return out;
}

// A store holding one instance's kBatches batches, flushed into table files.
void fill(WriterHarness& h) {
  ASSERT_FALSE(h.hello("i-1").ec);
  StreamSource src(kStreamLogs);
  for (int b = 0; b < kBatches; ++b) {
    auto o = h.batch("i-1", src.next_batch(kRecordsPerBatch));
    ASSERT_FALSE(o.ec) << o.message;
  }
  ASSERT_TRUE(h.store->compact_all());
}

std::vector<std::string> start_args(const std::string& db) {
  return {BLACKBOX_COLLECTOR_BINARY,
          "--data-dir",
          db,
          "--listen",
          "127.0.0.1:0",
          "--http",
          "127.0.0.1:0"};
}

TEST(DamagedDataDir, MissingCurrentRefusesEveryStartUntouchedAndRepairBringsDataBack) {
  WriterHarness h;
  fill(h);
  const std::string db = h.dir.sub("db");
  h.writer.reset();
  h.store.reset();
  std::size_t tables = 0;
  for (const auto& e : fs::directory_iterator(db)) tables += e.path().extension() == ".sst";
  ASSERT_GT(tables, 0u) << "the data must be in table files for this test to mean anything";
  ASSERT_TRUE(fs::remove(db + "/CURRENT"));
  const auto before = contents(db);

  // Twice, as systemd would: each start refuses, names what is missing and the repair, and
  // leaves the directory byte-identical.
  for (int start = 1; start <= 2; ++start) {
    SCOPED_TRACE("start " + std::to_string(start));
    auto r = run(start_args(db), h.dir.path());
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    const std::string said = r.out + r.err;
    EXPECT_NE(said.find("CURRENT file is missing"), std::string::npos) << said;
    EXPECT_NE(said.find("blackbox-collector repair --data-dir " + db), std::string::npos) << said;
    EXPECT_FALSE(fs::exists(db + "/CURRENT"));
    EXPECT_EQ(contents(db), before) << "a refused start changed the data directory";
  }

  auto r = run({BLACKBOX_COLLECTOR_BINARY, "repair", "--data-dir", db}, h.dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("recovered 1 instances, " + std::to_string(kBatches) + " batches, " +
                       std::to_string(kBatches * kRecordsPerBatch) + " records"),
            std::string::npos)
      << r.out;
  // The copy named in the output is the directory as it was.
  const auto pos = r.out.find(" to " + db + ".before-repair-");
  ASSERT_NE(pos, std::string::npos) << r.out;
  const std::string backup = r.out.substr(pos + 4, r.out.find(' ', pos + 4) - pos - 4);
  EXPECT_EQ(contents(backup), before);

  // A start now serves everything that was stored.
  h.reopen();
  auto info = h.store->get_instance("i-1");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->records, kBatches * kRecordsPerBatch);
  std::vector<std::uint64_t> want(kBatches * kRecordsPerBatch);
  std::iota(want.begin(), want.end(), 0);
  EXPECT_EQ(h.stored_seqs("i-1", kStreamLogs), want);
}

TEST(DamagedDataDir, NewStoreOnlyInAnEmptyOrMissingDirectory) {
  blackbox::testing::TempDir dir("bb-newdir");
  // Missing, and empty but for files that are not RocksDB's (lost+found on a mount): created.
  StoreOptions so;
  so.path = dir.sub("missing");
  EXPECT_TRUE(Store::open(so));
  fs::create_directory(dir.sub("other"));
  std::ofstream(dir.sub("other/README")) << "not a database\n";
  so.path = dir.sub("other");
  EXPECT_TRUE(Store::open(so));
  // Only a MANIFEST left: damaged, refused, nothing written.
  fs::create_directory(dir.sub("remains"));
  std::ofstream(dir.sub("remains/MANIFEST-000005")) << "x";
  so.path = dir.sub("remains");
  auto s = Store::open(so);
  ASSERT_FALSE(s);
  EXPECT_EQ(to_errc(s.error()), Errc::kCorrupt);
  EXPECT_EQ(contents(dir.sub("remains")).size(), 1u);
}

}  // namespace
}  // namespace blackbox::collector::testing
