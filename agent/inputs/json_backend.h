// Internal to the JSON line parser: the simdjson half (json_line_simd.cc, compiled for AVX2
// on x86-64) behind a plain C-style interface, so that json_line.cc can check the CPU first.
#pragma once

#include <cstddef>
#include <string_view>

#include "agent/inputs/json_line.h"
#include "schemas/record.h"

namespace blackbox::agent {

inline constexpr std::size_t kJsonPadding = 64;
inline constexpr std::size_t kMaxJsonFields = 64;

struct JsonBackend;
JsonBackend* json_backend_new(const JsonLineOptions& options);
void json_backend_delete(JsonBackend* b);
// `line[first]` is '{'; `line` is followed by kJsonPadding readable bytes.
bool json_backend_parse(JsonBackend* b, std::string_view line, std::size_t first, RecordData& r);

}  // namespace blackbox::agent
