// HeadSigner: signs where the agent's hash chains stand with the instance key (issue 12 item 5;
// DESIGN.md contract 6), as a signed_heads lifecycle record (schemas/signed_heads.h) spooled in
// stream 2 like any other record, so that the collector stores the signature with the chains
// it vouches for and `blackbox verify` can check them.
//
// The pipeline's writer thread reports every batch it spools (on_spooled(): stream, end of the
// batch, its chain hash). A thread of the signer's own signs every `interval` when a stream's
// head changed since the last signature — not counting the signer's own records, so an idle
// agent does not sign forever — and the last gasp signs once more with sign_now() after the
// GOODBYE record is spooled. Heads recovered from the spool at start count as signed.
//
// Threads: on_spooled() from the writer thread, sign_now() from any thread; the interval
// thread runs between start() and stop(). A record that finds no room in the spool before
// its deadline is not written (counted in the log): the next signature covers its heads.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "agent/spool/checkpoint.h"
#include "schemas/clock.h"
#include "schemas/ed25519.h"
#include "schemas/signed_heads.h"

namespace blackbox::agent {

class Pipeline;

struct HeadSignerOptions {
  std::string instance_id;
  std::shared_ptr<const Ed25519Key> key;       // the instance key (Config::instance_key_path())
  std::chrono::milliseconds interval{60'000};  // 0: sign only in the last gasp (sign_now())
};

class HeadSigner {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  HeadSigner(HeadSignerOptions options, Pipeline& pipeline, const Clock& clock,
             const Checkpoint& recovered);
  ~HeadSigner();
  HeadSigner(const HeadSigner&) = delete;
  HeadSigner& operator=(const HeadSigner&) = delete;

  // Writer thread: a batch of `stream` ending at `next_seq`, chained to `head`, is spooled.
  void on_spooled(std::uint32_t stream, std::uint64_t next_seq, const ChainHash& head);

  void start();
  void stop();

  // Spools a signature of the current heads (whether they changed or not) and returns the
  // record's ticket for Pipeline::wait_durable(); 0 when there is nothing to sign or no room
  // before `deadline`.
  std::uint64_t sign_now(TimePoint deadline);

  std::uint64_t signatures() const;  // records spooled so far
  std::uint64_t intervals() const;   // intervals that found nothing to sign (idle)

 private:
  bool dirty_locked() const;
  void loop();

  HeadSignerOptions options_;
  Pipeline& pipeline_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::uint32_t, SignedHead> heads_;   // as spooled
  std::map<std::uint32_t, SignedHead> signed_;  // as last signed
  std::uint64_t own_since_signed_ = 0;          // own records appended since then
  std::uint64_t signatures_ = 0;
  std::uint64_t intervals_ = 0;
  bool stopping_ = false;
  std::mutex sign_mu_;  // one signature at a time
  std::thread thread_;
};

}  // namespace blackbox::agent
