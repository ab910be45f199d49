#include "collector/store/keys.h"

#include "schemas/bytes.h"

namespace blackbox::collector::keys {

const char* cf_name(Cf cf) noexcept {
  switch (cf) {
    case Cf::kDefault:
      return "default";
    case Cf::kBatches:
      return "batches";
    case Cf::kTimeIndex:
      return "time_index";
    case Cf::kFleetTime:
      return "fleet_time";
    case Cf::kIngestLog:
      return "ingest_log";
    case Cf::kSnapshots:
      return "snapshots";
    case Cf::kInstances:
      return "instances";
    case Cf::kLifecycle:
      return "lifecycle";
    case Cf::kGaps:
      return "gaps";
    case Cf::kHeads:
      return "heads";
    case Cf::kMeta:
      return "meta";
    case Cf::kCount:
      break;
  }
  return "?";
}

void put_instance(std::string& out, std::string_view instance) {
  out.append(instance);
  out.push_back('\0');
}

void put_time(std::string& out, std::int64_t t) { bytes::put_be(out, flip_time(t)); }

std::string instance_prefix(std::string_view instance) {
  std::string k;
  put_instance(k, instance);
  return k;
}

std::string batch_key(std::string_view instance, std::uint32_t stream, std::uint64_t first_seq) {
  std::string k;
  k.reserve(instance.size() + 13);
  put_instance(k, instance);
  bytes::put_be(k, stream);
  bytes::put_be(k, first_seq);
  return k;
}

std::string stream_prefix(std::string_view instance, std::uint32_t stream) {
  std::string k;
  put_instance(k, instance);
  bytes::put_be(k, stream);
  return k;
}

std::string time_index_key(std::string_view instance, std::int64_t min_time, std::uint32_t stream,
                           std::uint64_t first_seq) {
  std::string k;
  k.reserve(instance.size() + 21);
  put_instance(k, instance);
  put_time(k, min_time);
  bytes::put_be(k, stream);
  bytes::put_be(k, first_seq);
  return k;
}

std::string fleet_time_key(std::int64_t min_time, std::string_view instance, std::uint32_t stream,
                           std::uint64_t first_seq) {
  std::string k;
  k.reserve(instance.size() + 21);
  put_time(k, min_time);
  put_instance(k, instance);
  bytes::put_be(k, stream);
  bytes::put_be(k, first_seq);
  return k;
}

std::string ingest_log_key(std::uint64_t ingest_seq) {
  std::string k;
  bytes::put_be(k, ingest_seq);
  return k;
}

std::string snapshot_key(std::string_view instance, std::int64_t time, std::uint64_t seq) {
  std::string k;
  put_instance(k, instance);
  put_time(k, time);
  bytes::put_be(k, seq);
  return k;
}

std::string lifecycle_key(std::string_view instance, std::int64_t time, std::uint64_t counter) {
  std::string k;
  put_instance(k, instance);
  put_time(k, time);
  bytes::put_be(k, counter);
  return k;
}

std::string gap_key(std::string_view instance, std::uint32_t stream, std::uint64_t from_seq) {
  return batch_key(instance, stream, from_seq);
}

std::string head_key(std::string_view instance, std::uint32_t stream) {
  return stream_prefix(instance, stream);
}

std::string enroll_key(std::string_view instance) {
  std::string k(kEnrollPrefix);
  k.append(instance);
  return k;
}

std::string hold_key(std::string_view instance) {
  std::string k(kHoldPrefix);
  k.append(instance);
  return k;
}

std::optional<std::string_view> key_instance(std::string_view key) {
  auto nul = key.find('\0');
  if (nul == std::string_view::npos || nul == 0) return std::nullopt;
  return key.substr(0, nul);
}

std::optional<std::string_view> after_instance(std::string_view key) {
  auto nul = key.find('\0');
  if (nul == std::string_view::npos || nul == 0) return std::nullopt;
  return key.substr(nul + 1);
}

std::optional<BatchKey> parse_batch_key(std::string_view key) {
  auto inst = key_instance(key);
  if (!inst) return std::nullopt;
  auto rest = key.substr(inst->size() + 1);
  if (rest.size() != 12) return std::nullopt;
  BatchKey k;
  k.instance = *inst;
  k.stream = bytes::load_be<std::uint32_t>(rest.data());
  k.first_seq = bytes::load_be<std::uint64_t>(rest.data() + 4);
  return k;
}

std::string prefix_successor(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty()) {
    auto& c = s.back();
    if (static_cast<unsigned char>(c) != 0xff) {
      c = static_cast<char>(static_cast<unsigned char>(c) + 1);
      return s;
    }
    s.pop_back();
  }
  return s;  // empty: no upper bound
}

}  // namespace blackbox::collector::keys
