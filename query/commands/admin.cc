#include "query/commands/admin.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "query/output/table.h"
#include "query/output/time_display.h"
#include "schemas/time_text.h"

namespace blackbox::query {
namespace {

using nlohmann::json;

int hold(const AdminOptions& o, bool on, CommandContext& ctx) {
  QueryParams params;
  if (on && o.force) params.emplace_back("force", "1");
  auto res =
      ctx.api.call(on ? "POST" : "DELETE", ApiClient::instance_path(o.instance, "/hold"), params);
  if (!res) return report(ctx, res.error());
  std::string line = (on ? "held " : "released ") + o.instance;
  if (!res->value("changed", true)) line += on ? " (it was on hold already)" : " (it was not held)";
  if (res->value("forced", false)) line += " (forced: the collector never heard from it)";
  ctx.out.line(line);
  return to_int(ExitCode::kOk);
}

int reenroll(const AdminOptions& o, CommandContext& ctx) {
  auto res = ctx.api.call("POST", ApiClient::instance_path(o.instance, "/reenroll"));
  if (!res) return report(ctx, res.error());
  ctx.out.line("forgot the enrolled key of " + o.instance + " (" +
               res->value("previous_key", std::string("?")) +
               "): its next connection enrolls again");
  return to_int(ExitCode::kOk);
}

int enrollments(const AdminOptions& o, CommandContext& ctx) {
  auto res = ctx.api.get("/v1/enrollments");
  if (!res) return report(ctx, res.error());
  const json list = res->value("enrollments", json::array());
  if (o.output == "json") {
    ctx.out.line(list.dump(2, ' ', false, json::error_handler_t::replace));
  } else if (!list.empty()) {
    Table table({"INSTANCE", "KEY", "ENROLLED", "SECRET", "PEER"});
    for (const auto& e : list) {
      std::string when = "-";
      if (auto t = parse_rfc3339_ns(e.value("enrolled", std::string())))
        when = display_time(*t, ctx.time.utc, TimePrecision::kSeconds);
      const std::string secret = e.value("secret_name", std::string());
      table.add_row({{e.value("instance", std::string()), {}},
                     {e.value("key", std::string()), {}},
                     {when, {}},
                     {secret.empty() ? "-" : secret, {}},
                     {e.value("peer", std::string("-")), {}}});
    }
    table.print(ctx.out);
  }
  ctx.out.flush();
  if (list.empty()) return report(ctx, ExitCode::kNoMatch, "no enrolled instance keys");
  return to_int(ExitCode::kOk);
}

}  // namespace

AdminCommands add_admin_commands(CLI::App& app, AdminOptions& o) {
  AdminCommands c;
  c.hold = app.add_subcommand(
      "hold", "Put an instance on legal hold now (admin token): retention keeps its data");
  c.hold->add_option("INSTANCE", o.instance, "Instance id")->required();
  c.hold->add_flag("--force", o.force,
                   "Hold it even if the collector never heard from that instance id");
  c.release = app.add_subcommand("release", "Release an instance's legal hold (admin token)");
  c.release->add_option("INSTANCE", o.instance, "Instance id")->required();
  c.enrollments =
      app.add_subcommand("enrollments", "List enrolled instance keys (who enrolled, when, from)");
  c.enrollments->add_option("-o,--output", o.output, "Output mode: short (a table), json")
      ->check(CLI::IsMember({"short", "json"}));
  c.reenroll = app.add_subcommand(
      "reenroll",
      "Forget an instance's enrolled key so that its next connection enrolls again (admin "
      "token; for a rebuilt server keeping its id)");
  c.reenroll->add_option("INSTANCE", o.instance, "Instance id")->required();
  return c;
}

int run_admin(const AdminCommands& c, const AdminOptions& o, CommandContext& ctx) {
  if (c.hold->parsed()) return hold(o, true, ctx);
  if (c.release->parsed()) return hold(o, false, ctx);
  if (c.enrollments->parsed()) return enrollments(o, ctx);
  if (c.reenroll->parsed()) return reenroll(o, ctx);
  return to_int(ExitCode::kUsage);
}

}  // namespace blackbox::query
