// Where the CLI's output goes: stdout, through a pager when stdout is a terminal (as journalctl
// does), with ANSI colours only when a person is looking.
#pragma once

#include <sys/types.h>

#include <cstdio>
#include <functional>
#include <string>
#include <string_view>

namespace blackbox::query {

bool is_terminal(int fd) noexcept;

// Writes to a FILE*, remembering the first failure (EPIPE once a pager quits): commands check
// ok() and stop producing output instead of failing.
class Output {
 public:
  Output(std::FILE* f, bool color) : f_(f), color_(color) {}
  // Called once, just before the first byte is written (main starts the pager there, so that
  // a command that fails before printing anything does not open an empty pager).
  void before_first_write(std::function<void()> hook) { hook_ = std::move(hook); }
  void write(std::string_view s);
  void line(std::string_view s) {
    write(s);
    write("\n");
  }
  void flush();
  bool ok() const { return ok_; }
  bool color() const { return color_; }

 private:
  std::FILE* f_;
  bool color_;
  bool ok_ = true;
  std::function<void()> hook_;
};

// ANSI SGR sequences (empty strings when colour is off).
struct Ansi {
  static constexpr std::string_view kReset = "\x1b[0m";
  static constexpr std::string_view kBold = "\x1b[1m";
  static constexpr std::string_view kDim = "\x1b[2m";
  static constexpr std::string_view kRed = "\x1b[31m";
  static constexpr std::string_view kBoldRed = "\x1b[1;31m";
  static constexpr std::string_view kYellow = "\x1b[33m";
  static constexpr std::string_view kGreen = "\x1b[32m";
  static constexpr std::string_view kCyan = "\x1b[36m";
};
// The colour journalctl gives a syslog priority (0..7); -1 (unknown) is uncoloured.
std::string_view severity_color(int priority) noexcept;

// Pipes stdout through a pager for the object's lifetime. start() runs `command` (via sh -c)
// with LESS=FRSXMK unless LESS is set, and dup2()s stdout onto its stdin; the destructor closes
// stdout's pipe and waits for the pager to exit. SIGPIPE is ignored so that quitting the pager
// early shows up as a failed write (Output::ok()), not a killed process.
class Pager {
 public:
  Pager() = default;
  ~Pager();
  Pager(const Pager&) = delete;
  Pager& operator=(const Pager&) = delete;

  // False (and stdout untouched) when the pager cannot be started.
  bool start(const std::string& command);

 private:
  pid_t pid_ = -1;
};

}  // namespace blackbox::query
