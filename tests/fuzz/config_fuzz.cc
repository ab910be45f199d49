// Fuzz target for the TOML config loaders of the agent (agent/config.h) and the collector
// (collector/config.h): an operator's file is untrusted text. The input is parsed as both.
// Checked: whatever parses renders (--check-config) to TOML that parses again and renders the
// same, validate() answers, and a failed parse says why (at least one problem).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "agent/config.h"
#include "collector/config.h"

namespace {

template <class Config, class Parse, class Render, class Validate>
void check(std::string_view text, Parse parse, Render render, Validate validate) {
  std::vector<std::string> problems;
  auto c = parse(text, std::string("fuzz.toml"), problems);
  if (!c) {
    if (problems.empty()) std::abort();
    return;
  }
  (void)validate(*c);
  const std::string once = render(*c);
  std::vector<std::string> again_problems;
  auto again = parse(once, std::string("rendered.toml"), again_problems);
  if (!again || render(*again) != once) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace agent = blackbox::agent;
  namespace collector = blackbox::collector;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check<agent::Config>(
      text, agent::parse_config, [](const agent::Config& c) { return agent::render_config(c); },
      [](const agent::Config& c) { return agent::validate(c); });
  check<collector::Config>(
      text, collector::parse_config,
      [](const collector::Config& c) { return collector::render_config(c); },
      [](const collector::Config& c) { return collector::validate(c); });
  return 0;
}
