#include "collector/server/enrollment.h"

#include <fnmatch.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <nlohmann/json.hpp>

#include "schemas/hex.h"
#include "schemas/key_auth.h"

namespace blackbox::collector {

namespace {

constexpr const char* kResults[] = {
    "enrolled", "refused_enrolled_key", "bad_signature", "no_secret", "bad_secret",
    "pattern",  "rate_limited",         "error"};

std::string counter_name(const char* result) {
  return std::string("blackbox_collector_enrollments_total{result=\"") + result + "\"}";
}

bool pattern_matches(const std::string& pattern, const std::string& instance) {
  return pattern.empty() || ::fnmatch(pattern.c_str(), instance.c_str(), 0) == 0;
}

KeyAuthVerdict refuse(Errc code, std::string message) {
  return KeyAuthVerdict{code, std::move(message), std::nullopt};
}

}  // namespace

Enroller::Enroller(Store& store, const Clock& clock, Metrics& metrics, EnrollmentOptions options)
    : store_(store),
      clock_(clock),
      metrics_(metrics),
      options_(std::move(options)),
      tokens_(options_.burst),
      refilled_ns_(clock.steady_ns()),
      worker_(std::make_unique<boost::asio::thread_pool>(1)) {
  for (const char* r : kResults)
    metrics_.counter(counter_name(r), "Key enrollments (first HELLO of an instance id), by result");
}

Enroller::~Enroller() { stop(); }

void Enroller::stop() {
  if (worker_) worker_->join();
}

void Enroller::check(KeyAuthAttempt a, std::function<void(KeyAuthVerdict)> done) {
  boost::asio::post(*worker_,
                    [this, a = std::move(a), done = std::move(done)] { done(decide(a)); });
}

void Enroller::count(const char* result) {
  metrics_.counter(counter_name(result), "").fetch_add(1, std::memory_order_relaxed);
}

bool Enroller::first_refusal(const std::string& instance, const std::string& fingerprint) {
  std::lock_guard lock(mu_);
  return warned_.size() < 10'000 && warned_.emplace(instance, fingerprint).second;
}

bool Enroller::take_token() {
  std::lock_guard lock(mu_);
  const std::int64_t now = clock_.steady_ns();
  const double per_ns = options_.per_minute / 60e9;
  tokens_ =
      std::min<double>(options_.burst, tokens_ + static_cast<double>(now - refilled_ns_) * per_ns);
  refilled_ns_ = now;
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

// The order of the checks is the contract: a valid signature first (the connection holds the
// key it names); then an enrolled id accepts only its own key, whatever secret comes along;
// only an id never enrolled may enroll, with a secret allowed for it, within the rate limit.
KeyAuthVerdict Enroller::decide(const KeyAuthAttempt& a) {
  const std::string fp = ed25519_fingerprint(a.public_key);
  if (!proof_signature_valid(a.public_key, a.nonce, a.instance, a.proof)) {
    count("bad_signature");
    return refuse(Errc::kUnauthorized,
                  "PROOF signature does not verify with the public key of "
                  "the HELLO for instance " +
                      a.instance);
  }
  auto known = store_.enrollment(a.instance);
  if (!known) {
    count("error");
    return refuse(Errc::kUnavailable, "collector cannot read the enrollment of instance " +
                                          a.instance + " (" + known.error().message() +
                                          "); retry later");
  }
  if (*known) {
    const Enrollment& e = **known;
    if (e.public_key == a.public_key) return {};
    count("refused_enrolled_key");
    // A refused agent retries with backoff: warn once per (instance, key), then debug.
    const bool first = first_refusal(a.instance, fp);
    spdlog::log(first ? spdlog::level::warn : spdlog::level::debug,
                "enrollment: instance {} refused from {}: it is enrolled with key {} (from {}); "
                "this connection's key is {}",
                a.instance, a.peer, ed25519_fingerprint(e.public_key), e.peer, fp);
    return refuse(Errc::kUnauthorized,
                  "instance " + a.instance + " is already enrolled with another key (" +
                      ed25519_fingerprint(e.public_key) + "; this agent's key is " + fp +
                      "). If this server was rebuilt and keeps the id, an admin must reset the "
                      "enrollment (re-enrollment) so that its next HELLO enrolls the new key");
  }
  if (a.proof.enrollment_mac.empty()) {
    count("no_secret");
    return refuse(Errc::kUnauthorized,
                  "instance " + a.instance +
                      " is not enrolled and the agent sent no enrollment proof: set "
                      "ship.enrollment_secret_file on the agent to the fleet enrollment secret");
  }
  const std::string msg = key_auth_message(a.nonce, a.instance, public_key_bytes(a.public_key));
  const EnrollmentSecret* used = nullptr;
  const EnrollmentSecret* out_of_pattern = nullptr;
  for (const auto& s : options_.secrets) {
    if (!enrollment_mac_valid(s.secret, msg, a.proof.enrollment_mac)) continue;
    if (pattern_matches(s.instance_pattern, a.instance)) {
      used = &s;
      break;
    }
    out_of_pattern = &s;
  }
  if (!used && out_of_pattern) {
    count("pattern");
    return refuse(Errc::kUnauthorized, "enrollment secret \"" + out_of_pattern->name +
                                           "\" may only enroll instances matching \"" +
                                           out_of_pattern->instance_pattern + "\", not " +
                                           a.instance);
  }
  if (!used) {
    count("bad_secret");
    return refuse(Errc::kUnauthorized,
                  "enrollment of instance " + a.instance +
                      " refused: the enrollment proof matches no enrollment secret of this "
                      "collector; check ship.enrollment_secret_file on the agent");
  }
  if (!take_token()) {
    count("rate_limited");
    spdlog::warn("enrollment: instance {} from {} refused: rate limit", a.instance, a.peer);
    return refuse(Errc::kBusy, "enrollment rate limit: " + std::to_string(options_.per_minute) +
                                   " per minute (burst " + std::to_string(options_.burst) +
                                   "); the agent retries");
  }
  Enrollment e{a.instance, a.public_key, clock_.wall_ns(), used->name, a.peer};
  if (auto ok = store_.put_enrollment(e); !ok) {
    count("error");
    return refuse(Errc::kUnavailable, "collector cannot store the enrollment of instance " +
                                          a.instance + " (" + ok.error().message() +
                                          "); retry later");
  }
  count("enrolled");
  spdlog::info("enrollment: instance {} enrolled key {} with secret \"{}\" from {}", a.instance, fp,
               used->name, a.peer);
  nlohmann::json detail = {{"fingerprint", fp},
                           {"public_key", hex_lower(public_key_bytes(a.public_key))},
                           {"secret", used->name},
                           {"peer", a.peer}};
  KeyAuthVerdict v;
  v.enrolled = LifecycleEvent{e.enrolled_ns, LifecycleKind::kEnrolled, a.boot_id,
                              a.hostname,    "instance key enrolled",  detail.dump()};
  return v;
}

}  // namespace blackbox::collector
