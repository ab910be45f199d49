// blackbox-collector: receives, verifies and stores what agents send (collector/README.md).
// Flags parse into Config; Collector does the rest.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "collector/collector.h"
#include "collector/config.h"
#include "collector/enrollments_command.h"
#include "collector/http/collector_http.h"
#include "collector/ingest_security.h"
#include "collector/server/fd_limit.h"
#include "schemas/logging.h"
#include "schemas/version.h"

namespace {

using namespace blackbox;
using namespace blackbox::collector;

int hold_command(const Config& config, const std::vector<std::string>& instances, bool release) {
  auto store = Store::open(store_options(config));
  if (!store) {
    std::cerr << "blackbox-collector: cannot open " << config.collector.data_dir
              << " (is the collector running? holds are set while it is stopped, or via "
                 "storage.legal_hold in the config)\n";
    return 1;
  }
  for (const auto& i : instances) {
    if (auto ok = (*store)->set_legal_hold(i, !release); !ok) {
      std::cerr << "blackbox-collector: " << i << ": " << ok.error().message() << "\n";
      return 1;
    }
    std::cout << (release ? "released " : "held ") << i << "\n";
  }
  if (instances.empty())
    for (const auto& i : (*store)->legal_holds()) std::cout << i << "\n";
  return 0;
}

// `blackbox-collector repair`: copy, RepairDB, say what came back and where the copy is.
int repair_command(const Config& config) {
  const std::string& dir = config.collector.data_dir;
  std::cout << "repairing " << dir << " (the collector must be stopped)\n";
  auto r = Store::repair(store_options(config));
  if (!r) {
    std::cerr << "blackbox-collector: repair of " << dir << " failed: " << r.error().message()
              << " (the log above says why; the directory is unchanged unless a copy was "
                 "named)\n";
    return 1;
  }
  std::cout << "copied " << dir << " to " << r->backup_dir << " before repairing\n"
            << "recovered " << r->instances << " instances, " << r->batches << " batches, "
            << r->records << " records (" << r->files_before << " RocksDB files before)\n";
  if (r->unreadable > 0)
    std::cout << r->unreadable << " stored batches did not parse and were kept as they are\n";
  std::cout << "start the collector again; if something is missing, the copy in " << r->backup_dir
            << " is the directory as it was\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"blackbox-collector: receives, verifies and stores what Blackbox agents send"};
  std::string config_file, data_dir, listen, http, log_level;
  bool check_config = false, version = false, insecure = false;
  app.add_option("--config", config_file, "TOML config file")->check(CLI::ExistingFile);
  app.add_option("--data-dir", data_dir, "RocksDB data directory (overrides the config)");
  app.add_option("--listen", listen, "HOST:PORT for agents (port 0 = any free port)");
  app.add_option("--http", http, "HOST:PORT for the query API and /metrics");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error, critical, off");
  app.add_flag("--check-config", check_config, "validate the config and exit");
  app.add_flag("--insecure", insecure,
               "allow listeners beyond loopback without authentication: the ingest port with no "
               "token secret, enrollment secret or mTLS (anyone reaching it may write as any "
               "instance), the query API without api.tokens_file (anyone may read)");
  app.add_flag("--version", version, "print the version and exit");
  auto* hold = app.add_subcommand(
      "hold", "put instances on legal hold (collector stopped); no INSTANCE: list holds");
  std::vector<std::string> hold_instances;
  bool release = false;
  hold->add_option("INSTANCE", hold_instances, "instance ids");
  hold->add_flag("--release", release, "release the hold instead");
  hold->fallthrough();  // --data-dir / --config may follow the subcommand
  auto* repair = app.add_subcommand(
      "repair",
      "rebuild a damaged data directory (collector stopped): copies it to "
      "DIR.before-repair-<time> first, then runs RocksDB's repair and reports what it recovered");
  repair->fallthrough();
  auto* enroll = app.add_subcommand(
      "enrollments", "enrolled instance keys (collector stopped): list, or reset INSTANCE");
  auto* enroll_list = enroll->add_subcommand("list", "list enrolled instance keys");
  auto* enroll_reset = enroll->add_subcommand(
      "reset", "forget INSTANCE's key: its next HELLO enrolls again (a rebuilt server)");
  std::string reset_instance;
  enroll_reset->add_option("INSTANCE", reset_instance, "instance id")->required();
  enroll->require_subcommand(1);
  for (auto* sub : {enroll, enroll_list, enroll_reset}) sub->fallthrough();
  CLI11_PARSE(app, argc, argv);

  if (version) {
    std::cout << "blackbox-collector " << blackbox::kVersion << "\n";
    return 0;
  }
  setup_logging("collector");

  // Every problem at once: those of the file, then those of the values (flags applied).
  std::vector<std::string> problems;
  Config config;
  if (!config_file.empty()) {
    (void)read_config_file(config_file, config, problems);  // its problems are in `problems`
  }
  if (!data_dir.empty()) config.collector.data_dir = data_dir;
  if (!listen.empty()) config.collector.listen = listen;
  if (!http.empty()) config.collector.http = http;
  if (!log_level.empty()) config.collector.log_level = log_level;
  for (auto& p : validate(config)) problems.push_back(std::move(p));
  const http::HttpStartOptions http_start{insecure};
  if (!*hold && !*repair)
    for (auto& p : http::http_problems(config, http_start)) problems.push_back(std::move(p));
  if (!problems.empty()) {
    for (const auto& p : problems) std::cerr << "blackbox-collector: config: " << p << "\n";
    return 2;
  }
  if (check_config) {
    std::cout << "config ok\n" << render_config(config);
    return 0;
  }
  spdlog::set_level(spdlog::level::from_str(config.collector.log_level));
  if (*hold) return hold_command(config, hold_instances, release);
  if (*repair) return repair_command(config);
  if (*enroll_list) return enrollments_list_command(config, std::cout, std::cerr);
  if (*enroll_reset) return enrollments_reset_command(config, reset_instance, std::cout, std::cerr);

  std::string why;
  if (auto ok = check_inline_secret(config_file, config, why); !ok) {
    std::cerr << "blackbox-collector: " << why << "\n";
    return 2;
  }
  const IngestSecurity security = describe_ingest_security(config, insecure);
  if (!security.allowed) {
    std::cerr << "blackbox-collector: " << security.refusal << "\n";
    return 2;
  }
  if (security.insecure && !security.loopback && !security.authenticated())
    spdlog::warn("collector: --insecure: {}", security.summary);
  else
    spdlog::info("collector: {}", security.summary);
  raise_open_file_limit();  // logs the figures; the server's connection cap fits under it
  auto collector = Collector::open(config);
  if (!collector) {
    spdlog::error("collector: cannot start with data dir {}: {}", config.collector.data_dir,
                  collector.error().message());
    return 1;
  }
  if (auto port = (*collector)->listen(); !port) return 1;
  auto http_server = http::start_http_server(**collector, http_start);  // "http on HOST:PORT"
  if (!http_server) return 1;
  return (*collector)->run();
}
