#include "tests/collector/writer_harness.h"

#include <future>

#include "schemas/zstd_codec.h"

namespace blackbox::collector::testing {

WriterHarness::WriterHarness(std::int64_t retention_ns, std::chrono::nanoseconds silent_after,
                             std::shared_ptr<rocksdb::FileSystem> file_system)
    : retention_ns_(retention_ns),
      silent_after_(silent_after),
      file_system_(std::move(file_system)) {
  open();
}

WriterHarness::~WriterHarness() {
  writer.reset();
  store.reset();
}

void WriterHarness::open() {
  StoreOptions so;
  so.path = dir.sub("db");
  so.retention_ns = retention_ns_;
  so.clock = &clock;
  so.block_cache_bytes = 8u << 20;
  so.write_buffer_bytes = 4u << 20;
  so.file_system = file_system_;
  auto s = Store::open(so);
  if (!s) throw std::runtime_error("store open: " + s.error().message());
  store = std::move(*s);
  WriterOptions wo;
  wo.ledger.silent_after = silent_after_;
  auto w = IngestWriter::start(*store, clock, metrics, wo);
  if (!w) throw std::runtime_error("writer start: " + w.error().message());
  writer = std::move(*w);
}

void WriterHarness::reopen() {
  writer.reset();
  store.reset();
  open();
}

WriteOutcome WriterHarness::write(WriteRequest&& r) {
  auto p = std::make_shared<std::promise<WriteOutcome>>();
  auto f = p->get_future();
  writer->submit(std::move(r), [p](WriteOutcome&& o) { p->set_value(std::move(o)); });
  if (f.wait_for(std::chrono::seconds(30)) != std::future_status::ready)
    throw std::runtime_error("writer did not answer within 30 s");
  return f.get();
}

WriteOutcome WriterHarness::hello(const std::string& instance, const std::string& boot_id) {
  Hello h;
  h.instance_id = instance;
  h.image_id = "ami-1";
  h.boot_id = boot_id;
  h.hostname = "host-" + instance;
  h.agent_version = "test";
  return write(HelloRequest{h});
}

WriteOutcome WriterHarness::batch(const std::string& instance, const std::string& bytes) {
  BatchRequest r;
  r.instance = instance;
  std::string copy = bytes;
  if (auto ok = indexer_.index(instance, std::move(copy), r.batch); !ok) {
    WriteOutcome o;
    o.ec = ok.error();
    return o;
  }
  return write(std::move(r));
}

WriteOutcome WriterHarness::heartbeat(const std::string& instance) {
  return write(HeartbeatRequest{instance, Heartbeat{clock.wall_ns(), 0, 1000}});
}

WriteOutcome WriterHarness::goodbye(const std::string& instance, const std::string& reason,
                                    bool after_notice) {
  return write(GoodbyeRequest{instance, Goodbye{reason, after_notice}});
}

WriteOutcome WriterHarness::tick() { return write(TickRequest{}); }

std::vector<std::uint64_t> WriterHarness::stored_seqs(const std::string& instance,
                                                      std::uint32_t stream) {
  std::vector<std::uint64_t> out;
  ZstdDecompressor z;
  std::string scratch;
  auto ok = store->scan_stream(instance, stream, 0, [&](const StoredBatch& b) {
    auto h = decode_batch(b.bytes, Limits{}, z, scratch,
                          [&](const RecordView& r) { out.push_back(r.seq); });
    if (!h) throw std::runtime_error("stored batch does not decode");
    return true;
  });
  if (!ok) throw std::runtime_error("scan_stream failed");
  return out;
}

}  // namespace blackbox::collector::testing
