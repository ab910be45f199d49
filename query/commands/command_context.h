// What every `blackbox` command gets from main: the API, where to print, and how to read and
// show times.
#pragma once

#include <atomic>
#include <cstdio>
#include <string>
#include <string_view>

#include "query/client/api_client.h"
#include "query/exit_codes.h"
#include "query/output/terminal.h"
#include "query/time_spec.h"

namespace blackbox::query {

struct CommandContext {
  ApiClient& api;
  Output& out;                                     // stdout, through the pager on a terminal
  std::FILE* err = stderr;                         // messages for a person
  TimeContext time;                                // "now" and --utc
  const std::atomic<bool>* interrupted = nullptr;  // raised by SIGINT/SIGTERM (logs -f)
};

// Prints "blackbox: <message>" on ctx.err and returns the error's exit code.
int report(const CommandContext& ctx, const ApiError& e);
// Prints "blackbox: <message>" on ctx.err and returns `code`.
int report(const CommandContext& ctx, ExitCode code, std::string_view message);

// Parses a --since/--until value into the RFC 3339 text the API takes; on failure prints what
// forms are accepted and returns false.
bool user_time_param(const CommandContext& ctx, std::string_view flag, std::string_view text,
                     std::string& rfc3339);
// Adds "since" / "until" to `params` for the non-empty --since / --until values; false (after
// printing why) if one is malformed.
bool add_time_window(const CommandContext& ctx, const std::string& since, const std::string& until,
                     QueryParams& params);

}  // namespace blackbox::query
