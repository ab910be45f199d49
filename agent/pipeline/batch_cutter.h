// Turns the lines the inputs find into records of the open logs batch (encoding each line
// once, straight from the read buffer), and says when the batch should be cut: at
// batch_bytes of encoded records, at max_records, or when its first record is linger old.
// Input thread only.
#pragma once

#include <cstdint>
#include <memory>

#include "agent/agent_metrics.h"
#include "agent/inputs/json_line.h"
#include "agent/inputs/line_sink.h"
#include "agent/pipeline/builder_pool.h"
#include "schemas/batch.h"

namespace blackbox::agent {

struct CutterOptions {
  std::size_t batch_bytes = 1u << 20;
  std::uint32_t max_records = 100'000;
  std::int64_t linger_ns = 250'000'000;
  bool parse_json = true;
  JsonLineOptions json;
};

class BatchCutter final : public LineSink {
 public:
  BatchCutter(CutterOptions options, BuilderPool& pool, AgentMetrics& metrics);

  // The monotonic time the next records are added at (for the linger).
  void set_now(std::int64_t steady_ns) { now_ns_ = steady_ns; }

  void on_line(std::string_view source, std::string_view line, std::uint8_t flags,
               std::int64_t read_time_ns) override;
  void on_gap(std::string_view source, std::string_view body_json, std::int64_t time_ns) override;

  bool empty() const { return builder_->empty(); }
  bool full() const {
    return builder_->raw_bytes() >= options_.batch_bytes ||
           builder_->record_count() >= options_.max_records;
  }
  bool due(std::int64_t steady_ns) const {
    return !empty() && (full() || steady_ns - opened_ns_ >= options_.linger_ns);
  }
  // Hands the open batch over and starts a new one.
  std::unique_ptr<BatchBuilder> take();

 private:
  void added();

  CutterOptions options_;
  BuilderPool& pool_;
  AgentMetrics& metrics_;
  JsonLineParser json_;
  std::unique_ptr<BatchBuilder> builder_;
  std::int64_t now_ns_ = 0;
  std::int64_t opened_ns_ = 0;
  std::uint64_t json_lines_ = 0;
  std::uint64_t split_lines_ = 0;
};

}  // namespace blackbox::agent
