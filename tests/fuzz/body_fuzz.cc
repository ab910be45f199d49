// Fuzz target for the record body decoders (schemas/lifecycle_body.h, gap_body.h,
// snapshot_body.h): any input is decoded as each body; whatever decodes must survive
// decode(encode(decode(x))) == decode(x).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "schemas/gap_body.h"
#include "schemas/lifecycle_body.h"
#include "schemas/snapshot_body.h"
#include "tests/fuzz/round_trip.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace blackbox;
  using fuzz::check_round_trip;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  check_round_trip<LifecycleBody>(in, encode_lifecycle_body, decode_lifecycle_body);
  check_round_trip<GapBody>(in, encode_gap_body, decode_gap_body);
  check_round_trip<SnapshotBody>(in, encode_snapshot_body, decode_snapshot_body);
  return 0;
}
