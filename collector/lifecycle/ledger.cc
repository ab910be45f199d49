#include "collector/lifecycle/ledger.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "collector/store/codec.h"
#include "collector/store/keys.h"
#include "schemas/bytes.h"

namespace blackbox::collector {

using keys::Cf;

namespace {

std::string_view sv(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

void remember(std::vector<std::string>& list, const std::string& v, std::size_t cap) {
  if (v.empty() || list.size() >= cap) return;
  if (std::find(list.begin(), list.end(), v) == list.end()) list.push_back(v);
}

}  // namespace

Ledger::Ledger(StoreInternals& store, const Clock& clock, LedgerOptions options)
    : store_(store), clock_(clock), options_(options) {
  // Event keys are (instance, time, counter); seeding the counter from the real clock keeps it
  // increasing across restarts even when tests run on a frozen clock.
  event_counter_ = static_cast<std::uint64_t>(SystemClock().wall_ns());
}

Result<void> Ledger::load() {
  entries_.clear();
  dirty_.clear();
  std::unique_ptr<rocksdb::Iterator> it(store_.db()->NewIterator({}, store_.cf(Cf::kInstances)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto info = codec::decode_instance(sv(it->value()));
    if (!info) {
      spdlog::error("ledger: instance {}: undecodable record", sv(it->key()));
      return info.error();
    }
    auto name = info->instance;
    entries_[name].info = std::move(*info);
  }
  if (auto e = status_errc(it->status(), "ledger: load instances"); e != Errc::kOk) return Err(e);

  it.reset(store_.db()->NewIterator({}, store_.cf(Cf::kHeads)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto inst = keys::key_instance(sv(it->key()));
    auto rest = keys::after_instance(sv(it->key()));
    if (!inst || !rest || rest->size() != 4) return Err(Errc::kCorrupt);
    const auto stream = bytes::load_be<std::uint32_t>(rest->data());
    auto h = codec::decode_head(stream, sv(it->value()));
    if (!h) return h.error();
    auto found = entries_.find(*inst);
    if (found == entries_.end()) {
      // Heads are written with the instance record; a head without one is a bug or damage.
      spdlog::error("ledger: stream head for unknown instance {}", *inst);
      return Err(Errc::kCorrupt);
    }
    found->second.heads[stream] = *h;
  }
  if (auto e = status_errc(it->status(), "ledger: load heads"); e != Errc::kOk) return Err(e);
  return {};
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

void Ledger::add_event(Entry& e, LifecycleEvent ev, rocksdb::WriteBatch& wb) {
  auto st = wb.Put(store_.cf(Cf::kLifecycle),
                   keys::lifecycle_key(e.info.instance, ev.time_ns, ++event_counter_),
                   codec::encode_event(ev));
  if (!st.ok()) spdlog::error("ledger: {}: event: {}", e.info.instance, st.ToString());
  spdlog::info("ledger: instance {}: {}{}{}", e.info.instance, lifecycle_kind_name(ev.kind),
               ev.reason.empty() ? "" : ": ", ev.reason);
}

std::vector<StreamPosition> Ledger::on_hello(const Hello& hello, rocksdb::WriteBatch& wb) {
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

void Ledger::on_seen(Entry& e, rocksdb::WriteBatch& wb) {
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

void Ledger::on_goodbye(Entry& e, const Goodbye& bye, rocksdb::WriteBatch& wb) {
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
                                   const std::string& reason, rocksdb::WriteBatch& wb) {
  nlohmann::json d = {{"seq", seq}};
  add_event(e, {time_ns, LifecycleKind::kTerminationNotice, "", "", reason, d.dump()}, wb);
  if (!e.info.termination_notice) {
    e.info.termination_notice = true;
    e.info.termination_notice_ns = time_ns;
  }
  mark(e);
}

std::size_t Ledger::tick(rocksdb::WriteBatch& wb) {
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

void Ledger::put_head(Entry& e, const StreamHead& h, rocksdb::WriteBatch& wb) {
  e.heads[h.stream] = h;
  auto st = wb.Put(store_.cf(Cf::kHeads), keys::head_key(e.info.instance, h.stream),
                   codec::encode_head(h));
  if (!st.ok()) spdlog::error("ledger: {}: head: {}", e.info.instance, st.ToString());
}

void Ledger::flush(rocksdb::WriteBatch& wb) {
  for (Entry* e : dirty_) {
    auto st = wb.Put(store_.cf(Cf::kInstances), e->info.instance, codec::encode_instance(e->info));
    if (!st.ok()) spdlog::error("ledger: {}: instance: {}", e->info.instance, st.ToString());
    e->dirty = false;
  }
  dirty_.clear();
}

}  // namespace blackbox::collector
