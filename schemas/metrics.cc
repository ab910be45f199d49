#include "schemas/metrics.h"

#include <cstdio>
#include <unordered_set>

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
  std::string out;
  std::unordered_set<std::string> described;
  for (const Series& s : series_) {
    const std::string base = base_name(s.name);
    if (described.insert(base).second) {
      out += "# HELP " + base + " " + s.help + "\n";
      out += "# TYPE " + base + (s.is_counter ? " counter\n" : " gauge\n");
    }
    char value[64];
    if (s.is_counter)
      std::snprintf(value, sizeof value, "%llu",
                    static_cast<unsigned long long>(s.value.load(std::memory_order_relaxed)));
    else
      std::snprintf(value, sizeof value, "%.17g", s.read ? s.read() : 0.0);
    out += s.name + " " + value + "\n";
  }
  return out;
}

}  // namespace blackbox
