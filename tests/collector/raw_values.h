// Test helper: rewrites the values of one column family of a closed collector store with the
// raw RocksDB API, so that a test needs none of the store's private headers and sees the
// format from outside, as a damaged disk or an older collector would present it.
#pragma once

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace blackbox::collector {

// Rewrites every value of one column family of the closed store at `path` with what `damage`
// makes of it (at least one value must be there).
inline void damage_values(const std::string& path, const std::string& cf_name,
                          const std::function<std::string(const std::string&)>& damage) {
  std::vector<std::string> names;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), path, cfs, &handles, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  int rewritten = 0;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] != cf_name) continue;
    std::vector<std::pair<std::string, std::string>> kv;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), handles[i]));
    for (it->SeekToFirst(); it->Valid(); it->Next())
      kv.emplace_back(it->key().ToString(), it->value().ToString());
    ASSERT_TRUE(it->status().ok());
    for (const auto& [k, v] : kv) {
      ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), handles[i], k, damage(v)).ok());
      ++rewritten;
    }
  }
  EXPECT_GT(rewritten, 0) << "no value in column family " << cf_name;
  for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
}

}  // namespace blackbox::collector
