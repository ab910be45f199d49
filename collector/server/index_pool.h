// IndexPool: the worker threads that verify and index received batches (BatchIndexer: bounded
// zstd decompression up to the batch limit, SHA-256 chain check, word filter), so that the I/O
// threads only move bytes and one big batch never delays another connection's ACKs (STYLE.md
// §5: CPU work off the I/O threads).
//
// Bounded: at most `queue_depth` batches are queued or being indexed at once, over all
// connections; a submit beyond that is refused with a wake-up call for when a slot frees (the
// session then stops reading, like memory backpressure). Memory is bounded before that, by the
// MemoryBudget the session leased before reading the payload.
//
// Threads: try_submit() from any thread; `done` runs on a worker thread and must only post
// (e.g. to the session's strand). The destructor waits for running jobs.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "collector/ingest/batch_indexer.h"
#include "collector/server/memory_budget.h"
#include "schemas/result.h"

namespace boost::asio {
class thread_pool;
}

namespace blackbox::collector {

struct IndexPoolOptions {
  unsigned threads = 0;            // worker threads; 0 = one per core
  std::size_t queue_depth = 1024;  // batches queued or being indexed, all connections
  IndexerOptions indexer;
  // Tests only: runs on the worker before each batch is indexed (e.g. to hold one there).
  std::function<void(std::string_view instance)> before_index;
};

class IndexPool {
 public:
  // Called once per batch on a worker thread with the indexer's verdict and the batch.
  using Done = std::function<void(Result<void>, IndexedBatch&&)>;

  explicit IndexPool(IndexPoolOptions options);
  ~IndexPool();  // join()
  IndexPool(const IndexPool&) = delete;
  IndexPool& operator=(const IndexPool&) = delete;

  // Queues `bytes` (a BATCH payload of `instance`) for indexing and returns true, having moved
  // from `bytes`; `done` is called exactly once unless the pool is destroyed first. When the
  // queue is full: returns false, leaves `bytes` alone and registers `wake` (called once, from
  // any thread, when a slot frees; it must only post).
  [[nodiscard]] bool try_submit(std::string_view instance, std::string& bytes, Done done,
                                std::function<void()> wake);

  // Waits for queued and running jobs to finish, then stops the threads. Idempotent; jobs
  // submitted afterwards are dropped without `done`.
  void join();

  unsigned threads() const { return threads_; }

 private:
  std::unique_ptr<BatchIndexer> take_indexer();
  void return_indexer(std::unique_ptr<BatchIndexer> ix);

  const IndexPoolOptions options_;
  const unsigned threads_;
  MemoryBudget slots_;  // one unit per queued or running batch
  std::mutex mu_;
  std::vector<std::unique_ptr<BatchIndexer>> indexers_;  // idle ones (not thread-safe objects)
  std::unique_ptr<boost::asio::thread_pool> pool_;
};

}  // namespace blackbox::collector
