// Fuzz target for the record body decoders (schemas/lifecycle_body.h, gap_body.h,
// snapshot_body.h): any input is decoded as each body; whatever decodes must survive
// decode(encode(decode(x))) == decode(x).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "schemas/gap_body.h"
#include "schemas/lifecycle_body.h"
#include "schemas/snapshot_body.h"

namespace {

using namespace blackbox;

template <class T, class Enc, class Dec>
void check(std::string_view line, Enc enc, Dec dec) {
  Result<T> first = dec(line);
  if (!first) return;
  const std::string again = enc(*first);
  Result<T> second = dec(again);
  if (!second || !(*second == *first)) std::abort();  // the codec does not round-trip
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  check<LifecycleBody>(in, encode_lifecycle_body, decode_lifecycle_body);
  check<GapBody>(in, encode_gap_body, decode_gap_body);
  check<SnapshotBody>(in, encode_snapshot_body, decode_snapshot_body);
  return 0;
}
