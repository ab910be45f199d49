// The shipper's credentials from the agent's config (issue 12 item 2): ship.auth decides what
// the HELLO carries — "key": protocol version 2, the instance's public key, and the key and
// fleet enrollment secret that answer the collector's CHALLENGE (PROTOCOL.md §5.1); "token":
// the HMAC token, inline or from ship.token_file; "none": nothing. Every secret is read
// through read_secret_file (mode 0600 or refused with the chmod to run).
#pragma once

#include <memory>
#include <string>

#include "agent/config.h"
#include "agent/ship/shipper.h"
#include "schemas/ed25519.h"
#include "schemas/result.h"

namespace blackbox::agent {

// Sets o.hello's auth fields, o.instance_key and o.enrollment_secret. `key` is the instance key
// (loaded once by the runtime; required for auth "key"). Errors (with `why` naming the file and
// the fix): those of read_secret_file.
[[nodiscard]] Result<void> set_ship_credentials(const Config& c,
                                                std::shared_ptr<const Ed25519Key> key,
                                                ShipperOptions& o, std::string& why);

}  // namespace blackbox::agent
