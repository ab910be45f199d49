// A small JSON Schema (draft 2020-12) validator for tests: checks that what we print (query
// `-o json`, export) has the shapes in schemas/*.schema.json. It supports exactly the keywords
// those schemas use; any other keyword is reported as an error, so a schema can never rely
// on a keyword that is silently skipped. Annotations ($schema, $id, $comment, title,
// description) and `format` are not checked (time strings are checked by `pattern`).
//
// Supported: boolean schemas, type (string or array of types), enum, const, required,
// properties, additionalProperties (boolean or schema), items, uniqueItems, minimum, maximum,
// minLength, maxLength (in code points), pattern (RE2, unanchored as in JSON Schema), allOf,
// if/then/else. Link PkgConfig::RE2 and nlohmann_json::nlohmann_json.
//
// Usage:
//   auto schema = blackbox::testing::load_json_file(path_to("schemas/record.schema.json"));
//   auto errors = blackbox::testing::validate(schema, doc);
//   EXPECT_TRUE(errors.empty()) << blackbox::testing::join(errors);
#pragma once

#include <nlohmann/json.hpp>
#include <re2/re2.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace blackbox::testing {

namespace json_schema_detail {

using nlohmann::json;

inline bool has_type(const json& doc, const std::string& t) {
  if (t == "null") return doc.is_null();
  if (t == "boolean") return doc.is_boolean();
  if (t == "object") return doc.is_object();
  if (t == "array") return doc.is_array();
  if (t == "string") return doc.is_string();
  if (t == "number") return doc.is_number();
  if (t == "integer") {
    if (doc.is_number_integer()) return true;
    if (!doc.is_number_float()) return false;
    double d = doc.get<double>();
    return std::isfinite(d) && std::floor(d) == d;
  }
  return false;
}

// -1, 0, 1 like a <=> b, exact for 64-bit integers of either sign.
inline int compare_numbers(const json& a, const json& b) {
  if (a.is_number_integer() && b.is_number_integer()) {
    const bool a_big = a.is_number_unsigned() && a.get<std::uint64_t>() > INT64_MAX;
    const bool b_big = b.is_number_unsigned() && b.get<std::uint64_t>() > INT64_MAX;
    if (a_big || b_big) {
      if (!b_big) return 1;
      if (!a_big) return -1;
      auto x = a.get<std::uint64_t>(), y = b.get<std::uint64_t>();
      return x < y ? -1 : x > y ? 1 : 0;
    }
    auto x = a.get<std::int64_t>(), y = b.get<std::int64_t>();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  auto x = a.get<double>(), y = b.get<double>();
  return x < y ? -1 : x > y ? 1 : 0;
}

// JSON equality as JSON Schema defines it (1 == 1.0).
inline bool json_equal(const json& a, const json& b) {
  if (a.is_number() && b.is_number()) return compare_numbers(a, b) == 0;
  if (a.type() != b.type()) return false;
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!json_equal(a[i], b[i])) return false;
    return true;
  }
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (auto it = a.begin(); it != a.end(); ++it) {
      auto other = b.find(it.key());
      if (other == b.end() || !json_equal(*it, *other)) return false;
    }
    return true;
  }
  return a == b;
}

inline std::size_t code_points(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

inline std::string escape_pointer_token(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

inline void validate_at(const json& schema, const json& doc, const std::string& path,
                        std::vector<std::string>& errors);

// True when `doc` validates against `schema` (errors discarded): for `if`.
inline bool matches(const json& schema, const json& doc) {
  std::vector<std::string> scratch;
  validate_at(schema, doc, "", scratch);
  return scratch.empty();
}

inline void validate_at(const json& schema, const json& doc, const std::string& path,
                        std::vector<std::string>& errors) {
  const std::string where = path.empty() ? "/" : path;
  auto fail = [&](const std::string& what) { errors.push_back(where + ": " + what); };

  if (schema.is_boolean()) {
    if (!schema.get<bool>()) fail("not allowed here (schema false)");
    return;
  }
  if (!schema.is_object()) {
    fail("schema is neither an object nor a boolean");
    return;
  }

  for (auto it = schema.begin(); it != schema.end(); ++it) {
    const std::string& kw = it.key();
    const json& v = *it;
    if (kw == "$schema" || kw == "$id" || kw == "$comment" || kw == "title" ||
        kw == "description" || kw == "format" || kw == "then" || kw == "else") {
      continue;  // annotations; then/else are handled with `if`
    } else if (kw == "type") {
      bool ok = false;
      if (v.is_string()) {
        ok = has_type(doc, v.get<std::string>());
      } else {
        for (const auto& t : v) ok = ok || has_type(doc, t.get<std::string>());
      }
      if (!ok) fail("type " + std::string(doc.type_name()) + " is not " + v.dump());
    } else if (kw == "enum") {
      bool ok = false;
      for (const auto& e : v) ok = ok || json_equal(e, doc);
      if (!ok) fail(doc.dump() + " is not one of " + v.dump());
    } else if (kw == "const") {
      if (!json_equal(v, doc)) fail(doc.dump() + " is not " + v.dump());
    } else if (kw == "required") {
      if (!doc.is_object()) continue;
      for (const auto& name : v)
        if (!doc.contains(name.get<std::string>()))
          fail("missing required property \"" + name.get<std::string>() + "\"");
    } else if (kw == "properties") {
      if (!doc.is_object()) continue;
      for (auto p = v.begin(); p != v.end(); ++p) {
        auto d = doc.find(p.key());
        if (d != doc.end()) validate_at(*p, *d, path + "/" + escape_pointer_token(p.key()), errors);
      }
    } else if (kw == "additionalProperties") {
      if (!doc.is_object()) continue;
      const json* props = schema.contains("properties") ? &schema["properties"] : nullptr;
      for (auto d = doc.begin(); d != doc.end(); ++d) {
        if (props && props->contains(d.key())) continue;
        const std::string sub = path + "/" + escape_pointer_token(d.key());
        if (v.is_boolean() && !v.get<bool>()) {
          errors.push_back((path.empty() ? "/" : path) + ": unexpected property \"" + d.key() +
                           "\"");
        } else {
          validate_at(v, *d, sub, errors);
        }
      }
    } else if (kw == "items") {
      if (!doc.is_array()) continue;
      for (std::size_t i = 0; i < doc.size(); ++i)
        validate_at(v, doc[i], path + "/" + std::to_string(i), errors);
    } else if (kw == "uniqueItems") {
      if (!doc.is_array() || !v.get<bool>()) continue;
      for (std::size_t i = 0; i < doc.size(); ++i)
        for (std::size_t j = i + 1; j < doc.size(); ++j)
          if (json_equal(doc[i], doc[j]))
            fail("items " + std::to_string(i) + " and " + std::to_string(j) + " are equal");
    } else if (kw == "minimum") {
      if (doc.is_number() && compare_numbers(doc, v) < 0) fail(doc.dump() + " < " + v.dump());
    } else if (kw == "maximum") {
      if (doc.is_number() && compare_numbers(doc, v) > 0) fail(doc.dump() + " > " + v.dump());
    } else if (kw == "minLength") {
      if (doc.is_string() && code_points(doc.get<std::string>()) < v.get<std::size_t>())
        fail("string shorter than " + v.dump());
    } else if (kw == "maxLength") {
      if (doc.is_string() && code_points(doc.get<std::string>()) > v.get<std::size_t>())
        fail("string longer than " + v.dump());
    } else if (kw == "pattern") {
      if (!doc.is_string()) continue;
      RE2 re(v.get<std::string>(), RE2::Quiet);
      if (!re.ok()) {
        fail("bad pattern " + v.dump() + ": " + re.error());
      } else if (!RE2::PartialMatch(doc.get<std::string>(), re)) {
        fail(doc.dump() + " does not match " + v.dump());
      }
    } else if (kw == "allOf") {
      for (const auto& sub : v) validate_at(sub, doc, path, errors);
    } else if (kw == "if") {
      if (matches(v, doc)) {
        if (schema.contains("then")) validate_at(schema["then"], doc, path, errors);
      } else if (schema.contains("else")) {
        validate_at(schema["else"], doc, path, errors);
      }
    } else {
      fail("unsupported schema keyword \"" + kw + "\"");
    }
  }
}

}  // namespace json_schema_detail

// Returns one message per violation ("/flags/0: \"x\" is not one of [...]"); empty = valid.
inline std::vector<std::string> validate(const nlohmann::json& schema, const nlohmann::json& doc) {
  std::vector<std::string> errors;
  json_schema_detail::validate_at(schema, doc, "", errors);
  return errors;
}

inline std::string join(const std::vector<std::string>& errors) {
  std::string out;
  for (const auto& e : errors) out += e + "\n";
  return out;
}

// Reads and parses a JSON file; throws std::runtime_error (tests only) when it can't.
inline nlohmann::json load_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return nlohmann::json::parse(ss.str());
}

}  // namespace blackbox::testing
