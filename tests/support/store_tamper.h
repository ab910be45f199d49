// Altering a collector store the way its administrator could (tests of `blackbox verify` and of
// damaged storage): a batch value put through the store's own write API under any key, and a
// byte flipped in a table file on disk. Header-only: the tests that include it link the
// collector's store.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>

#include "collector/store/store.h"
#include "collector/store/store_write_batch.h"
#include "schemas/batch.h"

namespace blackbox::testing {

// Stores `bytes` as the batch (stream, first_seq) of `instance` through StoreWriteBatch::
// put_batch (index entries from the header when it parses). Throws when the commit fails.
inline void put_stored_batch(collector::Store& store, const std::string& instance,
                             std::uint32_t stream, std::uint64_t first_seq,
                             std::string_view bytes) {
  auto h = parse_batch_header(bytes);
  collector::BatchIndexEntry e;
  e.instance = instance;
  e.stream = stream;
  e.first_seq = first_seq;
  e.record_count = h ? h->record_count : 1;
  e.min_time_ns = h ? h->min_time_ns : 0;
  e.max_time_ns = h ? h->max_time_ns : 0;
  e.ingest_time_ns = e.max_time_ns;
  auto wb = store.write_batch();
  wb.put_batch(e, bytes);
  if (auto ok = store.commit(std::move(wb), collector::CommitSync::kSync); !ok)
    throw std::runtime_error("put_stored_batch: " + ok.error().message());
}

// The largest table file of a RocksDB directory ("" if none).
inline std::string largest_sst(const std::string& dir) {
  std::string best;
  std::uintmax_t size = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".sst" && e.file_size() > size) {
      size = e.file_size();
      best = e.path().string();
    }
  return best;
}

inline void flip_byte(const std::string& path, std::uintmax_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(static_cast<char>(c ^ 0x5a));
}

}  // namespace blackbox::testing
