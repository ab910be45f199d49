// A real collector store in a temp dir, filled through the collector's own write path
// (BatchIndexer + IngestWriter), for the query API tests and benchmarks.
#pragma once

#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "collector/ingest/batch_indexer.h"
#include "collector/ingest/ingest_writer.h"
#include "collector/store/store.h"
#include "schemas/batch.h"
#include "schemas/clock.h"
#include "schemas/metrics.h"
#include "schemas/zstd_codec.h"
#include "tests/support/temp_dir.h"

namespace blackbox::testing {

// A record as the tests write it (owning; see RecordData for the meaning of each field).
struct TestRecord {
  RecordKind kind = RecordKind::kLog;
  Severity severity = Severity::kUnknown;
  std::uint8_t flags = 0;
  std::int64_t time_ns = 0;
  std::string source = "/var/log/app.log";
  std::string line;
  std::vector<std::pair<std::string, std::string>> fields;  // key, raw JSON value
};

class StoreFixture {
 public:
  explicit StoreFixture(const std::string& tag, bool sync = false)
      : dir_("bbq-" + tag), sync_(sync) {
    open();
  }
  ~StoreFixture() { close(); }

  // The database directory. close() and open() bracket a test's changes to its files.
  std::string db_path() const { return dir_.sub("db"); }
  void close() {
    writer_.reset();
    store_.reset();
  }
  void open() {
    const bool sync = sync_;
    collector::StoreOptions so;
    so.path = dir_.sub("db");
    so.clock = &clock_;
    auto store = collector::Store::open(so);
    if (!store) throw std::runtime_error("store open: " + store.error().message());
    store_ = std::move(*store);
    collector::WriterOptions wo;
    wo.sync = sync;
    auto writer = collector::IngestWriter::start(*store_, clock_, metrics_, wo);
    if (!writer) throw std::runtime_error("writer start: " + writer.error().message());
    writer_ = std::move(*writer);
  }

  collector::Store& store() { return *store_; }
  Metrics& metrics() { return metrics_; }
  ManualClock& clock() { return clock_; }

  void hello(const std::string& instance, const std::string& image = "ami-test",
             const std::string& boot = "boot-1", const std::string& host = "web-1") {
    Hello h;
    h.instance_id = instance;
    h.image_id = image;
    h.boot_id = boot;
    h.hostname = host;
    h.agent_version = "test";
    submit(collector::HelloRequest{h});
  }

  void goodbye(const std::string& instance, const std::string& reason, bool notice) {
    Goodbye g;
    g.reason = reason;
    g.after_termination_notice = notice;
    submit(collector::GoodbyeRequest{instance, g});
  }

  // Appends one batch of `records` to (instance, stream), chained after the previous one.
  void add_batch(const std::string& instance, std::uint32_t stream,
                 const std::vector<TestRecord>& records) {
    BatchBuilder builder;
    for (const auto& r : records) {
      std::vector<Field> fields;
      for (const auto& [k, v] : r.fields) fields.push_back(Field{k, v});
      RecordData d;
      d.kind = r.kind;
      d.severity = r.severity;
      d.flags = r.flags;
      d.event_time_ns = r.time_ns;
      d.read_time_ns = r.time_ns + 1000;
      d.source = r.source;
      d.line = r.line;
      d.fields = fields;
      builder.add(d);
    }
    auto& chain = chains_[{instance, stream}];
    std::string bytes;
    auto h = builder.seal(stream, chain.next_seq, chain.head, &compressor_, bytes);
    if (!h) throw std::runtime_error("seal: " + h.error().message());
    chain.next_seq = h->end_seq();
    chain.head = h->hash;
    collector::IndexedBatch indexed;
    if (auto ok = indexer_.index(instance, std::move(bytes), indexed); !ok)
      throw std::runtime_error("index: " + ok.error().message());
    submit(collector::BatchRequest{instance, std::move(indexed), std::make_shared<bool>(false)});
  }

  void submit(collector::WriteRequest&& req) {
    std::promise<collector::WriteOutcome> done;
    auto f = done.get_future();
    writer_->submit(std::move(req),
                    [&done](collector::WriteOutcome&& o) { done.set_value(std::move(o)); });
    auto o = f.get();
    if (o.ec) throw std::runtime_error("write: " + o.ec.message() + " " + o.message);
  }

 private:
  struct Chain {
    std::uint64_t next_seq = 0;
    ChainHash head{};
  };
  TempDir dir_;  // first member: removed last
  bool sync_ = false;
  ManualClock clock_{1'700'000'000'000'000'000};
  Metrics metrics_;
  std::unique_ptr<collector::Store> store_;
  std::unique_ptr<collector::IngestWriter> writer_;
  collector::BatchIndexer indexer_{collector::IndexerOptions{}};
  ZstdCompressor compressor_{1};
  std::map<std::pair<std::string, std::uint32_t>, Chain> chains_;
};

}  // namespace blackbox::testing
