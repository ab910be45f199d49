// The agent tests' names for the one process launcher (tests/support/child_process.h), and the
// path of the built blackbox-agent.
#pragma once

#include <string>

#include "tests/support/child_process.h"

namespace blackbox::agent::testing {

// Path of the built blackbox-agent (compile definition BLACKBOX_AGENT_BIN).
std::string agent_binary();

// AgentProcess(agent_binary(), args, log_path): stdout and stderr appended to the log; exit
// status as the code, or -signal when killed.
using AgentProcess = blackbox::testing::ChildProcess;
using blackbox::testing::poll_until;

// The whole content of a (small) file, "" if missing.
inline std::string slurp(const std::string& path) { return blackbox::testing::read_file(path); }

}  // namespace blackbox::agent::testing
