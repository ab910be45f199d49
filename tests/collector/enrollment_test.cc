// Issue 12 item 2: identity for baked images without a PKI. The image carries only a fleet
// enrollment secret; the agent makes its own Ed25519 key; the first HELLO of an instance id
// enrolls that key (proved by an HMAC of the collector's nonce under the secret) and every later
// connection must sign a fresh nonce with it. Over real TCP on loopback against the real
// collector and real RocksDB; the last test runs real blackbox-agent processes.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <fstream>

#include "collector/server/auth.h"
#include "collector/store/store.h"
#include "schemas/batch.h"
#include "schemas/key_auth.h"
#include "schemas/secret_file.h"
#include "schemas/streams.h"
#include "schemas/zstd_codec.h"
#include "tests/collector/fixture.h"
#include "tests/support/child_process.h"
#include "tests/support/test_agent.h"

namespace blackbox::collector::testing {
namespace {

using blackbox::testing::ChildOptions;
using blackbox::testing::ChildProcess;
using blackbox::testing::read_file;

Ed25519Key new_key() {
  auto k = Ed25519Key::generate();
  EXPECT_TRUE(k);
  return std::move(*k);
}

std::string write_secret(TempDir& dir, const std::string& name, const std::string& secret) {
  const std::string path = dir.path() + "/" + name + ".secret";
  std::string why;
  EXPECT_TRUE(write_private_file(path, secret + "\n", why)) << why;
  return path;
}

Hello key_hello_for(const std::string& instance, const Ed25519Key& key) {
  Hello h = test_hello(instance);
  h.protocol_version = kHelloVersionKeyAuth;
  h.auth = "key";
  h.public_key = public_key_bytes(key.public_key());
  return h;
}

std::string frame_bytes(FrameType t, const std::string& payload) {
  std::string out;
  append_frame(out, t, payload);
  return out;
}

// The outcome of one key handshake: WELCOME or the ERROR, and the bytes the agent sent.
struct Handshake {
  std::optional<Welcome> welcome;
  ErrorFrame error{Errc::kOk, ""};
  std::string sent;  // HELLO frame ‖ PROOF frame, as on the wire (for replays)
};

// HELLO (auth "key") → CHALLENGE → PROOF (MAC with `secret` if set) → WELCOME or ERROR.
Handshake key_handshake(TestConnection& c, const std::string& instance, const Ed25519Key& key,
                        const std::string* secret) {
  Handshake out;
  out.sent = frame_bytes(FrameType::kHello, encode_hello(key_hello_for(instance, key)));
  EXPECT_TRUE(c.send_raw(out.sent));
  for (int i = 0; i < 2; ++i) {
    auto f = c.read_frame(30s);
    if (!f) break;
    if (f->type == FrameType::kChallenge) {
      auto ch = decode_challenge(f->payload);
      EXPECT_TRUE(ch);
      if (!ch) break;
      const std::string proof = frame_bytes(
          FrameType::kProof, encode_proof(make_proof(key, ch->nonce, instance, secret)));
      EXPECT_TRUE(c.send_raw(proof));
      out.sent += proof;
      continue;
    }
    if (auto e = as_error(*f)) out.error = *e;
    if (f->type == FrameType::kWelcome) out.welcome = decode_welcome(f->payload).value();
    break;
  }
  return out;
}

// Sends a batch of 10 records; the acknowledged sequence, or -1.
std::int64_t ship(TestConnection& c, StreamSource& src) {
  if (!c.send_frame(FrameType::kBatch, src.next_batch(10))) return -1;
  auto f = c.read_frame(30s);
  auto ack = f ? as_ack(*f) : std::nullopt;
  return ack && !ack->entries.empty() ? static_cast<std::int64_t>(ack->entries[0].highest_seq) : -1;
}

// Every log line stored for `instance`.
std::vector<std::string> stored_lines(const Store& store, const std::string& instance) {
  std::vector<std::string> out;
  ZstdDecompressor z;
  std::string scratch;
  (void)store.scan_stream(instance, kStreamLogs, 0, [&](const StoredBatch& b) {
    (void)decode_batch(b.bytes, Limits{}, z, scratch,
                       [&](const RecordView& r) { out.emplace_back(r.line); });
    return true;
  });
  return out;
}

std::uint64_t enrollments(Collector& c, const std::string& result) {
  return c.metrics()
      .counter("blackbox_collector_enrollments_total{result=\"" + result + "\"}", "")
      .load();
}

std::vector<LifecycleEvent> enrolled_events(const Store& store, const std::string& instance) {
  std::vector<LifecycleEvent> out;
  for (auto& e : store.lifecycle_events(instance).value())
    if (e.kind == LifecycleKind::kEnrolled) out.push_back(e);
  return out;
}

class KeyAuth : public ::testing::Test {
 protected:
  void start(const std::function<void(Config&)>& tweak = {}) {
    config_ = test_config(dir_.sub("db"));
    config_.enrollment.secrets = {"fleet:" + write_secret(dir_, "fleet", kFleetSecret)};
    if (tweak) tweak(config_);
    collector_ = std::make_unique<RunningCollector>(config_);
    ASSERT_TRUE(collector_->ok());
  }
  std::uint16_t port() const { return collector_->port(); }
  Store& store() { return collector_->collector().store(); }
  Handshake connect_as(TestConnection& c, const std::string& instance, const Ed25519Key& key,
                       const std::string* secret) {
    EXPECT_TRUE(c.connect(port()));
    return key_handshake(c, instance, key, secret);
  }

  const std::string kFleetSecret = "fleet-enrollment-secret";
  TempDir dir_{"key-auth"};
  Config config_;
  std::unique_ptr<RunningCollector> collector_;
};

TEST_F(KeyAuth, TheFirstHelloEnrollsAndOnlyThatKeyMayWriteAsTheInstanceAfterwards) {
  start();
  const Ed25519Key a = new_key(), b = new_key();
  TestConnection first;
  auto hs = connect_as(first, "i-1", a, &kFleetSecret);
  ASSERT_TRUE(hs.welcome) << hs.error.message;
  StreamSource src(kStreamLogs);
  EXPECT_EQ(ship(first, src), 9);
  auto e = store().enrollment("i-1").value();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->public_key, a.public_key());
  EXPECT_EQ(e->secret_name, "fleet");
  EXPECT_NE(e->peer.find("127.0.0.1"), std::string::npos) << e->peer;
  auto events = enrolled_events(store(), "i-1");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_NE(events[0].detail_json.find(ed25519_fingerprint(a.public_key())), std::string::npos)
      << events[0].detail_json;
  EXPECT_NE(events[0].detail_json.find("127.0.0.1"), std::string::npos);
  first.close();
  ASSERT_TRUE(eventually([&] { return collector_->collector().connections() == 0; }));

  // Later: the key alone (no secret) is enough, and records keep flowing.
  TestConnection again;
  hs = connect_as(again, "i-1", a, nullptr);
  ASSERT_TRUE(hs.welcome) << hs.error.message;
  EXPECT_EQ(ship(again, src), 19);
  again.close();
  ASSERT_TRUE(eventually([&] { return collector_->collector().connections() == 0; }));

  // Another server holding the fleet secret cannot take the enrolled id over.
  TestConnection thief;
  hs = connect_as(thief, "i-1", b, &kFleetSecret);
  EXPECT_FALSE(hs.welcome);
  EXPECT_EQ(hs.error.code, Errc::kUnauthorized);
  EXPECT_NE(hs.error.message.find("already enrolled"), std::string::npos) << hs.error.message;
  EXPECT_NE(hs.error.message.find("re-enrollment"), std::string::npos) << hs.error.message;
  StreamSource forged(kStreamLogs);
  (void)thief.send_frame(FrameType::kBatch, forged.next_batch(10));
  EXPECT_TRUE(thief.wait_closed(30s));
  EXPECT_EQ(stored_lines(store(), "i-1").size(), 20u);
  EXPECT_EQ(store().enrollment("i-1").value()->public_key, a.public_key());
  EXPECT_EQ(enrollments(collector_->collector(), "refused_enrolled_key"), 1u);
  EXPECT_EQ(enrollments(collector_->collector(), "enrolled"), 1u);
}

TEST_F(KeyAuth, ACapturedHelloAndProofReplayedAreRefused) {
  start();
  const Ed25519Key a = new_key();
  TestConnection genuine;
  auto hs = connect_as(genuine, "i-1", a, &kFleetSecret);
  ASSERT_TRUE(hs.welcome) << hs.error.message;
  genuine.close();
  ASSERT_TRUE(eventually([&] { return collector_->collector().connections() == 0; }));

  // The captured bytes, sent again byte for byte (the attacker never sees our nonce).
  TestConnection replay;
  ASSERT_TRUE(replay.connect(port()));
  StreamSource src(kStreamLogs);
  ASSERT_TRUE(replay.send_raw(hs.sent + frame_bytes(FrameType::kBatch, src.next_batch(10))));
  std::optional<ErrorFrame> err;
  for (int i = 0; i < 3 && !err; ++i) {
    auto f = replay.read_frame(30s);
    if (!f) break;
    ASSERT_NE(f->type, FrameType::kWelcome);
    err = as_error(*f);
  }
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code, Errc::kUnauthorized);
  EXPECT_NE(err->message.find("signature"), std::string::npos) << err->message;
  EXPECT_TRUE(replay.wait_closed(30s));
  EXPECT_EQ(stored_lines(store(), "i-1").size(), 0u);
  EXPECT_EQ(enrollments(collector_->collector(), "bad_signature"), 1u);
}

TEST_F(KeyAuth, AWrongOrMissingSecretEnrollsNothing) {
  start();
  const Ed25519Key a = new_key();
  const std::string wrong = "not-the-fleet-secret";
  TestConnection c1;
  auto hs = connect_as(c1, "i-1", a, &wrong);
  EXPECT_FALSE(hs.welcome);
  EXPECT_EQ(hs.error.code, Errc::kUnauthorized);
  EXPECT_NE(hs.error.message.find("matches no enrollment secret"), std::string::npos)
      << hs.error.message;
  TestConnection c2;
  hs = connect_as(c2, "i-1", a, nullptr);
  EXPECT_FALSE(hs.welcome);
  EXPECT_NE(hs.error.message.find("ship.enrollment_secret_file"), std::string::npos)
      << hs.error.message;
  EXPECT_FALSE(store().enrollment("i-1").value());
  EXPECT_EQ(enrollments(collector_->collector(), "bad_secret"), 1u);
  EXPECT_EQ(enrollments(collector_->collector(), "no_secret"), 1u);
}

TEST_F(KeyAuth, ASecretRestrictedToAPatternEnrollsOnlyMatchingIds) {
  const std::string web = "web-secret";
  start([&](Config& c) {
    c.enrollment.secrets = {"web:" + write_secret(dir_, "web", web) + ":i-web-*"};
  });
  const Ed25519Key a = new_key(), b = new_key();
  TestConnection ok;
  auto hs = connect_as(ok, "i-web-1", a, &web);
  ASSERT_TRUE(hs.welcome) << hs.error.message;
  EXPECT_EQ(store().enrollment("i-web-1").value()->secret_name, "web");
  TestConnection db;
  hs = connect_as(db, "i-db-1", b, &web);
  EXPECT_FALSE(hs.welcome);
  EXPECT_EQ(hs.error.code, Errc::kUnauthorized);
  EXPECT_NE(hs.error.message.find("i-web-*"), std::string::npos) << hs.error.message;
  EXPECT_FALSE(store().enrollment("i-db-1").value());
  EXPECT_EQ(enrollments(collector_->collector(), "pattern"), 1u);
}

TEST_F(KeyAuth, NewEnrollmentsOverTheBurstAreRefusedBusyAndCounted) {
  start([](Config& c) {
    c.enrollment.per_minute = 1;
    c.enrollment.burst = 3;
  });
  std::vector<Ed25519Key> keys;
  for (int i = 0; i < 4; ++i) keys.push_back(new_key());
  std::vector<TestConnection> conns(4);
  for (int i = 0; i < 3; ++i) {
    auto hs = connect_as(conns[i], "i-" + std::to_string(i), keys[i], &kFleetSecret);
    ASSERT_TRUE(hs.welcome) << i << ": " << hs.error.message;
  }
  auto hs = connect_as(conns[3], "i-3", keys[3], &kFleetSecret);
  EXPECT_FALSE(hs.welcome);
  EXPECT_EQ(hs.error.code, Errc::kBusy);
  EXPECT_NE(hs.error.message.find("enrollment rate limit: 1 per minute"), std::string::npos)
      << hs.error.message;
  EXPECT_FALSE(store().enrollment("i-3").value());
  EXPECT_EQ(enrollments(collector_->collector(), "rate_limited"), 1u);
  EXPECT_EQ(enrollments(collector_->collector(), "enrolled"), 3u);
  // An enrolled instance reconnecting is not a new enrollment: never rate-limited.
  conns[0].close();
  ASSERT_TRUE(eventually([&] { return collector_->collector().connections() <= 2; }));
  TestConnection back;
  hs = connect_as(back, "i-0", keys[0], nullptr);
  EXPECT_TRUE(hs.welcome) << hs.error.message;
}

TEST_F(KeyAuth, AfterAnAdminResetARebuiltServerEnrollsItsNewKey) {
  start();
  const Ed25519Key old_key = new_key(), rebuilt = new_key();
  {
    TestConnection c;
    ASSERT_TRUE(connect_as(c, "i-1", old_key, &kFleetSecret).welcome);
  }
  ASSERT_TRUE(eventually([&] { return collector_->collector().connections() == 0; }));
  ASSERT_TRUE(store().delete_enrollment("i-1"));
  TestConnection c;
  auto hs = connect_as(c, "i-1", rebuilt, &kFleetSecret);
  ASSERT_TRUE(hs.welcome) << hs.error.message;
  StreamSource src(kStreamLogs);
  EXPECT_EQ(ship(c, src), 9);
  EXPECT_EQ(store().enrollment("i-1").value()->public_key, rebuilt.public_key());
  EXPECT_EQ(enrolled_events(store(), "i-1").size(), 2u);
  c.close();
  ASSERT_TRUE(eventually([&] { return collector_->collector().connections() == 0; }));
  TestConnection old_server;
  EXPECT_EQ(connect_as(old_server, "i-1", old_key, &kFleetSecret).error.code, Errc::kUnauthorized);
}

TEST_F(KeyAuth, UnauthenticatedClientsStoreNothing) {
  start();
  // A version-1 HELLO without credentials, followed by a batch.
  TestConnection plain;
  ASSERT_TRUE(plain.connect(port()));
  StreamSource src(kStreamLogs);
  ASSERT_TRUE(plain.send_raw(frame_bytes(FrameType::kHello, encode_hello(test_hello("i-1"))) +
                             frame_bytes(FrameType::kBatch, src.next_batch(10))));
  auto f = plain.read_frame(30s);
  ASSERT_TRUE(f && as_error(*f));
  EXPECT_EQ(as_error(*f)->code, Errc::kUnauthorized);
  EXPECT_NE(as_error(*f)->message.find("enrolled instance keys"), std::string::npos);
  // A key HELLO whose sender skips the PROOF and sends a batch.
  const Ed25519Key a = new_key();
  TestConnection skip;
  ASSERT_TRUE(skip.connect(port()));
  ASSERT_TRUE(skip.send_raw(frame_bytes(FrameType::kHello, encode_hello(key_hello_for("i-1", a))) +
                            frame_bytes(FrameType::kBatch, src.next_batch(10))));
  std::optional<ErrorFrame> err;
  for (int i = 0; i < 2 && !err; ++i)
    if (auto g = skip.read_frame(30s)) err = as_error(*g);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code, Errc::kProtocolViolation);
  EXPECT_EQ(stored_lines(store(), "i-1").size(), 0u);
  EXPECT_FALSE(store().enrollment("i-1").value());
}

TEST_F(KeyAuth, TokenModeStillWorksBesideKeys) {
  start([](Config& c) { c.collector.auth_secret = "token-fleet-secret"; });
  TestConnection token;
  ASSERT_TRUE(token.connect(port()));
  ASSERT_TRUE(token.hello(test_hello("i-t", hello_token("token-fleet-secret", "i-t"))));
  StreamSource src(kStreamLogs);
  EXPECT_EQ(ship(token, src), 9);
  TestConnection bad;
  ASSERT_TRUE(bad.connect(port()));
  EXPECT_FALSE(bad.hello(test_hello("i-u", "00")));
  const Ed25519Key a = new_key();
  TestConnection key;
  EXPECT_TRUE(connect_as(key, "i-k", a, &kFleetSecret).welcome);
}

TEST(KeyAuthOff, ACollectorWithoutEnrollmentSecretsRefusesKeysClearly) {
  TempDir dir("key-auth-off");
  Config config = test_config(dir.sub("db"));
  config.collector.auth_secret = "token-fleet-secret";
  RunningCollector rc(config);
  ASSERT_TRUE(rc.ok());
  const Ed25519Key a = new_key();
  TestConnection c;
  ASSERT_TRUE(c.connect(rc.port()));
  auto hs = key_handshake(c, "i-1", a, nullptr);
  EXPECT_FALSE(hs.welcome);
  EXPECT_EQ(hs.error.code, Errc::kUnauthorized);
  EXPECT_NE(hs.error.message.find("no [enrollment] secrets"), std::string::npos)
      << hs.error.message;
}

// `blackbox-collector enrollments list|reset` on the stopped collector's data directory.
TEST_F(KeyAuth, TheOfflineAdminCommandListsAndResetsEnrollments) {
  start();
  const Ed25519Key a = new_key();
  {
    TestConnection c;
    ASSERT_TRUE(connect_as(c, "i-1", a, &kFleetSecret).welcome);
  }
  collector_.reset();  // RocksDB closed: one process at a time
  const std::string db = config_.collector.data_dir, out = dir_.path() + "/cli.out";
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), BLACKBOX_COLLECTOR_BINARY);
    args.insert(args.end(), {"--data-dir", db});
    ChildProcess p(ChildOptions{args, out, "", {}});
    return p.wait_exit(120s);
  };
  EXPECT_EQ(run({"enrollments", "list"}), 0) << read_file(out);
  EXPECT_NE(read_file(out).find("i-1  " + ed25519_fingerprint(a.public_key())), std::string::npos)
      << read_file(out);
  EXPECT_EQ(run({"enrollments", "reset", "i-1"}), 0) << read_file(out);
  EXPECT_EQ(run({"enrollments", "reset", "i-1"}), 1) << read_file(out);
  EXPECT_NE(read_file(out).find("has no enrolled key"), std::string::npos) << read_file(out);
  auto store = Store::open(store_options(config_)).value();
  EXPECT_FALSE(store->enrollment("i-1").value());
  bool audited = false;
  for (const auto& e : store->lifecycle_events("i-1").value())
    audited |= e.kind == LifecycleKind::kAdmin && e.reason == "enrollment reset";
  EXPECT_TRUE(audited);
}

TEST(EnrollmentConfig, SecretsAreNamedPatternedAndReadFromPrivateFilesOnly) {
  TempDir dir("enrollment-config");
  Config c = test_config(dir.sub("db"));
  EXPECT_FALSE(enrollment_configured(c));
  const std::string web = write_secret(dir, "web", "web-secret");
  c.enrollment.secrets = {"web:" + web + ":i-web-*", "fleet:" + write_secret(dir, "f", "f")};
  EXPECT_TRUE(validate(c).empty());
  EXPECT_TRUE(enrollment_configured(c));
  std::string why;
  auto o = enrollment_options(c, why);
  ASSERT_TRUE(o) << why;
  ASSERT_EQ(o->secrets.size(), 2u);
  EXPECT_EQ(o->secrets[0].name, "web");
  EXPECT_EQ(o->secrets[0].secret, "web-secret");
  EXPECT_EQ(o->secrets[0].instance_pattern, "i-web-*");
  EXPECT_EQ(o->secrets[1].instance_pattern, "");
  ASSERT_EQ(::chmod(web.c_str(), 0644), 0);
  EXPECT_FALSE(enrollment_options(c, why));
  EXPECT_NE(why.find("chmod 600"), std::string::npos) << why;
  EXPECT_NE(why.find("\"web\""), std::string::npos) << why;
  c.enrollment.secrets = {"just-a-name", "a:x", "a:y"};
  c.enrollment.burst = 0;
  EXPECT_EQ(validate(c).size(), 3u);
}

// ---- Real agents -----------------------------------------------------------------------------

// A blackbox-agent of `instance` with its state in `name`/ and the fleet enrollment secret,
// tailing `log` from the beginning.
std::unique_ptr<ChildProcess> start_agent(TempDir& dir, const std::string& name,
                                          const std::string& instance, const std::string& log,
                                          const std::string& secret_file, std::uint16_t port) {
  const std::string state = dir.path() + "/" + name;
  std::ofstream(state + ".toml") << "[ship]\nbackoff_min = \"50ms\"\nbackoff_max = \"500ms\"\n"
                                 << "enrollment_secret_file = \"" << secret_file << "\"\n";
  return std::make_unique<ChildProcess>(
      ChildOptions{{BLACKBOX_AGENT_BINARY, "--config", state + ".toml", "--collector",
                    "127.0.0.1:" + std::to_string(port), "--instance-id", instance, "--state-dir",
                    state, "--file", log, "--read-from", "beginning", "--metrics-listen",
                    "127.0.0.1:0", "--log-level", "info"},
                   state + ".err",
                   "",
                   {}});
}

void append_lines(const std::string& path, const std::string& prefix, int from, int to) {
  std::ofstream out(path, std::ios::app);
  for (int i = from; i < to; ++i) out << prefix << i << "\n";
}

int count_prefix(const std::vector<std::string>& lines, const std::string& prefix) {
  int n = 0;
  for (const auto& l : lines) n += l.rfind(prefix, 0) == 0;
  return n;
}

TEST(KeyAuthAgents, RealAgentsEnrollReconnectWithTheirKeyAndCannotTakeOverAnother) {
  TempDir dir("key-auth-agents");
  Config config = test_config(dir.sub("db"));
  const std::string secret = write_secret(dir, "fleet", "fleet-enrollment-secret");
  config.enrollment.secrets = {"fleet:" + secret};
  RunningCollector rc(config);
  ASSERT_TRUE(rc.ok());
  const Store& store = rc.collector().store();
  const std::string a_log = dir.path() + "/a.log", b_log = dir.path() + "/b.log";
  append_lines(a_log, "a line ", 0, 100);
  append_lines(b_log, "b line ", 0, 100);

  // A enrolls with a key it made in its state directory (0600) and ships its lines.
  auto a = start_agent(dir, "a", "i-1", a_log, secret, rc.port());
  ASSERT_TRUE(eventually([&] {
    return count_prefix(stored_lines(store, "i-1"), "a line ") == 100;
  })) << read_file(dir.path() + "/a.err");
  const std::string key_path = dir.path() + "/a/instance.key";
  struct stat st {};
  ASSERT_EQ(::stat(key_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto a_key = Ed25519Key::from_pem(read_file(key_path));
  ASSERT_TRUE(a_key);
  auto enrolled = store.enrollment("i-1").value();
  ASSERT_TRUE(enrolled);
  EXPECT_EQ(enrolled->public_key, a_key->public_key());
  EXPECT_EQ(enrolled_events(store, "i-1").size(), 1u);

  // Restarted, A reconnects with the same key and its new lines keep flowing.
  a->signal(SIGTERM);
  ASSERT_EQ(a->wait_exit(120s), 0) << read_file(dir.path() + "/a.err");
  append_lines(a_log, "a line ", 100, 150);
  a = start_agent(dir, "a", "i-1", a_log, secret, rc.port());
  ASSERT_TRUE(eventually([&] {
    return count_prefix(stored_lines(store, "i-1"), "a line ") == 150;
  })) << read_file(dir.path() + "/a.err");
  EXPECT_EQ(Ed25519Key::from_pem(read_file(key_path))->public_key(), a_key->public_key());
  EXPECT_EQ(enrolled_events(store, "i-1").size(), 1u);

  // B, another machine (another state dir: another key) with the fleet secret, claims i-1.
  a->signal(SIGTERM);
  ASSERT_EQ(a->wait_exit(120s), 0) << read_file(dir.path() + "/a.err");
  auto b = start_agent(dir, "b", "i-1", b_log, secret, rc.port());
  ASSERT_TRUE(b->wait_output(
      [](const std::string& log) {
        return log.find("refused HELLO") != std::string::npos &&
               log.find("already enrolled with another key") != std::string::npos;
      },
      120s))
      << read_file(dir.path() + "/b.err");
  b->signal(SIGTERM);
  (void)b->wait_exit(120s);
  const auto lines = stored_lines(store, "i-1");
  EXPECT_EQ(count_prefix(lines, "b line "), 0);
  EXPECT_EQ(count_prefix(lines, "a line "), 150);
  EXPECT_EQ(store.enrollment("i-1").value()->public_key, a_key->public_key());
}

}  // namespace
}  // namespace blackbox::collector::testing
