// `blackbox instances`: which instances existed, how each one ended. A table by default
// (instance, image, hostname, first seen, last seen, end, records, gaps, legal hold); -o json /
// ndjson give the objects of schemas/instance.schema.json.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "query/commands/command_context.h"

namespace CLI {
class App;
}

namespace blackbox::query {

struct InstancesOptions {
  std::string state;  // running | terminated | silent
  std::string image;
  std::string since;  // lives that intersect [since, until)
  std::string until;
  std::string output = "short";
};

CLI::App* add_instances_command(CLI::App& app, InstancesOptions& opts);
int run_instances(const InstancesOptions& opts, CommandContext& ctx);

// "goodbye: sigterm, after termination notice" / "silent" / "running": an instance object's end.
std::string describe_end(const nlohmann::json& instance);

}  // namespace blackbox::query
