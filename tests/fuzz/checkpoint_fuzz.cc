// Fuzz target for the agent's spool checkpoint decoder (agent/spool/checkpoint.h): the state
// that spool recovery reads back from the last valid entry after a crash. Whatever decodes
// must survive decode(encode(decode(x))) == decode(x), and a decoded checkpoint can never hold
// more than the input could describe (the decoder checks counts before it allocates).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "agent/spool/checkpoint.h"
#include "tests/fuzz/round_trip.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace blackbox::agent;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto encode = [](const Checkpoint& c) {
    std::string out;
    encode_stream_states(out, c.streams);
    encode_file_positions(out, c.files);
    return out;
  };
  blackbox::fuzz::check_round_trip<Checkpoint>(in, encode, decode_checkpoint);
  if (auto cp = decode_checkpoint(in)) {
    // Bounded allocation: each stream takes 44 input bytes, each file at least 34.
    if (cp->streams.size() * 44 + cp->files.size() * 34 > size) std::abort();
    // A checkpoint encodes to at most the bytes it came from (varints are minimal here).
    if (encode(*cp).size() > size) std::abort();
  }
  return 0;
}
