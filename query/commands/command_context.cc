#include "query/commands/command_context.h"

#include <string>

#include "schemas/time_text.h"

namespace blackbox::query {

int report(const CommandContext& ctx, ExitCode code, std::string_view message) {
  std::string line = "blackbox: ";
  line += message;
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), ctx.err);
  return to_int(code);
}

int report(const CommandContext& ctx, const ApiError& e) {
  return report(ctx, e.exit_code, e.message);
}

bool user_time_param(const CommandContext& ctx, std::string_view flag, std::string_view text,
                     std::string& rfc3339) {
  auto t = parse_user_time(text, ctx.time);
  if (!t) {
    report(ctx, ExitCode::kUsage,
           "malformed time '" + std::string(text) + "' for " + std::string(flag) + " (" +
               std::string(kTimeFormsHelp) + ")");
    return false;
  }
  rfc3339 = format_rfc3339_ns(*t);
  return true;
}

bool add_time_window(const CommandContext& ctx, const std::string& since, const std::string& until,
                     QueryParams& params) {
  std::string t;
  if (!since.empty()) {
    if (!user_time_param(ctx, "--since", since, t)) return false;
    params.emplace_back("since", t);
  }
  if (!until.empty()) {
    if (!user_time_param(ctx, "--until", until, t)) return false;
    params.emplace_back("until", t);
  }
  return true;
}

}  // namespace blackbox::query
