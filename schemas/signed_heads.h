// Signed chain heads (issue 12 item 5; DESIGN.md contract 6): the lifecycle record (stream 2,
// RecordKind::kLifecycle, event "signed_heads") in which the agent signs, with its instance
// key (ed25519.h), where each of its streams' hash chains stood when it signed. `blackbox
// verify` recomputes every stream's chain from the stored batches and checks each signed head
// against it: a stream rewritten consistently (every hash recomputed) no longer ends at the
// signed head, and a new signature needs the instance's private key, which never leaves it.
//
// Body (signed_heads_body.schema.json), one JSON object, keys sorted:
//   {"event":"signed_heads","fingerprint":"SHA256:…","heads":[{"head":"<64 hex>",
//    "next_seq":N,"stream":S},…],"instance":"i-…","public_key":"<64 hex>",
//    "signature":"<128 hex>","signed_ns":T}
// Signed bytes (PROTOCOL.md §4.3; all integers big-endian), domain-separated so that no other
// message signed with the same key (the HELLO proof) can be taken for one of these:
//   "blackbox/signed_heads/v1" 0x00
//   u16 instance length, instance bytes
//   i64 signed_ns (the agent's wall clock)
//   [32] public key (the fingerprint is derived from it)
//   u32 head count, then per head in increasing stream order:
//       u32 stream, u64 next_seq (end of the stream's last spooled batch), [32] head
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "schemas/ed25519.h"
#include "schemas/hash_chain.h"
#include "schemas/result.h"

namespace blackbox {

inline constexpr std::string_view kSignedHeadsEvent = "signed_heads";
inline constexpr std::string_view kSignedHeadsDomain{"blackbox/signed_heads/v1\0", 25};

struct SignedHead {
  std::uint32_t stream = 0;
  std::uint64_t next_seq = 0;  // first sequence after the batch whose hash is `head`
  ChainHash head{};
  bool operator==(const SignedHead&) const = default;
};

struct SignedHeadsBody {
  std::string instance;
  std::int64_t signed_ns = 0;     // agent wall clock
  Ed25519PublicKey public_key{};  // the key that signed (fingerprint derived from it)
  std::vector<SignedHead> heads;  // increasing stream order (the encoder sorts)
  Ed25519Signature signature{};
  bool operator==(const SignedHeadsBody&) const = default;
};

// The exact bytes signed (above). `heads` must be in increasing stream order.
std::string signed_heads_message(const SignedHeadsBody& b);

// Fills public_key and signature: sorts heads by stream, signs signed_heads_message().
void sign_heads(SignedHeadsBody& b, const Ed25519Key& key);

// True when b.signature is b.public_key's signature of signed_heads_message(b).
bool signed_heads_valid(const SignedHeadsBody& b);

// The record line (JSON object above, compact, keys sorted).
std::string encode_signed_heads_body(const SignedHeadsBody& b);

// True when `line` is a lifecycle body whose "event" is "signed_heads" (cheap pre-check).
bool is_signed_heads_line(std::string_view line);

// Decodes a signed_heads record line. kMalformedRecord when it is not such an object, a
// member is missing or of the wrong type, a hex field has the wrong length, or the
// fingerprint does not match the public key; kLineTooLong over body_json::kMaxBodyBytes.
[[nodiscard]] Result<SignedHeadsBody> decode_signed_heads_body(std::string_view line);

}  // namespace blackbox
