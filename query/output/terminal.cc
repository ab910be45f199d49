#include "query/output/terminal.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>

namespace blackbox::query {

bool is_terminal(int fd) noexcept { return ::isatty(fd) == 1; }

void Output::write(std::string_view s) {
  if (!ok_ || s.empty()) return;
  if (hook_) {
    auto hook = std::move(hook_);
    hook_ = nullptr;
    hook();
  }
  if (std::fwrite(s.data(), 1, s.size(), f_) != s.size()) ok_ = false;
}

void Output::flush() {
  if (ok_ && std::fflush(f_) != 0) ok_ = false;
}

std::string_view severity_color(int priority) noexcept {
  switch (priority) {
    case 0:
    case 1:
    case 2:
      return Ansi::kBoldRed;
    case 3:
      return Ansi::kRed;
    case 4:
      return Ansi::kYellow;
    case 5:
      return Ansi::kBold;
    case 7:
      return Ansi::kDim;
    default:
      return {};
  }
}

bool Pager::start(const std::string& command) {
  int fds[2];
  if (::pipe(fds) != 0) return false;
  std::fflush(stdout);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return false;
  }
  if (pid == 0) {
    ::dup2(fds[0], STDIN_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    ::setenv("LESS", "FRSXMK", /*overwrite=*/0);
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[0]);
  std::signal(SIGPIPE, SIG_IGN);
  ::dup2(fds[1], STDOUT_FILENO);
  ::close(fds[1]);
  pid_ = pid;
  return true;
}

Pager::~Pager() {
  if (pid_ < 0) return;
  std::fflush(stdout);
  ::close(STDOUT_FILENO);  // EOF for the pager: it stays until the user quits
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace blackbox::query
