// The JSON plumbing shared by the typed record bodies (lifecycle_body.h, gap_body.h,
// snapshot_body.h): a bounded parse of a record's line into a JSON object, the one way bodies are
// written (nlohmann's sorted-key dump, so encoded bytes are stable), and member readers that
// tell "absent" from "wrong type". Bodies are small documents: not a hot path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "schemas/limits.h"
#include "schemas/result.h"

namespace blackbox::body_json {

// A body is a record line: never larger than the biggest frame, never nested deeper than this.
inline constexpr std::size_t kMaxBodyBytes = kDefaultMaxFrameBytes;
inline constexpr std::size_t kMaxBodyDepth = 32;

// Parses `line` as one JSON object. kLineTooLong over kMaxBodyBytes; kMalformedRecord when it
// is not JSON, not an object, or nests deeper than kMaxBodyDepth. Never throws.
[[nodiscard]] Result<nlohmann::json> parse_object(std::string_view line);

// Compact JSON with sorted keys; ill-formed UTF-8 in strings becomes U+FFFD (a body must be
// valid JSON text even when a file path is not valid UTF-8; the record's `source` keeps the
// exact bytes). These are the bytes the agent has always written.
std::string dump(const nlohmann::json& body);

// Member readers. Absent (or null, for the optional ones) leaves `out` as it is and succeeds;
// a member of the wrong type fails. Integers must be JSON integers in the target's range.
[[nodiscard]] bool read(const nlohmann::json& obj, const char* key, std::string& out);
[[nodiscard]] bool read(const nlohmann::json& obj, const char* key, bool& out);
[[nodiscard]] bool read(const nlohmann::json& obj, const char* key, std::uint64_t& out);
[[nodiscard]] bool read(const nlohmann::json& obj, const char* key, std::int64_t& out);
[[nodiscard]] bool read(const nlohmann::json& obj, const char* key,
                        std::optional<std::string>& out);
[[nodiscard]] bool read(const nlohmann::json& obj, const char* key,
                        std::optional<std::uint64_t>& out);
[[nodiscard]] bool read(const nlohmann::json& obj, const char* key,
                        std::optional<std::uint32_t>& out);

// Like read(), but the member must be present and a string.
[[nodiscard]] bool require(const nlohmann::json& obj, const char* key, std::string& out);

// The enumerator named `name` in `names`, a table indexed by the enumerators' values.
template <class E, std::size_t N>
std::optional<E> find_name(const char* const (&names)[N], std::string_view name) noexcept {
  for (std::size_t i = 0; i < N; ++i)
    if (name == names[i]) return static_cast<E>(i);
  return std::nullopt;
}

}  // namespace blackbox::body_json
