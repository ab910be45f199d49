// The text of a JSON string literal (RFC 8259 §7: quotes and escapes removed), for code that
// compares stored JSON field values without linking a JSON library itself (the query engine's
// `where`). Decoding is nlohmann's, behind this one function.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace blackbox {

// The decoded text of `literal` (a complete JSON string literal, quotes included), or nullopt
// when it is not one: no quotes, a bad escape, a lone surrogate, trailing bytes. Never throws.
std::optional<std::string> decode_json_string(std::string_view literal);

}  // namespace blackbox
