#include "collector/http/api.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <initializer_list>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <tuple>

#include "collector/http/admin.h"
#include "collector/http/api_json.h"
#include "collector/http/verify_json.h"
#include "collector/query/cursor.h"
#include "collector/query/record_filter.h"
#include "collector/query/records_query.h"
#include "collector/query/timeline.h"
#include "schemas/http_target.h"
#include "schemas/streams.h"
#include "schemas/time_text.h"

namespace blackbox::collector::http {
namespace {

using nlohmann::json;
using query::FilterSpec;
using query::PageLimits;
using query::RecordFilter;
using query::RecordsPage;
using query::RecordsQuery;
using query::RecordsRequest;
using query::ScanStats;

// GET /v1/health: 200 {"status":"ok",…} while the store takes writes; 503 {"status":"read_only",
// "reason":…} while it does not (disk full: ingest paused, queries still answered).
ApiResponse health_response(const StoreHealth& h) {
  json body = health_json(h);
  return json_response(h.writable ? 200 : 503, body);
}

ApiResponse store_error(const boost::system::error_code& ec, std::string_view what) {
  const Errc e = to_errc(ec);
  if (e == Errc::kNotFound)
    return error_response(404, "not_found", std::string(what) + " not found");
  return error_response(500, "storage_error",
                        std::string("the collector's store failed while reading ") +
                            std::string(what) + ": " + errc_name(e) + " (see the collector's log)");
}

// The query parameters of one request: typed getters that remember the first problem.
class Params {
 public:
  explicit Params(const QueryParams& p) : p_(p) {}

  std::optional<ApiResponse> error;

  // Fails on parameters not in `known` (a typo must not silently widen a query).
  void allow(std::initializer_list<std::string_view> known) {
    for (const auto& [k, v] : p_) {
      if (std::find(known.begin(), known.end(), k) != known.end()) continue;
      std::string list;
      for (auto n : known) list += (list.empty() ? "" : ", ") + std::string(n);
      fail("bad_parameter", "unknown parameter '" + k + "' (this endpoint takes: " + list + ")");
      return;
    }
  }

  const std::string* one(std::string_view name) {
    const std::string* found = nullptr;
    for (const auto& [k, v] : p_) {
      if (k != name) continue;
      if (found) {
        fail("bad_parameter", "parameter '" + std::string(name) + "' given more than once");
        return nullptr;
      }
      found = &v;
    }
    return found;
  }

  std::vector<std::string> all(std::string_view name) const {
    std::vector<std::string> out;
    for (const auto& [k, v] : p_)
      if (k == name) out.push_back(v);
    return out;
  }

  // RFC 3339 (with a zone) or integer ns since the epoch.
  bool time(std::string_view name, std::int64_t& out) {
    const std::string* v = one(name);
    if (!v) return false;
    std::int64_t ns = 0;
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), ns);
    if (ec == std::errc() && p == v->data() + v->size()) {
      out = ns;
      return true;
    }
    if (auto t = parse_rfc3339_ns(*v)) {
      out = *t;
      return true;
    }
    fail("bad_time", "parameter '" + std::string(name) + "': '" + *v +
                         "' is not an RFC 3339 time with a zone (2026-11-26T06:35:14Z) or "
                         "integer nanoseconds since the epoch");
    return false;
  }

  bool duration(std::string_view name, std::int64_t& out) {
    const std::string* v = one(name);
    if (!v) return false;
    auto d = parse_duration_ns(*v);
    if (!d) {
      fail("bad_parameter", "parameter '" + std::string(name) + "': '" + *v +
                                "' is not a duration (10m, 1h30m, 90s)");
      return false;
    }
    out = *d;
    return true;
  }

  bool number(std::string_view name, std::uint64_t max, std::uint64_t& out) {
    const std::string* v = one(name);
    if (!v) return false;
    std::uint64_t n = 0;
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec != std::errc() || p != v->data() + v->size() || n > max) {
      fail("bad_parameter", "parameter '" + std::string(name) + "' must be an integer from 0 to " +
                                std::to_string(max) + ", not '" + *v + "'");
      return false;
    }
    out = n;
    return true;
  }

  bool flag(std::string_view name) {
    const std::string* v = one(name);
    return v && (*v == "1" || *v == "true" || *v == "yes" || v->empty());
  }

  void fail(std::string_view code, std::string message) {
    if (!error) error = error_response(400, code, message);
  }

 private:
  const QueryParams& p_;
};

// Filters and the time range shared by /records and /follow.
struct RecordParams {
  FilterSpec filter;
  RecordsRequest req;
};

void parse_record_params(Params& p, RecordParams& out) {
  if (const std::string* g = p.one("grep")) out.filter.grep = *g;
  out.filter.ignore_case = p.flag("ignore_case");
  for (const auto& w : p.all("where")) {
    const auto eq = w.find('=');
    if (eq == std::string::npos || eq == 0) {
      p.fail("bad_parameter", "where=" + w + ": expected FIELD=VALUE");
      return;
    }
    out.filter.where.emplace_back(w.substr(0, eq), w.substr(eq + 1));
  }
  if (const std::string* pr = p.one("priority")) {
    out.filter.priority_set = true;
    if (!query::parse_priority_range(*pr, out.filter.min_priority, out.filter.max_priority)) {
      p.fail("bad_parameter", "priority=" + *pr +
                                  ": expected a level (emerg alert crit err warning notice info "
                                  "debug, or 0-7) or a range FROM..TO");
      return;
    }
  }
  out.filter.sources = p.all("source");
  if (const std::string* s = p.one("stream")) {
    if (*s == "all") {
      out.req.stream.reset();
    } else if (*s == "logs" || *s == "1") {
      out.req.stream = kStreamLogs;
    } else if (*s == "lifecycle" || *s == "2") {
      out.req.stream = kStreamLifecycle;
    } else if (*s == "snapshots" || *s == "3") {
      out.req.stream = kStreamSnapshots;
    } else {
      p.fail("bad_parameter", "stream=" + *s + ": expected logs, lifecycle, snapshots or all");
      return;
    }
  }
  p.time("since", out.req.since);
  p.time("until", out.req.until);
}

// Marks the records indexed and windowed by read time (shown as "time_skewed": true).
void flag_time_skew(std::vector<query::QueryRecord>& records, std::int64_t skew_ns) {
  for (auto& r : records) r.time_skewed = time_skewed(r.event_time_ns, r.read_time_ns, skew_ns);
}

std::unique_ptr<RecordFilter> compile_filter(Params& p, FilterSpec spec) {
  std::string error;
  const std::string pattern = spec.grep;
  auto f = RecordFilter::compile(std::move(spec), error);
  if (!f) {
    p.fail("bad_regex", "grep: '" + pattern + "' is not a valid RE2 regex: " + error);
    return nullptr;
  }
  return std::move(*f);
}

json stats_json(const ScanStats& s, std::int64_t elapsed_ns) {
  return {{"batches_read", s.batches_read},
          {"batches_skipped", s.batches_skipped},
          {"records_scanned", s.records_scanned},
          {"raw_bytes_scanned", s.raw_bytes_scanned},
          {"elapsed_ms", static_cast<double>(elapsed_ns) / 1e6}};
}

json time_or_null(std::int64_t t, std::int64_t unbounded) {
  return t == unbounded ? json(nullptr) : json(format_rfc3339_ns(t));
}

}  // namespace

// Every damaged batch an answer skipped is logged and counted once per collector run (a
// bounded set: past kMaxKept distinct batches, further ones are still named in the answers).
class UnreadableLog {
 public:
  explicit UnreadableLog(Metrics& m)
      : counter_(&m.counter("blackbox_collector_unreadable_batches_total",
                            "Stored batches queries could not read (damaged) and skipped, each "
                            "counted once")) {}
  void report(std::string_view instance, const std::vector<UnreadableBatch>& list) {
    if (list.empty()) return;
    std::lock_guard lock(mu_);
    for (const auto& u : list) {
      if (seen_.size() >= kMaxKept) return;
      if (!seen_.emplace(std::string(instance), u.stream, u.first_seq).second) continue;
      counter_->fetch_add(1, std::memory_order_relaxed);
      spdlog::error(
          "query: instance {} stream {}: records [{}, {}) cannot be read ({}): skipped "
          "in answers; the data dir is damaged (stop the collector and run "
          "`blackbox-collector repair`, which copies it first)",
          instance, u.stream, u.first_seq, u.end_seq, u.error);
    }
  }

 private:
  static constexpr std::size_t kMaxKept = 100'000;
  std::atomic<std::uint64_t>* counter_;
  std::mutex mu_;
  std::set<std::tuple<std::string, std::uint32_t, std::uint64_t>> seen_;
};

// Every refused request is counted; the first kDenialLogBurst of each minute are logged (a
// client retrying without a token must not flood the log), then how many were not.
class DenialLog {
 public:
  DenialLog(Metrics& m, const Clock& clock) : clock_(clock) {
    const char* help = "Query API requests refused by access control, by reason";
    for (Denial d : {Denial::kMissingToken, Denial::kBadToken, Denial::kForbidden})
      counters_[static_cast<int>(d)] = &m.counter(
          std::string("blackbox_query_auth_denied_total{reason=\"") + denial_name(d) + "\"}", help);
  }
  void report(const AuthDecision& a, const ApiRequest& r, std::string_view path, Role needed) {
    counters_[static_cast<int>(a.denial)]->fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lock(mu_);
    const std::int64_t now = clock_.steady_ns();
    if (now - window_start_ >= kWindowNs) {
      if (suppressed_ > 0)
        spdlog::warn("http: {} more refused requests were not logged in the last minute",
                     suppressed_);
      window_start_ = now;
      logged_ = 0;
      suppressed_ = 0;
    }
    if (logged_ >= kDenialLogBurst) {
      ++suppressed_;
      return;
    }
    ++logged_;
    const std::string peer = r.peer.empty() ? "?" : std::string(r.peer);
    if (a.denial == Denial::kForbidden) {
      spdlog::warn("http: refused {} {} from {}: token '{}' has role {}, needs {} (403)", r.method,
                   path, peer, a.entry->name, role_name(a.entry->role), role_name(needed));
    } else {
      spdlog::warn("http: refused {} {} from {}: {} (401)", r.method, path, peer,
                   a.denial == Denial::kMissingToken ? "no bearer token" : "unknown token");
    }
  }

 private:
  static constexpr std::int64_t kWindowNs = 60'000'000'000;
  const Clock& clock_;
  std::array<std::atomic<std::uint64_t>*, 4> counters_{};
  std::mutex mu_;
  std::int64_t window_start_ = kMinTime / 2;
  int logged_ = 0;
  std::uint64_t suppressed_ = 0;
};

Api::~Api() = default;

Api::Api(const Store& store, Metrics& metrics, ApiOptions options, const Clock& clock)
    : store_(store),
      metrics_(metrics),
      options_(std::move(options)),
      clock_(clock),
      pool_(std::make_unique<query::ScanPool>(options_.scan_helpers)),
      unreadable_log_(std::make_unique<UnreadableLog>(metrics)),
      denial_log_(std::make_unique<DenialLog>(metrics, clock)) {
  counters_.requests = &metrics.counter("blackbox_query_requests_total", "Query API requests");
  counters_.client_errors =
      &metrics.counter("blackbox_query_client_errors_total", "Query API answers with a 4xx status");
  counters_.server_errors =
      &metrics.counter("blackbox_query_server_errors_total", "Query API answers with a 5xx status");
  counters_.records_returned =
      &metrics.counter("blackbox_query_records_returned_total", "Records sent by the query API");
  counters_.batches_read =
      &metrics.counter("blackbox_query_batches_read_total", "Batches decompressed by queries");
  counters_.batches_skipped = &metrics.counter("blackbox_query_batches_skipped_total",
                                               "Batches ruled out by their index entry");
  counters_.raw_bytes_scanned = &metrics.counter("blackbox_query_raw_bytes_scanned_total",
                                                 "Decompressed record bytes scanned by queries");
}

namespace {

struct Handler {
  const Store& store;
  const ApiOptions& options;
  const Clock& clock;
  Metrics& metrics;
  query::ScanPool& pool;
  UnreadableLog& unreadable_log;

  // "unreadable": the batches an answer skipped (only when there are some), logged once.
  void add_unreadable(json& out, std::string_view id, const std::vector<UnreadableBatch>& list) {
    if (list.empty()) return;
    unreadable_log.report(id, list);
    out["unreadable"] = unreadable_json(list);
  }

  ApiResponse instances(Params& p) {
    p.allow({"state", "image", "since", "until", "limit", "cursor"});
    InstanceFilter f;
    if (const std::string* s = p.one("state")) {
      f.state = parse_state(*s);
      if (!f.state)
        p.fail("bad_parameter", "state=" + *s + ": expected running, terminated or silent");
    }
    if (const std::string* i = p.one("image")) f.image = *i;
    p.time("since", f.from_ns);
    p.time("until", f.to_ns);
    std::uint64_t limit = options.default_page_records;
    p.number("limit", 100'000, limit);
    std::string after;
    if (const std::string* c = p.one("cursor")) {
      auto d = query::decode_instances_cursor(*c);
      if (!d)
        p.fail("bad_cursor", "cursor: not a cursor this endpoint returned");
      else
        after = *d;
    }
    if (p.error) return *p.error;
    auto list = store.list_instances(f);
    if (!list) return store_error(list.error(), "instances");
    json out = json::object();
    out["instances"] = json::array();
    std::string last;
    bool more = false;
    for (const auto& i : *list) {
      if (!after.empty() && i.instance <= after) continue;
      if (out["instances"].size() >= limit) {
        more = true;
        break;
      }
      out["instances"].push_back(instance_json(i));
      last = i.instance;
    }
    out["next_cursor"] = more ? json(query::encode_instances_cursor(last)) : json(nullptr);
    return json_response(200, out);
  }

  ApiResponse instance(Params& p, const std::string& id) {
    p.allow({});
    if (p.error) return *p.error;
    auto info = store.get_instance(id);
    if (!info) return not_found(info.error(), id);
    auto events = store.lifecycle_events(id);
    if (!events) return store_error(events.error(), "lifecycle events");
    auto gaps = store.gaps(id);
    if (!gaps) return store_error(gaps.error(), "gaps");
    auto heads = store.stream_heads(id);
    if (!heads) return store_error(heads.error(), "stream heads");
    json out = json::object();
    out["instance"] = instance_json(*info);
    out["lifecycle"] = json::array();
    for (const auto& e : *events) out["lifecycle"].push_back(lifecycle_event_json(id, e));
    out["gaps"] = json::array();
    for (const auto& g : *gaps) out["gaps"].push_back(gap_json(g));
    out["streams"] = json::array();
    for (const auto& h : *heads)
      out["streams"].push_back(
          {{"stream", h.stream}, {"name", stream_name(h.stream)}, {"next_seq", h.next_seq}});
    return json_response(200, out);
  }

  ApiResponse not_found(const boost::system::error_code& ec, const std::string& id) {
    if (to_errc(ec) == Errc::kNotFound)
      return error_response(404, "not_found",
                            "instance '" + id +
                                "' not found: the collector never heard from it "
                                "(list the known ones with `blackbox instances`)");
    return store_error(ec, "instance " + id);
  }

  ApiResponse records(Params& p, const std::string& id, ScanStats& stats, std::uint64_t& returned) {
    p.allow({"grep", "ignore_case", "where", "priority", "source", "stream", "since", "until",
             "last", "before", "after", "limit", "tail", "cursor"});
    RecordParams rp;
    rp.req.instance = id;
    parse_record_params(p, rp);
    std::int64_t last_ns = -1;
    if (p.one("last")) p.duration("last", last_ns);
    std::uint64_t before = 0, after = 0, limit = options.default_page_records, tail = 0;
    p.number("before", options.max_context, before);
    p.number("after", options.max_context, after);
    p.number("limit", options.page.max_records, limit);
    const bool want_tail = p.one("tail") != nullptr;
    if (want_tail) p.number("tail", options.max_tail, tail);
    if (const std::string* c = p.one("cursor")) {
      auto d = query::decode_records_cursor(*c);
      if (!d)
        p.fail("bad_cursor", "cursor: not a cursor this endpoint returned");
      else
        rp.req.cursor = *d;
    }
    if (last_ns >= 0 && (rp.req.since != kMinTime))
      p.fail("bad_parameter", "give either 'last' or 'since', not both");
    if (want_tail && rp.req.cursor) p.fail("bad_parameter", "'tail' takes no cursor");
    rp.req.before = static_cast<std::uint32_t>(before);
    rp.req.after = static_cast<std::uint32_t>(after);
    if (p.error) return *p.error;
    rp.filter.time_skew_ns = options.time_skew_ns;
    auto filter = compile_filter(p, rp.filter);
    if (p.error) return *p.error;

    const std::int64_t started = clock.steady_ns();
    auto info = store.get_instance(id);
    if (!info) return not_found(info.error(), id);
    const std::uint64_t follow_from = store.last_ingest_seq();
    json out = json::object();
    out["instance"] = id;
    std::optional<std::int64_t> anchor;
    if (last_ns >= 0) {
      // "The last 10 minutes of its life": back from when the agent read its last record
      // (never from the largest time a line claims: DESIGN.md "Time"), or from its last sign
      // of life when it has no record. A store from before read times were kept: the window
      // range's end.
      anchor = info->records == 0              ? std::max(info->last_seen_ns, info->end.time_ns)
               : info->max_read_ns != kMinTime ? info->max_read_ns
               : info->min_event_ns <= info->max_event_ns
                   ? info->max_event_ns
                   : std::max(info->last_seen_ns, info->end.time_ns);
      rp.req.since = *anchor - last_ns + 1;
      out["anchor"] = format_rfc3339_ns(*anchor);
      out["anchor_ns"] = *anchor;
    }
    PageLimits limits = options.page;
    limits.max_records = static_cast<std::size_t>(limit);
    RecordsQuery q(store, *filter, options.limits, limits, clock, &pool);
    Result<RecordsPage> page = Err(Errc::kInternal);
    if (want_tail) {
      const std::int64_t hi = info->max_event_ns == kMaxTime ? kMaxTime : info->max_event_ns + 1;
      page = q.tail(rp.req, static_cast<std::size_t>(tail), info->min_event_ns, hi);
    } else {
      page = q.page(rp.req);
    }
    if (!page) return store_error(page.error(), "records of " + id);
    stats = page->stats;
    const auto since = rp.req.cursor ? rp.req.cursor->since : rp.req.since;
    const auto until = rp.req.cursor ? rp.req.cursor->until : rp.req.until;
    out["since"] = time_or_null(since, kMinTime);
    out["until"] = time_or_null(until, kMaxTime);
    flag_time_skew(page->records, options.time_skew_ns);
    out["records"] = records_json(page->records);
    if (rp.req.before > 0 || rp.req.after > 0) {
      out["context"] = context_flags_json(page->records);
      out["group_start"] = group_start_flags_json(page->records);
    }
    out["matches"] = page->matches;
    out["next_cursor"] =
        page->next ? json(query::encode_records_cursor(*page->next)) : json(nullptr);
    out["follow_cursor"] = query::encode_follow_cursor(follow_from);
    out["partial"] = page->partial;
    add_unreadable(out, id, page->unreadable);
    out["stats"] = stats_json(page->stats, clock.steady_ns() - started);
    returned = out["records"].size();
    return json_response(200, out);
  }

  ApiResponse follow(Params& p, const std::string& id, ScanStats& stats, std::uint64_t& returned) {
    p.allow({"grep", "ignore_case", "where", "priority", "source", "stream", "since", "until",
             "cursor", "wait", "limit"});
    RecordParams rp;
    rp.req.instance = id;
    parse_record_params(p, rp);
    std::uint64_t limit = options.default_page_records;
    p.number("limit", options.page.max_records, limit);
    std::int64_t wait_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(options.default_follow_wait).count();
    if (p.one("wait")) p.duration("wait", wait_ns);
    wait_ns = std::min<std::int64_t>(
        wait_ns,
        std::chrono::duration_cast<std::chrono::nanoseconds>(options.max_follow_wait).count());
    query::FollowPosition from;
    const std::string* c = p.one("cursor");
    if (!c) {
      p.fail("bad_parameter",
             "follow needs the cursor of an earlier answer ('follow_cursor' "
             "of /records, or 'cursor' of /follow)");
    } else {
      // "f1.<after>" or "f1.<after>.<skip>"
      const auto dot = c->find('.', 3);
      auto a = query::decode_follow_cursor(c->substr(0, dot));
      bool ok = a.has_value();
      if (ok) from.after = *a;
      if (ok && dot != std::string::npos) {
        const std::string s = c->substr(dot + 1);
        auto [q, ec] = std::from_chars(s.data(), s.data() + s.size(), from.skip_seq);
        ok = ec == std::errc() && q == s.data() + s.size();
      }
      if (!ok) p.fail("bad_cursor", "cursor: not a cursor this endpoint returned");
    }
    if (p.error) return *p.error;
    rp.filter.time_skew_ns = options.time_skew_ns;
    auto filter = compile_filter(p, rp.filter);
    if (p.error) return *p.error;
    if (auto info = store.get_instance(id); !info) return not_found(info.error(), id);
    PageLimits limits = options.page;
    limits.max_records = static_cast<std::size_t>(limit);
    RecordsQuery q(store, *filter, options.limits, limits, clock);
    // Everything stored up to here is read by this answer; an empty one waits beyond it.
    const std::uint64_t known = store.last_ingest_seq();
    // No wait here: the HttpServer waits for the store's ingest position without holding a
    // worker, then asks again (ApiResponse::poll_again).
    auto page = q.follow(rp.req, from);
    if (!page) return store_error(page.error(), "records of " + id);
    stats = page->page.stats;
    json out = json::object();
    out["instance"] = id;
    const bool empty = page->page.records.empty();
    returned = page->page.records.size();
    flag_time_skew(page->page.records, options.time_skew_ns);
    out["records"] = records_json(page->page.records);
    std::string cursor = query::encode_follow_cursor(page->next.after);
    if (page->next.skip_seq > 0) cursor += "." + std::to_string(page->next.skip_seq);
    out["cursor"] = cursor;
    add_unreadable(out, id, page->page.unreadable);
    ApiResponse r = json_response(200, out);
    if (empty && wait_ns > 0) {
      r.poll_again = true;
      r.poll_wait = std::chrono::milliseconds(wait_ns / 1'000'000);
      r.poll_after = std::max(known, page->next.after);
    }
    return r;
  }

  ApiResponse timeline(Params& p, const std::string& id) {
    p.allow({"bucket", "priority"});
    query::TimelineRequest t;
    t.instance = id;
    if (p.one("bucket")) {
      p.duration("bucket", t.bucket_ns);
      if (!p.error && t.bucket_ns < 1'000'000'000)
        p.fail("bad_parameter", "bucket must be at least 1s");
    }
    if (const std::string* pr = p.one("priority")) {
      int lo = 0;
      if (!query::parse_priority_range(*pr, lo, t.max_priority))
        p.fail("bad_parameter", "priority=" + *pr + ": expected a level (err, warning, 0-7)");
    }
    if (p.error) return *p.error;
    auto timeline = query::build_timeline(store, t, options.limits, options.page, clock);
    if (!timeline) return not_found(timeline.error(), id);
    json out = timeline_json(*timeline);
    add_unreadable(out, id, timeline->unreadable);
    return json_response(200, out);
  }
};

}  // namespace

namespace {

// The role a request needs, decided before routing: an unknown path needs a read token too, so
// that a caller without one learns nothing about which paths exist.
Role required_role(std::string_view method, const std::vector<std::string>& seg) {
  if (seg.size() == 2 && seg[0] == "v1" && seg[1] == "health") return Role::kNone;
  return method == "GET" ? Role::kRead : Role::kAdmin;
}

ApiResponse denied(const AuthDecision& a, std::string_view method, std::string_view path,
                   Role needed) {
  if (a.denial == Denial::kForbidden)
    return error_response(403, "forbidden",
                          "token '" + a.entry->name + "' has role " + role_name(a.entry->role) +
                              "; " + std::string(method) + " " + std::string(path) +
                              " needs role " + role_name(needed));
  ApiResponse r = error_response(
      401, "unauthorized",
      a.denial == Denial::kMissingToken
          ? "this API needs a bearer token (Authorization: Bearer TOKEN; the blackbox CLI "
            "reads it from BLACKBOX_TOKEN or --token-file)"
          : "the bearer token is not one this collector knows (check the token against the "
            "collector's http.tokens_file)");
  r.www_authenticate = a.denial == Denial::kMissingToken
                           ? "Bearer realm=\"blackbox\""
                           : "Bearer realm=\"blackbox\", error=\"invalid_token\"";
  return r;
}

}  // namespace

ApiResponse Api::handle(const ApiRequest& req) const {
  const std::string_view method = req.method;
  counters_.requests->fetch_add(1, std::memory_order_relaxed);
  auto finish = [&](ApiResponse r) {
    if (r.status >= 500) {
      counters_.server_errors->fetch_add(1, std::memory_order_relaxed);
    } else if (r.status >= 400) {
      counters_.client_errors->fetch_add(1, std::memory_order_relaxed);
    }
    return r;
  };
  auto parsed = parse_http_target(req.target);
  if (!parsed)
    return finish(error_response(400, "bad_parameter", "the request target is not a valid URL"));
  const auto& seg = parsed->segments;
  const Role needed = required_role(method, seg);
  const AuthDecision auth = authorize(options_.tokens.get(), req.authorization, needed);
  if (auth.denial != Denial::kNone) {
    denial_log_->report(auth, req, parsed->path, needed);
    return finish(denied(auth, method, parsed->path, needed));
  }
  const Caller caller{auth.entry ? auth.entry->name : "", std::string(req.peer)};
  const AdminApi admin(store_, options_.admin_store, options_.audit_writer, clock_);
  const bool instance_action = seg.size() == 4 && seg[0] == "v1" && seg[1] == "instances" &&
                               (seg[3] == "hold" || seg[3] == "reenroll");
  if (instance_action) {
    Params p(parsed->params);
    if (seg[3] == "hold" && method == "POST") {
      p.allow({"force"});
      const bool force = p.flag("force");
      return finish(p.error ? *p.error : admin.hold(seg[2], true, force, caller));
    }
    if (seg[3] == "hold" && method == "DELETE") {
      p.allow({});
      return finish(p.error ? *p.error : admin.hold(seg[2], false, false, caller));
    }
    if (seg[3] == "reenroll" && method == "POST") {
      p.allow({});
      return finish(p.error ? *p.error : admin.reenroll(seg[2], caller));
    }
    return finish(error_response(405, "method_not_allowed",
                                 std::string(seg[3] == "hold" ? "POST or DELETE" : "POST") +
                                     " only (got " + std::string(method) + ")"));
  }
  if (method != "GET")
    return finish(error_response(405, "method_not_allowed",
                                 "only GET is supported here (got " + std::string(method) + ")"));
  if (seg.size() == 1 && seg[0] == "metrics") {
    ApiResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = metrics_.render();
    return finish(std::move(r));
  }
  if (seg.size() == 2 && seg[0] == "v1" && (seg[1] == "enrollments" || seg[1] == "holds")) {
    Params p(parsed->params);
    p.allow({});
    if (p.error) return finish(*p.error);
    return finish(seg[1] == "holds" ? admin.holds() : admin.enrollments());
  }
  Params p(parsed->params);
  Handler h{store_, options_, clock_, metrics_, *pool_, *unreadable_log_};
  ScanStats stats;
  std::uint64_t returned = 0;
  ApiResponse r;
  if (seg.size() == 2 && seg[0] == "v1" && seg[1] == "health") {
    r = health_response(store_.health());
  } else if (seg.size() == 2 && seg[0] == "v1" && seg[1] == "instances") {
    r = h.instances(p);
  } else if (seg.size() == 3 && seg[0] == "v1" && seg[1] == "instances") {
    r = h.instance(p, seg[2]);
  } else if (seg.size() == 4 && seg[0] == "v1" && seg[1] == "instances" && seg[3] == "records") {
    r = h.records(p, seg[2], stats, returned);
  } else if (seg.size() == 4 && seg[0] == "v1" && seg[1] == "instances" && seg[3] == "follow") {
    r = h.follow(p, seg[2], stats, returned);
  } else if (seg.size() == 4 && seg[0] == "v1" && seg[1] == "instances" && seg[3] == "timeline") {
    r = h.timeline(p, seg[2]);
  } else if ((seg.size() == 4 && seg[0] == "v1" && seg[1] == "instances" && seg[3] == "verify") ||
             (seg.size() == 2 && seg[0] == "v1" && seg[1] == "verify")) {
    auto v = verify_endpoint(store_, seg.size() == 4 ? seg[2] : "", parsed->params);
    r.status = v.status;
    r.body = std::move(v.body);
  } else {
    r = error_response(404, "not_found",
                       "no endpoint " + parsed->path +
                           " (endpoints: /v1/instances, /v1/instances/{id}, "
                           "/v1/instances/{id}/records, /follow, /timeline, /verify, /hold, "
                           "/reenroll, /v1/verify, /v1/enrollments, /v1/holds, /v1/health, "
                           "/metrics)");
  }
  counters_.batches_read->fetch_add(stats.batches_read, std::memory_order_relaxed);
  counters_.batches_skipped->fetch_add(stats.batches_skipped, std::memory_order_relaxed);
  counters_.raw_bytes_scanned->fetch_add(stats.raw_bytes_scanned, std::memory_order_relaxed);
  counters_.records_returned->fetch_add(returned, std::memory_order_relaxed);
  return finish(std::move(r));
}

}  // namespace blackbox::collector::http
