// Fuzz target for the frame codec: parse_frame over a stream of frames and every payload
// decoder, both behind a valid frame header and on the raw input (a fuzzer rarely guesses a
// CRC32C). Whatever decodes must survive decode(encode(decode(x))) == decode(x).
#include "schemas/batch.h"
#include "schemas/frame.h"
#include "schemas/zstd_codec.h"
#include "tests/fuzz/round_trip.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using namespace blackbox;

using fuzz::check_round_trip;

void decode_all(std::string_view payload) {
  check_round_trip<Hello>(payload, encode_hello, decode_hello);
  check_round_trip<Welcome>(payload, encode_welcome, decode_welcome);
  check_round_trip<Ack>(payload, encode_ack, decode_ack);
  check_round_trip<Heartbeat>(payload, encode_heartbeat, decode_heartbeat);
  check_round_trip<Goodbye>(payload, encode_goodbye, decode_goodbye);
  check_round_trip<ErrorFrame>(payload, encode_error, decode_error);
  check_round_trip<Challenge>(payload, encode_challenge, decode_challenge);
  check_round_trip<Proof>(payload, encode_proof, decode_proof);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  decode_all(in);

  Limits limits;
  limits.max_frame_bytes = 1 << 20;
  limits.max_batch_raw_bytes = 4 << 20;
  static ZstdDecompressor zstd;
  std::string scratch;
  while (!in.empty()) {
    FrameType type;
    std::size_t consumed = 0;
    auto payload = parse_frame(in, limits, type, consumed);
    if (!payload) break;
    if (consumed < kFrameHeaderBytes || consumed > in.size()) std::abort();
    if (type == FrameType::kBatch) {
      auto h = decode_batch(*payload, limits, zstd, scratch, [](const RecordView&) {});
      (void)h;  // any outcome is fine as long as it is not a crash
    } else {
      decode_all(*payload);
    }
    in.remove_prefix(consumed);
  }
  return 0;
}
