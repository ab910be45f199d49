// Config keys declared once (STYLE.md §7): each component lists its keys in one table — section,
// name, kind, and the field of its Config struct that holds the value (and, in its declaration,
// the default). This file is the machinery every such table uses, so that the agent's and the
// collector's files behave alike:
//   - read_toml()      TOML text → Config, every problem at once (wrong types, unknown keys,
//                      a duration or size without its unit);
//   - render_toml()    Config → TOML text, every key (what --check-config prints);
//   - example_problems() how a documented example file disagrees with the table's defaults.
// Durations are strings with a unit ("500ms", "10s", "2m", "1h", "30d"; terms may be combined:
// "1h30m") and sizes are strings with a binary unit ("512B", "512KiB", "64MiB", "1GiB"); a bare
// number for either is an error that names the unit to add. Durations are held in integer
// milliseconds, sizes in integer bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "schemas/result.h"

namespace blackbox::config {

enum class Kind {
  kString,      // "text"
  kBool,        // true / false
  kInteger,     // a plain count: 100000
  kStringList,  // ["a", "b"]
  kDuration,    // "10s" into an integer field of milliseconds
  kSize,        // "64MiB" into an integer field of bytes
};

// The field of one key in one Config object.
using FieldRef = std::variant<std::string*, bool*, std::vector<std::string>*, std::int32_t*,
                              std::uint32_t*, std::uint64_t*>;

// One key of a component's table. `field` maps a Config to the key's field (see member()).
template <class Config>
struct Key {
  const char* section;
  const char* name;
  Kind kind;
  FieldRef (*field)(Config&);
};

// The `field` of a Key for `config.*Section.*Member`, e.g.
// member<Config, &Config::server, &ServerSection::idle_timeout_ms>.
template <class Config, auto Section, auto Member>
FieldRef member(Config& c) {
  return FieldRef(&((c.*Section).*Member));
}

// A key bound to the field of one Config object: what the functions below work on.
struct BoundKey {
  std::string_view section;
  std::string_view name;
  Kind kind;
  FieldRef field;
};

template <class Config, std::size_t N>
std::vector<BoundKey> bind(const Key<Config> (&table)[N], Config& c) {
  std::vector<BoundKey> out;
  out.reserve(N);
  for (const auto& k : table) out.push_back(BoundKey{k.section, k.name, k.kind, k.field(c)});
  return out;
}

// Parses TOML text into the bound fields (keys absent from the text keep their value). Every
// problem is appended to `problems` as a sentence naming `section.key`: a syntax error (with
// `origin`:line:column), a wrong type, an integer out of range, a duration or size without its
// unit, an unknown section or key. kInvalidArgument if there was any.
[[nodiscard]] Result<void> read_toml(std::string_view text, const std::string& origin,
                                     const std::vector<BoundKey>& keys,
                                     std::vector<std::string>& problems);

// read_toml() of a file's content; kIo (and a problem naming the file) if it cannot be read.
[[nodiscard]] Result<void> read_toml_file(const std::string& path,
                                          const std::vector<BoundKey>& keys,
                                          std::vector<std::string>& problems);

// Every key with its value, as TOML sections in table order ("[server]\nidle_timeout = ...").
std::string render_toml(const std::vector<BoundKey>& keys);

// How an example file disagrees with a table: `defaults` bound to a default-constructed Config.
// Problems: a table key the example does not set, a value in the example other than the default,
// anything read_toml() reports (unknown keys included). Empty when they agree.
std::vector<std::string> example_problems(std::string_view example_text, const std::string& origin,
                                          const std::vector<BoundKey>& defaults);

// "10s", "1h30m", "500ms", "30d" → milliseconds. A bare number, a unit below milliseconds or a
// fraction of a millisecond is an error; `problem` then says what to write instead.
[[nodiscard]] Result<std::uint64_t> parse_duration_ms(std::string_view text, std::string& problem);
// "64MiB", "512KiB", "100B" → bytes (B, KiB, MiB, GiB, TiB; one term). A bare number is an
// error; `problem` then says which unit to add.
[[nodiscard]] Result<std::uint64_t> parse_size_bytes(std::string_view text, std::string& problem);
// The shortest string the parsers above read back to the same value: "90s", "16MiB", "0s", "0B".
std::string format_duration_ms(std::uint64_t ms);
std::string format_size_bytes(std::uint64_t bytes);

}  // namespace blackbox::config
