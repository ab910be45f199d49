#include "query/commands/logs.h"

#include <CLI/CLI.hpp>
#include <map>
#include <set>
#include <utility>

#include "query/output/record_writer.h"
#include "schemas/time_text.h"

namespace blackbox::query {
namespace {

using nlohmann::json;

constexpr long kFollowDefaultLines = 10;  // journalctl -f shows the last 10 lines first
constexpr auto kFollowWait = std::chrono::seconds(20);

bool flag_at(const json& doc, const char* key, std::size_t i) {
  auto it = doc.find(key);
  return it != doc.end() && it->is_array() && i < it->size() && (*it)[i].is_boolean() &&
         (*it)[i].get<bool>();
}

// Filters shared by the records and follow endpoints.
bool filter_params(const LogsOptions& o, CommandContext& ctx, QueryParams& p) {
  if (!o.grep.empty()) p.emplace_back("grep", o.grep);
  if (o.ignore_case) p.emplace_back("ignore_case", "1");
  for (const auto& w : o.where) {
    if (w.find('=') == std::string::npos || w.front() == '=') {
      report(ctx, ExitCode::kUsage, "--where takes FIELD=VALUE, got '" + w + "'");
      return false;
    }
    p.emplace_back("where", w);
  }
  if (!o.priority.empty()) p.emplace_back("priority", o.priority);
  for (const auto& s : o.source) p.emplace_back("source", s);
  if (o.stream != "logs") p.emplace_back("stream", o.stream);
  return add_time_window(ctx, o.since, o.until, p);
}

class Printer {
 public:
  Printer(RecordWriter& w) : w_(w) {}
  // Prints the records of one API page; `dedupe` skips what an earlier page already printed
  // (the live follow can overlap the initial query).
  void page(const json& doc, bool dedupe) {
    auto it = doc.find("records");
    if (it == doc.end() || !it->is_array()) return;
    for (std::size_t i = 0; i < it->size(); ++i) {
      const json& r = (*it)[i];
      const auto stream = r.value("stream", 0u);
      const auto seq = r.value("seq", std::uint64_t{0});
      auto& next = next_seq_[stream];
      if (dedupe && seq < next) continue;
      next = std::max(next, seq + 1);
      RecordMark mark{flag_at(doc, "context", i), flag_at(doc, "group_start", i)};
      w_.write(r, mark);
      if (!mark.context) ++matches_;
    }
  }
  std::uint64_t matches() const { return matches_; }

 private:
  RecordWriter& w_;
  std::map<std::uint32_t, std::uint64_t> next_seq_;
  std::uint64_t matches_ = 0;
};

void warn_partial(CommandContext& ctx, const json& doc) {
  if (doc.value("partial", false))
    report(ctx, ExitCode::kOk,
           "warning: the server's per-query time limit cut this search short; narrow it with "
           "--since/--until/--last");
}

// One warning line per range the collector could not read (damaged storage), each once.
class UnreadableReport {
 public:
  void page(CommandContext& ctx, const json& doc) {
    auto it = doc.find("unreadable");
    if (it == doc.end() || !it->is_array()) return;
    for (const json& u : *it) {
      const auto stream = u.value("stream", 0u);
      const auto first = u.value("first_seq", std::uint64_t{0});
      if (!seen_.emplace(stream, first).second) continue;
      report(ctx, ExitCode::kOk,
             "warning: " + u.value("stream_name", std::string("stream")) + " records [" +
                 std::to_string(first) + ", " +
                 std::to_string(u.value("end_seq", std::uint64_t{0})) + ") of stream " +
                 std::to_string(stream) + " are unreadable on the collector (damaged storage: " +
                 u.value("error", std::string()) + "); skipped, the rest is printed");
    }
  }
  bool any() const { return !seen_.empty(); }

 private:
  std::set<std::pair<std::uint32_t, std::uint64_t>> seen_;
};

}  // namespace

CLI::App* add_logs_command(CLI::App& app, LogsOptions& o) {
  auto* cmd = app.add_subcommand("logs", "Show an instance's records (journalctl-like)");
  cmd->add_option("instance", o.instance, "Instance id (see `blackbox instances`)")->required();
  auto* since = cmd->add_option("-S,--since", o.since, "Records at or after this time");
  cmd->add_option("-U,--until", o.until, "Records before this time");
  auto* last = cmd->add_option(
      "--last", o.last,
      "The last DURATION of the instance's life (10m, 1h30m): back from when the agent read its "
      "last record (or its end), not from now nor from a time a line claims");
  last->excludes(since);
  cmd->add_option("-g,--grep", o.grep, "Only records whose message matches this RE2 regex");
  cmd->add_flag("-i,--ignore-case", o.ignore_case, "Case-insensitive --grep");
  cmd->add_option("--where", o.where,
                  "Only records whose structured field FIELD equals VALUE (FIELD=VALUE; "
                  "repeatable, all must match)");
  cmd->add_option("-p,--priority", o.priority,
                  "Only records of this priority or more severe (emerg alert crit err warning "
                  "notice info debug, or 0-7), or a range FROM..TO");
  cmd->add_option("--source", o.source, "Only records from this source path (repeatable)");
  auto* c = cmd->add_option("-C,--context", o.context,
                            "Show N records of the same source around each match")
                ->check(CLI::Range(0, 100));
  cmd->add_option("-A,--after-context", o.after, "Show N records after each match")
      ->check(CLI::Range(0, 100))
      ->excludes(c);
  cmd->add_option("-B,--before-context", o.before, "Show N records before each match")
      ->check(CLI::Range(0, 100))
      ->excludes(c);
  cmd->add_option("-n,--lines", o.lines, "Show only the last N matching records")
      ->check(CLI::Range(0L, 10000L));
  cmd->add_flag("-f,--follow", o.follow,
                "Then keep printing new records as they arrive, until interrupted");
  cmd->add_option("-o,--output", o.output, "Output mode: short, json, ndjson, csv, cat")
      ->check(CLI::IsMember({"short", "json", "ndjson", "csv", "cat"}));
  cmd->add_option("--stream", o.stream, "Which records: logs, lifecycle, snapshots or all")
      ->check(CLI::IsMember({"logs", "lifecycle", "snapshots", "all"}));
  return cmd;
}

int run_logs(const LogsOptions& o, CommandContext& ctx) {
  QueryParams filters;
  if (!filter_params(o, ctx, filters)) return to_int(ExitCode::kUsage);
  QueryParams params = filters;
  if (!o.last.empty()) {
    auto d = parse_duration_ns(o.last);
    if (!d) {
      return report(ctx, ExitCode::kUsage,
                    "malformed duration '" + o.last + "' for --last (examples: 10m, 2h, 1h30m)");
    }
    params.emplace_back("last", format_duration(*d));
  }
  const int before = o.context >= 0 ? o.context : o.before;
  const int after = o.context >= 0 ? o.context : o.after;
  if (before > 0) params.emplace_back("before", std::to_string(before));
  if (after > 0) params.emplace_back("after", std::to_string(after));
  long tail = o.lines;
  if (o.follow && tail < 0) tail = kFollowDefaultLines;
  if (tail >= 0) params.emplace_back("tail", std::to_string(tail));

  const auto mode = parse_output_mode(o.output).value_or(OutputMode::kShort);
  auto writer = RecordWriter::make(mode, ctx.out, ctx.time.utc);
  Printer printer(*writer);
  UnreadableReport unreadable;
  const std::string records_path = ApiClient::instance_path(o.instance, "/records");
  std::string follow_cursor;
  std::string cursor;
  for (;;) {
    QueryParams p = params;
    if (!cursor.empty()) p.emplace_back("cursor", cursor);
    auto res = ctx.api.get(records_path, p);
    if (!res) {
      writer->finish();
      return report(ctx, res.error());
    }
    if (follow_cursor.empty()) follow_cursor = res->value("follow_cursor", "");
    printer.page(*res, /*dedupe=*/false);
    unreadable.page(ctx, *res);
    warn_partial(ctx, *res);
    if (!ctx.out.ok()) break;  // the pager was closed
    auto next = res->find("next_cursor");
    if (tail >= 0 || next == res->end() || !next->is_string()) break;
    cursor = next->get<std::string>();
  }

  if (o.follow && ctx.out.ok()) {
    ctx.out.flush();
    const std::string follow_path = ApiClient::instance_path(o.instance, "/follow");
    while (ctx.out.ok() && !(ctx.interrupted && ctx.interrupted->load())) {
      QueryParams p = filters;
      p.emplace_back("cursor", follow_cursor);
      p.emplace_back(
          "wait", format_duration(
                      std::chrono::duration_cast<std::chrono::nanoseconds>(kFollowWait).count()));
      auto res = ctx.api.get(follow_path, p, kFollowWait + std::chrono::seconds(15));
      if (ctx.interrupted && ctx.interrupted->load()) break;
      if (!res) {
        writer->finish();
        return report(ctx, res.error());
      }
      printer.page(*res, /*dedupe=*/true);
      unreadable.page(ctx, *res);
      ctx.out.flush();
      follow_cursor = res->value("cursor", follow_cursor);
    }
    writer->finish();
    ctx.out.flush();
    return to_int(ExitCode::kOk);
  }
  writer->finish();
  ctx.out.flush();
  if (unreadable.any()) return to_int(ExitCode::kUnreadable);
  return to_int(printer.matches() > 0 ? ExitCode::kOk : ExitCode::kNoMatch);
}

}  // namespace blackbox::query
