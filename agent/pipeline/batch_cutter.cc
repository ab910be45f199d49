#include "agent/pipeline/batch_cutter.h"

namespace blackbox::agent {

BatchCutter::BatchCutter(CutterOptions options, BuilderPool& pool, AgentMetrics& metrics)
    : options_(options),
      pool_(pool),
      metrics_(metrics),
      json_(options.json),
      builder_(pool.get()) {}

void BatchCutter::added() {
  if (builder_->record_count() == 1) opened_ns_ = now_ns_;
}

void BatchCutter::on_line(std::string_view source, std::string_view line, std::uint8_t flags,
                          std::int64_t read_time_ns) {
  RecordData r;
  r.kind = RecordKind::kLog;
  r.flags = flags;
  r.event_time_ns = read_time_ns;
  r.read_time_ns = read_time_ns;
  r.source = source;
  r.line = line;
  // Only whole lines can be JSON objects; those come straight from the padded read buffer.
  if (flags == 0 && options_.parse_json && json_.parse(line, r)) ++json_lines_;
  if (flags & (record_flags::kSplitHead | record_flags::kSplitTail)) ++split_lines_;
  builder_->add(r);
  added();
}

void BatchCutter::on_gap(std::string_view source, std::string_view body_json,
                         std::int64_t time_ns) {
  RecordData r;
  r.kind = RecordKind::kGap;
  r.severity = Severity::kWarning;
  r.event_time_ns = time_ns;
  r.read_time_ns = time_ns;
  r.source = source;
  r.line = body_json;
  builder_->add(r);
  added();
}

std::unique_ptr<BatchBuilder> BatchCutter::take() {
  metrics_.json_lines.fetch_add(json_lines_, std::memory_order_relaxed);
  metrics_.lines_split.fetch_add(split_lines_, std::memory_order_relaxed);
  json_lines_ = split_lines_ = 0;
  auto out = std::move(builder_);
  builder_ = pool_.get();
  return out;
}

}  // namespace blackbox::agent
