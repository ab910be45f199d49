#include "collector/query/records_page.h"

namespace blackbox::collector::query {
namespace {

// What a record adds to an answer once encoded (the API's record object with its escapes and
// field names): close enough to bound an answer's size.
std::size_t size_estimate(std::size_t line, std::size_t source, std::size_t fields) {
  return 200 + line + line / 8 + source + fields;
}

}  // namespace

QueryRecord QueryRecord::from(std::string_view instance, std::uint32_t stream,
                              const RecordView& r) {
  QueryRecord q;
  q.instance = instance;
  q.stream = stream;
  q.seq = r.seq;
  q.kind = r.kind;
  q.severity = r.severity;
  q.flags = r.flags;
  q.event_time_ns = r.event_time_ns;
  q.read_time_ns = r.read_time_ns;
  q.source = r.source;
  q.line = r.line;
  q.fields_raw = r.fields_raw;
  q.field_count = r.field_count;
  return q;
}

RecordView QueryRecord::view() const {
  RecordView v;
  v.seq = seq;
  v.kind = kind;
  v.severity = severity;
  v.flags = flags;
  v.event_time_ns = event_time_ns;
  v.read_time_ns = read_time_ns;
  v.source = source;
  v.line = line;
  v.field_count = field_count;
  v.fields_raw = fields_raw;
  return v;
}

PageCutter::PageCutter(const PageLimits& limits, const Clock& clock)
    : limits_(limits), clock_(clock), deadline_ns_(clock.steady_ns() + limits.budget.count()) {}

void PageCutter::add(RecordsPage& page, std::string_view instance, std::uint32_t stream,
                     const RecordView& r, bool context, bool group_start) {
  QueryRecord q = QueryRecord::from(instance, stream, r);
  q.context = context;
  q.group_start = group_start;
  add(page, std::move(q));
}

void PageCutter::add(RecordsPage& page, QueryRecord&& r) {
  ++records_;
  bytes_ += size_estimate(r.line.size(), r.source.size(), r.fields_raw.size());
  if (!r.context) ++page.matches;
  page.records.push_back(std::move(r));
}

bool PageCutter::full() const {
  return records_ >= limits_.max_records || bytes_ >= limits_.max_bytes;
}

bool PageCutter::over_budget() const { return clock_.steady_ns() > deadline_ns_; }

bool PageCutter::over_budget_sampled() { return ++calls_ % 256 == 0 && over_budget(); }

void note_unreadable(std::vector<UnreadableBatch>& list, UnreadableBatch u) {
  for (const auto& have : list)
    if (have.stream == u.stream && have.first_seq == u.first_seq) return;
  list.push_back(std::move(u));
}

UnreadableBatch undecodable(const BatchIndexEntry& e, const boost::system::error_code& ec) {
  return {e.stream, e.first_seq, e.end_seq(), "stored batch does not decode: " + ec.message()};
}

}  // namespace blackbox::collector::query
