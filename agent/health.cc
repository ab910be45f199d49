#include "agent/health.h"

#include <nlohmann/json.hpp>

#include "schemas/time_text.h"

namespace blackbox::agent {

void Health::set(std::string_view condition, Level level, std::string message,
                 std::int64_t now_ns) {
  std::lock_guard lock(mu_);
  auto it = conditions_.find(condition);
  if (it == conditions_.end()) {
    conditions_.emplace(std::string(condition), Condition{level, std::move(message), now_ns});
    return;
  }
  it->second.level = level;
  it->second.message = std::move(message);
}

void Health::clear(std::string_view condition) {
  std::lock_guard lock(mu_);
  auto it = conditions_.find(condition);
  if (it != conditions_.end()) conditions_.erase(it);
}

Health::Level Health::level() const {
  std::lock_guard lock(mu_);
  Level worst = Level::kOk;
  for (const auto& [name, c] : conditions_) worst = std::max(worst, c.level);
  return worst;
}

bool Health::is_set(std::string_view condition) const {
  std::lock_guard lock(mu_);
  return conditions_.find(condition) != conditions_.end();
}

std::string Health::to_json() const {
  nlohmann::json out;
  nlohmann::json list = nlohmann::json::array();
  Level worst = Level::kOk;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, c] : conditions_) {
      worst = std::max(worst, c.level);
      list.push_back({{"name", name},
                      {"level", to_string(c.level)},
                      {"message", c.message},
                      {"since", format_rfc3339_ns(c.since_ns)}});
    }
  }
  out["status"] = to_string(worst);
  out["conditions"] = std::move(list);
  return out.dump() + "\n";
}

std::string_view to_string(Health::Level level) {
  switch (level) {
    case Health::Level::kOk:
      return "ok";
    case Health::Level::kDegraded:
      return "degraded";
    case Health::Level::kFailing:
      return "failing";
  }
  return "unknown";
}

}  // namespace blackbox::agent
