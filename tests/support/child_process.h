// Real processes for tests and benchmarks (the one launcher): spawn a binary with its output
// appended to files, send signals, wait for its exit or for its output to say something, and
// read its resource usage. Waits are driven by events — a pidfd for the exit, inotify for the
// output file — and bounded by a timeout that only guards against a hang: nothing here sleeps
// for a while and hopes.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace blackbox::testing {

struct ChildOptions {
  std::vector<std::string> argv;  // argv[0] is the binary's path
  std::string out_path;           // stdout, appended (created if missing)
  std::string err_path;           // stderr, appended; empty: the same file as stdout
  std::vector<std::string> env;   // "NAME=value", added to (or overriding) this environment
};

class ChildProcess {
 public:
  // Starts the child with stdin from /dev/null and no blocked signals. Throws
  // std::runtime_error if it cannot be spawned (a broken test setup, not a test outcome).
  explicit ChildProcess(const ChildOptions& options);
  // Convenience: `argv` with stdout and stderr appended to `log_path`.
  ChildProcess(std::vector<std::string> argv, const std::string& log_path);
  // Convenience: `binary args...` with stdout and stderr appended to `log_path`.
  ChildProcess(const std::string& binary, const std::vector<std::string>& args,
               const std::string& log_path);
  ~ChildProcess();  // SIGKILLs and reaps a child still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // False once it has exited (reaps it).
  bool running();
  void signal(int sig);
  // SIGKILL and reap: the process is gone when this returns.
  void kill9();
  // Waits for the exit: the exit code, or -signal when a signal ended it; nullopt if it is still
  // running after `timeout`.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  // Waits until `pred(output)` holds, where `output` is what the child wrote to its stdout file
  // from byte `offset` on; re-checked whenever the file changes. False if the child exits first
  // (after one last check) or `timeout` passes.
  bool wait_output(const std::function<bool(const std::string&)>& pred,
                   std::chrono::milliseconds timeout, std::size_t offset = 0);
  const std::string& out_path() const { return out_path_; }

  // From /proc/<pid> while running: CPU seconds (user+sys) and peak RSS (VmHWM) in bytes.
  double cpu_seconds() const;
  std::uint64_t peak_rss_bytes() const;

 private:
  pid_t pid_ = -1;
  int pidfd_ = -1;
  std::optional<int> status_;
  std::string out_path_;
};

struct RunResult {
  int exit_code = -1;  // as ChildProcess::wait_exit; -1 also when it did not end in time
  std::string out;
  std::string err;
};

// Runs a command to completion (killed after `timeout`), its output captured through files in
// `dir`.
RunResult run(const std::vector<std::string>& argv, const std::string& dir,
              const std::vector<std::string>& env = {},
              std::chrono::milliseconds timeout = std::chrono::seconds(120));

// Polls `pred` every 5 ms until it holds or `timeout` passes, for conditions nothing can
// notify us of (an HTTP answer, a directory listing). Returns its last value.
bool poll_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout);

// The whole content of a (small) file, "" if missing.
std::string read_file(const std::string& path);
std::size_t file_size(const std::string& path);

}  // namespace blackbox::testing
