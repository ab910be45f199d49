#include "collector/server/writer_registry.h"

#include <spdlog/spdlog.h>

namespace blackbox::collector {

std::string describe(const WriterIdentity& id) {
  return "boot " + (id.boot_id.empty() ? std::string("(none)") : id.boot_id) + " (host " +
         (id.hostname.empty() ? std::string("?") : id.hostname) + ", agent " +
         (id.agent_version.empty() ? std::string("?") : id.agent_version) + ", from " + id.peer +
         ")";
}

void WriterRegistry::settle(Entry& e) {
  if (!e.writer) return;
  const std::uint64_t frames = e.writer->frames ? e.writer->frames->load() : 0;
  for (auto it = e.refused.begin(); it != e.refused.end();) {
    if (it->second.writer != e.writer->connection) {
      ++it;
      continue;
    }
    if (frames > it->second.writer_frames) {  // the writer was alive after refusing this boot
      e.contested.insert(it->first);
      e.contested_by = describe(e.writer->identity);
    }
    it = e.refused.erase(it);
  }
}

std::string WriterRegistry::claim(const std::string& instance, Claimant c) {
  std::function<void()> evict;
  std::string refusal;
  {
    std::lock_guard lock(mu_);
    Entry& e = entries_[instance];
    const std::string who = key(c.identity);
    if (e.contested.count(who)) {
      refusal = "instance " + instance + " is written by another machine: " + e.contested_by +
                " was connected and sending while this " + describe(c.identity) +
                " was refused; two machines share this instance id — give each its own "
                "(machine-id / agent.instance_id) and restart this agent; its data stays in "
                "its spool until then";
    } else if (e.writer && key(e.writer->identity) != who) {
      Refused& r = e.refused[who];
      if (r.writer != e.writer->connection) {  // the first refusal by this writer counts
        r.writer = e.writer->connection;
        r.writer_frames = e.writer->frames ? e.writer->frames->load() : 0;
      }
      refusal = "instance " + instance + " is already connected from " +
                describe(e.writer->identity) +
                "; two machines share this instance id — give each its own (machine-id / "
                "agent.instance_id). If that machine just rebooted, this clears when its old "
                "connection times out";
    } else {
      if (e.writer) {  // the same boot and host again: its old connection is stale
        spdlog::warn("server: instance {}: a new connection from {} replaces the one from {}",
                     instance, c.identity.peer, e.writer->identity.peer);
        settle(e);
        evict = std::move(e.writer->evict);
      }
      e.refused.erase(who);
      e.writer = std::move(c);
    }
  }
  if (evict) evict();
  return refusal;
}

void WriterRegistry::release(const std::string& instance, std::uint64_t connection) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(instance);
  if (it == entries_.end() || !it->second.writer || it->second.writer->connection != connection)
    return;
  Entry& e = it->second;
  settle(e);
  e.writer.reset();
  if (e.refused.empty() && e.contested.empty()) entries_.erase(it);
}

}  // namespace blackbox::collector
