#include "agent/pipeline/head_signer.h"

#include <spdlog/spdlog.h>

#include "agent/pipeline/pipeline.h"
#include "schemas/streams.h"

namespace blackbox::agent {

HeadSigner::HeadSigner(HeadSignerOptions options, Pipeline& pipeline, const Clock& clock,
                       const Checkpoint& recovered)
    : options_(std::move(options)), pipeline_(pipeline), clock_(clock) {
  for (const auto& s : recovered.streams)
    if (s.next_seq > 0) heads_[s.stream] = SignedHead{s.stream, s.next_seq, s.head};
  signed_ = heads_;
}

HeadSigner::~HeadSigner() { stop(); }

void HeadSigner::on_spooled(std::uint32_t stream, std::uint64_t next_seq, const ChainHash& head) {
  std::lock_guard lock(mu_);
  heads_[stream] = SignedHead{stream, next_seq, head};
}

void HeadSigner::start() {
  if (options_.interval.count() <= 0 || thread_.joinable()) return;
  thread_ = std::thread([this] { loop(); });
}

void HeadSigner::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::uint64_t HeadSigner::signatures() const {
  std::lock_guard lock(mu_);
  return signatures_;
}

std::uint64_t HeadSigner::intervals() const {
  std::lock_guard lock(mu_);
  return intervals_;
}

// Changed since the last signature, not counting the lifecycle records the signer wrote.
bool HeadSigner::dirty_locked() const {
  for (const auto& [stream, h] : heads_) {
    auto s = signed_.find(stream);
    if (s == signed_.end()) return true;
    if (s->second.next_seq == h.next_seq) continue;
    if (stream == kStreamLifecycle && h.next_seq == s->second.next_seq + own_since_signed_)
      continue;
    return true;
  }
  return false;
}

void HeadSigner::loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, options_.interval, [this] { return stopping_; });
    if (stopping_) continue;
    if (!dirty_locked()) {
      ++intervals_;
      continue;
    }
    lock.unlock();
    // Room in the spool is waited for at most one interval: a full spool delays, never blocks.
    (void)sign_now(std::chrono::steady_clock::now() + options_.interval);
    lock.lock();
  }
}

std::uint64_t HeadSigner::sign_now(TimePoint deadline) {
  std::lock_guard one(sign_mu_);
  SignedHeadsBody body;
  body.instance = options_.instance_id;
  body.signed_ns = clock_.wall_ns();
  std::map<std::uint32_t, SignedHead> snapshot;
  {
    std::lock_guard lock(mu_);
    snapshot = heads_;
  }
  if (snapshot.empty() || !options_.key) return 0;
  for (const auto& [stream, h] : snapshot) body.heads.push_back(h);
  sign_heads(body, *options_.key);
  const auto ticket =
      pipeline_.append_record(kStreamLifecycle, RecordKind::kLifecycle, Severity::kInfo, "agent",
                              encode_signed_heads_body(body), deadline);
  std::lock_guard lock(mu_);
  if (ticket == 0) {
    spdlog::warn(
        "signer: no room in the spool for the signed chain heads; the next signature "
        "covers them");
    return 0;
  }
  signed_ = snapshot;
  own_since_signed_ = 1;
  ++signatures_;
  return ticket;
}

}  // namespace blackbox::agent
