// HELLO tokens: with a fleet secret configured, an agent proves which instance it may write as
// by sending hex HMAC-SHA256(secret, instance_id) (contract 5).
#pragma once

#include <string>
#include <string_view>

namespace blackbox::collector {

// Lower-case hex HMAC-SHA256(secret, instance_id): the token an agent must send.
std::string hello_token(std::string_view secret, std::string_view instance_id);

// Constant-time check of `token` against hello_token(secret, instance_id).
bool token_valid(std::string_view secret, std::string_view instance_id, std::string_view token);

// 1..256 bytes of printable ASCII without spaces (0x21..0x7e).
bool valid_instance_id(std::string_view id);

}  // namespace blackbox::collector
