#include "tests/support/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace blackbox::testing {
namespace {

using SteadyClock = std::chrono::steady_clock;

int ms_left(SteadyClock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

// This process's environment with `overrides` ("NAME=value") added or replacing.
std::vector<std::string> merged_env(const std::vector<std::string>& overrides) {
  std::vector<std::string> out;
  for (char** e = environ; *e; ++e) {
    const std::string s = *e;
    bool replaced = false;
    for (const auto& x : overrides)
      replaced |= s.compare(0, x.find('=') + 1, x, 0, x.find('=') + 1) == 0;
    if (!replaced) out.push_back(s);
  }
  out.insert(out.end(), overrides.begin(), overrides.end());
  return out;
}

std::vector<std::string> command_line(const std::string& binary,
                                      const std::vector<std::string>& args) {
  std::vector<std::string> argv{binary};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

void touch(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd >= 0) ::close(fd);
}

}  // namespace

ChildProcess::ChildProcess(std::vector<std::string> argv, const std::string& log_path)
    : ChildProcess(ChildOptions{std::move(argv), log_path, "", {}}) {}

ChildProcess::ChildProcess(const std::string& binary, const std::vector<std::string>& args,
                           const std::string& log_path)
    : ChildProcess(ChildOptions{command_line(binary, args), log_path, "", {}}) {}

ChildProcess::ChildProcess(const ChildOptions& o) : out_path_(o.out_path) {
  // Created here, not by the child, so that wait_output() can watch it from the start.
  touch(o.out_path);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, o.out_path.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (o.err_path.empty()) {
    posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
  } else {
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, o.err_path.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
  }
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  std::vector<std::string> args = o.argv;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env = merged_env(o.env);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  const int rc = posix_spawn(&pid_, argv[0], &fa, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    pid_ = -1;
    throw std::runtime_error("cannot start " + o.argv[0] + ": " + std::strerror(rc));
  }
  pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  if (pidfd_ < 0) throw std::runtime_error("pidfd_open: " + std::string(std::strerror(errno)));
}

ChildProcess::~ChildProcess() {
  kill9();
  if (pidfd_ >= 0) ::close(pidfd_);
}

bool ChildProcess::running() {
  if (status_ || pid_ <= 0) return false;
  int st = 0;
  if (::waitpid(pid_, &st, WNOHANG) == pid_) {
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
    return false;
  }
  return true;
}

void ChildProcess::signal(int sig) {
  if (running()) ::kill(pid_, sig);
}

void ChildProcess::kill9() {
  if (!running()) return;
  ::kill(pid_, SIGKILL);
  int st = 0;
  if (::waitpid(pid_, &st, 0) == pid_) status_ = WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
}

std::optional<int> ChildProcess::wait_exit(std::chrono::milliseconds timeout) {
  if (!running()) return status_;
  pollfd p{pidfd_, POLLIN, 0};
  const auto deadline = SteadyClock::now() + timeout;
  while (running()) {
    const int left = ms_left(deadline);
    if (left == 0) return std::nullopt;
    ::poll(&p, 1, left);  // readable once the child has exited; EINTR just loops
  }
  return status_;
}

bool ChildProcess::wait_output(const std::function<bool(const std::string&)>& pred,
                               std::chrono::milliseconds timeout, std::size_t offset) {
  const auto deadline = SteadyClock::now() + timeout;
  const int in = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (in < 0) throw std::runtime_error("inotify_init1: " + std::string(std::strerror(errno)));
  ::inotify_add_watch(in, out_path_.c_str(), IN_MODIFY);
  auto check = [&] {
    const std::string all = read_file(out_path_);
    return pred(offset < all.size() ? all.substr(offset) : std::string());
  };
  bool ok = false;
  for (;;) {
    if ((ok = check())) break;  // after the watch is set: no write can slip between
    if (!running() || ms_left(deadline) == 0) {
      ok = check();
      break;
    }
    pollfd p[2] = {{in, POLLIN, 0}, {pidfd_, POLLIN, 0}};
    ::poll(p, 2, ms_left(deadline));
    char buf[4096];
    while (::read(in, buf, sizeof buf) > 0) {
    }
  }
  ::close(in);
  return ok;
}

double ChildProcess::cpu_seconds() const {
  const std::string text = read_file("/proc/" + std::to_string(pid_) + "/stat");
  const auto close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(text.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stod(field);
    if (i == 15) stime = std::stod(field);
  }
  return (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

std::uint64_t ChildProcess::peak_rss_bytes() const {
  std::istringstream in(read_file("/proc/" + std::to_string(pid_) + "/status"));
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  return 0;
}

RunResult run(const std::vector<std::string>& argv, const std::string& dir,
              const std::vector<std::string>& env, std::chrono::milliseconds timeout) {
  static int counter = 0;
  const std::string base =
      dir + "/run-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  RunResult r;
  {
    ChildProcess p(ChildOptions{argv, base + ".out", base + ".err", env});
    r.exit_code = p.wait_exit(timeout).value_or(-1);
  }
  r.out = read_file(base + ".out");
  r.err = read_file(base + ".err");
  std::remove((base + ".out").c_str());
  std::remove((base + ".err").c_str());
  return r;
}

bool poll_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  while (!pred()) {
    if (SteadyClock::now() >= deadline) return pred();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::size_t file_size(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  return in ? static_cast<std::size_t>(in.tellg()) : 0;
}

}  // namespace blackbox::testing
