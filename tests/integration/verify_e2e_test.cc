// Issue 12 item 5 end to end: a real blackbox-agent ships to a real blackbox-collector and says
// GOODBYE; `blackbox verify` then says intact with the signed heads covering everything stored
// (the agent signed them with its own instance key at the last gasp). Then the store is
// altered through its own write API while the collector is stopped, and the CLI's exit code
// says each outcome: 0 intact, 10 gaps only, 11 tampered, 6 unreadable.
#include <gtest/gtest.h>
#include <re2/re2.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "collector/query/verify.h"
#include "collector/store/store.h"
#include "query/client/http_client.h"
#include "schemas/ed25519.h"
#include "schemas/hex.h"
#include "schemas/http_target.h"
#include "schemas/streams.h"
#include "tests/support/child_process.h"
#include "tests/support/store_tamper.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_agent.h"

namespace blackbox::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;
constexpr int kLines = 300;
constexpr auto kGuard = std::chrono::seconds(120);  // hang guard only

class VerifyE2E : public ::testing::Test {
 protected:
  VerifyE2E() : tmp_("bbv-e2e"), dir_(tmp_.path()) { fs::create_directories(dir_ + "/logs"); }
  ~VerifyE2E() override {
    agent_.reset();
    collector_.reset();
  }

  void start_collector() {
    const std::string err = dir_ + "/collector" + std::to_string(++starts_) + ".err";
    collector_ = std::make_unique<ChildProcess>(
        ChildOptions{{BLACKBOX_COLLECTOR_BIN, "--data-dir", dir_ + "/data", "--listen",
                      "127.0.0.1:0", "--http", "127.0.0.1:0", "--log-level", "info"},
                     dir_ + "/collector.out",
                     err,
                     {}});
    ASSERT_TRUE(poll_until(
        [&] {
          const std::string log = read_file(err);
          return RE2::PartialMatch(log, "listening on 127\\.0\\.0\\.1:(\\d+)", &agent_port_) &&
                 RE2::PartialMatch(log, "http on 127\\.0\\.0\\.1:(\\d+)", &http_port_);
        },
        kGuard))
        << read_file(err);
  }

  void stop_collector() {
    collector_->signal(SIGTERM);
    ASSERT_EQ(collector_->wait_exit(kGuard), 0);
    collector_.reset();
  }

  json api(const std::string& path) {
    query::HttpClient http(
        HttpServerAddress{"127.0.0.1", static_cast<std::uint16_t>(http_port_), ""});
    auto r = http.get(make_http_target(path, {}));
    if (!r || r->status != 200) return json();
    return json::parse(r->body, nullptr, false);
  }

  RunResult cli(std::vector<std::string> args) {
    std::vector<std::string> argv = {BLACKBOX_CLI_BIN, "--server",
                                     "http://127.0.0.1:" + std::to_string(http_port_), "--no-pager",
                                     "--utc"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, dir_, {});
  }

  std::unique_ptr<collector::Store> open_store() {
    collector::StoreOptions so;
    so.path = dir_ + "/data";
    auto s = collector::Store::open(so);
    EXPECT_TRUE(s.has_value());
    return s ? std::move(*s) : nullptr;
  }

  TempDir tmp_;
  std::string dir_;
  int agent_port_ = 0, http_port_ = 0, starts_ = 0;
  std::unique_ptr<ChildProcess> collector_, agent_;
};

void put(collector::Store& s, const std::string& instance, std::string_view bytes) {
  auto h = parse_batch_header(bytes);
  ASSERT_TRUE(h.has_value());
  put_stored_batch(s, instance, h->stream, h->first_seq, bytes);
}

// Sequential by nature: each step alters the store the next one reads.
TEST_F(VerifyE2E, AgentSignedHeadsCoverTheStoreAndTheExitCodesSayEachOutcome) {
  const std::string inst = "i-ve2e";
  {
    std::ofstream f(dir_ + "/logs/app.log");
    for (int i = 0; i < kLines; ++i) f << "request " << i << " ok\n";
  }
  start_collector();
  const std::string state = dir_ + "/agent";
  agent_ = std::make_unique<ChildProcess>(
      ChildOptions{{BLACKBOX_AGENT_BIN, "--collector", "127.0.0.1:" + std::to_string(agent_port_),
                    "--instance-id", inst, "--state-dir", state, "--file", dir_ + "/logs/*.log",
                    "--read-from", "beginning", "--metrics-listen", "", "--log-level", "info"},
                   state + ".out",
                   state + ".err",
                   {}});
  ASSERT_TRUE(poll_until(
      [&] {
        json r = api("/v1/instances/" + inst);
        if (!r.is_object()) return false;
        for (const auto& s : r["streams"])
          if (s["stream"] == kStreamLogs) return s["next_seq"] == kLines;
        return false;
      },
      kGuard))
      << read_file(state + ".err");
  agent_->signal(SIGTERM);
  ASSERT_EQ(agent_->wait_exit(kGuard), 0) << read_file(state + ".err");
  ASSERT_TRUE(poll_until(
      [&] { return api("/v1/instances/" + inst)["instance"]["state"] == "terminated"; }, kGuard));

  // The agent's public key, from its own key file.
  std::string why;
  auto key = Ed25519Key::load_or_create(state + "/instance.key", why);
  ASSERT_TRUE(key.has_value()) << why;
  const std::string pub = hex_lower(
      {reinterpret_cast<const char*>(key->public_key().data()), key->public_key().size()});

  auto r = cli({"verify", inst});  // no enrolled key in this mode
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("INTACT"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("heads not checked: no enrolled key"), std::string::npos) << r.out;

  r = cli({"verify", inst, "--key", pub, "-o", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  json doc = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(doc.is_object()) << r.out;
  EXPECT_EQ(doc["status"], "intact");
  const json& v = doc["instances"][0];
  EXPECT_EQ(v["covered"], true) << v.dump(2);
  EXPECT_GE(v["signatures_valid"].get<int>(), 1);
  EXPECT_EQ(v["signatures_invalid"], 0);
  EXPECT_TRUE(v["breaks"].empty());
  for (const auto& s : v["streams"]) {
    EXPECT_TRUE(s["unsigned_tail"].is_null()) << s.dump();
    if (s["stream"] == kStreamLogs) {
      ASSERT_EQ(s["intact"].size(), 1u) << s.dump();
      EXPECT_EQ(s["intact"][0]["from_seq"], 0);
      EXPECT_EQ(s["intact"][0]["to_seq"], kLines);
      EXPECT_EQ(s["signed_through"], kLines);
    }
  }
  r = cli({"verify", "--all", "--key", pub});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(cli({"verify"}).exit_code, 2);

  // Tampered (one byte of the first log batch), and another instance with a recorded gap.
  stop_collector();
  std::string original;
  {
    auto store = open_store();
    ASSERT_TRUE(store);
    auto b = store->get_batch(inst, kStreamLogs, 0);
    ASSERT_TRUE(b.has_value());
    original = *b;
    std::string altered = original;
    altered[altered.size() - 3] ^= 0x20;
    put(*store, inst, altered);
    collector::testing::StreamSource src(kStreamLogs);
    put(*store, "i-gaps", src.next_batch(5));
    collector::GapRange gap{kStreamLogs, 5, 9, 0, "spool segment damaged; quarantined"};
    auto wb = store->write_batch();
    wb.put_gap("i-gaps", gap);
    ASSERT_TRUE(store->commit(std::move(wb), collector::CommitSync::kSync).has_value());
    put(*store, "i-gaps", src.make_batch(9, 5, src.head()));
  }
  start_collector();
  r = cli({"verify", inst, "--key", pub});
  EXPECT_EQ(r.exit_code, 11) << r.out << r.err;
  EXPECT_NE(r.out.find("TAMPERED"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("batch 0: content_changed"), std::string::npos) << r.out;
  r = cli({"verify", "i-gaps"});
  EXPECT_EQ(r.exit_code, 10) << r.out << r.err;
  EXPECT_NE(r.out.find("spool segment damaged"), std::string::npos) << r.out;
  EXPECT_EQ(cli({"verify", "i-never-seen"}).exit_code, 4);

  // Unreadable: a damaged block of the batches' table file (not an edit through the API).
  stop_collector();
  {
    auto store = open_store();
    ASSERT_TRUE(store);
    put(*store, inst, original);
    collector::testing::StreamSource src(kStreamLogs, 400);
    for (int b = 0; b < 200; ++b) put(*store, "i-damaged", src.next_batch(50));
    ASSERT_TRUE(store->compact_all().has_value());
  }
  const std::string sst = largest_sst(dir_ + "/data");
  ASSERT_FALSE(sst.empty());
  const auto size = fs::file_size(sst);
  bool damaged = false;
  constexpr int kMaxFlips = 8;  // bound on the search for a byte inside a data block
  for (int flip = 1; flip <= kMaxFlips && !damaged; ++flip) {
    flip_byte(sst, size * static_cast<std::uintmax_t>(flip) / (kMaxFlips + 4));
    auto store = open_store();
    ASSERT_TRUE(store);
    collector::query::VerifyOptions o;
    o.instance = "i-damaged";
    auto rep = collector::query::verify(*store, o);
    ASSERT_TRUE(rep.has_value());
    damaged = rep->status == collector::query::VerifyStatus::kUnreadable;
  }
  ASSERT_TRUE(damaged) << "no flipped byte made a block unreadable";
  start_collector();
  r = cli({"verify", "i-damaged"});
  EXPECT_EQ(r.exit_code, 6) << r.out << r.err;
  EXPECT_NE(r.out.find("UNREADABLE"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("BROKEN"), std::string::npos) << r.out;  // damage is not tampering
  r = cli({"verify", inst, "--key", pub});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;  // restored, and outside the damaged block
}

}  // namespace
}  // namespace blackbox::testing
