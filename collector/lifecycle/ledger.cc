#include "collector/lifecycle/ledger.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "schemas/gap_body.h"

namespace blackbox::collector {

namespace {

// Gap reasons the agent writes (schemas/gap_body.h) and their metric labels.
constexpr std::pair<std::string_view, std::string_view> kGapReasonLabels[] = {
    {gap_reason::kTruncated, "truncated"},
    {gap_reason::kTruncatedWhileStopped, "truncated_while_stopped"},
    {gap_reason::kSpoolDamaged, "spool_damaged"},
    {gap_reason::kSpoolUnreadable, "spool_unreadable"},
    {gap_reason::kBatchRejected, "batch_rejected"},
    {gap_reason::kSpoolForeign, "spool_foreign"},
    {gap_reason::kVanishedBeforeRead, "vanished_before_read"},
    {gap_reason::kWatchOverflow, "watch_overflow"},
    {gap_reason::kSourceUnreadable, "source_unreadable"},
};
constexpr InstanceState kStates[] = {InstanceState::kRunning, InstanceState::kSilent,
                                     InstanceState::kTerminated};

void remember(std::vector<std::string>& list, const std::string& v, std::size_t cap) {
  if (v.empty() || list.size() >= cap) return;
  if (std::find(list.begin(), list.end(), v) == list.end()) list.push_back(v);
}

}  // namespace

Ledger::Ledger(const Store& store, const Clock& clock, LedgerOptions options)
    : store_(store), clock_(clock), options_(options) {}

Result<void> Ledger::load() {
  entries_.clear();
  dirty_.clear();
  for (auto& n : figures_->by_state) n.store(0);  // account() adds every loaded entry again
  figures_->sequence_gaps.store(0);
  auto infos = store_.list_instances();
  if (!infos) return infos.error();
  for (auto& info : *infos) {
    auto heads = store_.stream_heads(info.instance);
    if (!heads) return heads.error();
    info.legal_hold = false;  // not part of the ledger's record (the store merges it in)
    Entry& e = entries_[info.instance];
    for (const auto& h : *heads) e.heads[h.stream] = h;
    e.info = std::move(info);
    account(e);
  }
  return {};
}

void Ledger::account(Entry& e) {
  Figures& f = *figures_;
  if (e.counted) {
    f.by_state[static_cast<std::size_t>(e.counted_state)].fetch_sub(1);
    f.sequence_gaps.fetch_sub(e.counted_gaps);
  }
  e.counted = true;
  e.counted_state = e.info.state;
  e.counted_gaps = e.info.gaps;
  f.by_state[static_cast<std::size_t>(e.counted_state)].fetch_add(1);
  f.sequence_gaps.fetch_add(e.counted_gaps);
}

std::int64_t Ledger::instances_in(InstanceState s) const {
  return figures_->by_state[static_cast<std::size_t>(s)].load();
}

void Ledger::register_metrics(Metrics& metrics) {
  const std::string help = "Instances the collector knows, by state (running, silent, terminated)";
  for (InstanceState s : kStates) {
    metrics.gauge("blackbox_collector_instances{state=\"" + std::string(state_name(s)) + "\"}",
                  help, [f = figures_, s] {
                    return static_cast<double>(f->by_state[static_cast<std::size_t>(s)].load());
                  });
  }
  metrics.gauge("blackbox_collector_stored_gaps{reason=\"sequence\"}",
                "Gap ranges recorded in the store over all instances, by reason (sequence: a "
                "batch started after the stream's next expected sequence)",
                [f = figures_] { return static_cast<double>(f->sequence_gaps.load()); });
  const std::string gap_help = "Gap records agents sent (what they know they missed), by reason";
  agent_gaps_.clear();
  for (const auto& [reason, label] : kGapReasonLabels) {
    agent_gaps_.emplace_back(
        reason, &metrics.counter(
                    "blackbox_collector_agent_gaps_total{reason=\"" + std::string(label) + "\"}",
                    gap_help));
  }
  agent_gaps_other_ =
      &metrics.counter("blackbox_collector_agent_gaps_total{reason=\"other\"}", gap_help);
}

void Ledger::on_agent_gaps(const std::vector<std::string>& reasons) {
  if (!agent_gaps_other_) return;  // no metrics registered
  for (const auto& r : reasons) {
    auto it = std::find_if(agent_gaps_.begin(), agent_gaps_.end(),
                           [&](const auto& p) { return p.first == r; });
    (it != agent_gaps_.end() ? it->second : agent_gaps_other_)
        ->fetch_add(1, std::memory_order_relaxed);
  }
}

Ledger::Entry* Ledger::find(std::string_view instance) {
  auto it = entries_.find(instance);
  return it == entries_.end() ? nullptr : &it->second;
}

void Ledger::mark(Entry& e) {
  if (!e.dirty) {
    e.dirty = true;
    dirty_.push_back(&e);
  }
}

void Ledger::add_event(Entry& e, LifecycleEvent ev, StoreWriteBatch& wb) {
  wb.put_lifecycle(e.info.instance, ev);
  spdlog::info("ledger: instance {}: {}{}{}", e.info.instance, lifecycle_kind_name(ev.kind),
               ev.reason.empty() ? "" : ": ", ev.reason);
}

std::vector<StreamPosition> Ledger::on_hello(const Hello& hello, StoreWriteBatch& wb) {
  const std::int64_t now = clock_.wall_ns();
  auto [it, created] = entries_.try_emplace(hello.instance_id);
  Entry& e = it->second;
  InstanceInfo& info = e.info;
  nlohmann::json detail = {{"agent_version", hello.agent_version}, {"image", hello.image_id}};
  if (created) {
    info.instance = hello.instance_id;
    info.first_seen_ns = now;
  } else if (info.state == InstanceState::kSilent) {
    nlohmann::json d = detail;
    d["silent_since_ns"] = info.end.time_ns;
    add_event(e,
              {now, LifecycleKind::kReconnected, hello.boot_id, hello.hostname,
               "hello after silence", d.dump()},
              wb);
  } else if (info.state == InstanceState::kTerminated) {
    detail["after_goodbye"] = true;
  }
  add_event(e, {now, LifecycleKind::kHello, hello.boot_id, hello.hostname, "", detail.dump()}, wb);
  if (info.state != InstanceState::kRunning) {
    info.state = InstanceState::kRunning;
    info.end = InstanceEnd{};
    info.termination_notice = false;
    info.termination_notice_ns = 0;
  }
  if (!hello.image_id.empty()) info.image = hello.image_id;
  if (!hello.agent_version.empty()) info.agent_version = hello.agent_version;
  remember(info.hostnames, hello.hostname, options_.max_hostnames);
  remember(info.boot_ids, hello.boot_id, options_.max_boot_ids);
  info.last_seen_ns = now;
  mark(e);

  std::vector<StreamPosition> out;
  for (const auto& [stream, h] : e.heads) out.push_back({stream, h.next_seq, h.head});
  return out;
}

void Ledger::on_seen(Entry& e, StoreWriteBatch& wb) {
  const std::int64_t now = clock_.wall_ns();
  e.info.last_seen_ns = now;
  if (e.info.state == InstanceState::kSilent) {
    nlohmann::json d = {{"silent_since_ns", e.info.end.time_ns}};
    add_event(
        e, {now, LifecycleKind::kReconnected, "", "", "heard from again after silence", d.dump()},
        wb);
    e.info.state = InstanceState::kRunning;
    e.info.end = InstanceEnd{};
  }
  mark(e);
}

void Ledger::on_heartbeat(Entry& e, const Heartbeat& /*hb*/) {
  e.info.last_heartbeat_ns = clock_.wall_ns();
  mark(e);
}

void Ledger::on_goodbye(Entry& e, const Goodbye& bye, StoreWriteBatch& wb) {
  const std::int64_t now = clock_.wall_ns();
  if (e.info.state == InstanceState::kTerminated) return;  // a repeated GOODBYE
  const bool notice = bye.after_termination_notice || e.info.termination_notice;
  nlohmann::json d = {{"termination_notice", notice}};
  add_event(e, {now, LifecycleKind::kGoodbye, "", "", bye.reason, d.dump()}, wb);
  e.info.state = InstanceState::kTerminated;
  e.info.end = InstanceEnd{EndKind::kGoodbye, now, bye.reason, notice};
  e.info.last_seen_ns = now;
  mark(e);
}

void Ledger::on_termination_notice(Entry& e, std::int64_t time_ns, std::uint64_t seq,
                                   const std::string& reason, StoreWriteBatch& wb) {
  nlohmann::json d = {{"seq", seq}};
  add_event(e, {time_ns, LifecycleKind::kTerminationNotice, "", "", reason, d.dump()}, wb);
  if (!e.info.termination_notice) {
    e.info.termination_notice = true;
    e.info.termination_notice_ns = time_ns;
  }
  mark(e);
}

std::size_t Ledger::tick(StoreWriteBatch& wb) {
  const std::int64_t now = clock_.wall_ns();
  const std::int64_t limit = options_.silent_after.count();
  std::size_t n = 0;
  for (auto& [name, e] : entries_) {
    InstanceInfo& info = e.info;
    if (info.state != InstanceState::kRunning) continue;
    const std::int64_t last = std::max(info.last_seen_ns, info.last_heartbeat_ns);
    if (now - last <= limit) continue;
    nlohmann::json d = {{"last_seen_ns", info.last_seen_ns},
                        {"last_heartbeat_ns", info.last_heartbeat_ns},
                        {"silent_after_ns", limit}};
    add_event(e, {now, LifecycleKind::kWentSilent, "", "", "no heartbeat", d.dump()}, wb);
    info.state = InstanceState::kSilent;
    info.end = InstanceEnd{EndKind::kSilent, last, "", info.termination_notice};
    mark(e);
    ++n;
  }
  return n;
}

void Ledger::put_head(Entry& e, const StreamHead& h, StoreWriteBatch& wb) {
  e.heads[h.stream] = h;
  wb.put_head(e.info.instance, h);
}

void Ledger::flush(StoreWriteBatch& wb) {
  for (Entry* e : dirty_) {
    wb.put_instance(e->info);
    e->dirty = false;
    account(*e);
  }
  dirty_.clear();
}

}  // namespace blackbox::collector
