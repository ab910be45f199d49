// Writes the seed corpora of the fuzz targets: valid frames of every type and valid batches
// (uncompressed and zstd, every record kind), plus inputs for batch_fuzz's wrapping modes, and
// record bodies of every kind for body_fuzz.
// Usage: fuzz_make_corpus <dir>   → <dir>/frame/*, <dir>/batch/*, <dir>/body/*
// The committed seeds in tests/fuzz/corpus/ came from this program.
#include "schemas/batch.h"
#include "schemas/bytes.h"
#include "schemas/frame.h"
#include "schemas/gap_body.h"
#include "schemas/lifecycle_body.h"
#include "schemas/snapshot_body.h"
#include "schemas/zstd_codec.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

using namespace blackbox;

void write(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string batch(bool compressed, std::uint64_t first_seq, const ChainHash& prev) {
  BatchBuilder b;
  const Field fields[] = {{"level", "\"error\""}, {"n", "42"}};
  RecordData log;
  log.severity = Severity::kErr;
  log.flags = record_flags::kJson;
  log.event_time_ns = 1'700'000'000'000'000'000;
  log.read_time_ns = log.event_time_ns + 5;
  log.source = "/var/log/app.log";
  log.line = R"({"level":"error","msg":"disk full"})";
  log.fields = fields;
  b.add(log);
  RecordData raw = log;
  raw.flags = record_flags::kPartial;
  raw.line = std::string_view("bad \xff\x00\r bytes", 13);
  raw.fields = {};
  b.add(raw);
  RecordData lifecycle;
  lifecycle.kind = RecordKind::kLifecycle;
  lifecycle.source = "agent";
  lifecycle.line = R"({"event":"goodbye","reason":"sigterm"})";
  b.add(lifecycle);
  RecordData gap;
  gap.kind = RecordKind::kGap;
  gap.source = "agent";
  gap.line =
      R"({"reason":"line_too_long","source":"/var/log/app.log","lost_bytes":5,"from_offset":0})";
  b.add(gap);
  RecordData snap;
  snap.kind = RecordKind::kSnapshot;
  snap.source = "agent";
  snap.line = R"({"packages":["openssl 3.0"],"users":["root"]})";
  b.add(snap);
  ZstdCompressor zc(1);
  std::string out;
  auto h = b.seal(1, first_seq, prev, compressed ? &zc : nullptr, out);
  if (!h) std::abort();
  return out;
}

void write_bodies(const std::filesystem::path& dir) {
  write(dir / "lifecycle_hello",
        encode_lifecycle_body(
            HelloBody{"0.1.0", "config", "ami-1", "b-1", "web-1", {false, 3, 12, 1}}));
  write(dir / "lifecycle_notice",
        encode_lifecycle_body(TerminationNoticeBody{"spot interruption"}));
  write(dir / "lifecycle_goodbye", encode_lifecycle_body(GoodbyeBody{"sigterm", true, "spot"}));
  GapBody rejected(gap_reason::kBatchRejected, "spool");
  rejected.error = "malformed_record";
  rejected.stream = 1;
  rejected.first_seq = 10;
  rejected.end_seq = 15;
  rejected.records = 5;
  write(dir / "gap_rejected", encode_gap_body(rejected));
  GapBody truncated(gap_reason::kTruncated, "/var/log/a.log");
  truncated.offset = 812;
  truncated.note = "gone";
  write(dir / "gap_truncated", encode_gap_body(truncated));
  write(dir / "snapshot_final",
        encode_snapshot_body(
            {SnapshotKind::kFinal, 1'795'674'914'123'456'789, {"packages", "users"}}));
  write(dir / "malformed_nested", R"({"event":"hello","spool":{"fresh":"no"},"x":[[[[[[]]]]]]})");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <dir>\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir(argv[1]);
  std::filesystem::create_directories(dir / "frame");
  std::filesystem::create_directories(dir / "batch");
  std::filesystem::create_directories(dir / "body");

  ChainHash prev{};
  prev[0] = 0x5a;
  const std::string plain = batch(false, 0, kZeroHash);
  const std::string zstd = batch(true, 5, prev);

  const std::string hello = encode_hello({1, "i-0abc123", "ami-1", "boot-1", "web-1", "0.1.0", ""});
  Welcome welcome;
  welcome.streams.push_back({1, 5, prev});
  welcome.streams.push_back({2, 0, {}});
  const std::string ack = encode_ack({{{1, 4}, {3, 9}}});
  const std::string heartbeat = encode_heartbeat({1'700'000'000'000'000'000, 4096, 10'000});
  const std::string goodbye = encode_goodbye({"sigterm", true});
  const std::string error = encode_error({Errc::kChecksumMismatch, "frame 3: CRC32C mismatch"});

  auto frame = [](FrameType t, const std::string& p) {
    std::string out;
    append_frame(out, t, p);
    return out;
  };
  write(dir / "frame/hello", frame(FrameType::kHello, hello));
  write(dir / "frame/welcome", frame(FrameType::kWelcome, encode_welcome(welcome)));
  write(dir / "frame/ack", frame(FrameType::kAck, ack));
  write(dir / "frame/heartbeat", frame(FrameType::kHeartbeat, heartbeat));
  write(dir / "frame/goodbye", frame(FrameType::kGoodbye, goodbye));
  write(dir / "frame/error", frame(FrameType::kError, error));
  write(dir / "frame/batch_plain", frame(FrameType::kBatch, plain));
  write(dir / "frame/batch_zstd", frame(FrameType::kBatch, zstd));
  write(dir / "frame/session", frame(FrameType::kHello, hello) + frame(FrameType::kBatch, plain) +
                                   frame(FrameType::kHeartbeat, heartbeat) +
                                   frame(FrameType::kGoodbye, goodbye));
  write(dir / "frame/payload_hello", hello);  // raw payloads reach the decoders directly
  write(dir / "frame/payload_welcome", encode_welcome(welcome));
  write(dir / "frame/payload_goodbye", goodbye);

  write(dir / "batch/plain", plain);
  write(dir / "batch/zstd", zstd);
  // Wrapping modes: ctl, count - 1, payload.
  const std::string raw_records = plain.substr(kBatchHeaderBytes);
  write(dir / "batch/wrap_raw", std::string("\x00\x04", 2) + raw_records);
  write(dir / "batch/wrap_compress", std::string("\x01\x04", 2) + raw_records);
  const std::string zpayload = zstd.substr(kBatchHeaderBytes);
  std::string ctl("\x02\x04", 2);
  bytes::put_le(ctl, static_cast<std::uint16_t>(raw_records.size()));
  write(dir / "batch/wrap_zstd", ctl + zpayload);
  write_bodies(dir / "body");
  std::printf("corpus written to %s\n", dir.c_str());
  return 0;
}
