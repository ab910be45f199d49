// Reads a TOML config table into plain structs, collecting every problem at once (STYLE.md §7):
// wrong types, out-of-range integers, unknown sections and keys. Header-only over toml++; the
// agent and the collector use the same one so that their config files behave alike.
#pragma once

#include <toml++/toml.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

namespace blackbox {

class TomlReader {
 public:
  enum class Integers { kAnyInRange, kNonNegative };
  TomlReader(const toml::table& root, std::vector<std::string>& problems,
             Integers integers = Integers::kAnyInRange)
      : root_(root), problems_(problems), integers_(integers) {}

  const toml::table* section(const char* name) {
    known_sections_.push_back(name);
    auto node = root_.get(name);
    if (!node) return nullptr;
    if (!node->is_table()) {
      problems_.push_back(std::string("[") + name + "] must be a table");
      return nullptr;
    }
    return node->as_table();
  }

  template <class T>
  void get(const toml::table* t, const char* section, const char* key, T& out) {
    known_keys_.push_back(std::string(section) + "." + key);
    if (!t) return;
    auto node = t->get(key);
    if (!node) return;
    auto bad = [&](const char* what) {
      problems_.push_back(std::string(section) + "." + key + " must be " + what);
    };
    if constexpr (std::is_same_v<T, std::string>) {
      if (auto v = node->value<std::string>())
        out = *v;
      else
        bad("a string");
    } else if constexpr (std::is_same_v<T, bool>) {
      if (auto v = node->value<bool>())
        out = *v;
      else
        bad("true or false");
    } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
      auto arr = node->as_array();
      if (!arr) return bad("an array of strings");
      out.clear();
      for (const auto& e : *arr) {
        if (auto v = e.value<std::string>())
          out.push_back(*v);
        else
          return bad("an array of strings");
      }
    } else {
      auto v = node->value<std::int64_t>();
      const bool non_negative = integers_ == Integers::kNonNegative;
      const std::int64_t min =
          non_negative ? 0 : static_cast<std::int64_t>(std::numeric_limits<T>::min());
      if (!v || *v < min ||
          static_cast<std::uint64_t>(*v) >
              static_cast<std::uint64_t>(std::numeric_limits<T>::max()))
        return bad(non_negative ? "a non-negative integer in range" : "an integer in range");
      out = static_cast<T>(*v);
    }
  }

  void check_unknown() {
    for (const auto& [name, node] : root_) {
      std::string s(name.str());
      if (std::find(known_sections_.begin(), known_sections_.end(), s) == known_sections_.end()) {
        problems_.push_back("unknown section or key: " + s);
        continue;
      }
      if (!node.is_table()) continue;
      for (const auto& [key, _] : *node.as_table()) {
        std::string full = s + "." + std::string(key.str());
        if (std::find(known_keys_.begin(), known_keys_.end(), full) == known_keys_.end())
          problems_.push_back("unknown key: " + full);
      }
    }
  }

 private:
  const toml::table& root_;
  std::vector<std::string>& problems_;
  Integers integers_;
  std::vector<std::string> known_sections_;
  std::vector<std::string> known_keys_;
};

}  // namespace blackbox
