// Test doubles of an agent for collector tests: a blocking TCP client speaking the frame
// protocol (every wait bounded by a deadline), and a per-stream batch source that cuts batches
// once and chains them like the agent's spool does.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "schemas/batch.h"
#include "schemas/frame.h"
#include "schemas/zstd_codec.h"

namespace blackbox::collector::testing {

using namespace std::chrono_literals;

struct Frame {
  FrameType type = FrameType::kError;
  std::string payload;
};

class TestConnection {
 public:
  TestConnection() = default;
  ~TestConnection();
  TestConnection(TestConnection&& o) noexcept : fd_(o.fd_), broken_(o.broken_) { o.fd_ = -1; }
  TestConnection& operator=(TestConnection&& o) noexcept;

  // Connects to 127.0.0.1:port. False on failure.
  bool connect(std::uint16_t port, std::chrono::milliseconds timeout = 5s);
  bool connected() const { return fd_ >= 0; }
  void close();
  // Half-closes the sending side.
  void shutdown_send();

  bool send_raw(std::string_view bytes, std::chrono::milliseconds timeout = 10s);
  bool send_frame(FrameType type, std::string_view payload);
  // Reads one whole frame. nullopt when nothing arrives within `timeout` (the connection stays
  // usable), or on EOF, an error, a frame cut short or a malformed frame (then broken()).
  std::optional<Frame> read_frame(std::chrono::milliseconds timeout = 10s);
  // True after read_frame() failed past the start of a frame: close and reconnect.
  bool broken() const { return broken_; }
  // True when the peer closed (EOF or reset) within the timeout, discarding any data.
  bool wait_closed(std::chrono::milliseconds timeout);

  // HELLO → WELCOME. nullopt if the collector answered anything else (see last_error()).
  std::optional<Welcome> hello(const Hello& h, std::chrono::milliseconds timeout = 10s);
  const std::optional<ErrorFrame>& last_error() const { return last_error_; }

  int fd() const { return fd_; }

 private:
  bool read_exact(char* p, std::size_t n, std::chrono::steady_clock::time_point deadline);
  int fd_ = -1;
  bool broken_ = false;
  std::optional<ErrorFrame> last_error_;
};

// Makes the batches of one stream: fixed-size log records, seq i says "seq=<i>" in its line.
class StreamSource {
 public:
  explicit StreamSource(std::uint32_t stream, std::size_t line_bytes = 150,
                        std::int64_t start_time_ns = 1'700'000'000'000'000'000)
      : stream_(stream), line_bytes_(line_bytes), time_ns_(start_time_ns) {}

  // Cuts the next batch of `records` records (zstd), chained to the previous one.
  std::string next_batch(std::uint32_t records);
  // A batch with explicit first_seq and prev hash (gaps, forgeries); does not advance.
  std::string make_batch(std::uint64_t first_seq, std::uint32_t records, const ChainHash& prev,
                         BatchHeader* header = nullptr);
  std::uint64_t next_seq() const { return next_seq_; }
  const ChainHash& head() const { return head_; }
  std::uint32_t stream() const { return stream_; }
  // Time step per record, ns.
  void set_time(std::int64_t t) { time_ns_ = t; }

 private:
  std::uint32_t stream_;
  std::size_t line_bytes_;
  std::int64_t time_ns_;
  std::uint64_t next_seq_ = 0;
  ChainHash head_{};
  ZstdCompressor zstd_{1};
};

// A batch built field by field with valid CRCs and hash, whatever the fields claim (bombs,
// lies). `payload` is stored as is.
struct CraftedBatch {
  Compression compression = Compression::kZstd;
  std::uint32_t stream = 1;
  std::uint32_t record_count = 1;
  std::uint64_t first_seq = 0;
  std::int64_t min_time_ns = 0;
  std::int64_t max_time_ns = 0;
  std::uint32_t raw_size = 0;
  ChainHash prev{};
};
std::string craft_batch(const CraftedBatch& c, std::string_view payload);

// A HELLO for `instance`.
Hello test_hello(const std::string& instance, const std::string& token = "");

// Decoded view of an ACK/ERROR.
std::optional<Ack> as_ack(const Frame& f);
std::optional<ErrorFrame> as_error(const Frame& f);

}  // namespace blackbox::collector::testing
