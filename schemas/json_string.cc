#include "schemas/json_string.h"

#include <nlohmann/json.hpp>

namespace blackbox {

std::optional<std::string> decode_json_string(std::string_view literal) {
  if (literal.size() < 2 || literal.front() != '"') return std::nullopt;
  auto j = nlohmann::json::parse(literal, nullptr, /*allow_exceptions=*/false);
  if (!j.is_string()) return std::nullopt;
  return j.get<std::string>();
}

}  // namespace blackbox
