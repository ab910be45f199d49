// The admin verbs of `blackbox` (issue 12 items 2 and 4), over the collector's admin endpoints
// (collector/http/admin.h); each needs an admin token, `enrollments` a read token:
//
//   blackbox hold INSTANCE [--force]   legal hold on while the collector runs (an instance it
//                                      never heard from is refused unless --force)
//   blackbox release INSTANCE          legal hold off
//   blackbox enrollments [-o json]     enrolled instance keys (instance, key fingerprint, time,
//                                      secret name, peer)
//   blackbox reenroll INSTANCE         forget an instance's enrolled key: its next HELLO enrolls
//                                      again (a rebuilt server keeping its id)
//
// Every action is recorded by the collector as an audit lifecycle event naming the token.
#pragma once

#include <string>

#include "query/commands/command_context.h"

namespace CLI {
class App;
}

namespace blackbox::query {

struct AdminOptions {
  std::string instance;
  bool force = false;
  std::string output = "short";  // enrollments: short | json
};

struct AdminCommands {
  CLI::App* hold = nullptr;
  CLI::App* release = nullptr;
  CLI::App* enrollments = nullptr;
  CLI::App* reenroll = nullptr;
};

AdminCommands add_admin_commands(CLI::App& app, AdminOptions& opts);
// Runs whichever of `cmds` was parsed; kUsage if none.
int run_admin(const AdminCommands& cmds, const AdminOptions& opts, CommandContext& ctx);

}  // namespace blackbox::query
