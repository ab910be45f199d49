#include "schemas/snapshot_body.h"

#include <algorithm>
#include <cassert>

#include "schemas/body_json.h"

namespace blackbox {

namespace {

constexpr const char* kKindNames[] = {"boot", "periodic", "final", "on_demand"};

bool valid_sections(const std::vector<std::string>& sections) {
  if (sections.size() > kMaxSnapshotSections) return false;
  for (std::size_t i = 0; i < sections.size(); ++i) {
    if (!is_snapshot_section_name(sections[i])) return false;
    if (std::find(sections.begin(), sections.begin() + i, sections[i]) != sections.begin() + i)
      return false;
  }
  return true;
}

}  // namespace

const char* snapshot_kind_name(SnapshotKind k) noexcept {
  return kKindNames[static_cast<std::size_t>(k)];
}

std::optional<SnapshotKind> parse_snapshot_kind(std::string_view name) noexcept {
  return body_json::find_name<SnapshotKind>(kKindNames, name);
}

bool is_snapshot_section_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > kMaxSnapshotSectionName) return false;
  if (name[0] < 'a' || name[0] > 'z') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

std::string encode_snapshot_body(const SnapshotBody& b) {
  assert(valid_sections(b.sections));
  return body_json::dump({{"snapshot_version", kSnapshotBodyVersion},
                          {"kind", snapshot_kind_name(b.kind)},
                          {"taken_ns", b.taken_ns},
                          {"sections", b.sections}});
}

Result<SnapshotBody> decode_snapshot_body(std::string_view line) {
  auto parsed = body_json::parse_object(line);
  if (!parsed) return parsed.error();
  const nlohmann::json& j = *parsed;
  std::optional<std::uint32_t> version;
  if (!body_json::read(j, "snapshot_version", version) || !version)
    return Err(Errc::kMalformedRecord);
  if (*version != kSnapshotBodyVersion) return Err(Errc::kUnsupportedVersion);

  SnapshotBody b;
  std::string kind;
  if (!body_json::require(j, "kind", kind)) return Err(Errc::kMalformedRecord);
  const auto k = parse_snapshot_kind(kind);
  auto taken = j.find("taken_ns");
  auto sections = j.find("sections");
  if (!k || taken == j.end() || taken->is_null() || sections == j.end() || !sections->is_array() ||
      sections->size() > kMaxSnapshotSections || !body_json::read(j, "taken_ns", b.taken_ns))
    return Err(Errc::kMalformedRecord);
  b.kind = *k;
  b.sections.reserve(sections->size());
  for (const auto& s : *sections) {
    if (!s.is_string()) return Err(Errc::kMalformedRecord);
    b.sections.push_back(s.get<std::string>());
  }
  if (!valid_sections(b.sections)) return Err(Errc::kMalformedRecord);
  return b;
}

}  // namespace blackbox
