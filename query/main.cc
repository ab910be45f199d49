// `blackbox`: the post-mortem CLI, a thin client over the collector's HTTP query API.
// Parses flags, builds the HTTP client and the output (pager, colour), runs one command.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <memory>
#include <string>

#include "query/client/api_client.h"
#include "query/client/http_client.h"
#include "query/commands/admin.h"
#include "query/commands/command_context.h"
#include "query/commands/instances.h"
#include "query/commands/logs.h"
#include "query/commands/timeline.h"
#include "query/commands/verify.h"
#include "query/exit_codes.h"
#include "query/output/terminal.h"
#include "schemas/clock.h"
#include "schemas/http_api.h"
#include "schemas/http_target.h"
#include "schemas/secret_file.h"
#include "schemas/version.h"

namespace {

using namespace blackbox;
using namespace blackbox::query;

std::atomic<bool> g_interrupted{false};

extern "C" void on_interrupt(int) { g_interrupted.store(true); }

// Ctrl-C during `logs -f` ends the follow cleanly (json arrays closed, exit 0).
void catch_interrupts() {
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool in_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return false;
  std::string p = path;
  std::size_t start = 0;
  while (start <= p.size()) {
    const std::size_t end = std::min(p.find(':', start), p.size());
    const std::string file = p.substr(start, end - start) + "/" + program;
    if (::access(file.c_str(), X_OK) == 0) return true;
    start = end + 1;
  }
  return false;
}

// BLACKBOX_PAGER, then PAGER, then less; "" or "cat" mean no pager.
std::string pager_command() {
  for (const char* var : {"BLACKBOX_PAGER", "PAGER"}) {
    if (const char* v = std::getenv(var); v != nullptr) {
      const std::string s = v;
      return s == "cat" ? std::string() : s;
    }
  }
  return in_path("less") ? "less" : "";
}

// The bearer token: the first line of --token-file (a private file, read through
// read_secret_file), else $BLACKBOX_TOKEN, else none. Never a flag's value: flags show in `ps`.
// False (after printing why) when the file cannot be used.
bool read_token(const std::string& token_file, std::string& token) {
  if (!token_file.empty()) {
    std::string why;
    auto text = read_secret_file(token_file, why);
    if (!text) {
      std::fprintf(stderr, "blackbox: --token-file: %s\n", why.c_str());
      return false;
    }
    token = text->substr(0, text->find_first_of("\r\n"));
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.pop_back();
    if (token.empty()) {
      std::fprintf(stderr, "blackbox: --token-file %s: the first line holds no token\n",
                   token_file.c_str());
      return false;
    }
    return true;
  }
  if (const char* t = std::getenv("BLACKBOX_TOKEN"); t != nullptr) token = t;
  return true;
}

constexpr const char* kFooter =
    "Environment: BLACKBOX_SERVER (default for --server), BLACKBOX_TOKEN (bearer token, when "
    "no --token-file), BLACKBOX_CA_FILE (default for --ca-file), BLACKBOX_PAGER or PAGER (pager on "
    "a "
    "terminal; 'cat' or empty for none), NO_COLOR (no colours), TZ (time zone for display and "
    "for times without a zone).\n"
    "Times (--since/--until): 2026-11-26T06:35:14Z, '2026-11-26 06:35[:14]', 06:35, -15m, "
    "'2h ago', now, today, yesterday, @UNIX_SECONDS; without a zone they are local time "
    "(UTC with --utc).\n";

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"blackbox: ask a Blackbox collector what happened to an instance", "blackbox"};
  app.footer(std::string(kFooter) + kExitCodesHelp);
  app.set_version_flag("--version", "blackbox " + std::string(blackbox::kVersion));
  app.require_subcommand(1);
  app.fallthrough();  // global flags also after the subcommand

  std::string server(kDefaultServerUrl);
  bool no_pager = false, utc = false;
  std::string color = "auto";
  std::string token_file, ca_file;
  app.add_option("--server", server, "Collector query API URL (http://HOST:PORT or https://...)")
      ->envname("BLACKBOX_SERVER")
      ->capture_default_str();
  app.add_option("--token-file", token_file,
                 "File whose first line is the bearer token (mode 600; else $BLACKBOX_TOKEN)");
  app.add_option("--ca-file", ca_file,
                 "PEM CA certificate(s) that signed an https:// server's certificate (default: "
                 "the system's CAs)")
      ->envname("BLACKBOX_CA_FILE");
  app.add_flag("--no-pager", no_pager, "Do not pipe output into a pager");
  app.add_flag("--utc", utc, "Show and read times in UTC instead of local time");
  app.add_option("--color", color, "Colour by severity: auto (terminal only), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();

  InstancesOptions instances;
  LogsOptions logs;
  TimelineOptions timeline;
  auto* instances_cmd = add_instances_command(app, instances);
  auto* logs_cmd = add_logs_command(app, logs);
  auto* timeline_cmd = add_timeline_command(app, timeline);
  AdminOptions admin;
  const AdminCommands admin_cmds = add_admin_commands(app, admin);
  VerifyCmdOptions verify;
  auto* verify_cmd = add_verify_command(app, verify);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);  // prints help, version or the parse error
    return rc == 0 ? 0 : to_int(ExitCode::kUsage);
  }

  auto address = parse_server_url(server);
  if (!address) {
    std::fprintf(stderr,
                 "blackbox: --server '%s' is not an http://HOST:PORT or https://HOST:PORT "
                 "address\n",
                 server.c_str());
    return to_int(ExitCode::kUsage);
  }
  std::string token;
  if (!read_token(token_file, token)) return to_int(ExitCode::kUsage);
  const bool follow = logs_cmd->parsed() && logs.follow;
  if (follow) catch_interrupts();

  const bool terminal = is_terminal(STDOUT_FILENO);
  const bool use_color =
      color == "always" || (color == "auto" && terminal && std::getenv("NO_COLOR") == nullptr);
  Output out(stdout, use_color);
  std::unique_ptr<Pager> pager;
  if (terminal && !no_pager && !follow) {
    if (std::string cmd = pager_command(); !cmd.empty()) {
      out.before_first_write([&pager, cmd] {
        pager = std::make_unique<Pager>();
        if (!pager->start(cmd)) pager.reset();
      });
    }
  }

  HttpClientOptions http_options;
  http_options.cancel = &g_interrupted;
  http_options.bearer_token = std::move(token);
  http_options.ca_file = ca_file;
  HttpClient http(*address, http_options);
  ApiClient api(http);
  CommandContext ctx{api, out, stderr, TimeContext{SystemClock().wall_ns(), utc}, &g_interrupted};

  int rc = to_int(ExitCode::kUsage);
  if (instances_cmd->parsed()) rc = run_instances(instances, ctx);
  if (logs_cmd->parsed()) rc = run_logs(logs, ctx);
  if (timeline_cmd->parsed()) rc = run_timeline(timeline, ctx);
  if (admin_cmds.hold->parsed() || admin_cmds.release->parsed() ||
      admin_cmds.enrollments->parsed() || admin_cmds.reenroll->parsed())
    rc = run_admin(admin_cmds, admin, ctx);
  if (verify_cmd->parsed()) rc = run_verify(verify, ctx);
  out.flush();
  pager.reset();  // wait for the pager before exiting
  return rc;
}
