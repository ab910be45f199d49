#include "collector/http/access.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>

#include "schemas/secret_file.h"

namespace blackbox::collector::http {
namespace {

constexpr std::size_t kMinTokenChars = 16;
constexpr std::size_t kMaxNameChars = 64;

std::array<unsigned char, 32> sha256(std::string_view s) {
  std::array<unsigned char, 32> out{};
  unsigned int len = 0;
  // EVP_Digest with SHA-256 only fails on allocation failure; an all-zero digest then matches
  // no token (entries are checked at load, where the same failure would refuse the file).
  (void)EVP_Digest(s.data(), s.size(), out.data(), &len, EVP_sha256(), nullptr);
  return out;
}

bool b64token(std::string_view t) {
  std::size_t i = 0;
  auto plain = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
           c == '~' || c == '+' || c == '/';
  };
  while (i < t.size() && plain(t[i])) ++i;
  if (i == 0) return false;
  while (i < t.size() && t[i] == '=') ++i;
  return i == t.size();
}

bool good_name(std::string_view n) {
  return !n.empty() && n.size() <= kMaxNameChars && std::all_of(n.begin(), n.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '@' ||
           c == '-';
  });
}

}  // namespace

const char* role_name(Role r) noexcept {
  switch (r) {
    case Role::kNone:
      return "none";
    case Role::kRead:
      return "read";
    case Role::kAdmin:
      return "admin";
  }
  return "?";
}

const char* denial_name(Denial d) noexcept {
  switch (d) {
    case Denial::kNone:
      return "";
    case Denial::kMissingToken:
      return "missing_token";
    case Denial::kBadToken:
      return "bad_token";
    case Denial::kForbidden:
      return "forbidden";
  }
  return "?";
}

Result<TokenTable> TokenTable::parse(std::string_view text, const std::string& origin,
                                     std::string& why) {
  TokenTable table;
  std::vector<std::string> problems;
  std::set<std::string> names;
  std::istringstream in{std::string(text)};
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::istringstream fields(line);
    std::string role, name, token, extra;
    fields >> role;
    if (role.empty() || role[0] == '#') continue;
    fields >> name >> token >> extra;
    const std::string at = origin + ":" + std::to_string(n) + ": ";
    if (token.empty() || !extra.empty()) {
      problems.push_back(at + "expected ROLE NAME TOKEN (three fields)");
      continue;
    }
    TokenEntry e;
    if (role == "read") {
      e.role = Role::kRead;
    } else if (role == "admin") {
      e.role = Role::kAdmin;
    } else {
      problems.push_back(at + "role '" + role + "' is not read or admin");
      continue;
    }
    if (!good_name(name)) {
      problems.push_back(at + "name '" + name + "' must be 1-64 of A-Z a-z 0-9 _ . @ -");
      continue;
    }
    if (token.size() < kMinTokenChars || !b64token(token)) {
      problems.push_back(at + "the token of '" + name + "' must be at least " +
                         std::to_string(kMinTokenChars) +
                         " characters of A-Z a-z 0-9 - . _ ~ + / (make one with: openssl rand "
                         "-hex 32)");
      continue;
    }
    if (!names.insert(name).second) {
      problems.push_back(at + "name '" + name + "' is used twice");
      continue;
    }
    e.name = name;
    e.digest = sha256(token);
    for (const auto& other : table.entries_)
      if (other.digest == e.digest)
        problems.push_back(at + "the token of '" + name + "' is also the token of '" + other.name +
                           "'");
    table.entries_.push_back(std::move(e));
  }
  if (!problems.empty()) {
    why.clear();
    for (const auto& p : problems) why += (why.empty() ? "" : "\n") + p;
    return Err(Errc::kInvalidArgument);
  }
  return table;
}

Result<TokenTable> TokenTable::load(const std::string& path, std::string& why) {
  auto text = read_secret_file(path, why);
  if (!text) return text.error();
  auto table = parse(*text, path, why);
  if (!table) return table.error();
  if (table->size() == 0) {
    why = path + ": no token in it (one line per token: ROLE NAME TOKEN)";
    return Err(Errc::kInvalidArgument);
  }
  return table;
}

const TokenEntry* TokenTable::find(std::string_view token) const {
  const auto digest = sha256(token);
  const TokenEntry* found = nullptr;
  for (const auto& e : entries_)  // every entry, always: no early exit
    if (CRYPTO_memcmp(e.digest.data(), digest.data(), digest.size()) == 0) found = &e;
  return found;
}

std::size_t TokenTable::count(Role r) const {
  return static_cast<std::size_t>(
      std::count_if(entries_.begin(), entries_.end(), [r](const auto& e) { return e.role == r; }));
}

AuthDecision authorize(const TokenTable* tokens, std::string_view authorization, Role needed) {
  if (tokens == nullptr || needed == Role::kNone) return {};
  constexpr std::string_view kScheme = "bearer ";
  std::string_view a = authorization;
  while (!a.empty() && a.front() == ' ') a.remove_prefix(1);
  const bool bearer = a.size() > kScheme.size() &&
                      std::equal(kScheme.begin(), kScheme.end(), a.begin(), [](char x, char y) {
                        return x == std::tolower(static_cast<unsigned char>(y));
                      });
  if (!bearer) return {Denial::kMissingToken, nullptr};
  a.remove_prefix(kScheme.size());
  while (!a.empty() && a.front() == ' ') a.remove_prefix(1);
  while (!a.empty() && a.back() == ' ') a.remove_suffix(1);
  if (a.empty()) return {Denial::kMissingToken, nullptr};
  const TokenEntry* e = tokens->find(a);
  if (e == nullptr) return {Denial::kBadToken, nullptr};
  if (static_cast<int>(e->role) < static_cast<int>(needed)) return {Denial::kForbidden, e};
  return {Denial::kNone, e};
}

}  // namespace blackbox::collector::http
