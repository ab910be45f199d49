// Access control for the query API (issue 12 item 4): bearer tokens read from a file, each with
// a role and a name.
//
// Tokens file (collector config `http.tokens_file`), read through read_secret_file(): refused
// when group or others may read it. One token per line, three fields separated by blanks:
//
//   # ROLE   NAME    TOKEN
//   read     alice   3f1c0e…   (every query endpoint and /metrics)
//   admin    ops     9ab27d…   (also legal hold, release, re-enrollment)
//
// Blank lines and lines starting with '#' are ignored. ROLE is `read` or `admin`; NAME
// ([A-Za-z0-9_.@-], up to 64) is what logs and audit records show — never the token; TOKEN is
// at least 16 characters of RFC 6750's b64token alphabet ([A-Za-z0-9-._~+/] then '='*), e.g.
// `openssl rand -hex 32`. Names and tokens must be unique. Every problem names its line.
//
// Matching: only the SHA-256 digest of each token is kept; a presented token is hashed and
// compared with every entry by CRYPTO_memcmp, so the time taken says nothing about how much of
// a token matched. Thread-safe after construction (immutable).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "schemas/result.h"

namespace blackbox::collector::http {

// What a request needs: kNone (the health probe), kRead (queries), kAdmin (admin actions). An
// admin token may do everything a read token may.
enum class Role : std::uint8_t { kNone = 0, kRead = 1, kAdmin = 2 };
const char* role_name(Role r) noexcept;  // "none" | "read" | "admin"

struct TokenEntry {
  Role role = Role::kRead;
  std::string name;
  std::array<unsigned char, 32> digest{};  // SHA-256 of the token
};

class TokenTable {
 public:
  // Parses the text of a tokens file. Errors: kInvalidArgument with `why` = every problem, one
  // per line, each naming `origin` and the line number.
  [[nodiscard]] static Result<TokenTable> parse(std::string_view text, const std::string& origin,
                                                std::string& why);
  // read_secret_file(path) (refused when others may read it: `why` names the chmod), then
  // parse(). A file with no token is an error (kInvalidArgument).
  [[nodiscard]] static Result<TokenTable> load(const std::string& path, std::string& why);

  // The entry of `token`, nullptr if none (constant time in the token's content).
  const TokenEntry* find(std::string_view token) const;
  std::size_t size() const { return entries_.size(); }
  std::size_t count(Role r) const;

 private:
  std::vector<TokenEntry> entries_;
};

// Why a request was turned away.
enum class Denial : std::uint8_t {
  kNone = 0,
  kMissingToken,  // 401: no (or a non-Bearer) Authorization header
  kBadToken,      // 401: a token no entry has
  kForbidden,     // 403: a valid token whose role is below the one needed
};
const char* denial_name(Denial d) noexcept;  // "" | "missing_token" | "bad_token" | "forbidden"

struct AuthDecision {
  Denial denial = Denial::kNone;
  const TokenEntry* entry = nullptr;  // the token used (also for kForbidden)
};

// Decides one request. `tokens` nullptr = no access control (every request allowed).
// `authorization` is the Authorization header as sent ("" when absent).
AuthDecision authorize(const TokenTable* tokens, std::string_view authorization, Role needed);

}  // namespace blackbox::collector::http
