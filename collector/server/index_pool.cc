#include "collector/server/index_pool.h"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <thread>

namespace blackbox::collector {

namespace {

unsigned worker_count(unsigned configured) {
  if (configured > 0) return configured;
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

IndexPool::IndexPool(IndexPoolOptions options)
    : options_(std::move(options)),
      threads_(worker_count(options_.threads)),
      slots_(std::max<std::size_t>(1, options_.queue_depth)),
      pool_(std::make_unique<boost::asio::thread_pool>(threads_)) {}

IndexPool::~IndexPool() { join(); }

void IndexPool::join() { pool_->join(); }

bool IndexPool::try_submit(std::string_view instance, std::string& bytes, Done done,
                           std::function<void()> wake) {
  auto slot = slots_.try_lease(1, std::move(wake));
  if (!slot) return false;
  boost::asio::post(*pool_, [this, slot = std::move(*slot), instance = std::string(instance),
                             bytes = std::move(bytes), done = std::move(done)]() mutable {
    if (options_.before_index) options_.before_index(instance);
    auto ix = take_indexer();
    IndexedBatch out;
    auto ok = ix->index(instance, std::move(bytes), out);
    return_indexer(std::move(ix));
    slot.reset();  // before `done`: whoever it wakes may submit at once
    done(ok, std::move(out));
  });
  return true;
}

std::unique_ptr<BatchIndexer> IndexPool::take_indexer() {
  {
    std::lock_guard lock(mu_);
    if (!indexers_.empty()) {
      auto ix = std::move(indexers_.back());
      indexers_.pop_back();
      return ix;
    }
  }
  return std::make_unique<BatchIndexer>(options_.indexer);
}

void IndexPool::return_indexer(std::unique_ptr<BatchIndexer> ix) {
  std::lock_guard lock(mu_);
  indexers_.push_back(std::move(ix));
}

}  // namespace blackbox::collector
