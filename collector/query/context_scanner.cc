#include "collector/query/context_scanner.h"

#include <algorithm>

namespace blackbox::collector::query {

void ContextScanner::restore(const RecordsCursor& c) {
  for (const auto& k : c.keys) resume_[{k.stream, k.source_hash}] = k;
  restored_scan_from_ = c.scan_from;
}

void ContextScanner::record(const RecordView& r, std::uint32_t stream, const ScanPos& pos,
                            bool matched, bool replay) {
  if (!context()) {
    if (matched && !replay) sink_(r, stream, pos, false, false, matches_++);
    return;
  }
  auto [it, inserted] = keys_.try_emplace(Key{stream, std::string(r.source)});
  KeyState& k = it->second;
  const ContextKey* resume = nullptr;
  const std::pair<std::uint32_t, std::uint64_t> id{stream, source_hash(r.source)};
  if (auto rs = resume_.find(id); rs != resume_.end()) resume = &rs->second;
  if (inserted) touched_.insert(id);
  if (inserted && resume != nullptr) k.after_left = resume->after_left;
  const std::uint64_t pred = k.last_seq;
  k.last_seq = pos.seq;
  if (replay) {
    // Rebuild exactly the before-context buffer the previous page had at its cut.
    if (resume != nullptr && resume->front_seq != kNoSeq && pos.seq >= resume->front_seq)
      push(k, r, pos, pred);
    return;
  }
  if (matched) {
    const std::uint64_t owner = matches_++;
    for (const Buffered& b : k.buf) emit(k, b.rec.view(), stream, b.pos, true, b.pred_seq, owner);
    k.buf.clear();
    emit(k, r, stream, pos, false, pred, owner);
    k.after_left = after_;
    k.last_match = owner;
  } else if (k.after_left > 0) {
    emit(k, r, stream, pos, true, pred, k.last_match);
    --k.after_left;
  } else if (before_ > 0) {
    push(k, r, pos, pred);
  }
}

void ContextScanner::cut(RecordsCursor& c, const ScanPos& cut) const {
  c.scan_from = cut;
  c.emit_from = cut;
  c.keys.clear();
  for (const auto& [key, k] : keys_) {
    if (k.buf.empty() && k.after_left == 0) continue;
    if (c.keys.size() == kMaxCursorKeys) break;  // beyond: context around the cut is lost
    ContextKey ck;
    ck.stream = key.stream;
    ck.source_hash = source_hash(key.source);
    ck.after_left = k.after_left;
    if (!k.buf.empty()) {
      ck.front_seq = k.buf.front().pos.seq;
      c.scan_from = std::min(c.scan_from, k.buf.front().pos);
    }
    c.keys.push_back(ck);
  }
  // Sources this answer never saw keep the state the previous cursor gave them.
  for (const auto& [id, ck] : resume_) {
    if (touched_.contains(id)) continue;
    if (c.keys.size() == kMaxCursorKeys) break;
    c.keys.push_back(ck);
    if (ck.front_seq != kNoSeq) c.scan_from = std::min(c.scan_from, restored_scan_from_);
  }
}

void ContextScanner::push(KeyState& k, const RecordView& r, const ScanPos& pos,
                          std::uint64_t pred) {
  k.buf.push_back(Buffered{QueryRecord::from({}, 0, r), pos, pred});
  if (k.buf.size() > before_) k.buf.pop_front();
}

void ContextScanner::emit(KeyState& k, const RecordView& r, std::uint32_t stream,
                          const ScanPos& pos, bool context, std::uint64_t pred,
                          std::uint64_t owner) {
  const bool group_start = k.last_emitted == kNoSeq || k.last_emitted != pred;
  k.last_emitted = pos.seq;
  sink_(r, stream, pos, context, group_start, owner);
}

}  // namespace blackbox::collector::query
