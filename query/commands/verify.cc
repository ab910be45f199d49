#include "query/commands/verify.h"

#include <CLI/CLI.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "query/output/terminal.h"

namespace blackbox::query {
namespace {

using nlohmann::json;

std::string range(const json& r) {
  return "[" + std::to_string(r.value("from_seq", std::uint64_t{0})) + ", " +
         std::to_string(r.value("to_seq", std::uint64_t{0})) + ")";
}

std::string stream_label(const json& streams, std::uint64_t stream) {
  for (const auto& s : streams)
    if (s.value("stream", std::uint64_t{0}) == stream) return s.value("name", std::string("?"));
  return "stream " + std::to_string(stream);
}

std::string_view status_color(const std::string& status) {
  if (status == "intact") return Ansi::kGreen;
  if (status == "gaps") return Ansi::kYellow;
  return Ansi::kRed;
}

std::string colored(const CommandContext& ctx, std::string_view text, std::string_view color) {
  if (!ctx.out.color() || color.empty()) return std::string(text);
  return std::string(color) + std::string(text) + std::string(Ansi::kReset);
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// One instance's report for people. Long because it is one paragraph per part of the report.
void print_instance(const json& v, CommandContext& ctx) {
  const std::string status = v.value("status", "");
  ctx.out.line(v.value("instance", "") + ": " + colored(ctx, upper(status), status_color(status)));
  const json& key = v["key"];
  if (key.value("source", json()).is_string())
    ctx.out.line("  key: " + key["source"].get<std::string>() + " " +
                 key.value("fingerprint", json("")).get<std::string>());
  else
    ctx.out.line("  " + key.value("note", json("heads not checked")).get<std::string>());
  const json& streams = v["streams"];
  for (const auto& s : streams) {
    std::string intact;
    for (const auto& r : s["intact"]) intact += (intact.empty() ? "" : " ") + range(r);
    std::string line = "  " + s.value("name", std::string("?")) + " (stream " +
                       std::to_string(s.value("stream", 0)) +
                       "): " + std::to_string(s.value("records", std::uint64_t{0})) +
                       " records in " + std::to_string(s.value("batches", std::uint64_t{0})) +
                       " batches; intact " + (intact.empty() ? "-" : intact);
    if (s["unsigned_tail"].is_object())
      line += "; unsigned tail " + range(s["unsigned_tail"]);
    else if (s.value("signed_through", std::uint64_t{0}) > 0)
      line += "; signed through " + std::to_string(s["signed_through"].get<std::uint64_t>());
    ctx.out.line(line);
  }
  for (const auto& b : v["breaks"])
    ctx.out.line("  " + colored(ctx, "BROKEN", Ansi::kRed) + " " +
                 stream_label(streams, b.value("stream", std::uint64_t{0})) + " batch " +
                 std::to_string(b.value("first_seq", std::uint64_t{0})) + ": " +
                 b.value("what", std::string()) + ": " + b.value("detail", std::string()));
  for (const auto& u : v["unreadable"])
    ctx.out.line("  " + colored(ctx, "UNREADABLE", Ansi::kRed) + " " +
                 stream_label(streams, u.value("stream", std::uint64_t{0})) + " [" +
                 std::to_string(u.value("first_seq", std::uint64_t{0})) + ", " +
                 std::to_string(u.value("end_seq", std::uint64_t{0})) +
                 "): " + u.value("error", std::string()));
  for (const auto& g : v["gaps"])
    ctx.out.line("  gap " + stream_label(streams, g.value("stream", std::uint64_t{0})) + " " +
                 range(g) + ": " + g.value("reason", std::string()) + " (" +
                 g.value("source", std::string()) + ")");
  for (const auto& s : v["signatures"]) {
    const std::string state = s.value("state", "");
    if (state == "valid" || state == "unchecked") continue;
    ctx.out.line("  signature at lifecycle seq " + std::to_string(s.value("seq", 0)) + ": " +
                 state + ": " + s.value("detail", std::string()));
  }
  ctx.out.line(
      "  signatures: " + std::to_string(v.value("signatures_valid", 0)) + " valid, " +
      std::to_string(v.value("signatures_invalid", 0)) + " invalid; signed heads " +
      (v.value("covered", false) ? "cover everything stored" : "do NOT cover everything stored"));
}

ExitCode verdict(const std::string& status) {
  if (status == "intact") return ExitCode::kOk;
  if (status == "gaps") return ExitCode::kVerifyGaps;
  if (status == "unreadable") return ExitCode::kUnreadable;
  return ExitCode::kVerifyTampered;
}

}  // namespace

CLI::App* add_verify_command(CLI::App& app, VerifyCmdOptions& o) {
  auto* cmd = app.add_subcommand(
      "verify",
      "Prove that nothing stored was altered, reordered or removed: recompute every stream's "
      "hash chain and check the agent's signed heads. Exit 0 intact, 10 gaps only, 11 "
      "tampered, 6 unreadable");
  cmd->add_option("instance", o.instance, "Instance id");
  cmd->add_flag("--all", o.all, "Every instance");
  cmd->add_option("-S,--since", o.since, "Only batches at or after this time");
  cmd->add_option("-U,--until", o.until, "Only batches before this time");
  cmd->add_option("--key", o.key,
                  "The instance's public key when it has no enrolled key: 64 hex digits, a "
                  "fingerprint (SHA256:…), or a file holding a PEM public key");
  cmd->add_option("-o,--output", o.output, "Output mode: short (for people), json")
      ->check(CLI::IsMember({"short", "json"}));
  return cmd;
}

int run_verify(const VerifyCmdOptions& o, CommandContext& ctx) {
  if (o.all == !o.instance.empty())
    return report(ctx, ExitCode::kUsage, "verify: name one INSTANCE, or --all");
  QueryParams params;
  if (!add_time_window(ctx, o.since, o.until, params)) return to_int(ExitCode::kUsage);
  if (!o.key.empty()) {
    std::string key = o.key;
    if (std::ifstream f(o.key); f) {  // a PEM public key file (public: nothing secret)
      std::ostringstream text;
      text << f.rdbuf();
      key = text.str();
    }
    params.emplace_back("key", key);
  }
  if (o.all) params.emplace_back("all", "1");
  auto res = o.all ? ctx.api.get("/v1/verify", params)
                   : ctx.api.get(ApiClient::instance_path(o.instance, "/verify"), params);
  if (!res) return report(ctx, res.error());
  if (o.output == "json") {
    ctx.out.line(res->dump(2, ' ', false, json::error_handler_t::replace));
  } else {
    for (const auto& i : (*res)["instances"]) print_instance(i, ctx);
    if (res->value("instances", json::array()).empty()) ctx.out.line("no instances");
  }
  ctx.out.flush();
  return to_int(verdict(res->value("status", std::string())));
}

}  // namespace blackbox::query
