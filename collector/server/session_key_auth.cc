// Session's key authentication (issue 12 item 2; PROTOCOL.md §5.1): HELLO (auth "key") →
// CHALLENGE {fresh nonce} → PROOF → the Enroller's verdict → WELCOME or ERROR. Kept apart from
// session.cc so that the handshake's additions stay in one place.
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "collector/server/enrollment.h"
#include "collector/server/session.h"
#include "schemas/key_auth.h"

namespace blackbox::collector {

namespace net = boost::asio;

bool Session::token_mode_allowed(const Hello& h) {
  const auto& enroller = ctx_->options.enroller;
  if (!enroller || !enroller->configured()) return true;
  fail(Errc::kUnauthorized,
       "this collector authenticates agents by enrolled instance keys; instance " + h.instance_id +
           " sent no key: set ship.enrollment_secret_file (ship.auth = \"key\") on the agent");
  return false;
}

bool Session::start_key_auth(Hello&& h) {
  const auto& enroller = ctx_->options.enroller;
  if (!enroller || !enroller->configured()) {
    fail(Errc::kUnauthorized,
         "this collector does not accept instance keys (no [enrollment] secrets configured); "
         "use the agent's token or configure enrollment secrets on the collector");
    return false;
  }
  if (!parse_public_key(h.public_key)) {
    fail(Errc::kMalformedFrame, "HELLO public_key must be a raw 32-byte Ed25519 key");
    return false;
  }
  nonce_.assign(kNonceBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(nonce_.data()),
                 static_cast<int>(nonce_.size())) != 1) {
    fail(Errc::kInternal, "collector could not draw a random nonce");
    return false;
  }
  key_hello_ = std::move(h);
  queue_frame(FrameType::kChallenge, encode_challenge(Challenge{nonce_}));
  return true;
}

net::awaitable<bool> Session::key_auth() {
  constexpr auto kTuple = net::as_tuple(net::use_awaitable);
  FrameHeader fh;
  std::string payload;
  set_read_deadline(Clock::now() + ctx_->options.hello_timeout);
  if (!co_await read_frame(fh, payload, ctx_->options.max_hello_frame_bytes)) co_return false;
  const bool submitted = submit_proof(fh.type, payload);
  frame_lease_.reset();
  if (!submitted) co_return false;
  for (int i = 0; !key_verdict_ && !closed_ && i < 1'000'000; ++i)
    co_await read_wake_.async_wait(kTuple);
  co_return finish_key_auth();
}

bool Session::submit_proof(FrameType type, std::string_view payload) {
  if (type != FrameType::kProof) {
    fail(Errc::kProtocolViolation,
         std::string("after CHALLENGE the agent must send PROOF, not ") + frame_type_name(type));
    return false;
  }
  auto proof = decode_proof(payload);
  if (!proof) {
    fail(Errc::kMalformedFrame, "PROOF payload does not decode");
    return false;
  }
  KeyAuthAttempt a;
  a.instance = key_hello_->instance_id;
  a.public_key = *parse_public_key(key_hello_->public_key);
  a.nonce = nonce_;
  a.proof = std::move(*proof);
  a.peer = peer_;
  a.boot_id = key_hello_->boot_id;
  a.hostname = key_hello_->hostname;
  ctx_->options.enroller->check(std::move(a), [self = shared_from_this()](KeyAuthVerdict v) {
    net::post(self->strand_, [self, v = std::move(v)]() mutable {
      self->key_verdict_ = std::move(v);
      self->wake_reader();
    });
  });
  return true;
}

bool Session::finish_key_auth() {
  if (!key_verdict_) return false;  // closed meanwhile
  KeyAuthVerdict v = std::move(*key_verdict_);
  key_verdict_.reset();
  if (v.code != Errc::kOk) {
    fail(v.code, std::move(v.message));
    return false;
  }
  Hello h = std::move(*key_hello_);
  key_hello_.reset();
  if (!claim_instance(h)) return false;
  pending_instance_ = h.instance_id;
  submit_awaited(HelloRequest{std::move(h), std::move(v.enrolled)});
  return true;
}

}  // namespace blackbox::collector
