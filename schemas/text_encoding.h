// Text encodings the JSON shapes need: UTF-8 validation, a lossy UTF-8 copy, and base64
// (RFC 4648, standard alphabet, padded). A record's line is evidence and may hold any bytes;
// JSON can only carry UTF-8, so record_json.h uses these to carry both a readable copy and the
// exact bytes (schemas/record.schema.json, "message_base64").
#pragma once

#include <string>
#include <string_view>

#include "schemas/result.h"

namespace blackbox {

// True when `s` is well-formed UTF-8 (no overlong forms, no surrogates, nothing above
// U+10FFFF). NUL and control characters are valid UTF-8.
bool is_valid_utf8(std::string_view s) noexcept;

// A copy of `s` in which every maximal ill-formed subsequence is replaced by U+FFFD (the
// Unicode / WHATWG "maximal subpart" practice). Equal to `s` when it is valid.
std::string utf8_lossy(std::string_view s);

std::string base64_encode(std::string_view bytes);
// Decodes padded standard base64; kInvalidArgument on any other character or a bad length.
[[nodiscard]] Result<std::string> base64_decode(std::string_view text);

}  // namespace blackbox
