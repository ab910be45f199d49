#include "query/commands/timeline.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <nlohmann/json.hpp>
#include <vector>

#include "query/commands/instances.h"
#include "query/output/record_writer.h"
#include "query/output/time_display.h"
#include "schemas/gap_body.h"
#include "schemas/record_json.h"
#include "schemas/time_text.h"

namespace blackbox::query {
namespace {

using nlohmann::json;

struct Line {
  std::int64_t time_ns = 0;
  int order = 0;  // ties: lifecycle before gaps before bursts
  std::string label;
  std::string detail;
  std::string_view color;
};

std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::int64_t ns(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

std::string short_id(const std::string& id) { return id.size() > 12 ? id.substr(0, 12) + "…" : id; }

}  // namespace

CLI::App* add_timeline_command(CLI::App& app, TimelineOptions& o) {
  auto* cmd = app.add_subcommand("timeline", "An instance's life on one screen");
  cmd->add_option("instance", o.instance, "Instance id")->required();
  cmd->add_option("--bucket", o.bucket, "Width of the error-burst buckets (default 1m)");
  cmd->add_option("-p,--priority", o.priority,
                  "What counts as an error burst: this priority or more severe (default err)");
  cmd->add_option("-o,--output", o.output, "Output mode: short, json")
      ->check(CLI::IsMember({"short", "json"}));
  return cmd;
}

void render_timeline(const json& doc, Output& out, bool utc) {
  const json inst = doc.value("instance", json::object());
  std::string head = str(inst, "instance");
  if (auto image = str(inst, "image"); !image.empty()) head += "  image " + image;
  if (auto h = inst.find("hostnames"); h != inst.end() && h->is_array() && !h->empty()) {
    head += "  host";
    for (const auto& x : *h) head += " " + (x.is_string() ? x.get<std::string>() : x.dump());
  }
  if (auto b = inst.find("boot_ids"); b != inst.end() && b->is_array())
    head += "  boots " + std::to_string(b->size());
  out.line(out.color() ? std::string(Ansi::kBold) + head + std::string(Ansi::kReset) : head);
  if (auto rec = doc.find("records"); rec != doc.end() && rec->is_object()) {
    std::string r = "records " + std::to_string(rec->value("count", std::uint64_t{0}));
    if (rec->contains("first_ns") && (*rec)["first_ns"].is_number_integer())
      r += ", " + display_time(ns(*rec, "first_ns"), utc, TimePrecision::kSeconds) + " … " +
           display_time(ns(*rec, "last_ns"), utc, TimePrecision::kSeconds);
    r += "; gaps " + std::to_string(inst.value("gaps", std::uint64_t{0}));
    out.line(r);
  }
  out.line("");

  std::vector<Line> lines;
  std::string last_boot;
  for (const auto& e : doc.value("events", json::array())) {
    Line l;
    l.time_ns = ns(e, "time_ns");
    const std::string ev = str(e, "event");
    l.label = ev;
    if (ev == "hello" || ev == "reconnected") {
      const std::string boot = str(e, "boot_id");
      if (!boot.empty()) {
        l.detail =
            (boot != last_boot && !last_boot.empty() ? "NEW boot " : "boot ") + short_id(boot);
        last_boot = boot;
      }
      if (auto host = str(e, "hostname"); !host.empty()) l.detail += "  host " + host;
      if (auto d = e.find("detail"); d != e.end() && d->is_object()) {
        if (auto v = str(*d, "agent_version"); !v.empty()) l.detail += "  agent " + v;
      }
      l.color = Ansi::kGreen;
    } else if (ev == "termination_notice") {
      l.detail = str(e, "reason");
      l.color = Ansi::kYellow;
    } else if (ev == "goodbye") {
      l.detail = "clean end";
      if (auto r = str(e, "reason"); !r.empty()) l.detail += ": " + r;
      l.color = Ansi::kGreen;
    } else if (ev == "went_silent") {
      l.detail = "no heartbeat: declared silent";
      l.color = Ansi::kBoldRed;
    }
    lines.push_back(std::move(l));
  }
  for (const auto& g : doc.value("gaps", json::array())) {
    Line l;
    l.time_ns = ns(g, "detected_ns");
    l.order = 1;
    l.label = "gap";
    l.detail = "stream " + str(g, "stream_name") + " seq " +
               std::to_string(g.value("from_seq", std::uint64_t{0})) + ".." +
               std::to_string(g.value("to_seq", std::uint64_t{0})) + " never arrived";
    if (auto r = str(g, "reason"); !r.empty()) l.detail += ": " + r;
    l.color = Ansi::kYellow;
    lines.push_back(std::move(l));
  }
  for (const auto& r : doc.value("gap_records", json::array())) {
    Line l;
    l.time_ns = ns(r, "time_ns");
    l.order = 1;
    l.label = "gap (agent)";
    // The record's line is its gap body (schemas/gap_body.h); one that does not decode shows
    // no detail.
    auto line = record_message_bytes(r);
    auto gap = line ? decode_gap_body(*line) : Result<GapBody>(line.error());
    if (gap) {
      l.detail = escape_controls(gap->source);
      if (gap->lost_bytes) l.detail += " lost " + std::to_string(*gap->lost_bytes) + " bytes";
      if (!gap->reason.empty()) l.detail += ": " + gap->reason;
    }
    l.color = Ansi::kYellow;
    lines.push_back(std::move(l));
  }
  const auto bursts = doc.value("bursts", json::array());
  std::uint64_t peak = 1;
  for (const auto& b : bursts) peak = std::max(peak, b.value("count", std::uint64_t{0}));
  for (const auto& b : bursts) {
    Line l;
    l.time_ns = ns(b, "time_ns");
    l.order = 2;
    l.label = "errors";
    const auto count = b.value("count", std::uint64_t{0});
    const std::size_t bar = std::max<std::size_t>(1, count * 30 / peak);
    std::string bars;
    for (std::size_t i = 0; i < bar; ++i) bars += "█";
    l.detail = bars + " " + std::to_string(count);
    if (auto w = str(b, "worst"); !w.empty()) l.detail += " (worst " + w + ")";
    l.color = Ansi::kRed;
    lines.push_back(std::move(l));
  }
  std::stable_sort(lines.begin(), lines.end(), [](const Line& a, const Line& b) {
    return a.time_ns != b.time_ns ? a.time_ns < b.time_ns : a.order < b.order;
  });
  for (const auto& l : lines) {
    std::string s = display_time(l.time_ns, utc, TimePrecision::kMillis) + "  ";
    std::string label = l.label;
    label.resize(std::max<std::size_t>(label.size(), 19), ' ');
    if (out.color() && !l.color.empty()) {
      s += std::string(l.color) + label + std::string(Ansi::kReset);
    } else {
      s += label;
    }
    s += l.detail;
    out.line(s);
  }
  out.line("");
  std::string end = "end: " + describe_end(inst);
  const std::string state = str(inst, "state");
  if (state == "running") {
    auto seen = parse_rfc3339_ns(str(inst, "last_seen"));
    end = "still running, last seen " +
          (seen ? display_time(*seen, utc, TimePrecision::kSeconds) : std::string("?"));
  }
  out.line(end);
  if (doc.value("partial", false))
    out.line("(the server's time limit cut the error scan short: bursts may be incomplete)");
}

int run_timeline(const TimelineOptions& o, CommandContext& ctx) {
  QueryParams p;
  p.emplace_back("bucket", o.bucket);
  p.emplace_back("priority", o.priority);
  auto res = ctx.api.get(ApiClient::instance_path(o.instance, "/timeline"), p);
  if (!res) return report(ctx, res.error());
  if (o.output == "json") {
    ctx.out.line(res->dump(2, ' ', false, json::error_handler_t::replace));
  } else {
    render_timeline(*res, ctx.out, ctx.time.utc);
  }
  ctx.out.flush();
  return to_int(ExitCode::kOk);
}

}  // namespace blackbox::query
