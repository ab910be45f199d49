// ContextScanner: decides match / context / nothing for each record in scan order (grep -B/-A
// per log file) and hands emitted records to a sink. Context is kept per (stream, source): a
// match first flushes up to `before` earlier unprinted records of its source, then owes
// `after` following records of its source. At a page cut, cut() writes into the cursor what
// each (stream, source) still holds or owes, and restore() takes it back, so that context
// around a page boundary comes out as if the answer had not been cut (cursor.h).
// Not thread-safe: one per answer.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>

#include "collector/query/cursor.h"
#include "collector/query/records_page.h"
#include "schemas/record.h"

namespace blackbox::collector::query {

class ContextScanner {
 public:
  // (record, stream, pos, context, group_start, owner): `owner` numbers the match an emitted
  // record belongs to (0, 1, ... in match order): itself, or the match it is context of.
  using Sink = std::function<void(const RecordView&, std::uint32_t, const ScanPos&, bool, bool,
                                  std::uint64_t)>;

  ContextScanner(std::uint32_t before, std::uint32_t after, Sink sink)
      : before_(before), after_(after), sink_(std::move(sink)) {}

  bool context() const { return before_ > 0 || after_ > 0; }

  // Resumes the context state a previous page left in its cursor.
  void restore(const RecordsCursor& c);

  // One wanted record, in scan order. `replay`: a record before the cursor's emit position,
  // read again only to rebuild the before-context buffers (never emitted).
  void record(const RecordView& r, std::uint32_t stream, const ScanPos& pos, bool matched,
              bool replay);

  // Fills the cursor's scan_from and context keys for a cut at `cut`.
  void cut(RecordsCursor& c, const ScanPos& cut) const;

 private:
  struct Key {
    std::uint32_t stream;
    std::string source;
    bool operator<(const Key& o) const {
      return std::tie(stream, source) < std::tie(o.stream, o.source);
    }
  };
  struct Buffered {
    QueryRecord rec;  // instance left empty: the sink adds it
    ScanPos pos;
    std::uint64_t pred_seq;  // the previous record of the same (stream, source)
  };
  struct KeyState {
    std::deque<Buffered> buf;
    std::uint32_t after_left = 0;
    std::uint64_t last_seq = kNoSeq;
    std::uint64_t last_emitted = kNoSeq;
    std::uint64_t last_match = 0;  // owner of after-context (a previous page's match: any)
  };

  void push(KeyState& k, const RecordView& r, const ScanPos& pos, std::uint64_t pred);
  void emit(KeyState& k, const RecordView& r, std::uint32_t stream, const ScanPos& pos,
            bool context, std::uint64_t pred, std::uint64_t owner);

  std::uint32_t before_, after_;
  std::uint64_t matches_ = 0;
  Sink sink_;
  std::map<Key, KeyState> keys_;
  std::map<std::pair<std::uint32_t, std::uint64_t>, ContextKey> resume_;
  std::set<std::pair<std::uint32_t, std::uint64_t>> touched_;
  ScanPos restored_scan_from_;
};

}  // namespace blackbox::collector::query
