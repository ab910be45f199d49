// Health: conditions raised and cleared, the worst level wins, an episode keeps its start.
#include "agent/health.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace blackbox::agent {
namespace {

TEST(Health, WorstRaisedConditionIsTheLevelAndClearingEndsIt) {
  Health h;
  EXPECT_EQ(h.level(), Health::Level::kOk);
  h.set("spool_full", Health::Level::kDegraded, "spool full", 1'000'000'000);
  h.set("stalled", Health::Level::kFailing, "no progress", 2'000'000'000);
  EXPECT_EQ(h.level(), Health::Level::kFailing);
  EXPECT_TRUE(h.is_set("stalled"));
  h.clear("stalled");
  EXPECT_FALSE(h.is_set("stalled"));
  EXPECT_EQ(h.level(), Health::Level::kDegraded);
  h.clear("never-raised");
  EXPECT_EQ(h.level(), Health::Level::kDegraded);
}

TEST(Health, JsonListsConditionsAndKeepsTheEpisodeStart) {
  Health h;
  h.set("spool_full", Health::Level::kDegraded, "first", 1'000'000'000);
  h.set("spool_full", Health::Level::kDegraded, "updated", 5'000'000'000);
  const auto j = nlohmann::json::parse(h.to_json());
  EXPECT_EQ(j["status"], "degraded");
  ASSERT_EQ(j["conditions"].size(), 1u);
  EXPECT_EQ(j["conditions"][0]["name"], "spool_full");
  EXPECT_EQ(j["conditions"][0]["message"], "updated");
  EXPECT_EQ(j["conditions"][0]["since"], "1970-01-01T00:00:01.000000000Z");
  h.clear("spool_full");
  EXPECT_EQ(nlohmann::json::parse(h.to_json())["status"], "ok");
}

}  // namespace
}  // namespace blackbox::agent
