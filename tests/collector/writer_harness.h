// A Store + IngestWriter on a temp dir with a manual clock, driven synchronously: for tests of
// ingest decisions and the ledger without sockets.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "collector/ingest/batch_indexer.h"
#include "collector/ingest/ingest_writer.h"
#include "collector/store/store.h"
#include "schemas/clock.h"
#include "schemas/metrics.h"
#include "tests/collector/fixture.h"

namespace blackbox::collector::testing {

class WriterHarness {
 public:
  explicit WriterHarness(std::int64_t retention_ns = 0,
                         std::chrono::nanoseconds silent_after = std::chrono::minutes(2),
                         std::shared_ptr<rocksdb::FileSystem> file_system = nullptr);
  ~WriterHarness();

  void reopen();  // closes writer and store, opens them again (restart)
  WriteOutcome write(WriteRequest&& r);
  WriteOutcome hello(const std::string& instance, const std::string& boot_id = "boot-1");
  // Indexes and writes a batch; an indexer error comes back as the outcome's ec.
  WriteOutcome batch(const std::string& instance, const std::string& bytes);
  WriteOutcome heartbeat(const std::string& instance);
  WriteOutcome goodbye(const std::string& instance, const std::string& reason,
                       bool after_notice = false);
  WriteOutcome tick();

  // Every record sequence stored for (instance, stream), in stored order.
  std::vector<std::uint64_t> stored_seqs(const std::string& instance, std::uint32_t stream);

  ManualClock clock;
  Metrics metrics;
  TempDir dir;
  std::unique_ptr<Store> store;
  std::unique_ptr<IngestWriter> writer;

 private:
  void open();
  std::int64_t retention_ns_;
  std::chrono::nanoseconds silent_after_;
  std::shared_ptr<rocksdb::FileSystem> file_system_;  // the store's (faults); null = default
  BatchIndexer indexer_{IndexerOptions{}};
};

}  // namespace blackbox::collector::testing
