// Runs the real blackbox-agent binary as a child process for tests and the benchmark: start
// with arguments (output appended to a log file), send real signals, wait for the exit with
// a deadline, read its resource usage from /proc.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace blackbox::agent::testing {

// Path of the built blackbox-agent (compile definition BLACKBOX_AGENT_BIN).
std::string agent_binary();

class AgentProcess {
 public:
  // Starts `binary args...` with stdout and stderr appended to `log_path`.
  AgentProcess(const std::string& binary, const std::vector<std::string>& args,
               const std::string& log_path);
  ~AgentProcess();  // SIGKILLs and reaps a child still running
  AgentProcess(const AgentProcess&) = delete;
  AgentProcess& operator=(const AgentProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  void signal(int sig);
  // The exit status once it exits: the code, or -signal when killed. nullopt on timeout.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);

  // From /proc/<pid>: CPU seconds (user+sys) and peak RSS (VmHWM) in bytes, while running.
  double cpu_seconds() const;
  std::uint64_t peak_rss_bytes() const;

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// Polls `pred` every few milliseconds until it holds or `timeout` passes (for conditions on
// files and processes, where nothing can notify us).
template <class Pred>
bool poll_until(Pred pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (int i = 0; i < 1'000'000; ++i) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    struct timespec ts {
      0, 5'000'000
    };
    nanosleep(&ts, nullptr);
  }
  return false;
}

// The whole content of a (small) file, "" if missing.
std::string slurp(const std::string& path);

}  // namespace blackbox::agent::testing
