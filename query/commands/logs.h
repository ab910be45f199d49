// `blackbox logs INSTANCE ...`: an instance's records with journalctl habits. Without -n it
// follows the API's cursor and streams every match; -n N prints the last N matches; -f then
// waits for new records until interrupted (after the last 10 when -n is not given).
#pragma once

#include <string>
#include <vector>

#include "query/commands/command_context.h"

namespace CLI {
class App;
}

namespace blackbox::query {

struct LogsOptions {
  std::string instance;
  std::string since;  // user time (time_spec.h)
  std::string until;
  std::string last;  // duration before the instance's end
  std::string grep;  // RE2
  bool ignore_case = false;
  std::vector<std::string> where;             // FIELD=VALUE, all must match
  std::string priority;                       // LEVEL or FROM..TO
  std::vector<std::string> source;            // any of these sources
  int context = -1, after = -1, before = -1;  // -C, -A, -B
  long lines = -1;                            // -n: the last N matches
  bool follow = false;
  std::string output = "short";
  std::string stream = "logs";  // logs | lifecycle | snapshots | all
};

// Declares the subcommand and its flags on `app`, bound to `opts`.
CLI::App* add_logs_command(CLI::App& app, LogsOptions& opts);

int run_logs(const LogsOptions& opts, CommandContext& ctx);

}  // namespace blackbox::query
