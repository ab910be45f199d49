// The property every fuzzed decoder must keep: whatever decodes survives
// decode(encode(decode(x))) == decode(x); a codec that does not round-trip aborts the fuzzer.
#pragma once

#include <cstdlib>
#include <string>
#include <string_view>

#include "schemas/result.h"

namespace blackbox::fuzz {

template <class T, class Enc, class Dec>
void check_round_trip(std::string_view input, Enc enc, Dec dec) {
  Result<T> first = dec(input);
  if (!first) return;
  const std::string again = enc(*first);
  Result<T> second = dec(again);
  if (!second || !(*second == *first)) std::abort();
}

}  // namespace blackbox::fuzz
