// Lower-case hex (Boost.Algorithm's hex_lower/unhex) for keys, nonces, signatures and tokens in
// frames' text fields, JSON and files.
#pragma once

#include <string>
#include <string_view>

#include "schemas/result.h"

namespace blackbox {

std::string hex_lower(std::string_view bytes);
// kInvalidArgument on odd length or a character that is not a hex digit (either case).
[[nodiscard]] Result<std::string> unhex(std::string_view hex);

}  // namespace blackbox
