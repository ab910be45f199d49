#include "schemas/config_table.h"

#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>

#include "schemas/time_text.h"

namespace blackbox::config {
namespace {

std::string full_name(const BoundKey& k) {
  return std::string(k.section) + "." + std::string(k.name);
}

bool is_bare_number(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

template <class T>
bool store_unsigned(FieldRef f, std::uint64_t v) {
  auto* p = std::get_if<T*>(&f);
  if (!p) return false;
  if (v > std::numeric_limits<T>::max()) return false;
  **p = static_cast<T>(v);
  return true;
}

// Stores a non-negative value into whichever integer field `f` is. False if it does not fit.
bool store_integer(FieldRef f, std::int64_t v) {
  if (auto* p = std::get_if<std::int32_t*>(&f)) {
    if (v < std::numeric_limits<std::int32_t>::min() ||
        v > std::numeric_limits<std::int32_t>::max())
      return false;
    **p = static_cast<std::int32_t>(v);
    return true;
  }
  if (v < 0) return false;
  const auto u = static_cast<std::uint64_t>(v);
  return store_unsigned<std::uint32_t>(f, u) || store_unsigned<std::uint64_t>(f, u);
}

std::uint64_t integer_value(const FieldRef& f) {
  if (auto* p = std::get_if<std::int32_t*>(&f)) return static_cast<std::uint64_t>(**p);
  if (auto* p = std::get_if<std::uint32_t*>(&f)) return **p;
  if (auto* p = std::get_if<std::uint64_t*>(&f)) return **p;
  return 0;
}

std::uint64_t max_integer(const FieldRef& f) {
  if (std::holds_alternative<std::int32_t*>(f)) return std::numeric_limits<std::int32_t>::max();
  if (std::holds_alternative<std::uint32_t*>(f)) return std::numeric_limits<std::uint32_t>::max();
  return std::numeric_limits<std::int64_t>::max();
}

// A TOML basic string: quotes, backslashes and control characters escaped.
std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto u = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

// Reads one key's TOML node into its field; a problem sentence if it does not fit.
void read_key(const BoundKey& k, const toml::node& node, std::vector<std::string>& problems) {
  auto bad = [&](const std::string& what) {
    problems.push_back(full_name(k) + " must be " + what);
  };
  switch (k.kind) {
    case Kind::kString:
      if (auto v = node.value<std::string>())
        *std::get<std::string*>(k.field) = *v;
      else
        bad("a string");
      return;
    case Kind::kBool:
      if (auto v = node.value<bool>())
        *std::get<bool*>(k.field) = *v;
      else
        bad("true or false");
      return;
    case Kind::kStringList: {
      std::vector<std::string> list;
      const auto* arr = node.as_array();
      if (!arr) return bad("an array of strings");
      for (const auto& e : *arr) {
        if (auto v = e.value<std::string>())
          list.push_back(*v);
        else
          return bad("an array of strings");
      }
      *std::get<std::vector<std::string>*>(k.field) = std::move(list);
      return;
    }
    case Kind::kInteger: {
      auto v = node.value<std::int64_t>();
      const bool is_signed = std::holds_alternative<std::int32_t*>(k.field);
      if (!v || !node.is_integer() || !store_integer(k.field, *v))
        bad(is_signed ? "an integer in range" : "a non-negative integer in range");
      return;
    }
    case Kind::kDuration:
    case Kind::kSize: {
      const bool duration = k.kind == Kind::kDuration;
      const char* example = duration ? "\"10s\" or \"500ms\"" : "\"64MiB\" or \"512KiB\"";
      if (node.is_integer() || node.is_floating_point()) {
        const auto number = node.is_integer() ? std::to_string(*node.value<std::int64_t>())
                                              : std::to_string(*node.value<double>());
        return bad(std::string(duration ? "a duration" : "a size") + " string with a unit, like " +
                   example + ", not the bare number " + number + " (write " +
                   (duration
                        ? "\"" + number + "ms\" for milliseconds or \"" + number + "s\" for seconds"
                        : "\"" + number + "B\" for bytes") +
                   ")");
      }
      auto text = node.value<std::string>();
      if (!text) return bad(std::string(duration ? "a duration" : "a size") + " like " + example);
      std::string problem;
      auto v = duration ? parse_duration_ms(*text, problem) : parse_size_bytes(*text, problem);
      if (!v) return problems.push_back(full_name(k) + ": " + problem);
      if (*v > max_integer(k.field) || !store_integer(k.field, static_cast<std::int64_t>(*v)))
        bad("at most " +
            (duration ? format_duration_ms(max_integer(k.field))
                      : format_size_bytes(max_integer(k.field))) +
            ", not \"" + *text + "\"");
      return;
    }
  }
}

}  // namespace

Result<void> read_toml(std::string_view text, const std::string& origin,
                       const std::vector<BoundKey>& keys, std::vector<std::string>& problems) {
  toml::table root;
  try {  // toml++ reports syntax errors by exception: caught here, at the library's edge
    root = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << origin << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
        << e.description();
    problems.push_back(msg.str());
    return Err(Errc::kInvalidArgument);
  }
  const std::size_t before = problems.size();
  for (const auto& [section_name, section] : root) {
    const std::string_view s = section_name.str();
    const bool known_section =
        std::any_of(keys.begin(), keys.end(), [&](const BoundKey& k) { return k.section == s; });
    if (!known_section) {
      problems.push_back("unknown section or key: " + std::string(s));
      continue;
    }
    const auto* table = section.as_table();
    if (!table) {
      problems.push_back("[" + std::string(s) + "] must be a table");
      continue;
    }
    for (const auto& [key_name, node] : *table) {
      const std::string_view n = key_name.str();
      auto k = std::find_if(keys.begin(), keys.end(),
                            [&](const BoundKey& b) { return b.section == s && b.name == n; });
      if (k == keys.end())
        problems.push_back("unknown key: " + std::string(s) + "." + std::string(n));
      else
        read_key(*k, node, problems);
    }
  }
  if (problems.size() != before) return Err(Errc::kInvalidArgument);
  return {};
}

Result<void> read_toml_file(const std::string& path, const std::vector<BoundKey>& keys,
                            std::vector<std::string>& problems) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    problems.push_back("cannot read config file " + path);
    return Err(Errc::kIo);
  }
  std::ostringstream text;
  text << in.rdbuf();
  return read_toml(text.str(), path, keys, problems);
}

std::string render_toml(const std::vector<BoundKey>& keys) {
  std::string out;
  std::string_view section;
  for (const auto& k : keys) {
    if (k.section != section) {
      out += (out.empty() ? "[" : "\n[") + std::string(k.section) + "]\n";
      section = k.section;
    }
    out += std::string(k.name) + " = ";
    switch (k.kind) {
      case Kind::kString:
        out += quoted(*std::get<std::string*>(k.field));
        break;
      case Kind::kBool:
        out += *std::get<bool*>(k.field) ? "true" : "false";
        break;
      case Kind::kStringList: {
        const auto& list = *std::get<std::vector<std::string>*>(k.field);
        out += "[";
        for (std::size_t i = 0; i < list.size(); ++i) out += (i ? ", " : "") + quoted(list[i]);
        out += "]";
        break;
      }
      case Kind::kInteger:
        if (auto* p = std::get_if<std::int32_t*>(&k.field))
          out += std::to_string(**p);
        else
          out += std::to_string(integer_value(k.field));
        break;
      case Kind::kDuration:
        out += "\"" + format_duration_ms(integer_value(k.field)) + "\"";
        break;
      case Kind::kSize:
        out += "\"" + format_size_bytes(integer_value(k.field)) + "\"";
        break;
    }
    out += "\n";
  }
  return out;
}

std::vector<std::string> example_problems(std::string_view example_text, const std::string& origin,
                                          const std::vector<BoundKey>& defaults) {
  std::vector<std::string> problems;
  // Read the example into scratch fields of the same types, not into the defaults themselves.
  const std::size_t n = defaults.size();
  std::vector<std::string> strings(n);
  std::vector<std::vector<std::string>> lists(n);
  std::unique_ptr<bool[]> bools(new bool[n]());
  std::vector<std::uint64_t> u64s(n);
  std::vector<std::uint32_t> u32s(n);
  std::vector<std::int32_t> i32s(n);
  std::vector<BoundKey> scratch = defaults;
  for (std::size_t i = 0; i < n; ++i) {
    auto& f = scratch[i].field;
    if (std::holds_alternative<std::string*>(f)) f = &strings[i];
    if (std::holds_alternative<std::vector<std::string>*>(f)) f = &lists[i];
    if (std::holds_alternative<bool*>(f)) f = &bools[i];
    if (std::holds_alternative<std::uint64_t*>(f)) f = &u64s[i];
    if (std::holds_alternative<std::uint32_t*>(f)) f = &u32s[i];
    if (std::holds_alternative<std::int32_t*>(f)) f = &i32s[i];
  }
  if (!read_toml(example_text, origin, scratch, problems)) return problems;
  // Which keys the example sets: toml++ once more (it parsed above), for presence only.
  const toml::table root = toml::parse(example_text, origin);
  auto value_of = [](const BoundKey& k) {
    const std::string line = render_toml({k});  // "[section]\nname = value\n"
    const auto eq = line.find(" = ");
    return line.substr(eq + 3, line.size() - eq - 4);
  };
  for (std::size_t i = 0; i < n; ++i) {
    const auto& k = defaults[i];
    if (!root.at_path(full_name(k)))
      problems.push_back(origin + ": " + full_name(k) + " is not documented (default " +
                         value_of(k) + ")");
    else if (value_of(k) != value_of(scratch[i]))
      problems.push_back(origin + ": " + full_name(k) + " = " + value_of(scratch[i]) +
                         ", but the default is " + value_of(k));
  }
  return problems;
}

Result<std::uint64_t> parse_duration_ms(std::string_view text, std::string& problem) {
  if (is_bare_number(text)) {
    problem = "\"" + std::string(text) + "\" has no unit: write \"" + std::string(text) +
              "s\" for seconds (or ms, m, h, d)";
    return Err(Errc::kInvalidArgument);
  }
  auto ns = parse_duration_ns(text);
  if (!ns || *ns < 0 || *ns % 1'000'000 != 0) {
    problem = "\"" + std::string(text) +
              "\" is not a duration in whole milliseconds like \"10s\", \"500ms\", \"2m\", "
              "\"1h\" or \"30d\"";
    return Err(Errc::kInvalidArgument);
  }
  return static_cast<std::uint64_t>(*ns / 1'000'000);
}

namespace {

struct SizeUnit {
  std::string_view name;
  int shift;
};
constexpr SizeUnit kSizeUnits[] = {{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"B", 0}};

}  // namespace

Result<std::uint64_t> parse_size_bytes(std::string_view text, std::string& problem) {
  const std::string t(text);
  if (is_bare_number(text)) {
    problem = "\"" + t + "\" has no unit: write \"" + t + "B\" for bytes (or KiB, MiB, GiB, TiB)";
    return Err(Errc::kInvalidArgument);
  }
  std::uint64_t n = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, n);
  const std::string_view unit(p, static_cast<std::size_t>(end - p));
  for (const auto& u : kSizeUnits) {
    if (ec != std::errc() || p == text.data() || unit != u.name) continue;
    if (n > (std::numeric_limits<std::uint64_t>::max() >> u.shift)) break;
    return n << u.shift;
  }
  problem = "\"" + t + "\" is not a size like \"512B\", \"512KiB\", \"64MiB\" or \"1GiB\"";
  return Err(Errc::kInvalidArgument);
}

std::string format_duration_ms(std::uint64_t ms) {
  if (ms % 1000 != 0) return std::to_string(ms) + "ms";
  return format_duration(static_cast<std::int64_t>(ms) * 1'000'000);
}

std::string format_size_bytes(std::uint64_t bytes) {
  for (const auto& u : kSizeUnits)
    if (bytes != 0 && bytes % (std::uint64_t{1} << u.shift) == 0)
      return std::to_string(bytes >> u.shift) + std::string(u.name);
  return std::to_string(bytes) + "B";
}

}  // namespace blackbox::config
