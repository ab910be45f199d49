#include "query/commands/instances.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "query/output/table.h"
#include "query/output/time_display.h"
#include "schemas/time_text.h"

namespace blackbox::query {
namespace {

using nlohmann::json;

std::string time_cell(const json& inst, const char* key, bool utc) {
  auto it = inst.find(key);
  if (it == inst.end() || !it->is_string()) return "-";
  auto t = parse_rfc3339_ns(it->get<std::string>());
  return t ? display_time(*t, utc, TimePrecision::kSeconds) : it->get<std::string>();
}

std::string_view state_color(const json& inst) {
  const std::string state = inst.value("state", "");
  if (state == "running") return Ansi::kGreen;
  if (state == "silent") return Ansi::kRed;
  return {};
}

}  // namespace

std::string describe_end(const json& inst) {
  auto end = inst.find("end");
  const std::string state = inst.value("state", "");
  if (end == inst.end() || !end->is_object()) return state.empty() ? "running" : state;
  const std::string kind = end->value("kind", "");
  std::string out;
  if (kind == "goodbye") {
    out = "goodbye";
    if (auto r = end->find("reason");
        r != end->end() && r->is_string() && !r->get<std::string>().empty())
      out += ": " + r->get<std::string>();
  } else {
    out = kind.empty() ? state : kind;
  }
  if (end->value("termination_notice", false) &&
      out.find("termination notice") == std::string::npos)
    out += ", after termination notice";
  return out;
}

CLI::App* add_instances_command(CLI::App& app, InstancesOptions& o) {
  auto* cmd = app.add_subcommand("instances", "List instances and how each one ended");
  cmd->add_option("--state", o.state, "Only instances in this state")
      ->check(CLI::IsMember({"running", "terminated", "silent"}));
  cmd->add_option("--image", o.image, "Only instances started from this image id");
  cmd->add_option("-S,--since", o.since, "Only instances alive at or after this time");
  cmd->add_option("-U,--until", o.until, "Only instances alive before this time");
  cmd->add_option("-o,--output", o.output, "Output mode: short (a table), json, ndjson")
      ->check(CLI::IsMember({"short", "json", "ndjson"}));
  return cmd;
}

int run_instances(const InstancesOptions& o, CommandContext& ctx) {
  QueryParams params;
  if (!o.state.empty()) params.emplace_back("state", o.state);
  if (!o.image.empty()) params.emplace_back("image", o.image);
  if (!add_time_window(ctx, o.since, o.until, params)) return to_int(ExitCode::kUsage);

  json all = json::array();
  std::string cursor;
  for (;;) {
    QueryParams p = params;
    if (!cursor.empty()) p.emplace_back("cursor", cursor);
    auto res = ctx.api.get("/v1/instances", p);
    if (!res) return report(ctx, res.error());
    if (auto it = res->find("instances"); it != res->end() && it->is_array())
      for (auto& i : *it) all.push_back(std::move(i));
    auto next = res->find("next_cursor");
    if (next == res->end() || !next->is_string()) break;
    cursor = next->get<std::string>();
  }

  if (o.output == "json") {
    ctx.out.line(all.dump(2, ' ', false, json::error_handler_t::replace));
  } else if (o.output == "ndjson") {
    for (const auto& i : all) ctx.out.line(i.dump(-1, ' ', false, json::error_handler_t::replace));
  } else if (!all.empty()) {
    Table table({"INSTANCE", "IMAGE", "HOSTNAME", "FIRST SEEN", "LAST SEEN", "END", "RECORDS",
                 "GAPS", "HOLD"});
    for (const auto& i : all) {
      std::string host = "-";
      if (auto h = i.find("hostnames");
          h != i.end() && h->is_array() && !h->empty() && h->back().is_string())
        host = h->back().get<std::string>();
      const std::string image = i.value("image", "");
      const auto gaps = i.value("gaps", std::uint64_t{0});
      table.add_row({{i.value("instance", ""), {}},
                     {image.empty() ? "-" : image, {}},
                     {host, {}},
                     {time_cell(i, "first_seen", ctx.time.utc), {}},
                     {time_cell(i, "last_seen", ctx.time.utc), {}},
                     {describe_end(i), state_color(i)},
                     {std::to_string(i.value("records", std::uint64_t{0})), {}},
                     {std::to_string(gaps), gaps > 0 ? Ansi::kYellow : std::string_view()},
                     {i.value("legal_hold", false) ? "legal hold" : "-", {}}});
    }
    table.print(ctx.out);
  }
  ctx.out.flush();
  if (all.empty()) {
    report(ctx, ExitCode::kNoMatch, "no instances match");
    return to_int(ExitCode::kNoMatch);
  }
  return to_int(ExitCode::kOk);
}

}  // namespace blackbox::query
