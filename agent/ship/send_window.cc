#include "agent/ship/send_window.h"

#include <algorithm>

namespace blackbox::agent {

namespace {

std::uint64_t seq_end(const std::vector<std::pair<std::uint32_t, std::uint64_t>>& v,
                      std::uint32_t stream) {
  for (const auto& [s, e] : v)
    if (s == stream) return e;
  return 0;
}

// Raises `stream`'s end to `end`; returns the end it had (0: none).
std::uint64_t raise_end(std::vector<std::pair<std::uint32_t, std::uint64_t>>& v,
                        std::uint32_t stream, std::uint64_t end) {
  for (auto& [s, e] : v) {
    if (s == stream) {
      const std::uint64_t before = e;
      e = std::max(e, end);
      return before;
    }
  }
  v.emplace_back(stream, end);
  return 0;
}

}  // namespace

SendWindow::SendWindow(SendWindowOptions options, const Clock& clock)
    : options_(options), clock_(clock), last_progress_ns_(clock.steady_ns()) {}

bool SendWindow::is_batch_rejection(Errc e) {
  switch (e) {
    case Errc::kUnauthorized:
    case Errc::kIdentityMismatch:
    case Errc::kProtocolViolation:
      return false;
    default:
      return classify(e) == ErrorClass::kRejected;
  }
}

void SendWindow::start_session() {
  in_flight_.clear();
  in_flight_bytes_ = 0;
  session_sent_end_.clear();
  last_progress_ns_ = clock_.steady_ns();
}

bool SendWindow::has_room() const {
  return in_flight_.size() < options_.max_batches && in_flight_bytes_ < options_.max_bytes;
}

bool SendWindow::on_sent(const BatchHeader& h, std::uint64_t bytes) {
  if (in_flight_.empty()) last_progress_ns_ = clock_.steady_ns();
  in_flight_.push_back(InFlight{h.stream, h.first_seq, h.end_seq(), h.record_count, bytes});
  in_flight_bytes_ += bytes;
  raise_end(session_sent_end_, h.stream, h.end_seq());
  const bool seen = std::any_of(max_sent_end_.begin(), max_sent_end_.end(),
                                [&](const auto& p) { return p.first == h.stream; });
  const std::uint64_t before = raise_end(max_sent_end_, h.stream, h.end_seq());
  return seen && h.end_seq() <= before;
}

std::optional<AckOutcome> SendWindow::on_ack(std::uint32_t stream, std::uint64_t highest_seq) {
  if (highest_seq == UINT64_MAX) return std::nullopt;
  AckOutcome out;
  out.claimed_end = highest_seq + 1;
  out.trusted_end = std::min(out.claimed_end, sent_end(stream));
  out.clamped = out.trusted_end < out.claimed_end;
  for (auto it = in_flight_.begin(); it != in_flight_.end();) {
    if (it->stream == stream && it->end_seq <= out.trusted_end) {
      ++out.batches;
      out.records += it->records;
      in_flight_bytes_ -= it->bytes;
      it = in_flight_.erase(it);
    } else {
      ++it;
    }
  }
  last_progress_ns_ = clock_.steady_ns();
  if (suspect_ && suspect_->stream == stream && suspect_->end_seq <= out.trusted_end)
    suspect_.reset();
  return out;
}

std::optional<InFlight> SendWindow::on_rejection() {
  if (in_flight_.empty()) return std::nullopt;
  const InFlight& oldest = in_flight_.front();
  if (suspect_ && suspect_->stream == oldest.stream && suspect_->first_seq == oldest.first_seq) {
    ++suspect_rejections_;
  } else {
    suspect_ = oldest;
    suspect_rejections_ = 1;
  }
  if (suspect_rejections_ < 2) return std::nullopt;
  suspect_.reset();
  suspect_rejections_ = 0;
  return oldest;
}

bool SendWindow::ack_overdue() const {
  return !in_flight_.empty() && clock_.steady_ns() - last_progress_ns_ > options_.ack_timeout_ns;
}

std::uint64_t SendWindow::sent_end(std::uint32_t stream) const {
  return seq_end(session_sent_end_, stream);
}

}  // namespace blackbox::agent
