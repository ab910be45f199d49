// `blackbox timeline INSTANCE`: an instance's life on one screen, oldest first: hello and
// boots, reconnections, gaps (missing sequence ranges and agent-side gap records), bursts of
// err-or-worse records per minute, the termination notice, and the end (goodbye or silence).
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "query/commands/command_context.h"

namespace CLI {
class App;
}

namespace blackbox::query {

struct TimelineOptions {
  std::string instance;
  std::string bucket = "1m";     // width of the error-burst buckets
  std::string priority = "err";  // what counts as an error
  std::string output = "short";  // short | json
};

CLI::App* add_timeline_command(CLI::App& app, TimelineOptions& opts);
int run_timeline(const TimelineOptions& opts, CommandContext& ctx);

// The rendering of a timeline document (the API's answer), for tests.
void render_timeline(const nlohmann::json& doc, Output& out, bool utc);

}  // namespace blackbox::query
