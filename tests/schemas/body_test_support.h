// What the record body tests (lifecycle_body_test, gap_body_test, snapshot_body_test) share:
// the body's JSON Schema, and the round-trip property decode(encode(x)) == x over generated
// values, each encoded line also valid against the schema.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tests/schemas/generators.h"
#include "tests/support/json_schema_check.h"

namespace blackbox::testing {

// schemas/<name>, parsed.
inline nlohmann::json load_schema(const std::string& name) {
  return load_json_file(std::string(BLACKBOX_SOURCE_DIR) + "/schemas/" + name);
}

// Draws `count` values with `generate(rng)` and checks each against encode/decode and `schema`.
template <class Generate, class Encode, class Decode>
void expect_round_trips(int count, const nlohmann::json& schema, Generate generate, Encode encode,
                        Decode decode) {
  SeededRng rng;
  SCOPED_TRACE(rng.trace());
  for (int i = 0; i < count; ++i) {
    const auto value = generate(rng);
    const std::string line = encode(value);
    auto back = decode(line);
    ASSERT_TRUE(back) << line;
    ASSERT_TRUE(*back == value) << line;
    const auto errors = validate(schema, nlohmann::json::parse(line));
    ASSERT_TRUE(errors.empty()) << line << "\n" << join(errors);
  }
}

}  // namespace blackbox::testing
