// `blackbox verify INSTANCE` / `--all`: asks the collector to recompute every stream's hash
// chain and check the agent's signed heads (GET /v1/instances/{id}/verify, /v1/verify?all=1;
// issue 12 item 5), and says what it found: intact ranges, gaps and their reasons, the first
// batch that breaks a chain, unreadable batches, signatures, and the unsigned tail. The exit
// code is the verdict: 0 intact, 10 gaps only, 11 tampered, 6 unreadable (query/exit_codes.h).
#pragma once

#include <string>

#include "query/commands/command_context.h"

namespace CLI {
class App;
}

namespace blackbox::query {

struct VerifyCmdOptions {
  std::string instance;
  bool all = false;
  std::string since;
  std::string until;
  std::string key;  // public key (hex), fingerprint pin, or a file holding a PEM public key
  std::string output = "short";
};

CLI::App* add_verify_command(CLI::App& app, VerifyCmdOptions& opts);
int run_verify(const VerifyCmdOptions& opts, CommandContext& ctx);

}  // namespace blackbox::query
