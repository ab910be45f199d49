#include "agent/ship/credentials.h"

#include <spdlog/spdlog.h>

#include "schemas/key_auth.h"
#include "schemas/secret_file.h"

namespace blackbox::agent {

Result<void> set_ship_credentials(const Config& c, std::shared_ptr<const Ed25519Key> key,
                                  ShipperOptions& o, std::string& why) {
  const std::string auth = effective_auth(c.ship);
  o.hello.token.clear();
  if (auth == "token") {
    if (c.ship.token_file.empty()) {
      o.hello.token = c.ship.token;
    } else {
      auto token = read_secret_file(c.ship.token_file, why);
      if (!token) return token.error();
      o.hello.token = std::move(*token);
    }
  } else if (auth == "key") {
    if (!key) {
      why = "ship.auth = \"key\" needs the instance key";
      return Err(Errc::kInvalidArgument);
    }
    if (!c.ship.enrollment_secret_file.empty()) {
      auto secret = read_secret_file(c.ship.enrollment_secret_file, why);
      if (!secret) return secret.error();
      o.enrollment_secret = std::move(*secret);
    }
    o.hello.protocol_version = kHelloVersionKeyAuth;
    o.hello.auth = "key";
    o.hello.public_key = public_key_bytes(key->public_key());
    o.instance_key = std::move(key);
    spdlog::info("ship: authenticating with instance key {}{}",
                 ed25519_fingerprint(o.instance_key->public_key()),
                 o.enrollment_secret ? " (enrollment secret present)" : "");
  }
  return {};
}

}  // namespace blackbox::agent
