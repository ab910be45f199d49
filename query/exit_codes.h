// Exit codes of `blackbox`, for scripts (documented in --help and query/README.md).
#pragma once

namespace blackbox::query {

enum class ExitCode : int {
  kOk = 0,
  kNoMatch = 1,      // the query ran but nothing matched (like grep)
  kUsage = 2,        // bad flags, malformed time or duration, invalid regex (the server says 400)
  kUnreachable = 3,  // could not connect to the server, or it timed out
  kNotFound = 4,     // unknown instance (404)
  kServerError = 5,  // the server failed (5xx) or answered something that is not the API
  // Everything readable was printed, but the collector could not read some stored batches
  // (damaged storage); each skipped range is named on stderr.
  kUnreadable = 6,
  kUnauthorized = 7,  // the API wants a bearer token, or does not know the one given (401)
  kForbidden = 8,     // the token's role may not do this (403: a read token on an admin action)
  // `blackbox verify` (issue 12 item 5): 0 intact, 6 unreadable (damaged storage, not
  // tampering), and:
  kVerifyGaps = 10,      // every chain intact, but recorded gaps (losses with their reasons)
  kVerifyTampered = 11,  // a chain broken, or a signed head invalid or not matching
};

inline int to_int(ExitCode c) { return static_cast<int>(c); }

inline constexpr const char* kExitCodesHelp =
    "Exit codes: 0 ok, 1 nothing matched, 2 usage error (bad flag, time, regex), "
    "3 server unreachable (or no trusted HTTPS connection), 4 instance not found, 5 server error, "
    "6 printed all it could but some stored records were unreadable (named on stderr), 7 no or "
    "unknown bearer token (401: set BLACKBOX_TOKEN or --token-file), 8 the token's role may not "
    "do this (403: admin actions need an admin token); verify: 0 intact, 10 gaps only, 11 "
    "tampered, 6 unreadable.";

}  // namespace blackbox::query
