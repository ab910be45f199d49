// The agent's local control channel: a unix socket in the state directory (mode 0600) that
// `blackbox-agent notify-termination` uses to tell the running agent that the server is about
// to go (spot interruption, autoscaling hook). One text line per request, one reply line:
//   termination-notice <reason>   →   ok <what was done>  |  error <why>
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "schemas/result.h"

namespace blackbox::agent {

class ControlServer {
 public:
  // Handles one request line (no newline); returns the reply line. Runs on the server's
  // thread and may block (a flush) for a few seconds.
  using Handler = std::function<std::string(std::string_view request)>;

  // Binds `path` (replacing a stale socket) and serves on a thread of its own. Errors: kIo.
  [[nodiscard]] static Result<std::unique_ptr<ControlServer>> start(const std::string& path,
                                                                    Handler handler);
  ~ControlServer();

 private:
  ControlServer() = default;
  void serve();

  std::string path_;
  Handler handler_;
  int listen_fd_ = -1;
  int stop_fd_ = -1;  // eventfd
  std::thread thread_;
};

// Sends `request` to the agent listening at `path`, returns its reply line.
// Errors: kUnavailable (no agent there), kTimeout, kIo.
[[nodiscard]] Result<std::string> control_request(const std::string& path, std::string_view request,
                                                  std::chrono::milliseconds timeout);

}  // namespace blackbox::agent
