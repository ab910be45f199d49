#include "schemas/metrics.h"

#include <cstdio>
#include <unordered_map>
#include <vector>

namespace blackbox {

namespace {
std::string base_name(const std::string& name) { return name.substr(0, name.find('{')); }
}  // namespace

std::atomic<std::uint64_t>& Metrics::counter(const std::string& name, const std::string& help) {
  std::lock_guard lock(mu_);
  for (Series& s : series_)
    if (s.name == name && s.is_counter) return s.value;
  Series& s = series_.emplace_back();
  s.name = name;
  s.help = help;
  s.is_counter = true;
  return s.value;
}

void Metrics::gauge(const std::string& name, const std::string& help,
                    std::function<double()> read) {
  std::lock_guard lock(mu_);
  Series& s = series_.emplace_back();
  s.name = name;
  s.help = help;
  s.is_counter = false;
  s.read = std::move(read);
}

std::string Metrics::render() const {
  std::lock_guard lock(mu_);
  // The exposition format wants every series of a family together: group by base name, in
  // order of each family's first registration.
  std::vector<std::string> families;
  std::unordered_map<std::string, std::vector<const Series*>> by_family;
  for (const Series& s : series_) {
    auto [it, fresh] = by_family.try_emplace(base_name(s.name));
    if (fresh) families.push_back(it->first);
    it->second.push_back(&s);
  }
  std::string out;
  for (const std::string& base : families) {
    const auto& members = by_family[base];
    out += "# HELP " + base + " " + members.front()->help + "\n";
    out += "# TYPE " + base + (members.front()->is_counter ? " counter\n" : " gauge\n");
    for (const Series* s : members) {
      char value[64];
      if (s->is_counter)
        std::snprintf(value, sizeof value, "%llu",
                      static_cast<unsigned long long>(s->value.load(std::memory_order_relaxed)));
      else
        std::snprintf(value, sizeof value, "%.17g", s->read ? s->read() : 0.0);
      out += s->name + " " + value + "\n";
    }
  }
  return out;
}

}  // namespace blackbox
