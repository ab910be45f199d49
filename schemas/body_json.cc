#include "schemas/body_json.h"

#include <limits>

namespace blackbox::body_json {

Result<nlohmann::json> parse_object(std::string_view line) {
  if (line.size() > kMaxBodyBytes) return Err(Errc::kLineTooLong);
  // nlohmann parses iteratively; the callback only bounds how deep a document may go, so that
  // whoever walks the result (or destroys it) does a bounded amount of work per level.
  bool too_deep = false;
  auto bound = [&too_deep](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
    if (depth > static_cast<int>(kMaxBodyDepth)) too_deep = true;
    return !too_deep;
  };
  auto j = nlohmann::json::parse(line, bound, /*allow_exceptions=*/false);
  if (too_deep || !j.is_object()) return Err(Errc::kMalformedRecord);
  return j;
}

std::string dump(const nlohmann::json& body) {
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

namespace {

// The member `key`, or nullptr when absent or null.
const nlohmann::json* member(const nlohmann::json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

template <class T>
bool read_unsigned(const nlohmann::json& obj, const char* key, std::optional<T>& out) {
  const auto* m = member(obj, key);
  if (!m) return true;
  if (!m->is_number_unsigned()) return false;  // negative, fractional or not a number
  const auto v = m->get<std::uint64_t>();
  if (v > std::numeric_limits<T>::max()) return false;
  out = static_cast<T>(v);
  return true;
}

}  // namespace

bool read(const nlohmann::json& obj, const char* key, std::string& out) {
  const auto* m = member(obj, key);
  if (!m) return true;
  if (!m->is_string()) return false;
  out = m->get<std::string>();
  return true;
}

bool read(const nlohmann::json& obj, const char* key, bool& out) {
  const auto* m = member(obj, key);
  if (!m) return true;
  if (!m->is_boolean()) return false;
  out = m->get<bool>();
  return true;
}

bool read(const nlohmann::json& obj, const char* key, std::uint64_t& out) {
  std::optional<std::uint64_t> v;
  if (!read_unsigned(obj, key, v)) return false;
  if (v) out = *v;
  return true;
}

bool read(const nlohmann::json& obj, const char* key, std::int64_t& out) {
  const auto* m = member(obj, key);
  if (!m) return true;
  if (m->is_number_unsigned()) {
    const auto v = m->get<std::uint64_t>();
    if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return false;
    out = static_cast<std::int64_t>(v);
    return true;
  }
  if (!m->is_number_integer()) return false;
  out = m->get<std::int64_t>();
  return true;
}

bool read(const nlohmann::json& obj, const char* key, std::optional<std::string>& out) {
  const auto* m = member(obj, key);
  if (!m) return true;
  if (!m->is_string()) return false;
  out = m->get<std::string>();
  return true;
}

bool read(const nlohmann::json& obj, const char* key, std::optional<std::uint64_t>& out) {
  return read_unsigned(obj, key, out);
}

bool read(const nlohmann::json& obj, const char* key, std::optional<std::uint32_t>& out) {
  return read_unsigned(obj, key, out);
}

bool require(const nlohmann::json& obj, const char* key, std::string& out) {
  return member(obj, key) != nullptr && read(obj, key, out);
}

}  // namespace blackbox::body_json
