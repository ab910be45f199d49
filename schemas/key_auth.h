// Key authentication of a HELLO (issue 12 item 2; PROTOCOL.md §5.1): what the agent signs with
// its instance key and, to enroll, MACs with a fleet enrollment secret, and how the collector
// checks both. One copy for the agent, the collector and the tests.
//
// The message binds the collector's fresh nonce (so a captured PROOF is worthless on any other
// connection), the instance id and the public key (so neither can be swapped), under a domain
// label that no other signature of the instance key starts with:
//   "blackbox key auth v1\0" ‖ nonce (32) ‖ str(instance_id) ‖ public_key (32)
// where str is a varint length and the bytes (PROTOCOL.md conventions).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "schemas/ed25519.h"
#include "schemas/frame.h"

namespace blackbox {

inline constexpr std::string_view kKeyAuthDomain{"blackbox key auth v1\0", 21};
inline constexpr std::size_t kEnrollmentMacBytes = 32;

// The signed (and MACed) message. `public_key` is the raw 32 bytes.
std::string key_auth_message(std::string_view nonce, std::string_view instance_id,
                             std::string_view public_key);

// Raw HMAC-SHA256(secret, message): 32 bytes.
std::string enrollment_mac(std::string_view secret, std::string_view message);
// Constant-time comparison of `mac` with enrollment_mac(secret, message).
bool enrollment_mac_valid(std::string_view secret, std::string_view message, std::string_view mac);

// The agent's answer to a CHALLENGE: the signature, and the MAC when `enrollment_secret` is
// set (an already enrolled instance needs only the signature).
Proof make_proof(const Ed25519Key& key, std::string_view nonce, std::string_view instance_id,
                 const std::string* enrollment_secret);

// The raw public key as carried in HELLO.public_key.
std::string public_key_bytes(const Ed25519PublicKey& key);
// HELLO.public_key back to a key; nullopt unless exactly 32 bytes.
std::optional<Ed25519PublicKey> parse_public_key(std::string_view raw);

// True when `proof.signature` is `key`'s signature of key_auth_message(nonce, instance, key).
bool proof_signature_valid(const Ed25519PublicKey& key, std::string_view nonce,
                           std::string_view instance_id, const Proof& proof);

}  // namespace blackbox
