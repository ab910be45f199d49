// blackbox-agent: parse flags, load the config, run (agent/runtime.h). Nothing else.
#include <malloc.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "agent/config.h"
#include "agent/control_socket.h"
#include "agent/identity.h"
#include "agent/runtime.h"
#include "schemas/logging.h"
#include "schemas/version.h"

namespace {

using blackbox::agent::Config;

int notify_termination(const std::string& state_dir, const std::string& reason) {
  Config c;
  c.agent.state_dir = state_dir;
  std::string clean;
  for (char ch : reason) clean.push_back(ch == '\n' || ch == '\r' ? ' ' : ch);
  auto reply = blackbox::agent::control_request(
      c.control_socket_path(), "termination-notice " + clean, std::chrono::seconds(10));
  if (!reply) {
    std::fprintf(stderr,
                 "blackbox-agent notify-termination: no running agent answered on %s (%s); is "
                 "--state-dir right?\n",
                 c.control_socket_path().c_str(), reply.error().message().c_str());
    return 1;
  }
  std::printf("%s\n", reply->c_str());
  return reply->rfind("ok", 0) == 0 ? 0 : 1;
}

}  // namespace

// Flags (CLI11), config, the notify-termination subcommand, then run_agent(): a flat list of
// steps that reads best in order (~95 lines, most of them flag declarations).
int main(int argc, char** argv) {
#ifdef __GLIBC__
  // The agent's few large buffers (batches, read buffer) are allocated once and recycled:
  // map them directly and keep to two arenas, so that freed memory does not linger per
  // thread (peak RSS -3 MB at full speed, measured with bench/agent_e2e.cc).
  mallopt(M_ARENA_MAX, 2);
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
#endif
  // Signals are taken by sigwait in the main thread: block them before any thread starts.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  CLI::App app{
      "blackbox-agent: tails logs, spools them durably and ships them to a Blackbox "
      "collector; on SIGTERM it drains, ships and says goodbye (the last gasp)."};
  app.set_version_flag("--version", "blackbox-agent " + std::string(blackbox::kVersion));
  std::string config_path, read_from, metrics_listen, log_level, instance_id, image_id, state_dir;
  std::vector<std::string> collectors, files;
  bool check_config = false;
  app.add_option("--config", config_path, "TOML config file (see blackbox-agent.toml)")
      ->check(CLI::ExistingFile);
  app.add_option("--collector", collectors,
                 "collector HOST:PORT; repeat for failover (replaces ship.collectors)")
      ->allow_extra_args(false);
  app.add_option("--instance-id", instance_id, "instance id (default: cloud-init, machine-id)");
  app.add_option("--image-id", image_id, "image id (default: agent.image_id_file)");
  app.add_option("--state-dir", state_dir, "state directory: spool, lock, control socket");
  app.add_option("--file", files, "glob of files to tail; repeatable (replaces files.paths)")
      ->allow_extra_args(false);
  app.add_option("--read-from", read_from, "first start: read files from beginning|end")
      ->check(CLI::IsMember({"beginning", "end"}));
  app.add_option("--metrics-listen", metrics_listen,
                 "Prometheus endpoint HOST:PORT (\"\" disables)");
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error|critical|off");
  app.add_flag("--check-config", check_config, "validate the configuration and exit");

  auto* notify = app.add_subcommand(
      "notify-termination",
      "tell the running agent the server is about to terminate: it records a termination "
      "notice and flushes at once");
  std::string reason = "termination notice";
  std::string notify_state_dir = Config{}.agent.state_dir;
  notify->add_option("--reason", reason, "why (spot interruption, scale-in, ...)");
  notify->add_option("--state-dir", notify_state_dir, "the running agent's state directory");

  CLI11_PARSE(app, argc, argv);
  if (*notify) return notify_termination(notify_state_dir, reason);

  blackbox::setup_logging("agent");

  // Every problem at once: those of the file, then those of the values (flags applied).
  std::vector<std::string> problems;
  Config config;
  if (!config_path.empty()) {
    (void)blackbox::agent::read_config_file(config_path, config, problems);  // see `problems`
  }
  if (!collectors.empty()) config.ship.collectors = collectors;
  if (!files.empty()) config.files.paths = files;
  if (!instance_id.empty()) config.agent.instance_id = instance_id;
  if (!image_id.empty()) config.agent.image_id = image_id;
  if (!state_dir.empty()) config.agent.state_dir = state_dir;
  if (!read_from.empty()) config.files.read_from = read_from;
  if (app.count("--metrics-listen")) config.agent.metrics_listen = metrics_listen;
  if (!log_level.empty()) config.agent.log_level = log_level;

  for (auto& p : blackbox::agent::validate(config)) problems.push_back(std::move(p));
  if (!problems.empty()) {
    for (const auto& p : problems) std::fprintf(stderr, "config: %s\n", p.c_str());
    return 2;
  }
  if (check_config) {
    std::string problem;
    const auto& a = config.agent;
    auto id = blackbox::agent::resolve_identity(
        {a.instance_id, a.cloud_instance_id_file, a.machine_id_file, a.image_id, a.image_id_file,
         a.boot_id_file},
        problem);
    if (!id) {
      std::fprintf(stderr, "config: %s\n", problem.c_str());
      return 2;
    }
    std::printf("instance %s (from %s)\n", id->instance_id.c_str(), id->instance_id_source.c_str());
    std::printf("config ok: %zu file pattern(s), %zu collector(s), state dir %s\n",
                config.files.paths.size(), config.ship.collectors.size(),
                config.agent.state_dir.c_str());
    std::printf("%s", blackbox::agent::render_config(config).c_str());
    return 0;
  }
  spdlog::set_level(spdlog::level::from_str(config.agent.log_level));
  return blackbox::agent::run_agent(config,
                                    blackbox::kVersion.data());  // a literal: NUL-terminated
}
