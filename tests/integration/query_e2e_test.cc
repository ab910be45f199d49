// End to end with real processes: blackbox-collector (with --http), blackbox-agent tailing
// generated logs, then the `blackbox` CLI. What the agent shipped must come back through the
// CLI exactly, with every filter and in every output mode; errors must exit non-zero with a
// clear message.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <re2/re2.h>
#include <sys/socket.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "query/client/http_client.h"
#include "schemas/http_target.h"
#include "schemas/record_json.h"
#include "schemas/time_text.h"
#include "tests/support/child_process.h"
#include "tests/support/json_schema_check.h"
#include "tests/support/temp_dir.h"

namespace blackbox::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;
constexpr std::int64_t kS = 1'000'000'000;

// One line written to a log file, and what the test knows about it.
struct Line {
  std::string file;                     // full path = the record's source
  std::string bytes;                    // the exact line
  std::optional<std::int64_t> time_ns;  // from its JSON "time"
  std::string level;                    // "" for plain lines
  std::string user;
};

std::string json_line(std::int64_t t, const std::string& level, const std::string& msg,
                      const std::string& user, int n) {
  return json{
      {"time", format_rfc3339_ns(t)}, {"level", level}, {"msg", msg}, {"user", user}, {"n", n}}
      .dump();
}

// Polls `pred` (an HTTP answer, a file's content) for at most `timeout`: a hang guard only.
bool eventually(const std::function<bool()>& pred,
                std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  return poll_until(pred, timeout);
}

// Owns a temp dir, a collector and the CLI invocations.
class Env {
 public:
  Env() : tmp("bbq-e2e"), dir(tmp.path()) { fs::create_directories(dir + "/logs"); }
  ~Env() {
    agent.reset();
    collector.reset();
  }

  void start_collector() {
    collector = std::make_unique<ChildProcess>(
        ChildOptions{{BLACKBOX_COLLECTOR_BIN, "--data-dir", dir + "/data", "--listen",
                      "127.0.0.1:0", "--http", "127.0.0.1:0", "--log-level", "info"},
                     dir + "/collector.out",
                     dir + "/collector.err",
                     {}});
    ASSERT_TRUE(eventually([&] {
      const std::string log = read_file(dir + "/collector.err");
      if (RE2::PartialMatch(log, "listening on 127\\.0\\.0\\.1:(\\d+)", &agent_port) &&
          RE2::PartialMatch(log, "http on 127\\.0\\.0\\.1:(\\d+)", &http_port))
        return true;
      return false;
    })) << read_file(dir + "/collector.err");
    server = "http://127.0.0.1:" + std::to_string(http_port);
  }

  std::unique_ptr<ChildProcess> start_agent(const std::string& instance, const std::string& glob,
                                            const std::string& state) {
    return std::make_unique<ChildProcess>(ChildOptions{
        {BLACKBOX_AGENT_BIN, "--collector", "127.0.0.1:" + std::to_string(agent_port),
         "--instance-id", instance, "--image-id", "ami-e2e", "--state-dir", state, "--file", glob,
         "--read-from", "beginning", "--metrics-listen", "127.0.0.1:0", "--log-level", "info"},
        state + ".out",
        state + ".err",
        {}});
  }

  // GET on the API (for waiting and anchors; the CLI is what is under test).
  json api(const std::string& path, const QueryParams& params = {}) {
    query::HttpClient http(
        HttpServerAddress{"127.0.0.1", static_cast<std::uint16_t>(http_port), ""});
    auto r = http.get(make_http_target(path, params));
    if (!r || r->status != 200) return json();
    return json::parse(r->body, nullptr, false);
  }

  RunResult cli(std::vector<std::string> args, const std::vector<std::string>& env = {}) {
    std::vector<std::string> argv = {BLACKBOX_CLI_BIN, "--server", server, "--no-pager", "--utc"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, dir, env);
  }

  TempDir tmp;
  std::string dir;
  std::string server;
  int agent_port = 0;
  int http_port = 0;
  std::unique_ptr<ChildProcess> collector;
  std::unique_ptr<ChildProcess> agent;
};

class QueryE2E : public ::testing::Test {
 protected:
  static constexpr const char* kInstance = "i-e2e";
  static inline Env* env = nullptr;
  static inline std::vector<Line> lines;  // every line, file by file, in file order
  static inline std::int64_t base = 0;

  static void write_logs() {
    base = (std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                    .count() /
                kS -
            1100) *
           kS;
    const std::string app = env->dir + "/logs/app.log";
    const std::string worker = env->dir + "/logs/worker.log";
    const std::string bulk = env->dir + "/logs/bulk.log";
    for (int i = 0; i < 200; ++i) {
      const std::string level = i % 10 == 7 ? "error" : (i % 50 == 0 ? "warning" : "info");
      const std::string msg = i % 10 == 7
                                  ? "request " + std::to_string(i) + " failed: upstream timeout"
                                  : "request " + std::to_string(i) + " ok";
      const std::string user = i % 4 == 0 ? "bob" : "alice";
      const std::int64_t t = base + i * 5 * kS;
      lines.push_back({app, json_line(t, level, msg, user, i), t, level, user});
      if (i == 100) {
        lines.push_back({app, std::string("plain \xff\xfe not utf8 \xc3\x28", 23), {}, "", ""});
        lines.push_back({app, "tab\there and \x1b[31mescape\x1b[0m", {}, "", ""});
      }
    }
    for (int k = 0; k < 20; ++k) {
      const std::int64_t t = base + 1000 * kS + k * (kS / 10);
      lines.push_back(
          {app, json_line(t, "crit", "panic: worker " + std::to_string(k) + " crashed", "root", k),
           t, "crit", "root"});
    }
    for (int j = 0; j < 50; ++j) {
      const std::int64_t t = base + j * 20 * kS + 2 * kS;
      const std::string level = j % 5 == 0 ? "error" : "info";
      lines.push_back(
          {worker,
           json_line(t, level, "job " + std::to_string(j) + (j % 5 == 0 ? " retry" : " done"),
                     "svc", j),
           t, level, "svc"});
    }
    for (int k = 0; k < 1200; ++k) {
      const std::int64_t t = base + k * (kS / 2) + kS / 4;
      lines.push_back(
          {bulk, json_line(t, "debug", "tick " + std::to_string(k), "svc", k), t, "debug", "svc"});
    }
    std::map<std::string, std::ofstream> files;
    for (const auto& l : lines) {
      auto& f = files[l.file];
      if (!f.is_open()) f.open(l.file, std::ios::binary);
      f << l.bytes << '\n';
    }
  }

  static void SetUpTestSuite() {
    env = new Env();
    write_logs();
    env->start_collector();
    if (::testing::Test::HasFatalFailure()) return;
    env->agent = env->start_agent(kInstance, env->dir + "/logs/*.log", env->dir + "/agent");
    // Every line is stored when the log stream's next sequence number is the line count.
    const bool stored = eventually(
        [] {
          json r = env->api(std::string("/v1/instances/") + kInstance);
          if (!r.is_object()) return false;
          for (const auto& s : r["streams"])
            if (s["stream"] == 1) return s["next_seq"] == lines.size();
          return false;
        },
        std::chrono::seconds(60));
    ASSERT_TRUE(stored) << env->api(std::string("/v1/instances/") + kInstance).dump()
                        << read_file(env->dir + "/agent.err");
    auto notify = run({BLACKBOX_AGENT_BIN, "notify-termination", "--reason", "spot interruption",
                       "--state-dir", env->dir + "/agent"},
                      env->dir);
    ASSERT_EQ(notify.exit_code, 0) << notify.err;
    env->agent->signal(SIGTERM);
    ASSERT_EQ(env->agent->wait_exit(std::chrono::seconds(40)), 0)
        << read_file(env->dir + "/agent.err");
    ASSERT_TRUE(eventually([] {
      json i = env->api(std::string("/v1/instances/") + kInstance);
      return i.is_object() && i["instance"]["state"] == "terminated";
    })) << env->api(std::string("/v1/instances/") + kInstance).dump();
  }

  static void TearDownTestSuite() {
    delete env;
    env = nullptr;
    lines.clear();
  }

  void SetUp() override {
    if (env == nullptr || env->collector == nullptr) GTEST_SKIP() << "setup failed";
  }

  // Parses ndjson output.
  static std::vector<json> ndjson(const std::string& text) {
    std::vector<json> out;
    std::istringstream in(text);
    std::string l;
    while (std::getline(in, l)) {
      json j = json::parse(l, nullptr, false);
      EXPECT_FALSE(j.is_discarded()) << l;
      out.push_back(std::move(j));
    }
    return out;
  }

  // (source, exact bytes) of records, in output order.
  static std::vector<std::pair<std::string, std::string>> contents(const std::vector<json>& rs) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& r : rs) {
      auto bytes = record_message_bytes(r);
      EXPECT_TRUE(bytes) << r.dump();
      out.emplace_back(r.value("source", ""), bytes ? *bytes : "");
    }
    return out;
  }

  // The lines `pred` selects, as the multiset the CLI must return.
  static std::multiset<std::pair<std::string, std::string>> expected(
      const std::function<bool(const Line&)>& pred) {
    std::multiset<std::pair<std::string, std::string>> out;
    for (const auto& l : lines)
      if (pred(l)) out.emplace(l.file, l.bytes);
    return out;
  }

  static std::multiset<std::pair<std::string, std::string>> as_set(
      const std::vector<std::pair<std::string, std::string>>& v) {
    return {v.begin(), v.end()};
  }

  // Runs `logs` with extra args in ndjson and returns the records.
  static std::vector<json> logs(std::vector<std::string> args, int want_exit = 0) {
    std::vector<std::string> a = {"logs", kInstance, "-o", "ndjson"};
    a.insert(a.end(), args.begin(), args.end());
    auto r = env->cli(a);
    EXPECT_EQ(r.exit_code, want_exit) << r.err;
    return ndjson(r.out);
  }
};

TEST_F(QueryE2E, EveryRecordComesBackExactlyAndValidates) {
  auto records = logs({});
  ASSERT_EQ(records.size(), lines.size());
  EXPECT_EQ(as_set(contents(records)), expected([](const Line&) { return true; }));
  // File order is kept within each source.
  std::map<std::string, std::vector<std::string>> by_file_out, by_file_in;
  for (const auto& [src, bytes] : contents(records)) by_file_out[src].push_back(bytes);
  for (const auto& l : lines) by_file_in[l.file].push_back(l.bytes);
  EXPECT_EQ(by_file_out, by_file_in);
  const json schema =
      load_json_file(std::string(BLACKBOX_SOURCE_DIR) + "/schemas/record.schema.json");
  for (const auto& r : records) {
    auto errors = validate(schema, r);
    ASSERT_TRUE(errors.empty()) << join(errors) << r.dump();
  }
  // The invalid UTF-8 line carries its exact bytes in message_base64.
  auto bad = std::find_if(records.begin(), records.end(),
                          [](const json& r) { return r.contains("message_base64"); });
  ASSERT_NE(bad, records.end());
  EXPECT_EQ(*record_message_bytes(*bad), std::string("plain \xff\xfe not utf8 \xc3\x28", 23));
}

TEST_F(QueryE2E, JsonOutputIsOneValidArray) {
  auto r = env->cli({"logs", kInstance, "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json doc = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(doc.is_array());
  ASSERT_EQ(doc.size(), lines.size());
  const json schema =
      load_json_file(std::string(BLACKBOX_SOURCE_DIR) + "/schemas/record.schema.json");
  for (const auto& rec : doc) ASSERT_TRUE(validate(schema, rec).empty()) << rec.dump();
  EXPECT_EQ(contents(std::vector<json>(doc.begin(), doc.end())), contents(logs({})));
}

TEST_F(QueryE2E, CatOutputIsTheOriginalBytes) {
  auto r = env->cli({"logs", kInstance, "-o", "cat", "--source", env->dir + "/logs/app.log"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string want;
  for (const auto& l : lines)
    if (l.file == env->dir + "/logs/app.log") want += l.bytes + "\n";
  EXPECT_EQ(r.out, want);
}

TEST_F(QueryE2E, CsvOutputHasOneRowPerRecord) {
  auto r = env->cli({"logs", kInstance, "-o", "csv", "--source", env->dir + "/logs/worker.log"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // JSON lines contain commas and quotes: every row is quoted the RFC 4180 way.
  std::vector<std::string> rows;
  std::string row;
  bool quoted = false;
  for (std::size_t i = 0; i < r.out.size(); ++i) {
    const char c = r.out[i];
    if (c == '"') quoted = !quoted;
    if (!quoted && c == '\n') {
      if (!row.empty() && row.back() == '\r') row.pop_back();
      rows.push_back(row);
      row.clear();
    } else {
      row += c;
    }
  }
  ASSERT_EQ(rows.size(), 51u);
  EXPECT_EQ(rows[0].rfind("time,time_ns,instance,stream,seq,kind,source", 0), 0u);
  std::string first = lines[222].bytes;  // worker.log line 0
  std::string quoted_first = "\"";
  for (char c : first) quoted_first += c == '"' ? std::string("\"\"") : std::string(1, c);
  EXPECT_NE(rows[1].find(quoted_first + "\""), std::string::npos) << rows[1];
}

TEST_F(QueryE2E, ShortOutputMarksMatchesAndContext) {
  auto r = env->cli({"logs", kInstance, "--grep", "failed", "-C", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Expected: each failing app.log line and its neighbours in app.log.
  std::vector<const Line*> app;
  for (const auto& l : lines)
    if (l.file == env->dir + "/logs/app.log") app.push_back(&l);
  std::set<std::size_t> ctx, match;
  for (std::size_t i = 0; i < app.size(); ++i) {
    if (app[i]->bytes.find("failed") == std::string::npos) continue;
    match.insert(i);
    if (i > 0) ctx.insert(i - 1);
    if (i + 1 < app.size()) ctx.insert(i + 1);
  }
  for (auto m : match) ctx.erase(m);
  std::multiset<std::string> want_match, want_ctx, got_match, got_ctx;
  for (auto i : match) want_match.insert(app[i]->bytes);
  for (auto i : ctx) want_ctx.insert(app[i]->bytes);
  std::istringstream in(r.out);
  std::string l;
  RE2 re("^\\S+ \\S+ app\\.log([:-]) (.*)$");
  while (std::getline(in, l)) {
    if (l == "--") continue;
    std::string mark, msg;
    ASSERT_TRUE(RE2::FullMatch(l, re, &mark, &msg)) << l;
    (mark == ":" ? got_match : got_ctx).insert(msg);
  }
  EXPECT_EQ(got_match, want_match);
  EXPECT_EQ(got_ctx, want_ctx);
}

TEST_F(QueryE2E, EveryFilterSelectsExactlyItsRecords) {
  const std::string app = env->dir + "/logs/app.log";
  const std::string worker = env->dir + "/logs/worker.log";
  const std::int64_t since = base + 100 * kS, until = base + 200 * kS;
  struct Case {
    std::vector<std::string> args;
    std::function<bool(const Line&)> pred;
  };
  const std::vector<Case> cases = {
      {{"--grep", "job [0-9]+ retry"},
       [](const Line& l) { return RE2::PartialMatch(l.bytes, "job [0-9]+ retry"); }},
      {{"--grep", "PANIC", "-i"},
       [](const Line& l) { return l.bytes.find("panic") != std::string::npos; }},
      {{"--where", "user=bob"}, [](const Line& l) { return l.user == "bob"; }},
      {{"--where", "user=svc", "--where", "n=7"},
       [](const Line& l) {
         return l.user == "svc" && l.bytes.find("\"n\":7,") != std::string::npos;
       }},
      {{"--priority", "err"},
       [](const Line& l) { return l.level == "error" || l.level == "crit"; }},
      {{"--priority", "warning..warning"}, [](const Line& l) { return l.level == "warning"; }},
      {{"--source", worker}, [&](const Line& l) { return l.file == worker; }},
      {{"--since", format_rfc3339_ns(since), "--until", format_rfc3339_ns(until)},
       [&](const Line& l) { return l.time_ns && *l.time_ns >= since && *l.time_ns < until; }},
      {{"--since", "@" + std::to_string(since / kS), "--until", "@" + std::to_string(until / kS),
        "--source", app, "--priority", "err"},
       [&](const Line& l) {
         return l.file == app && l.time_ns && *l.time_ns >= since && *l.time_ns < until &&
                l.level == "error";
       }},
  };
  for (const auto& c : cases) {
    auto got = as_set(contents(logs(c.args)));
    EXPECT_EQ(got, expected(c.pred)) << ::testing::PrintToString(c.args);
  }
  // Local-time form, read as UTC with --utc.
  const std::string local = format_rfc3339_ns(since).substr(0, 19);
  std::string spaced = local;
  spaced[10] = ' ';
  auto got = as_set(contents(logs({"--since", spaced, "--until", format_rfc3339_ns(until)})));
  EXPECT_EQ(got, expected([&](const Line& l) {
              return l.time_ns && *l.time_ns >= since && *l.time_ns < until;
            }));
}

TEST_F(QueryE2E, LinesShowsTheLastMatches) {
  auto got = contents(logs({"--grep", "panic", "-n", "5"}));
  std::vector<std::pair<std::string, std::string>> want;
  for (int k = 15; k < 20; ++k)
    want.emplace_back(env->dir + "/logs/app.log",
                      json_line(base + 1000 * kS + k * (kS / 10), "crit",
                                "panic: worker " + std::to_string(k) + " crashed", "root", k));
  EXPECT_EQ(got, want);
}

TEST_F(QueryE2E, LastIsRelativeToTheInstancesEnd) {
  json answer = env->api(std::string("/v1/instances/") + kInstance + "/records",
                         {{"last", "2m"}, {"limit", "1"}});
  ASSERT_TRUE(answer.contains("anchor_ns")) << answer.dump();
  const std::int64_t anchor = answer["anchor_ns"];
  const json info = env->api(std::string("/v1/instances/") + kInstance)["instance"];
  ASSERT_FALSE(info["end"].is_null());
  // The anchor is the last thing the instance recorded: at its end, not at "now".
  EXPECT_LE(anchor, *parse_rfc3339_ns(info["end"]["time"].get<std::string>()) + 5 * kS);
  auto records = logs({"--last", "2m"});
  for (const auto& r : records) EXPECT_GT(r["time_ns"].get<std::int64_t>(), anchor - 120 * kS);
  // Every JSON-timed line inside the window is there.
  auto got = as_set(contents(records));
  for (const auto& l : lines) {
    if (l.time_ns && *l.time_ns > anchor - 120 * kS) {
      EXPECT_EQ(got.count({l.file, l.bytes}), 1u) << l.bytes;
    }
  }
  auto err = as_set(contents(logs({"--last", "2m", "--priority", "err"})));
  EXPECT_EQ(err, expected([&](const Line& l) {
              return l.time_ns && *l.time_ns > anchor - 120 * kS &&
                     (l.level == "error" || l.level == "crit");
            }));
}

TEST_F(QueryE2E, OverTheResultLimitThePagesAreFollowed) {
  // The server answers at most 1,000 records per request: the whole instance needs two.
  json first = env->api(std::string("/v1/instances/") + kInstance + "/records");
  ASSERT_TRUE(first["next_cursor"].is_string());
  EXPECT_EQ(first["records"].size(), 1000u);
  EXPECT_EQ(logs({}).size(), lines.size());
}

TEST_F(QueryE2E, InstancesAndTimeline) {
  auto table = env->cli({"instances"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("INSTANCE"), std::string::npos);
  EXPECT_NE(table.out.find(kInstance), std::string::npos);
  EXPECT_NE(table.out.find("ami-e2e"), std::string::npos);
  EXPECT_NE(table.out.find("goodbye"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("after termination notice"), std::string::npos) << table.out;

  auto terminated = env->cli({"instances", "--state", "terminated", "-o", "json"});
  ASSERT_EQ(terminated.exit_code, 0) << terminated.err;
  json arr = json::parse(terminated.out);
  const json schema =
      load_json_file(std::string(BLACKBOX_SOURCE_DIR) + "/schemas/instance.schema.json");
  ASSERT_FALSE(arr.empty());
  for (const auto& i : arr) EXPECT_TRUE(validate(schema, i).empty()) << join(validate(schema, i));
  auto running = env->cli({"instances", "--state", "running", "--image", "ami-e2e"});
  EXPECT_EQ(running.exit_code, 1);

  auto timeline = env->cli({"timeline", kInstance});
  ASSERT_EQ(timeline.exit_code, 0) << timeline.err;
  for (const char* want :
       {"hello", "termination_notice", "spot interruption", "goodbye", "errors", "worst crit"})
    EXPECT_NE(timeline.out.find(want), std::string::npos) << want << "\n" << timeline.out;
}

TEST_F(QueryE2E, ErrorsAreClearAndNonZero) {
  auto regex = env->cli({"logs", kInstance, "--grep", "(unclosed"});
  EXPECT_EQ(regex.exit_code, 2);
  EXPECT_NE(regex.err.find("not a valid RE2 regex"), std::string::npos) << regex.err;

  auto unknown = env->cli({"logs", "i-nobody"});
  EXPECT_EQ(unknown.exit_code, 4);
  EXPECT_NE(unknown.err.find("i-nobody"), std::string::npos) << unknown.err;
  EXPECT_EQ(env->cli({"timeline", "i-nobody"}).exit_code, 4);

  auto time = env->cli({"logs", kInstance, "--since", "last tuesday-ish"});
  EXPECT_EQ(time.exit_code, 2);
  EXPECT_NE(time.err.find("malformed time"), std::string::npos) << time.err;
  EXPECT_EQ(env->cli({"logs", kInstance, "--last", "ten"}).exit_code, 2);

  auto nothing = env->cli({"logs", kInstance, "--grep", "no such text anywhere"});
  EXPECT_EQ(nothing.exit_code, 1);
  EXPECT_TRUE(nothing.out.empty());

  // A port nobody listens on: bind one, close it, use it.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  const std::string dead = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  auto unreachable = run({BLACKBOX_CLI_BIN, "--server", dead, "instances"}, env->dir);
  EXPECT_EQ(unreachable.exit_code, 3);
  EXPECT_NE(unreachable.err.find("cannot connect"), std::string::npos) << unreachable.err;
  // The environment variable works the same.
  auto via_env = run({BLACKBOX_CLI_BIN, "instances"}, env->dir, {"BLACKBOX_SERVER=" + dead});
  EXPECT_EQ(via_env.exit_code, 3);
  auto usage = env->cli({"logs"});
  EXPECT_EQ(usage.exit_code, 2);
}

TEST_F(QueryE2E, FollowPrintsNewRecordsUntilInterrupted) {
  const std::string log = env->dir + "/follow.log";
  { std::ofstream(log) << "first line\n"; }
  auto agent = env->start_agent("i-follow", log, env->dir + "/agent-follow");
  ASSERT_TRUE(eventually([&] {
    json r = env->api("/v1/instances/i-follow/records");
    return r.is_object() && r["records"].size() == 1;
  })) << read_file(env->dir + "/agent-follow.err");
  const std::string out = env->dir + "/follow.out";
  ChildProcess follow(ChildOptions{
      {BLACKBOX_CLI_BIN, "--server", env->server, "logs", "i-follow", "-f", "-o", "ndjson"},
      out,
      env->dir + "/follow.err",
      {}});
  ASSERT_TRUE(eventually([&] { return read_file(out).find("first line") != std::string::npos; }))
      << read_file(env->dir + "/follow.err");
  {
    std::ofstream f(log, std::ios::app);
    f << "second line\nthird line ERROR\n";
  }
  ASSERT_TRUE(eventually([&] { return ndjson(read_file(out)).size() == 3; }))
      << read_file(out) << read_file(env->dir + "/follow.err");
  follow.signal(SIGINT);
  EXPECT_EQ(follow.wait_exit(std::chrono::seconds(10)), 0);
  auto records = ndjson(read_file(out));
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[1]["message"], "second line");
  EXPECT_EQ(records[2]["message"], "third line ERROR");
  agent->signal(SIGTERM);
  EXPECT_EQ(agent->wait_exit(std::chrono::seconds(40)), 0);
}

}  // namespace
}  // namespace blackbox::testing
