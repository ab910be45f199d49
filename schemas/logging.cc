#include "schemas/logging.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <string>

namespace blackbox {

void setup_logging(std::string_view name, std::string_view level) {
  auto logger = spdlog::get(std::string(name));
  if (!logger) logger = spdlog::stderr_logger_mt(std::string(name));
  spdlog::set_default_logger(logger);
  spdlog::set_pattern(std::string(kLogPattern), spdlog::pattern_time_type::utc);
  const auto l = spdlog::level::from_str(std::string(level));
  if (l != spdlog::level::off || level == "off") spdlog::set_level(l);
}

}  // namespace blackbox
