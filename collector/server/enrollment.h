// Enrollment of instance keys (issue 12 item 2; PROTOCOL.md §5.1; contract 5). A server image
// carries only a fleet enrollment secret; the agent makes its own Ed25519 key on first start.
// The first HELLO for an instance id enrolls that key — the PROOF must carry a valid HMAC of
// the challenge message under one of the configured secrets whose instance pattern matches —
// and every later connection for the id must sign its fresh nonce with that same key. Holding a
// fleet secret therefore lets a server create new instances (rate-limited, logged, listed as
// "enrolled" lifecycle events) but never write as one that has enrolled; only an admin
// (Store::delete_enrollment) lets an id enroll again.
//
// The Enroller decides a PROOF on its own worker thread (store reads and the synced write of a
// new enrollment never run on an I/O thread); one thread also makes "look up, then enroll"
// atomic, so two connections racing to enroll one id cannot both win.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "collector/store/store.h"
#include "schemas/clock.h"
#include "schemas/ed25519.h"
#include "schemas/frame.h"
#include "schemas/metrics.h"

namespace boost::asio {
class thread_pool;
}

namespace blackbox::collector {

struct EnrollmentSecret {
  std::string name;              // in logs, the lifecycle event and the stored enrollment
  std::string secret;            // the bytes (read from its file through read_secret_file)
  std::string instance_pattern;  // fnmatch glob the instance id must match; "" = any
};

struct EnrollmentOptions {
  std::vector<EnrollmentSecret> secrets;  // none: key authentication is off
  // New enrollments (not reconnections of enrolled keys): a token bucket of `burst` refilled
  // at `per_minute`; over it the PROOF is answered ERROR busy (the agent backs off, retries).
  std::uint32_t per_minute = 60;
  std::uint32_t burst = 20;
};

// One PROOF to decide.
struct KeyAuthAttempt {
  std::string instance;
  Ed25519PublicKey public_key{};
  std::string nonce;  // the CHALLENGE sent on this connection
  Proof proof;
  std::string peer;  // remote address, for the log and the enrollment record
  std::string boot_id, hostname;
};

struct KeyAuthVerdict {
  Errc code = Errc::kOk;  // kOk: the connection may write as `instance`
  std::string message;    // the ERROR frame's text when refused
  // Set when this PROOF enrolled the key: the "enrolled" lifecycle event to store with the
  // HELLO (IngestWriter, HelloRequest::enrolled).
  std::optional<LifecycleEvent> enrolled;
};

class Enroller {
 public:
  // Starts the worker thread. `store`, `clock` and `metrics` must outlive the Enroller.
  Enroller(Store& store, const Clock& clock, Metrics& metrics, EnrollmentOptions options);
  ~Enroller();  // stop()
  Enroller(const Enroller&) = delete;
  Enroller& operator=(const Enroller&) = delete;

  // At least one enrollment secret is configured.
  bool configured() const { return !options_.secrets.empty(); }

  // Decides `a` on the worker thread and calls `done` there (it must only post elsewhere).
  // After stop(), `done` is never called.
  void check(KeyAuthAttempt a, std::function<void(KeyAuthVerdict)> done);
  // The same decision on the caller's thread (the worker, and tests).
  KeyAuthVerdict decide(const KeyAuthAttempt& a);
  // Finishes the checks queued, then joins the worker. Idempotent.
  void stop();

 private:
  bool take_token();  // rate limit: true when a new enrollment may proceed
  // True the first time (instance, fingerprint) is refused as a takeover (warn once).
  bool first_refusal(const std::string& instance, const std::string& fingerprint);
  void count(const char* result);

  Store& store_;
  const Clock& clock_;
  Metrics& metrics_;
  EnrollmentOptions options_;
  std::mutex mu_;  // the bucket and warned_ (decide() may run on test threads too)
  double tokens_;
  std::int64_t refilled_ns_;
  std::set<std::pair<std::string, std::string>> warned_;  // (instance, key) refused
  std::unique_ptr<boost::asio::thread_pool> worker_;
};

}  // namespace blackbox::collector
